//! `KvServer<T>`: a tonic service that routes each call to an implementation of the trait.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{from_wire, local, respan, to_wire};
use crate::model::{Interface, Method};

/// The server struct, its constructors, and its `Service` and `NamedService` implementations.
pub(super) fn server(interface: &Interface) -> TokenStream {
    let vis = &interface.item.vis;
    let krate = &interface.krate;
    let private = quote!(#krate::__private);
    let trait_name = &interface.item.ident;
    let server = &interface.items.server;
    let plugin = &interface.items.plugin;
    let service_name = interface.service_name();
    let server_name = server.to_string();
    let doc = format!(
        " Serves an implementation of [`{trait_name}`] as the gRPC service `{service_name}`.\n\n\
         A plugin usually serves it through [`{plugin}::server`]; as a tonic service it can also \
         be added to any tonic server."
    );
    let bounds = quote! {
        T: #trait_name + ::core::marker::Send + ::core::marker::Sync + 'static
    };
    let request = local("request");
    let routes = interface.methods.iter().map(|method| {
        let path = interface.path(method);
        let call = call(interface, method);
        quote!(#path => #call,)
    });

    quote! {
        #[doc = #doc]
        #vis struct #server<T> {
            implementation: ::std::sync::Arc<T>,
        }

        impl<#bounds> #server<T> {
            /// Serves `implementation`.
            #vis fn new(implementation: T) -> Self {
                #server {
                    implementation: ::std::sync::Arc::new(implementation),
                }
            }

            /// Serves an implementation that other code holds too.
            #vis fn from_arc(implementation: ::std::sync::Arc<T>) -> Self {
                #server { implementation }
            }
        }

        impl<T> ::core::clone::Clone for #server<T> {
            fn clone(&self) -> Self {
                #server {
                    implementation: ::core::clone::Clone::clone(&self.implementation),
                }
            }
        }

        impl<T> ::core::fmt::Debug for #server<T> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#server_name).finish_non_exhaustive()
            }
        }

        impl<#bounds> #private::NamedService for #server<T> {
            const NAME: &'static str = #service_name;
        }

        impl<#bounds> #private::Service<#private::http::Request<#private::Body>> for #server<T> {
            type Response = #private::http::Response<#private::Body>;
            type Error = ::core::convert::Infallible;
            type Future = #private::BoxFuture;

            fn poll_ready(
                &mut self,
                _cx: &mut ::core::task::Context<'_>,
            ) -> ::core::task::Poll<::core::result::Result<(), Self::Error>> {
                ::core::task::Poll::Ready(::core::result::Result::Ok(()))
            }

            fn call(&mut self, #request: #private::http::Request<#private::Body>) -> Self::Future {
                match #request.uri().path() {
                    #(#routes)*
                    _ => #private::serve_unimplemented(#request),
                }
            }
        }
    }
}

/// Decodes the request (or the stream of them), calls the implementation, encodes its result
/// (or stream of results) or error.
fn call(interface: &Interface, method: &Method) -> TokenStream {
    let krate = &interface.krate;
    let messages = &interface.items.messages;
    let trait_name = &interface.item.ident;
    let ident = &method.ident;
    let request_type = &method.request;
    let response_type = &method.response;
    let request = local("request");
    let implementation = local("implementation");
    let value = local("value");
    let error = local("error");

    // A callback's field is the broker id of a service the caller serves: dial it, and hand
    // the implementation a client of it.
    let callbacks = method.args.iter().filter_map(|arg| {
        let plugin = arg.callback_item("Plugin")?;
        let field = &arg.field.ident;
        let client = local(&format!("callback_{}", arg.field.name));
        Some(quote! {
            let #client = match #krate::__private::dial_callback(#request.#field).await {
                ::core::result::Result::Ok(connection) => {
                    <#plugin as #krate::PluginInterface>::client(connection)
                }
                ::core::result::Result::Err(status) => return ::core::result::Result::Err(status),
            };
        })
    });
    let args = method.args.iter().map(|arg| {
        let field = &arg.field.ident;
        if arg.callback.is_some() {
            let client = local(&format!("callback_{}", arg.field.name));
            return quote!(#client);
        }
        from_wire(&arg.field, quote!(#request.#field))
    });
    let (ok_pattern, response) = match &method.output.value {
        Some(field) if method.kind.streams_responses() => {
            let ident = &field.ident;
            let wire = to_wire(field, quote!(#value)).unwrap_or_else(|| quote!(#value));
            (
                quote!(#value),
                quote! {
                    #krate::Stream::into_responses(
                        #value,
                        |#value| #messages::#response_type { #ident: #wire },
                    )
                },
            )
        }
        Some(field) => {
            let ident = &field.ident;
            let wire = to_wire(field, quote!(#value)).unwrap_or_else(|| quote!(#value));
            (
                quote!(#value),
                quote!(#messages::#response_type { #ident: #wire }),
            )
        }
        None => (quote!(()), quote!(#messages::#response_type {})),
    };
    let error_type = &method.output.error;
    // Spanned at `E` (the runtime's path too, since rustc reports the bound on `Status`), so a
    // missing conversion is reported on the method's error type.
    let span = error_type.span();
    let status_type = respan(quote!(#krate::__private::tonic::Status), span);
    let status = quote_spanned! {span=>
        <#status_type as ::core::convert::From<#error_type>>::from(#error)
    };
    let (serve, input, decode) = if method.kind.streams_requests() {
        let arg = &method.args[0];
        let field = &arg.field.ident;
        let ident = &arg.ident;
        let message = local("message");
        let item = from_wire(&arg.field, quote!(#message.#field));
        (
            if method.kind.streams_responses() {
                quote!(serve_streaming)
            } else {
                quote!(serve_client_streaming)
            },
            quote!(#request: #krate::__private::tonic::Streaming<#messages::#request_type>),
            quote! {
                let #ident = #krate::Stream::from_requests(
                    #request,
                    |#message: #messages::#request_type| #item,
                );
            },
        )
    } else {
        (
            if method.kind.streams_responses() {
                quote!(serve_server_streaming)
            } else {
                quote!(serve_unary)
            },
            quote!(#request: #messages::#request_type),
            quote!(),
        )
    };
    let (request_path, _) = method.message_types(messages);
    let (input, ok_pattern, response) = if !method.generates_messages() {
        (
            quote!(#request: #request_path),
            quote!(#value),
            quote!(#value),
        )
    } else {
        (input, ok_pattern, response)
    };
    let args: Vec<TokenStream> = if !method.generates_messages() {
        vec![quote!(#request)]
    } else if method.kind.streams_requests() {
        method
            .args
            .iter()
            .map(|arg| {
                let ident = &arg.ident;
                quote!(#ident)
            })
            .collect()
    } else {
        args.collect()
    };
    quote! {{
        let #implementation = ::core::clone::Clone::clone(&self.implementation);
        #krate::__private::#serve(#request, move |#input| async move {
            #decode
            #(#callbacks)*
            match <T as #trait_name>::#ident(&*#implementation, #(#args),*).await {
                ::core::result::Result::Ok(#ok_pattern) => ::core::result::Result::Ok(#response),
                ::core::result::Result::Err(#error) => ::core::result::Result::Err(#status),
            }
        })
    }}
}
