use go_plugin::plugin_interface;

#[plugin_interface]
pub trait Store {
    async fn get(&self, key: String) -> Result<Vec<u8>, String>;
    async fn put(&self, key: String) -> Result<(), std::io::Error>;
}

fn main() {}
