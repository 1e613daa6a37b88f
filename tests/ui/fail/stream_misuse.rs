use go_plugin::{PluginError, Stream, plugin_interface};

#[plugin_interface]
pub trait Helper {
    async fn sum(&self, a: i64) -> Result<i64, PluginError>;
}

#[plugin_interface]
pub trait Streams {
    async fn two(&self, items: Stream<i64>, label: String) -> Result<i64, PluginError>;
    async fn nested(&self, items: Option<Stream<i64>>) -> Result<i64, PluginError>;
    async fn units(&self) -> Result<Stream<()>, PluginError>;
    async fn called(&self, helper: impl Helper) -> Result<Stream<i64>, PluginError>;
}

fn main() {}
