//! Our declarations of the provider protocol checked against the protocol itself: every message,
//! field, enum value and service method we declare by hand in the examples crate
//! (`greeter/tfplugin6.rs`, `greeter/service.rs`) has the name, number and type it has in
//! OpenTofu v1.12.6's `tfplugin6.10.proto`. The `.proto` file is read from Go's module cache
//! (downloaded by `build.sh`) and never copied into the repository: it is MPL-2.0.
//!
//! Our side is read from the source text: prost's derive takes the wire format from exactly
//! those `#[prost(...)]` attributes, and nothing at run time can tell field names apart.

use std::collections::BTreeMap;
use std::path::Path;

use protox::prost_reflect::{
    DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor,
};

use crate::harness::peers;

/// A `#[prost(...)]` field (or oneof variant) as declared in our source.
#[derive(Debug)]
struct Field {
    name: String,
    attribute: String,
    rust_type: String,
}

/// A declaration in our source.
#[derive(Debug)]
enum Item {
    Message(Vec<Field>),
    Oneof(Vec<Field>),
    Enumeration(Vec<(String, i32)>),
}

fn examples_file(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/src")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()))
}

/// The prost messages, oneofs and enumerations of `source`, up to its test module.
fn declarations(source: &str) -> BTreeMap<String, Item> {
    let mut items = BTreeMap::new();
    let mut current: Option<(String, Item)> = None;
    let mut derive = "";
    let mut attribute: Option<String> = None;
    for line in source.lines() {
        let line = line.trim();
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        if line.starts_with("#[derive(") {
            derive = line;
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub struct ") {
            let name = rest.split([' ', '{']).next().unwrap_or_default().to_owned();
            if rest.ends_with("{}") {
                items.insert(name, Item::Message(Vec::new()));
            } else {
                current = Some((name, Item::Message(Vec::new())));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub enum ") {
            let name = rest.trim_end_matches(" {").to_owned();
            let item = if derive.contains("prost::Oneof") {
                Item::Oneof(Vec::new())
            } else {
                Item::Enumeration(Vec::new())
            };
            current = Some((name, item));
            continue;
        }
        if line == "}" {
            if let Some((name, item)) = current.take() {
                items.insert(name, item);
            }
            continue;
        }
        if let Some(attr) = line
            .strip_prefix("#[prost(")
            .and_then(|l| l.strip_suffix(")]"))
        {
            attribute = Some(attr.to_owned());
            continue;
        }
        let Some((_, item)) = current.as_mut() else {
            continue;
        };
        match item {
            Item::Message(fields) => {
                if let Some((name, ty)) = line.strip_prefix("pub ").and_then(|l| l.split_once(": "))
                {
                    let attribute = attribute
                        .take()
                        .unwrap_or_else(|| panic!("no #[prost] on {name}"));
                    fields.push(Field {
                        name: name.trim_start_matches("r#").to_owned(),
                        attribute,
                        rust_type: ty.trim_end_matches(',').to_owned(),
                    });
                }
            }
            Item::Oneof(variants) => {
                if let Some((name, ty)) = line.split_once('(') {
                    let attribute = attribute
                        .take()
                        .unwrap_or_else(|| panic!("no #[prost] on {name}"));
                    variants.push(Field {
                        name: snake_case(name),
                        attribute,
                        rust_type: ty.trim_end_matches("),").to_owned(),
                    });
                }
            }
            Item::Enumeration(values) => {
                if let Some((name, value)) = line.trim_end_matches(',').split_once(" = ") {
                    values.push((name.to_owned(), value.parse().expect("an enum value")));
                }
            }
        }
    }
    items
}

fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `key = "value"` of a prost attribute (`tag = "3"`).
fn setting<'a>(attribute: &'a str, key: &str) -> Option<&'a str> {
    let start = attribute.find(&format!("{key} = \""))? + key.len() + 4;
    let end = attribute[start..].find('"')? + start;
    Some(&attribute[start..end])
}

/// The Rust type inside `Option<…>`, `Vec<…>` or `HashMap<String, …>`.
fn element_type(rust_type: &str) -> &str {
    rust_type
        .strip_prefix("Option<")
        .or_else(|| rust_type.strip_prefix("Vec<"))
        .or_else(|| rust_type.strip_prefix("HashMap<String, "))
        .map_or(rust_type, |rest| rest.trim_end_matches('>'))
}

/// Our flat name of a protocol message or enum: `GetProviderSchema.Request` is
/// `GetProviderSchemaRequest`, `Diagnostic.Severity` is `Severity` where the short name is
/// unambiguous.
fn matches(ours: &str, full_name: &str) -> bool {
    let path = full_name.strip_prefix("tfplugin6.").unwrap_or(full_name);
    path.replace('.', "") == ours || path.rsplit('.').next() == Some(ours)
}

fn message<'a>(
    pool: &DescriptorPool,
    ours: &str,
    all: &'a [MessageDescriptor],
) -> MessageDescriptor {
    let flat: Vec<&'a MessageDescriptor> = all
        .iter()
        .filter(|m| {
            m.full_name()
                .strip_prefix("tfplugin6.")
                .unwrap_or("")
                .replace('.', "")
                == ours
        })
        .collect();
    let candidates = if flat.is_empty() {
        all.iter()
            .filter(|m| matches(ours, m.full_name()))
            .collect()
    } else {
        flat
    };
    match candidates.as_slice() {
        [one] => (*one).clone(),
        other => panic!(
            "{ours}: {} protocol messages match ({:?}); pool has {} messages",
            other.len(),
            other.iter().map(|m| m.full_name()).collect::<Vec<_>>(),
            pool.all_messages().len()
        ),
    }
}

/// Checks one declared field against the protocol's field of the same number.
fn check_field(
    context: &str,
    field: &Field,
    descriptor: &FieldDescriptor,
    items: &BTreeMap<String, Item>,
    problems: &mut Vec<String>,
) {
    let mut problem = |what: String| problems.push(format!("{context}.{}: {what}", field.name));
    // snake_case: StopProvider.Response's field is spelled `Error`.
    if descriptor.name() != field.name && snake_case(descriptor.name()) != field.name {
        problem(format!(
            "the protocol's field {} is {:?}",
            descriptor.number(),
            descriptor.name()
        ));
    }
    let attribute = field.attribute.as_str();
    let scalar = attribute.split(',').next().unwrap_or_default().trim();
    let scalar = scalar.split(" = ").next().unwrap_or_default();
    let repeated = attribute.contains("repeated");
    let element = element_type(&field.rust_type);
    let kind = descriptor.kind();
    let ok = match scalar {
        "map" => {
            let value = kind.as_message().map(|m| m.map_entry_value_field().kind());
            descriptor.is_map()
                && match setting(attribute, "map") {
                    Some("string, message") => {
                        matches!(&value, Some(Kind::Message(m)) if matches(element, m.full_name()))
                    }
                    Some("string, string") => value == Some(Kind::String),
                    other => panic!("{context}.{}: unexpected map {other:?}", field.name),
                }
        }
        "message" => {
            descriptor.is_list() == repeated
                && !descriptor.is_map()
                && matches!(&kind, Kind::Message(m) if matches(element, m.full_name()))
        }
        "enumeration" => {
            let ours = setting(attribute, "enumeration").unwrap_or_default();
            match &kind {
                Kind::Enum(e) if matches(ours, e.full_name()) => {
                    check_enum(ours, e, items, problems);
                    true
                }
                _ => false,
            }
        }
        "string" => kind == Kind::String && !descriptor.is_list(),
        "bytes" => kind == Kind::Bytes && !descriptor.is_list(),
        "bool" => kind == Kind::Bool && !descriptor.is_list(),
        "int64" => kind == Kind::Int64 && !descriptor.is_list(),
        other => panic!("{context}.{}: unexpected prost type {other:?}", field.name),
    };
    if !ok {
        problems.push(format!(
            "{context}.{}: declared #[prost({attribute})] {}, the protocol has {:?}{}{}",
            field.name,
            field.rust_type,
            kind,
            if descriptor.is_list() {
                " (repeated)"
            } else {
                ""
            },
            if descriptor.is_map() { " (map)" } else { "" },
        ));
    }
}

fn check_enum(
    ours: &str,
    descriptor: &EnumDescriptor,
    items: &BTreeMap<String, Item>,
    problems: &mut Vec<String>,
) {
    let Some(Item::Enumeration(values)) = items.get(ours) else {
        problems.push(format!("enum {ours} is not declared"));
        return;
    };
    let theirs: Vec<(String, i32)> = descriptor
        .values()
        .map(|v| (v.name().replace('_', "").to_ascii_lowercase(), v.number()))
        .collect();
    let ours_normalised: Vec<(String, i32)> = values
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), *value))
        .collect();
    if theirs != ours_normalised {
        problems.push(format!(
            "enum {ours}: ours {values:?}, the protocol's {theirs:?}"
        ));
    }
}

#[test]
fn tfplugin6_declarations_match_opentofu_v1_12_6() {
    let proto_dir = &peers().protocol;
    let set = protox::compile(["tfplugin6.10.proto"], [proto_dir])
        .unwrap_or_else(|e| panic!("compile {}/tfplugin6.10.proto: {e}", proto_dir.display()));
    let pool = DescriptorPool::from_file_descriptor_set(set).expect("a descriptor pool");
    let all: Vec<MessageDescriptor> = pool.all_messages().collect();

    let items = declarations(&examples_file("greeter/tfplugin6.rs"));
    let mut problems = Vec::new();
    let mut checked_fields = 0;
    let mut left_out = Vec::new();
    for (name, item) in &items {
        let Item::Message(fields) = item else {
            continue;
        };
        let descriptor = message(&pool, name, &all);
        for field in fields {
            if let Some(oneof) = setting(&field.attribute, "oneof") {
                let Some(Item::Oneof(variants)) = items.get(oneof) else {
                    problems.push(format!(
                        "{name}.{}: oneof {oneof} is not declared",
                        field.name
                    ));
                    continue;
                };
                for variant in variants {
                    let tag: u32 = setting(&variant.attribute, "tag")
                        .and_then(|t| t.parse().ok())
                        .expect("a tag");
                    match descriptor.get_field(tag) {
                        Some(theirs)
                            if theirs.containing_oneof().map(|o| o.name().to_owned())
                                == Some(field.name.clone()) =>
                        {
                            check_field(
                                &format!("{name}.{oneof}"),
                                variant,
                                &theirs,
                                &items,
                                &mut problems,
                            );
                            checked_fields += 1;
                        }
                        _ => problems.push(format!(
                            "{name}.{}: no field {tag} in oneof {}",
                            variant.name, field.name
                        )),
                    }
                }
                continue;
            }
            let tag: u32 = setting(&field.attribute, "tag")
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "{name}.{}: no tag in #[prost({})]",
                        field.name, field.attribute
                    )
                });
            match descriptor.get_field(tag) {
                Some(theirs) => check_field(name, field, &theirs, &items, &mut problems),
                None => problems.push(format!(
                    "{name}.{}: the protocol has no field {tag}",
                    field.name
                )),
            }
            checked_fields += 1;
        }
        for theirs in descriptor.fields() {
            let declared = fields.iter().any(|f| f.name == theirs.name())
                || theirs
                    .containing_oneof()
                    .is_some_and(|o| fields.iter().any(|f| f.name == o.name()));
            if !declared {
                left_out.push(format!("{name}.{}", theirs.name()));
            }
        }
    }

    // The trait: each method's gRPC name (UpperCamelCase of the Rust name) is an RPC of
    // tfplugin6.Provider taking and returning the messages it declares.
    let service = pool
        .get_service_by_name("tfplugin6.Provider")
        .expect("tfplugin6.Provider");
    let trait_source = examples_file("greeter/service.rs");
    let mut methods = 0;
    let lines: Vec<&str> = trait_source.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("async fn ") else {
            continue;
        };
        if lines[i.saturating_sub(1)] != "#[rpc(whole)]" {
            continue; // an implementation, not the trait's declaration
        }
        let rust_name = rest.split('(').next().unwrap_or_default();
        let rpc: String = rust_name
            .split('_')
            .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
            .collect();
        let request = lines[i + 2]
            .trim_start_matches("request: ")
            .trim_end_matches(',');
        let response = lines[i + 3]
            .trim_start_matches(") -> Result<")
            .split(',')
            .next()
            .unwrap_or_default();
        match service.methods().find(|m| m.name() == rpc) {
            Some(method) => {
                if !matches(request, method.input().full_name())
                    || !matches(response, method.output().full_name())
                {
                    problems.push(format!(
                        "{rust_name}: {request} -> {response}, the protocol's {rpc} is {} -> {}",
                        method.input().full_name(),
                        method.output().full_name()
                    ));
                }
            }
            None => problems.push(format!("{rust_name}: tfplugin6.Provider has no RPC {rpc}")),
        }
        methods += 1;
    }

    eprintln!(
        "checked {} declarations, {checked_fields} fields, {methods} methods; protocol fields we leave out: {}",
        items.len(),
        left_out.join(", ")
    );
    assert!(
        problems.is_empty(),
        "declarations differ from tfplugin6.10.proto:\n{}",
        problems.join("\n")
    );
    assert!(
        checked_fields > 100 && methods == 13,
        "{checked_fields} fields, {methods} methods"
    );
}
