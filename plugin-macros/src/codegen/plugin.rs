//! `KvPlugin` (what hosts dispense and plugins serve) and `KV_PROTO` (the `.proto` text).

use proc_macro2::TokenStream;
use quote::quote;

use super::proto;
use crate::model::{Interface, path_text};

/// The message and enum types the interface's methods use, each once.
fn user_types(interface: &Interface) -> Vec<&syn::Path> {
    let mut seen = Vec::new();
    let mut paths = Vec::new();
    for path in interface.user_types() {
        let text = path_text(path);
        if !seen.contains(&text) {
            seen.push(text);
            paths.push(path);
        }
    }
    paths
}

/// The plugin marker type with its `PluginInterface` implementation, and the proto constant.
pub(super) fn plugin(interface: &Interface) -> TokenStream {
    let vis = &interface.item.vis;
    let krate = &interface.krate;
    let trait_name = &interface.item.ident;
    let items = &interface.items;
    let (client, server, plugin, proto) =
        (&items.client, &items.server, &items.plugin, &items.proto);
    let service_name = interface.service_name();
    let text = proto::render(interface);
    let proto::Parts { head, service, .. } = proto::parts(interface);
    let types = user_types(interface);
    let head = proto::head_pieces(&head).into_iter().map(|piece| match piece {
        proto::Piece::Text(text) => quote!(head.push_str(#text);),
        proto::Piece::OptionalLabel(text) => {
            match types.iter().find(|path| path_text(path) == text) {
                Some(path) => quote! {
                    head.push_str((&&#krate::__private::proto::Describe::<#path>::NEW).optional_label());
                },
                None => quote!(),
            }
        }
    });
    let definitions = syn::Ident::new("definitions", proc_macro2::Span::mixed_site());
    let describe = types.iter().map(|path| {
        let text = path_text(path);
        quote! {
            (&&#krate::__private::proto::Describe::<#path>::NEW).describe(#definitions, #text);
        }
    });

    let plugin_doc = format!(
        " The [`{trait_name}`] interface as a go-plugin plugin, served as `{service_name}`.\n\n\
         A plugin serves an implementation with [`{plugin}::server`]; a host dispenses \
         `{plugin}` to get a [`{client}`]."
    );
    let proto_doc = format!(
        " The `.proto` definition of [`{trait_name}`], the same on the wire, for writing its \
         plugin or host in another language:\n\n```proto\n{text}```"
    );
    quote! {
        #[doc = #plugin_doc]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
        )]
        #vis struct #plugin;

        impl #plugin {
            /// Wraps an implementation for serving from a plugin.
            #vis fn server<T>(implementation: T) -> #krate::PluginServer
            where
                T: #trait_name + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #krate::PluginServer::new(#server::new(implementation))
            }

            /// The whole `.proto` file of the interface, with the definitions of the structs
            /// and enums it uses that derive `Proto` (the runtime's derive).
            #vis fn proto() -> ::std::string::String {
                <Self as #krate::PluginInterface>::proto()
            }
        }

        impl #krate::PluginInterface for #plugin {
            type Client = #client;
            const SERVICE_NAME: &'static str = #service_name;
            const PROTO: &'static str = #proto;

            fn client(connection: #krate::Connection) -> #client {
                #client::new(connection)
            }

            fn proto() -> ::std::string::String {
                #[allow(unused_imports)]
                use #krate::__private::proto::{Described as _, Undescribed as _};
                let mut head = ::std::string::String::new();
                #(#head)*
                #krate::__private::proto::file(&head, #service, |#definitions| {
                    let _ = &#definitions;
                    #(#describe)*
                })
            }
        }

        #[doc = #proto_doc]
        #vis const #proto: &str = #text;
    }
}
