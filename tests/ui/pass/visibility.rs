//! Generated items share the trait's visibility, and private interfaces compile without
//! warnings even when some generated items go unused.

#![deny(warnings)]

mod outer {
    pub(crate) mod inner {
        use go_plugin::{PluginError, plugin_interface};

        #[plugin_interface]
        pub(super) trait Counter {
            async fn add(&self, by: u64) -> Result<u64, PluginError>;
        }

        #[plugin_interface]
        pub(crate) trait Clock {
            async fn now(&self) -> Result<i64, PluginError>;
        }

        #[plugin_interface]
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
