use go_plugin::{PluginError, plugin_interface};

pub trait Named {
    fn name(&self) -> String;
}

#[plugin_interface]
pub trait Store: Named + Send + Sync {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
}

fn main() {}
