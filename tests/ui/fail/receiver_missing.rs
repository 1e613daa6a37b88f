use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    async fn open(path: String) -> Result<(), PluginError>;
}

fn main() {}
