//! Method and argument names that generated code also uses, and raw identifiers, do not clash.

// `new(&self)` is the case: a method name the generated client also has.
#![allow(clippy::new_ret_no_self, clippy::wrong_self_convention)]

use go_plugin::{Connection, PluginError, plugin_interface};

#[plugin_interface]
pub trait Tricky {
    async fn new(&self, connection: String) -> Result<(), PluginError>;
    async fn server(&self, implementation: u32) -> Result<u32, PluginError>;
    async fn r#type(
        &self,
        r#type: String,
        request: String,
        response: bool,
    ) -> Result<String, PluginError>;
    async fn call(&self, error: i32, value: i64, cx: u64, f: bool) -> Result<(), PluginError>;
}

struct Impl;

impl Tricky for Impl {
    async fn new(&self, _connection: String) -> Result<(), PluginError> {
        Ok(())
    }
    async fn server(&self, implementation: u32) -> Result<u32, PluginError> {
        Ok(implementation)
    }
    async fn r#type(
        &self,
        r#type: String,
        _request: String,
        _response: bool,
    ) -> Result<String, PluginError> {
        Ok(r#type)
    }
    async fn call(&self, _error: i32, _value: i64, _cx: u64, _t: bool) -> Result<(), PluginError> {
        Ok(())
    }
}

#[allow(dead_code)]
async fn use_client(connection: Connection) {
    let client = TrickyClient::new(connection);
    let _ = client.new(String::new()).await;
    let _ = client.r#type(String::new(), String::new(), false).await;
}

fn main() {
    let _ = TrickyPlugin::server(Impl);
    let _ = tricky_messages::TypeRequest {
        r#type: String::new(),
        request: String::new(),
        response: true,
    };
    assert!(TRICKY_PROTO.contains("rpc Type(TypeRequest) returns (TypeResponse);"));
}
