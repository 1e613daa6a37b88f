//! Without arguments the package is the trait name in snake_case and the service the trait name;
//! doc comments stay on the trait and reach the `.proto` text; every generated public item is
//! documented.

#![deny(missing_docs, missing_debug_implementations)]

use go_plugin::{PluginError, PluginInterface, plugin_interface};

/// Stores values by key.
///
/// Keys are case-sensitive.
#[plugin_interface]
pub trait KeyValue {
    /// Reads a key.
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
}

fn main() {
    assert_eq!(KeyValuePlugin::SERVICE_NAME, "key_value.KeyValue");
    assert!(KEY_VALUE_PROTO.contains("package key_value;\n"));
    assert!(KEY_VALUE_PROTO.contains(
        "// Stores values by key.\n//\n// Keys are case-sensitive.\nservice KeyValue {\n"
    ));
    assert!(
        KEY_VALUE_PROTO
            .contains("  // Reads a key.\n  rpc Get(GetRequest) returns (GetResponse);\n")
    );
}
