use go_plugin::plugin_interface;

#[plugin_interface]
pub trait Store {
    async fn put(&self, key: String);
}

fn main() {}
