use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Counter {
    async fn increment(&mut self) -> Result<u64, PluginError>;
}

fn main() {}
