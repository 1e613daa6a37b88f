use go_plugin::{PluginError, plugin_interface};

#[derive(Clone, Default, PartialEq, Debug)]
pub struct Point {
    pub x: i32,
}

#[plugin_interface]
pub trait Geometry {
    async fn shift(&self, point: Point) -> Result<(), PluginError>;
}

fn main() {}
