use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    async fn close(self) -> Result<(), PluginError>;
}

fn main() {}
