//! How Rust names become protobuf and generated-item names.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use syn::Ident;
use syn::ext::IdentExt;

/// An identifier as written, without its `r#` prefix.
pub(crate) fn plain(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// The gRPC method name of a Rust method: `get_value` → `GetValue`.
pub(crate) fn rpc_name(method: &Ident) -> String {
    plain(method).to_upper_camel_case()
}

/// The default protobuf package of a trait: `KeyValue` → `key_value`.
pub(crate) fn default_package(trait_name: &Ident) -> String {
    plain(trait_name).to_snake_case()
}

/// The module holding the messages of a trait: `KeyValue` → `key_value_messages`.
pub(crate) fn messages_module(trait_name: &Ident) -> String {
    format!("{}_messages", plain(trait_name).to_snake_case())
}

/// The constant holding the `.proto` text of a trait: `KeyValue` → `KEY_VALUE_PROTO`.
pub(crate) fn proto_const(trait_name: &Ident) -> String {
    format!("{}_PROTO", plain(trait_name).to_shouty_snake_case())
}

/// The name protoc derives for a field's JSON form; two fields of one message must not share it.
pub(crate) fn json_name(field: &str) -> String {
    let mut json = String::with_capacity(field.len());
    let mut capitalize_next = false;
    for c in field.chars() {
        if c == '_' {
            capitalize_next = true;
        } else if capitalize_next {
            json.extend(c.to_uppercase());
            capitalize_next = false;
        } else {
            json.push(c);
        }
    }
    json
}

/// Whether `name` is a protobuf identifier: an ASCII letter or `_`, then letters, digits or `_`.
pub(crate) fn is_proto_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` is a protobuf package name: identifiers joined by dots.
pub(crate) fn is_proto_package(name: &str) -> bool {
    name.split('.').all(is_proto_identifier)
}

/// The identifier of a generated struct field named `name`: raw when `name` is a keyword.
pub(crate) fn field_ident(name: &str, span: proc_macro2::Span) -> Ident {
    match syn::parse_str::<Ident>(name) {
        Ok(mut ident) => {
            ident.set_span(span);
            ident
        }
        Err(_) => Ident::new_raw(name, span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    fn ident(name: &str) -> Ident {
        match name.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(name, Span::call_site()),
        }
    }

    #[test]
    fn rpc_names_are_upper_camel() {
        assert_eq!(rpc_name(&ident("get")), "Get");
        assert_eq!(rpc_name(&ident("get_value")), "GetValue");
        assert_eq!(rpc_name(&ident("do_it")), rpc_name(&ident("doIt")));
        assert_eq!(rpc_name(&ident("r#type")), "Type");
    }

    #[test]
    fn trait_names_give_item_names() {
        assert_eq!(default_package(&ident("Kv")), "kv");
        assert_eq!(default_package(&ident("KeyValue")), "key_value");
        assert_eq!(messages_module(&ident("Kv")), "kv_messages");
        assert_eq!(proto_const(&ident("Kv")), "KV_PROTO");
        assert_eq!(proto_const(&ident("KeyValue")), "KEY_VALUE_PROTO");
    }

    #[test]
    fn json_names_follow_protoc() {
        assert_eq!(json_name("key"), "key");
        assert_eq!(json_name("foo_bar"), "fooBar");
        assert_eq!(json_name("fooBar"), "fooBar");
        assert_eq!(json_name("foo__bar_"), "fooBar");
    }

    #[test]
    fn proto_names_are_checked() {
        assert!(is_proto_identifier("KV"));
        assert!(is_proto_identifier("_x1"));
        assert!(!is_proto_identifier(""));
        assert!(!is_proto_identifier("1x"));
        assert!(!is_proto_identifier("a-b"));
        assert!(is_proto_package("proto"));
        assert!(is_proto_package("hashicorp.plugin.v1"));
        assert!(!is_proto_package(""));
        assert!(!is_proto_package("a..b"));
        assert!(!is_proto_package(".a"));
        assert!(!is_proto_package("my-plugin"));
    }
}
