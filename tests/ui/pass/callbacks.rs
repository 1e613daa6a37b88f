//! Callback arguments: `impl OtherInterface` in a module path, callbacks of callbacks, and the
//! exported `.proto` carrying each as a `uint32` broker id.

// `add` spells out bounds the callback trait already implies, as users do: the macro must take them.
#![allow(clippy::implied_bounds_in_impls)]

use go_plugin::{Connection, PluginError, PluginInterface, plugin_interface};

mod shared {
    use go_plugin::{PluginError, plugin_interface};

    #[plugin_interface(package = "proto", service = "AddHelper")]
    pub trait AddHelper {
        async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError>;
    }
}

#[plugin_interface(package = "proto", service = "Counter")]
pub trait Counter {
    async fn put(
        &self,
        add_server: impl shared::AddHelper + Send + Sync + 'static,
        key: String,
        value: i64,
    ) -> Result<(), PluginError>;
    async fn relay(&self, counter: impl Counter) -> Result<(), PluginError>;
}

struct Local;

impl Counter for Local {
    async fn put(
        &self,
        add_server: impl shared::AddHelper,
        key: String,
        value: i64,
    ) -> Result<(), PluginError> {
        let _ = (key, add_server.sum(value, 1).await?);
        Ok(())
    }

    async fn relay(&self, counter: impl Counter) -> Result<(), PluginError> {
        counter.relay(Local).await
    }
}

fn assert_send<T: Send>(_: &T) {}

#[allow(dead_code)]
fn client_futures_are_send(connection: Connection, helper: shared::AddHelperClient) {
    let client: CounterClient = <CounterPlugin as PluginInterface>::client(connection);
    assert_send(&client.put(helper, String::new(), 1));
    assert_send(&client.relay(Local));
}

fn main() {
    let _ = CounterPlugin::server(Local);
    assert!(COUNTER_PROTO.contains("message PutRequest {\n  uint32 add_server = 1;"));
    assert!(COUNTER_PROTO.contains(
        "// PutRequest.add_server: the go-plugin broker id of a `AddHelper` service the caller \
         serves."
    ));
    assert!(COUNTER_PROTO.contains("uint32 counter = 1;"));
}
