//! Generated items share the trait's visibility, and private interfaces compile without
//! warnings even when some generated items go unused.

#![deny(warnings)]

mod outer {
    pub(crate) mod inner {
        use go_plugin::{PluginError, plugin_interface};

        // Nothing here uses the traits themselves; the generated items beside them, which the
        // `allow` does not cover, must not warn.
        #[plugin_interface]
        #[allow(dead_code)]
        pub(super) trait Counter {
            async fn add(&self, by: u64) -> Result<u64, PluginError>;
        }

        #[plugin_interface]
        #[allow(dead_code)]
        pub(crate) trait Clock {
            async fn now(&self) -> Result<i64, PluginError>;
        }

        #[plugin_interface]
        #[allow(dead_code)]
        trait Hidden {
            async fn nothing(&self) -> Result<(), PluginError>;
        }
    }

    fn counter_request() -> inner::counter_messages::AddRequest {
        inner::counter_messages::AddRequest { by: 1 }
    }

    pub(crate) fn check() {
        assert_eq!(counter_request().by, 1);
    }
}

fn main() {
    outer::check();
    let _: &str = outer::inner::CLOCK_PROTO;
}
