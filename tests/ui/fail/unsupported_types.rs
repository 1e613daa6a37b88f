use std::collections::HashMap;

use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Unsupported {
    async fn map(&self, entries: HashMap<f64, i32>) -> Result<(), PluginError>;
    async fn small(&self, byte: u8, short: i16) -> Result<(), PluginError>;
    async fn letter(&self) -> Result<char, PluginError>;
    async fn pair(&self, pair: (i32, i32)) -> Result<(), PluginError>;
    async fn size(&self) -> Result<usize, PluginError>;
}

fn main() {}
