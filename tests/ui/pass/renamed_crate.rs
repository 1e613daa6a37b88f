//! `crate = "…"` points generated code at the runtime wherever it is reachable: a renamed
//! `extern crate`, or a re-export inside the user's crate.

#![no_implicit_prelude]
// Only the paths are the case here; visibility.rs is the one about unused items.
#![allow(dead_code, unreachable_pub)]

extern crate go_plugin as renamed;

mod sdk {
    pub use ::go_plugin as runtime;
}

mod by_extern_crate {
    use ::renamed::PluginError;
    use ::std::result::Result;
    use ::std::string::String;

    #[::renamed::plugin_interface(crate = "::renamed")]
    pub trait Greeter {
        async fn greet(&self, name: String) -> Result<String, PluginError>;
    }
}

mod by_reexport {
    use crate::sdk::runtime::PluginError;
    use ::std::result::Result;
    use ::std::string::String;

    #[crate::sdk::runtime::plugin_interface(crate = "crate::sdk::runtime")]
    pub trait Greeter {
        async fn greet(&self, name: String) -> Result<String, PluginError>;
    }
}

mod by_relative_path {
    use super::sdk;
    use super::sdk::runtime::PluginError;
    use ::std::result::Result;
    use ::std::string::String;

    #[sdk::runtime::plugin_interface(crate = "sdk::runtime")]
    pub trait Greeter {
        async fn greet(&self, name: String) -> Result<String, PluginError>;
    }
}

mod by_self_path {
    use super::sdk;
    use super::sdk::runtime::PluginError;
    use ::std::result::Result;
    use ::std::string::String;

    #[sdk::runtime::plugin_interface(crate = "self::sdk::runtime")]
    pub trait Greeter {
        async fn greet(&self, name: String) -> Result<String, PluginError>;
    }
}

fn main() {
    let _: &str = by_extern_crate::GREETER_PROTO;
    let _: &str = by_reexport::GREETER_PROTO;
    let _: &str = by_relative_path::GREETER_PROTO;
    let _: &str = by_self_path::GREETER_PROTO;
}
