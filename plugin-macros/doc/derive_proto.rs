use go_plugin::{PluginError, plugin_interface};

/// How urgent a note is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration, go_plugin::Proto)]
pub enum Priority {
    Unspecified = 0,
    High = 1,
}

#[derive(Clone, PartialEq, prost::Message, go_plugin::Proto)]
pub struct Note {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(enumeration = "Priority", tag = "2")]
    pub priority: i32,
}

#[plugin_interface]
pub trait Notes {
    async fn add(&self, note: Note) -> Result<u32, PluginError>;
    async fn count(&self, priority: Priority) -> Result<u32, PluginError>;
}

fn main() {
    let proto = NotesPlugin::proto();
    assert!(proto.contains("message Note {\n  string text = 1;\n  Priority priority = 2;\n}"));
    assert!(
        proto.contains("enum Priority {\n  PRIORITY_UNSPECIFIED = 0;\n  PRIORITY_HIGH = 1;\n}")
    );
}
