use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Sums {
    async fn each(&self, items: impl Iterator<Item = i64>) -> Result<i64, PluginError>;
    async fn apply(&self, f: impl Fn(i64) -> i64) -> Result<i64, PluginError>;
}

fn main() {}
