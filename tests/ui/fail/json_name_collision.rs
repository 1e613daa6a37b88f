use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
#[allow(non_snake_case)]
pub trait Store {
    async fn put(&self, user_id: String, userId: String) -> Result<(), PluginError>;
}

fn main() {}
