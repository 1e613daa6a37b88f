use go_plugin::{PluginError, plugin_interface};

#[derive(Clone, PartialEq, prost::Message)]
pub struct Size {
    #[prost(int32, tag = "1")]
    pub width: i32,
    #[prost(int32, tag = "2")]
    pub height: i32,
}

#[plugin_interface]
pub trait Geometry {
    async fn area(&self, Size { width, height }: Size) -> Result<i64, PluginError>;
}

fn main() {}
