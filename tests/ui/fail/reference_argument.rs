use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    async fn get(&self, key: &str) -> Result<Vec<u8>, PluginError>;
}

fn main() {}
