use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store<V> {
    async fn get(&self, key: String) -> Result<V, PluginError>;
}

fn main() {}
