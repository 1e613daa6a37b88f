use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
#[allow(non_snake_case)]
pub trait Jobs {
    async fn do_it(&self) -> Result<(), PluginError>;
    async fn doIt(&self) -> Result<(), PluginError>;
}

fn main() {}
