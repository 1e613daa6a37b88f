use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Nested {
    async fn maybe_maybe(&self, value: Option<Option<i32>>) -> Result<(), PluginError>;
    async fn holes(&self, values: Vec<Option<i32>>) -> Result<(), PluginError>;
    async fn maybe_list(&self) -> Result<Option<Vec<String>>, PluginError>;
    async fn matrix(&self, rows: Vec<Vec<i32>>) -> Result<(), PluginError>;
}

fn main() {}
