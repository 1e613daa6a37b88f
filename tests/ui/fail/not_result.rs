use go_plugin::plugin_interface;

#[plugin_interface]
pub trait Store {
    async fn get(&self, key: String) -> Vec<u8>;
}

fn main() {}
