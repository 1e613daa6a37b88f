use go_plugin::{Status, plugin_interface};

/// Converts into a status for the server, but not from the runtime's error for the client.
#[derive(Debug)]
pub struct MyError;

impl From<MyError> for Status {
    fn from(_: MyError) -> Self {
        Status::internal("failed")
    }
}

#[plugin_interface]
pub trait Store {
    async fn get(&self, key: String) -> Result<Vec<u8>, MyError>;
}

fn main() {}
