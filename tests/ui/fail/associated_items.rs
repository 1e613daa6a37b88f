use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    type Key;
    const LIMIT: usize;
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
}

fn main() {}
