use plugin_runtime::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Store {
    async fn close(self) -> Result<(), PluginError>;
}

fn main() {}
