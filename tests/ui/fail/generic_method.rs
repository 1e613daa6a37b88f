use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    async fn get<K: Into<String>>(&self, key: K) -> Result<Vec<u8>, PluginError>;
}

fn main() {}
