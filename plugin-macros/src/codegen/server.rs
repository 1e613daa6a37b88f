//! `KvServer<T>`: a tonic service that routes each call to an implementation of the trait.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{from_wire, local, respan, to_wire};
use syn::Ident;

use crate::model::{Arg, Interface, Messages, Method, MethodKind};

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

/// The handler of one method, by how its messages flow.
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
    let handler = match &method.messages {
        Messages::Whole { request, .. } => {
            let (input, value) = (local("request"), local("value"));
            Handler {
                serve: quote!(serve_unary),
                input: quote!(#input: #request),
                prelude: TokenStream::new(),
                args: vec![quote!(#input)],
                ok_pattern: quote!(#value),
                response: quote!(#value),
            }
        }
        Messages::Generated => {
            let (ok_pattern, response) = response_message(interface, method);
            Handler {
                serve: quote!(serve_unary),
                input: request_message(interface, method),
                prelude: callbacks(interface, method),
                args: request_fields(method),
                ok_pattern,
                response,
            }
        }
    };
    handler.expand(interface, method)
}

/// One request message, a stream of response messages.
fn server_streaming(interface: &Interface, method: &Method) -> TokenStream {
    let (ok_pattern, response) = response_stream(interface, method);
    Handler {
        serve: quote!(serve_server_streaming),
        input: request_message(interface, method),
        prelude: TokenStream::new(),
        args: request_fields(method),
        ok_pattern,
        response,
    }
    .expand(interface, method)
}

/// A stream of request messages, one response message.
fn client_streaming(interface: &Interface, method: &Method) -> TokenStream {
    let (input, prelude, args) = request_stream(interface, method);
    let (ok_pattern, response) = response_message(interface, method);
    Handler {
        serve: quote!(serve_client_streaming),
        input,
        prelude,
        args,
        ok_pattern,
        response,
    }
    .expand(interface, method)
}

/// Streams both ways.
fn streaming(interface: &Interface, method: &Method) -> TokenStream {
    let (input, prelude, args) = request_stream(interface, method);
    let (ok_pattern, response) = response_stream(interface, method);
    Handler {
        serve: quote!(serve_streaming),
        input,
        prelude,
        args,
        ok_pattern,
        response,
    }
    .expand(interface, method)
}

/// What the handler of a method is made of, besides what every handler does.
struct Handler {
    /// The runtime's `serve_*` function for the method's kind.
    serve: TokenStream,
    /// The handler closure's parameter: the request message, or the stream of them.
    input: TokenStream,
    /// What the handler does before calling the implementation.
    prelude: TokenStream,
    /// The arguments the implementation is called with.
    args: Vec<TokenStream>,
    /// The pattern the implementation's `Ok` value is bound by.
    ok_pattern: TokenStream,
    /// The response (or stream of them) made of that value.
    response: TokenStream,
}

impl Handler {
    /// Serves the method: calls the implementation, sends its result or its error as a status.
    fn expand(self, interface: &Interface, method: &Method) -> TokenStream {
        let Handler {
            serve,
            input,
            prelude,
            args,
            ok_pattern,
            response,
        } = self;
        let krate = &interface.krate;
        let trait_name = &interface.item.ident;
        let ident = &method.ident;
        let request = local("request");
        let implementation = local("implementation");
        let error = local("error");
        let error_type = &method.output.error;
        // Spanned at `E` (the runtime's path too, since rustc reports the bound on `Status`), so
        // a missing conversion is reported on the method's error type.
        let span = error_type.span();
        let status_type = respan(quote!(#krate::__private::tonic::Status), span);
        let status = quote_spanned! {span=>
            <#status_type as ::core::convert::From<#error_type>>::from(#error)
        };
        quote! {{
            let #implementation = ::core::clone::Clone::clone(&self.implementation);
            #krate::__private::#serve(#request, move |#input| async move {
                #prelude
                match <T as #trait_name>::#ident(&*#implementation, #(#args),*).await {
                    ::core::result::Result::Ok(#ok_pattern) =>
                        ::core::result::Result::Ok(#response),
                    ::core::result::Result::Err(#error) => ::core::result::Result::Err(#status),
                }
            })
        }}
    }
}

/// The handler's parameter when one request message arrives.
fn request_message(interface: &Interface, method: &Method) -> TokenStream {
    let messages = &interface.items.messages;
    let request_type = &method.request;
    let request = local("request");
    quote!(#request: #messages::#request_type)
}

/// The implementation's arguments, from the fields of the request message.
fn request_fields(method: &Method) -> Vec<TokenStream> {
    let request = local("request");
    method
        .args
        .iter()
        .map(|arg| {
            if arg.callback.is_some() {
                return callback_local(arg);
            }
            let field = &arg.field.ident;
            from_wire(&arg.field, quote!(#request.#field))
        })
        .collect()
}

/// A callback's field is the broker id of a service the caller serves: dial it, and hand the
/// implementation a client of it.
fn callbacks(interface: &Interface, method: &Method) -> TokenStream {
    let krate = &interface.krate;
    let request = local("request");
    method
        .args
        .iter()
        .filter_map(|arg| {
            let plugin = arg.callback_item("Plugin")?;
            let field = &arg.field.ident;
            let client = callback_local(arg);
            Some(quote! {
                let #client = match #krate::__private::dial_callback(#request.#field).await {
                    ::core::result::Result::Ok(connection) => {
                        <#plugin as #krate::PluginInterface>::client(connection)
                    }
                    ::core::result::Result::Err(status) =>
                        return ::core::result::Result::Err(status),
                };
            })
        })
        .collect()
}

/// The local holding the client of a callback argument.
fn callback_local(arg: &Arg) -> TokenStream {
    let client = local(&format!("callback_{}", arg.field.name));
    quote!(#client)
}

/// The handler's parameter, what it does first, and the implementation's one argument, when
/// requests are a stream: each message carries one item of the argument's `Stream<T>`.
fn request_stream(
    interface: &Interface,
    method: &Method,
) -> (TokenStream, TokenStream, Vec<TokenStream>) {
    let krate = &interface.krate;
    let messages = &interface.items.messages;
    let request_type = &method.request;
    let request = local("request");
    let message = local("message");
    // Parse allows a request stream only as the one argument.
    let arg = &method.args[0];
    let field = &arg.field.ident;
    let ident = &arg.ident;
    let item = from_wire(&arg.field, quote!(#message.#field));
    let input = quote!(#request: #krate::__private::tonic::Streaming<#messages::#request_type>);
    let prelude = quote! {
        let #ident = #krate::__private::stream_from_requests(
            #request,
            |#message: #messages::#request_type| #item,
        );
    };
    (input, prelude, vec![quote!(#ident)])
}

/// The `Ok` pattern and the response message made of it.
fn response_message(interface: &Interface, method: &Method) -> (TokenStream, TokenStream) {
    let value = local("value");
    let ok_pattern = match method.output.value {
        Some(_) => quote!(#value),
        None => quote!(()),
    };
    (ok_pattern, response_of(interface, method, &value))
}

/// The `Ok` pattern and the stream of response messages made of it.
fn response_stream(interface: &Interface, method: &Method) -> (TokenStream, TokenStream) {
    let krate = &interface.krate;
    let value = local("value");
    let response = response_of(interface, method, &value);
    let stream = quote! {
        #krate::__private::stream_into_responses(
            #value,
            |#value| #response,
        )
    };
    (quote!(#value), stream)
}

/// The response message carrying `value`, the method's result or one item of its stream.
fn response_of(interface: &Interface, method: &Method, value: &Ident) -> TokenStream {
    let messages = &interface.items.messages;
    let response_type = &method.response;
    match &method.output.value {
        Some(field) => {
            let ident = &field.ident;
            let wire = to_wire(field, quote!(#value)).unwrap_or_else(|| quote!(#value));
            quote!(#messages::#response_type { #ident: #wire })
        }
        None => quote!(#messages::#response_type {}),
    }
}
