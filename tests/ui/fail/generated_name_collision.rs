use go_plugin::{PluginError, plugin_interface};

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRequest {
    #[prost(string, tag = "1")]
    pub key: String,
}

#[plugin_interface]
pub trait Store {
    async fn get(&self, request: GetRequest) -> Result<Vec<u8>, PluginError>;
}

fn main() {}
