use go_plugin::{PluginError, plugin_interface};

#[plugin_interface]
pub trait Bad {
    async fn same(&self, #[field(tag = 2)] a: i64, b: i64) -> Result<(), PluginError>;
    async fn reserved(&self, #[field(tag = 19500)] a: i64) -> Result<(), PluginError>;
    async fn unknown(&self, #[field(number = 2)] a: i64) -> Result<(), PluginError>;
    async fn other(&self, #[serde(rename = "x")] a: i64) -> Result<(), PluginError>;
    #[rpc(whole)]
    async fn not_messages(&self, a: i64, b: i64) -> Result<i64, PluginError>;
    #[rpc(name = "no spaces")]
    async fn named(&self) -> Result<(), PluginError>;
}

fn main() {}
