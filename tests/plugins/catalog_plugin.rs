//! `catalog-plugin`: serves [`tests::catalog::Catalog`] with go-plugin's basic handshake
//! (`BASIC_PLUGIN=hello`, version 1); `catalog-plugin proto` and `catalog-plugin scorer-proto`
//! print the `.proto` files of the catalog and of its callback, from which the interop cell
//! builds Go and Python clients.

use std::process::ExitCode;

use go_plugin::{HandshakeConfig, ServeConfig, serve};
use tests::catalog::{CatalogPlugin, ScorerPlugin, Shop};

#[tokio::main]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("proto") => {
            print!("{}", CatalogPlugin::proto());
            return ExitCode::SUCCESS;
        }
        Some("scorer-proto") => {
            print!("{}", ScorerPlugin::proto());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .plugin(CatalogPlugin::server(Shop));
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("catalog-plugin: {err}");
            ExitCode::FAILURE
        }
    }
}
