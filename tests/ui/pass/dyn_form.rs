//! `Dyn<Trait>`: one type for a plugin's client or a local implementation, callbacks too, and
//! no ambiguity between the trait's methods and anything generated beside it.

// `add` spells out bounds the callback trait already implies, as users do: the macro must take them.
#![allow(clippy::implied_bounds_in_impls)]

use go_plugin::{PluginError, plugin_interface};

mod shared {
    use go_plugin::{PluginError, plugin_interface};

    #[plugin_interface(package = "proto", service = "AddHelper")]
    pub trait AddHelper {
        async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError>;
    }
}

#[plugin_interface(package = "proto", service = "Counter")]
pub trait Counter {
    async fn add(
        &self,
        helper: impl shared::AddHelper + Send + Sync + 'static,
        a: i64,
        b: i64,
    ) -> Result<i64, PluginError>;
    async fn relay(&self, counter: impl Counter, a: i64) -> Result<i64, PluginError>;
}

struct Local;

impl Counter for Local {
    async fn add(
        &self,
        helper: impl shared::AddHelper,
        a: i64,
        b: i64,
    ) -> Result<i64, PluginError> {
        helper.sum(a, b).await
    }

    async fn relay(&self, counter: impl Counter, a: i64) -> Result<i64, PluginError> {
        counter.add(Plus(100), a, 0).await
    }
}

struct Plus(i64);

impl shared::AddHelper for Plus {
    async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError> {
        Ok(a + b + self.0)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let counter = DynCounter::new(Local);
        let helper = shared::DynAddHelper::new(Plus(1));
        assert_eq!(counter.add(helper, 2, 3).await.expect("add"), 6);
        // The implementation's own methods stay unambiguous with everything in scope.
        assert_eq!(Local.add(Plus(0), 1, 1).await.expect("add"), 2);
        // As a callback, and served by a plugin.
        let relayed = counter.relay(counter.clone(), 5).await;
        assert_eq!(relayed.expect("relay"), 105);
        let _server = CounterPlugin::server(counter);
    });
}
