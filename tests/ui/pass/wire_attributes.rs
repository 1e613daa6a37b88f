//! `#[field]` and `#[rpc]`: a trait that matches an existing `.proto` exactly — go-plugin's
//! bidirectional `PutRequest` (add_server = 1, key = 2, value = 3) with the arguments in another
//! order, a method under another RPC name, and a whole-message method.

use go_plugin::{PluginError, plugin_interface};

#[derive(Clone, PartialEq, prost::Message)]
pub struct LookupRequest {
    #[prost(string, tag = "1")]
    pub key: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct LookupResponse {
    #[prost(int64, tag = "7")]
    pub found: i64,
}

#[plugin_interface(package = "proto", service = "Counter")]
pub trait Counter {
    async fn put(
        &self,
        #[field(tag = 2)] key: String,
        #[field(tag = 3)] value: i64,
        #[field(tag = 1, name = "add_server")] helper: u32,
    ) -> Result<(), PluginError>;

    #[rpc(name = "Get")]
    async fn fetch(&self, key: String) -> Result<i64, PluginError>;

    #[rpc(whole, name = "Lookup")]
    async fn lookup(&self, request: LookupRequest) -> Result<LookupResponse, PluginError>;
}

struct Local;

impl Counter for Local {
    async fn put(&self, _key: String, _value: i64, _helper: u32) -> Result<(), PluginError> {
        Ok(())
    }

    async fn fetch(&self, _key: String) -> Result<i64, PluginError> {
        Ok(0)
    }

    async fn lookup(&self, request: LookupRequest) -> Result<LookupResponse, PluginError> {
        Ok(LookupResponse {
            found: request.key.len() as i64,
        })
    }
}

fn main() {
    use prost::Message;

    let _ = CounterPlugin::server(Local);
    let put = counter_messages::PutRequest {
        key: "k".into(),
        value: 5,
        add_server: 9,
    };
    // Field 1 (varint 9), field 2 ("k"), field 3 (varint 5), in tag order.
    assert_eq!(put.encode_to_vec(), [0x08, 9, 0x12, 1, b'k', 0x18, 5]);
    for text in [
        "  uint32 add_server = 1;\n  string key = 2;\n  int64 value = 3;",
        "rpc Get(GetRequest) returns (GetResponse);",
        "rpc Lookup(LookupRequest) returns (LookupResponse);",
    ] {
        assert!(COUNTER_PROTO.contains(text), "{text}\n{COUNTER_PROTO}");
    }
    assert!(
        !COUNTER_PROTO.contains("message LookupRequest {"),
        "{COUNTER_PROTO}"
    );
}
