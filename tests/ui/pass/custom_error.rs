//! A method's error type can be the user's own, given the two conversions.

use go_plugin::{Code, Status, plugin_interface};

#[derive(Debug)]
pub enum StoreError {
    Missing(String),
    Transport(go_plugin::Error),
}

impl From<go_plugin::Error> for StoreError {
    fn from(err: go_plugin::Error) -> Self {
        StoreError::Transport(err)
    }
}

impl From<StoreError> for Status {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Missing(key) => Status::new(Code::NotFound, key),
            StoreError::Transport(err) => Status::new(Code::Unavailable, err.to_string()),
        }
    }
}

#[plugin_interface]
pub trait Store {
    async fn get(&self, key: String) -> Result<Vec<u8>, StoreError>;
    async fn other(&self) -> std::result::Result<(), go_plugin::PluginError>;
}

struct Empty;

impl Store for Empty {
    async fn get(&self, key: String) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::Missing(key))
    }
    async fn other(&self) -> std::result::Result<(), go_plugin::PluginError> {
        Ok(())
    }
}

fn main() {
    let _ = StorePlugin::server(Empty);
}
