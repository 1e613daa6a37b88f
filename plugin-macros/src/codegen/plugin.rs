//! `KvPlugin` (what hosts dispense and plugins serve) and `KV_PROTO` (the `.proto` text).

use proc_macro2::TokenStream;
use quote::quote;

use super::proto;
use crate::model::Interface;

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
        }

        impl #krate::PluginInterface for #plugin {
            type Client = #client;
            const SERVICE_NAME: &'static str = #service_name;
            const PROTO: &'static str = #proto;

            fn client(connection: #krate::Connection) -> #client {
                #client::new(connection)
            }
        }

        #[doc = #proto_doc]
        #vis const #proto: &str = #text;
    }
}
