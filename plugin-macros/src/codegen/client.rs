//! `KvClient`: implements the trait by calling the plugin.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::{from_wire, local, to_wire};
use crate::model::{Arg, Interface, Messages, Method, MethodKind};

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

/// `async fn get(&self, key: String) -> Result<…> { /* one call */ }`, by how its messages
/// flow.
fn call(interface: &Interface, method: &Method) -> TokenStream {
    match method.kind {
        MethodKind::Unary => unary(interface, method),
        MethodKind::ServerStreaming => server_streaming(interface, method),
        MethodKind::ClientStreaming => client_streaming(interface, method),
        MethodKind::Streaming => streaming(interface, method),
    }
}

/// One request message, one response message. Only unary methods have callbacks and whole
/// messages: parse rejects them on the others.
fn unary(interface: &Interface, method: &Method) -> TokenStream {
    let call = match &method.messages {
        Messages::Whole { .. } => {
            let ident = &method.args[0].ident;
            let response = local("response");
            Call {
                function: quote!(unary),
                prelude: TokenStream::new(),
                request: quote!(#ident),
                ok_pattern: quote!(#response),
                value: quote!(#response),
            }
        }
        Messages::Generated => {
            let (ok_pattern, value) = response_value(method);
            Call {
                function: quote!(unary),
                prelude: callbacks(interface, method),
                request: request_message(interface, method),
                ok_pattern,
                value,
            }
        }
    };
    call.expand(interface, method)
}

/// One request message, a stream of response messages.
fn server_streaming(interface: &Interface, method: &Method) -> TokenStream {
    let (ok_pattern, value) = response_stream(interface, method);
    Call {
        function: quote!(server_streaming),
        prelude: TokenStream::new(),
        request: request_message(interface, method),
        ok_pattern,
        value,
    }
    .expand(interface, method)
}

/// A stream of request messages, one response message.
fn client_streaming(interface: &Interface, method: &Method) -> TokenStream {
    let (ok_pattern, value) = response_value(method);
    Call {
        function: quote!(client_streaming),
        prelude: TokenStream::new(),
        request: request_stream(interface, method),
        ok_pattern,
        value,
    }
    .expand(interface, method)
}

/// Streams both ways.
fn streaming(interface: &Interface, method: &Method) -> TokenStream {
    let (ok_pattern, value) = response_stream(interface, method);
    Call {
        function: quote!(streaming),
        prelude: TokenStream::new(),
        request: request_stream(interface, method),
        ok_pattern,
        value,
    }
    .expand(interface, method)
}

/// What the body of a client method is made of, besides what every call does.
struct Call {
    /// The runtime's call function for the method's kind.
    function: TokenStream,
    /// What the method does before making the call.
    prelude: TokenStream,
    /// The request message, or the stream of them.
    request: TokenStream,
    /// The pattern the call's `Ok` value is bound by.
    ok_pattern: TokenStream,
    /// The method's result made of that value.
    value: TokenStream,
}

impl Call {
    /// Makes the call, and turns a failure into the method's error type.
    fn expand(self, interface: &Interface, method: &Method) -> TokenStream {
        let Call {
            function,
            prelude,
            request: request_value,
            ok_pattern,
            value,
        } = self;
        let krate = &interface.krate;
        let (request_path, response_path) = method.message_types(&interface.items.messages);
        let path = interface.path(method);
        let sig = &method.sig;
        let request = local("request");
        let error = local("error");
        let convert = convert_error(interface, method);
        quote! {
            #sig {
                #prelude
                let #request = #request_value;
                match #krate::__private::#function::<#request_path, #response_path>(
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
}

/// The runtime's error as the method's error type.
fn convert_error(interface: &Interface, method: &Method) -> TokenStream {
    let krate = &interface.krate;
    let error = local("error");
    let error_type = &method.output.error;
    // Spanned at `E`, so a missing conversion is reported on the method's error type.
    quote_spanned! {error_type.span()=>
        <#error_type as ::core::convert::From<#krate::Error>>::from(#error)
    }
}

/// Each callback is served through the broker for the length of the call; its field carries
/// the broker id.
fn callbacks(interface: &Interface, method: &Method) -> TokenStream {
    let krate = &interface.krate;
    let error = local("error");
    let convert = convert_error(interface, method);
    method
        .args
        .iter()
        .filter_map(|arg| {
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
                    ::core::result::Result::Err(#error) =>
                        return ::core::result::Result::Err(#convert),
                };
            })
        })
        .collect()
}

/// The request message, from the arguments. The argument and the field share the user's
/// identifier: `GetRequest { key }`.
fn request_message(interface: &Interface, method: &Method) -> TokenStream {
    let messages = &interface.items.messages;
    let request_type = &method.request;
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
    quote!(#messages::#request_type { #(#fields,)* })
}

/// The stream of request messages: the one argument is the stream, each item one message.
fn request_stream(interface: &Interface, method: &Method) -> TokenStream {
    let krate = &interface.krate;
    let messages = &interface.items.messages;
    let request_type = &method.request;
    // Parse allows a request stream only as the one argument.
    let arg = &method.args[0];
    let ident = &arg.ident;
    let field = &arg.field.ident;
    let item = local("item");
    let wire = to_wire(&arg.field, quote!(#item)).unwrap_or_else(|| quote!(#item));
    quote! {
        #krate::__private::stream_into_requests(
            #ident,
            |#item| #messages::#request_type { #field: #wire }
        )
    }
}

/// The `Ok` pattern of the call and the method's result made of it.
fn response_value(method: &Method) -> (TokenStream, TokenStream) {
    let response = local("response");
    let ok_pattern = match method.output.value {
        Some(_) => quote!(#response),
        None => quote!(_),
    };
    (ok_pattern, response_item(method, &response))
}

/// The `Ok` pattern of the call and the method's stream made of it.
fn response_stream(interface: &Interface, method: &Method) -> (TokenStream, TokenStream) {
    let krate = &interface.krate;
    let messages = &interface.items.messages;
    let response_type = &method.response;
    let response = local("response");
    let item = response_item(method, &response);
    let stream = quote! {
        #krate::__private::stream_from_responses(
            #response,
            |#response: #messages::#response_type| #item,
        )
    };
    (quote!(#response), stream)
}

/// The value a response message `response` carries: the method's result, or one item of its
/// stream.
fn response_item(method: &Method, response: &Ident) -> TokenStream {
    match &method.output.value {
        Some(field) => {
            let ident = &field.ident;
            from_wire(field, quote!(#response.#ident))
        }
        None => quote!(()),
    }
}

/// The local holding a callback argument's brokered server while the call runs.
fn callback_local(arg: &Arg) -> Ident {
    local(&format!("served_{}", arg.field.name))
}
