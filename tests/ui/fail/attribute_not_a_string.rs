use go_plugin::{PluginError, plugin_interface};

#[plugin_interface(package = 5)]
pub trait Store {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
}

fn main() {}
