use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        Err(PluginError::not_found(key))
    }
}

fn main() {}
