use go_plugin::plugin_interface;

#[plugin_interface]
pub struct Store {
    path: String,
}

fn main() {}
