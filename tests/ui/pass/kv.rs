//! go-plugin's KV interface: the generated items exist, have the right names, and the client's
//! futures are `Send`.

use go_plugin::{Connection, PluginError, PluginInterface, PluginServer, plugin_interface};

#[plugin_interface(package = "proto", service = "KV")]
pub trait Kv {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError>;
}

struct Nothing;

impl Kv for Nothing {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        Err(PluginError::not_found(key))
    }

    async fn put(&self, _key: String, _value: Vec<u8>) -> Result<(), PluginError> {
        Ok(())
    }
}

fn assert_send<T: Send>(_: &T) {}

#[allow(dead_code)]
fn client_futures_are_send(connection: Connection) {
    let client: KvClient = <KvPlugin as PluginInterface>::client(connection);
    assert_send(&client.get(String::new()));
    assert_send(&client.put(String::new(), Vec::new()));
    let _clone: KvClient = client.clone();
}

fn main() {
    let server: PluginServer = KvPlugin::server(Nothing);
    assert_eq!(server.name(), "proto.KV");
    assert_eq!(<KvPlugin as PluginInterface>::SERVICE_NAME, "proto.KV");
    assert_eq!(<KvPlugin as PluginInterface>::PROTO, KV_PROTO);
    let _tonic_service: KvServer<Nothing> = KvServer::new(Nothing);
    let _request = kv_messages::PutRequest {
        key: String::new(),
        value: Vec::new(),
    };
}
