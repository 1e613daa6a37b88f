//! `KvClient`: implements the trait by calling the plugin.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{from_wire, local, to_wire};
use crate::model::{Arg, Interface, Method, MethodKind};

/// The client struct, its constructor, and its implementation of the trait.
pub(super) fn client(interface: &Interface) -> TokenStream {
    let vis = &interface.item.vis;
    let krate = &interface.krate;
    let trait_name = &interface.item.ident;
    let client = &interface.items.client;
    let plugin = &interface.items.plugin;
    let doc = format!(
        " Calls [`{trait_name}`] on a plugin over gRPC (service `{}`).\n\n\
         A host gets one by dispensing [`{plugin}`]; [`{client}::new`] builds one on any \
         connection.",
        interface.service_name()
    );
    let methods = interface
        .methods
        .iter()
        .map(|method| call(interface, method));
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client {
            connection: #krate::Connection,
        }

        impl #client {
            /// A client that calls the plugin at the other end of `connection`.
            #vis fn new(connection: #krate::Connection) -> Self {
                #client { connection }
            }

            /// This client with a deadline for each call, sent to the plugin as
            /// `grpc-timeout`: a call still running when it passes fails with
            /// `DeadlineExceeded`, and the plugin's handler is cancelled.
            #vis fn with_timeout(&self, timeout: ::core::time::Duration) -> Self {
                #client {
                    connection: #krate::Connection::with_timeout(
                        ::core::clone::Clone::clone(&self.connection),
                        timeout,
                    ),
                }
            }
        }

        impl #trait_name for #client {
            #(#methods)*
        }
    }
}

/// `async fn get(&self, key: String) -> Result<…> { /* one call */ }`, of any kind.
fn call(interface: &Interface, method: &Method) -> TokenStream {
    let krate = &interface.krate;
    let messages = &interface.items.messages;
    let request_type = &method.request;
    let response_type = &method.response;
    let path = interface.path(method);
    let sig = &method.sig;
    let request = local("request");
    let response = local("response");
    let error = local("error");

    let error_type = &method.output.error;
    // Spanned at `E`, so a missing conversion is reported on the method's error type.
    let convert = quote_spanned! {error_type.span()=>
        <#error_type as ::core::convert::From<#krate::Error>>::from(#error)
    };
    // Each callback is served through the broker for the length of the call; its field
    // carries the broker id.
    let callbacks = method.args.iter().filter_map(|arg| {
        let plugin = arg.callback_item("Plugin")?;
        let ident = &arg.ident;
        let served = callback_local(arg);
        Some(quote! {
            let #served = match #krate::__private::serve_callback(
                &self.connection,
                #plugin::server(#ident),
            )
            .await
            {
                ::core::result::Result::Ok(served) => served,
                ::core::result::Result::Err(#error) => return ::core::result::Result::Err(#convert),
            };
        })
    });
    // The argument and the field share the user's identifier: `GetRequest { key }`.
    let fields = method.args.iter().map(|arg| {
        let field = &arg.field.ident;
        let ident = &arg.ident;
        if arg.callback.is_some() {
            let served = callback_local(arg);
            return quote!(#field: #served.id());
        }
        let value = to_wire(&arg.field, quote!(#ident)).unwrap_or_else(|| quote!(#ident));
        quote!(#field: #value)
    });
    let (ok_pattern, value) = match &method.output.value {
        Some(field) if method.kind.streams_responses() => {
            let ident = &field.ident;
            let item = from_wire(field, quote!(#response.#ident));
            (
                quote!(#response),
                quote! {
                    #krate::Stream::from_responses(
                        #response,
                        |#response: #messages::#response_type| #item,
                    )
                },
            )
        }
        Some(field) => {
            let ident = &field.ident;
            (
                quote!(#response),
                from_wire(field, quote!(#response.#ident)),
            )
        }
        None => (quote!(_), quote!(())),
    };
    let (request_path, response_path) = method.message_types(messages);
    let (ok_pattern, value) = if !method.generates_messages() {
        (quote!(#response), quote!(#response))
    } else {
        (ok_pattern, value)
    };
    let request_value = if !method.generates_messages() {
        let ident = &method.args[0].ident;
        quote!(#ident)
    } else if method.kind.streams_requests() {
        // The one argument is the stream; each item is one request message.
        let arg = &method.args[0];
        let ident = &arg.ident;
        let field = &arg.field.ident;
        let item = local("item");
        let wire = to_wire(&arg.field, quote!(#item)).unwrap_or_else(|| quote!(#item));
        quote! {
            #krate::Stream::into_requests(#ident, |#item| #messages::#request_type { #field: #wire })
        }
    } else {
        quote!(#messages::#request_type { #(#fields,)* })
    };
    let function = match method.kind {
        MethodKind::Unary => quote!(unary),
        MethodKind::ServerStreaming => quote!(server_streaming),
        MethodKind::ClientStreaming => quote!(client_streaming),
        MethodKind::Streaming => quote!(streaming),
    };
    quote! {
        #sig {
            #(#callbacks)*
            let #request = #request_value;
            match #krate::Connection::#function::<#request_path, #response_path>(
                &self.connection,
                #request,
                #path,
            )
            .await
            {
                ::core::result::Result::Ok(#ok_pattern) => ::core::result::Result::Ok(#value),
                ::core::result::Result::Err(#error) => ::core::result::Result::Err(#convert),
            }
        }
    }
}

/// The local holding a callback argument's brokered server while the call runs.
fn callback_local(arg: &Arg) -> syn::Ident {
    local(&format!("served_{}", arg.field.name))
}
