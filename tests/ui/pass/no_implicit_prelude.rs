//! Generated code names everything by absolute path, so it compiles without the prelude.

#![no_implicit_prelude]

pub mod plugin {
    use ::go_plugin::{PluginError, plugin_interface};
    use ::std::option::Option;
    use ::std::result::Result;
    use ::std::string::String;
    use ::std::vec::Vec;

    #[derive(::std::clone::Clone, ::std::cmp::PartialEq, ::prost::Message)]
    pub struct Point {
        #[prost(int32, tag = "1")]
        pub x: i32,
    }

    #[plugin_interface(package = "proto", service = "KV")]
    pub trait Kv {
        async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
        async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError>;
        async fn point(&self, p: Point, q: Option<Point>) -> Result<Vec<Point>, PluginError>;
        async fn maybe(&self, n: Option<u64>) -> Result<Option<bool>, PluginError>;
    }

    #[derive(::std::fmt::Debug)]
    pub struct Memory;

    impl Kv for Memory {
        async fn get(&self, _key: String) -> Result<Vec<u8>, PluginError> {
            Result::Ok(Vec::new())
        }
        async fn put(&self, _key: String, _value: Vec<u8>) -> Result<(), PluginError> {
            Result::Ok(())
        }
        async fn point(&self, p: Point, _q: Option<Point>) -> Result<Vec<Point>, PluginError> {
            Result::Ok(::std::vec![p])
        }
        async fn maybe(&self, n: Option<u64>) -> Result<Option<bool>, PluginError> {
            Result::Ok(n.map(|n| n > 0))
        }
    }
}

fn main() {
    let _server = plugin::KvPlugin::server(plugin::Memory);
    let _text: &str = plugin::KV_PROTO;
}
