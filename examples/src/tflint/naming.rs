//! `terraform_naming_convention`: names of data sources, modules, outputs, resources, variables,
//! checks and local values against a format (`snake_case` by default), per block type if
//! configured, as tflint-ruleset-terraform v0.15.0 checks them.

use std::collections::HashMap;

use go_plugin::PluginError;
use regex::Regex;

use super::proto::{Block, BodyContent, BodySchema, GetRuleConfigContentRequest};
use super::rules::Rule;
use super::schema::{block, body, every_attribute, module_content};
use super::service::Runner;

/// The block types with a setting of their own, and the word each issue uses for them.
const TYPES: [(&str, &str); 7] = [
    ("check", "check"),
    ("data", "data"),
    ("locals", "local value"),
    ("module", "module"),
    ("output", "output"),
    ("resource", "resource"),
    ("variable", "variable"),
];

/// What a name must match: a format's or a custom pattern, shown as the issue says it.
#[derive(Clone)]
struct Validator {
    /// A format (`format: …`), or a pattern (`RegExp: …`).
    named: bool,
    shown: String,
    pattern: Regex,
}

/// The rule's `rule "terraform_naming_convention"` block.
#[derive(Default)]
struct Settings {
    format: Option<String>,
    custom: String,
    /// `custom_formats`: name → (pattern, description).
    formats: HashMap<String, (String, String)>,
    /// Per block type: (format, custom), when its block is there.
    blocks: HashMap<String, (String, String)>,
}

pub(super) async fn check(rule: &Rule, runner: &impl Runner) -> Result<(), PluginError> {
    let settings = settings(runner, rule.name).await?;
    // The default validator first: a bad default fails the rule before any per-type setting.
    let default = validator(
        &settings.custom,
        settings.format.as_deref().unwrap_or("snake_case"),
        &settings,
    )
    .map_err(|err| PluginError::new(format!("Invalid default configuration: {err}")))?;
    let for_type = |kind: &str, word: &str| -> Result<Option<Validator>, PluginError> {
        match settings.blocks.get(kind) {
            Some((format, custom)) => validator(custom, format, &settings)
                .map_err(|err| PluginError::new(format!("Invalid {word} configuration: {err}"))),
            None => Ok(default.clone()),
        }
    };

    let content = blocks(runner).await?;
    let of_type = |kind: &'static str| content.blocks.iter().filter(move |b| b.r#type == kind);
    let data = for_type("data", "data")?;
    for block in of_type("data") {
        emit_unless_valid(rule, runner, &data, "data", block, 1).await?;
    }
    // Data sources inside check blocks go by the data setting.
    for check in of_type("check") {
        let nested = check
            .body
            .as_ref()
            .map(|b| b.blocks.as_slice())
            .unwrap_or_default();
        for block in nested {
            emit_unless_valid(rule, runner, &data, "data", block, 1).await?;
        }
    }
    for (kind, label) in [
        ("module", 0),
        ("output", 0),
        ("resource", 1),
        ("variable", 0),
        ("check", 0),
    ] {
        let validator = for_type(kind, kind)?;
        for block in of_type(kind) {
            emit_unless_valid(rule, runner, &validator, kind, block, label).await?;
        }
    }
    let locals = for_type("locals", "local value")?;
    for block in &locals_blocks(runner).await?.blocks {
        for attribute in block.body.iter().flat_map(|body| body.attributes.values()) {
            if let Some(issue) = mismatch(&locals, "local value", &attribute.name) {
                rule.emit(runner, issue, attribute.range.clone()).await?;
            }
        }
    }
    Ok(())
}

/// The issue's message when `name` does not match `validator`.
fn mismatch(validator: &Option<Validator>, word: &str, name: &str) -> Option<String> {
    let validator = validator.as_ref()?;
    if validator.pattern.is_match(name) {
        return None;
    }
    let kind = if validator.named { "format" } else { "RegExp" };
    Some(format!(
        "{word} name `{name}` must match the following {kind}: {}",
        validator.shown
    ))
}

async fn emit_unless_valid(
    rule: &Rule,
    runner: &impl Runner,
    validator: &Option<Validator>,
    word: &str,
    block: &Block,
    label: usize,
) -> Result<(), PluginError> {
    let name = block
        .labels
        .get(label)
        .map(String::as_str)
        .unwrap_or_default();
    match mismatch(validator, word, name) {
        Some(issue) => rule.emit(runner, issue, block.def_range.clone()).await,
        None => Ok(()),
    }
}

/// The validator of `custom` (a pattern), else of `format` (`none` for none): one of
/// `custom_formats`, else a predefined one.
fn validator(custom: &str, format: &str, settings: &Settings) -> Result<Option<Validator>, String> {
    if !custom.is_empty() {
        let pattern = Regex::new(custom).map_err(|err| err.to_string())?;
        return Ok(Some(Validator {
            named: false,
            shown: custom.to_owned(),
            pattern,
        }));
    }
    if format == "none" {
        return Ok(None);
    }
    if let Some((pattern, description)) = settings.formats.get(format) {
        let pattern = Regex::new(pattern).map_err(|err| err.to_string())?;
        return Ok(Some(Validator {
            named: true,
            shown: description.clone(),
            pattern,
        }));
    }
    let pattern = match format.to_lowercase().as_str() {
        "snake_case" => "^[a-z][a-z0-9]*(_[a-z0-9]+)*$",
        "mixed_snake_case" => "^[a-zA-Z][a-zA-Z0-9]*(_[a-zA-Z0-9]+)*$",
        _ => return Err(format!("`{format}` is unsupported format")),
    };
    Ok(Some(Validator {
        named: true,
        shown: format.to_owned(),
        pattern: Regex::new(pattern).map_err(|err| err.to_string())?,
    }))
}

/// Reads the rule's block, with the bundled rule's schema.
async fn settings(runner: &impl Runner, name: &str) -> Result<Settings, PluginError> {
    let per_type = TYPES
        .iter()
        .map(|(kind, _)| block(kind, &[], body(&["custom", "format"], Vec::new())))
        .collect();
    let schema = body(&["custom", "custom_formats", "format"], per_type);
    let content = runner
        .get_rule_config_content(GetRuleConfigContentRequest {
            name: name.to_owned(),
            schema: Some(schema),
        })
        .await?
        .content
        .unwrap_or_default();
    let text = |body: &BodyContent, name: &str| -> Result<Option<String>, PluginError> {
        body.attributes
            .get(name)
            .map(|attribute| {
                let bytes = attribute.expression.as_ref().map(|e| e.bytes.as_slice());
                super::hcl::string(bytes.unwrap_or_default()).map_err(PluginError::new)
            })
            .transpose()
    };
    let mut settings = Settings {
        format: text(&content, "format")?,
        custom: text(&content, "custom")?.unwrap_or_default(),
        ..Settings::default()
    };
    if let Some(attribute) = content.attributes.get("custom_formats") {
        let bytes = attribute.expression.as_ref().map(|e| e.bytes.as_slice());
        let value = super::hcl::evaluate(bytes.unwrap_or_default()).map_err(PluginError::new)?;
        let hcl::Value::Object(formats) = value else {
            return Err(PluginError::new("custom_formats: an object is required"));
        };
        for (name, format) in formats {
            let field = |key: &str| match format.as_object().and_then(|o| o.get(key)) {
                Some(hcl::Value::String(text)) => Ok(text.clone()),
                _ => Err(PluginError::new(format!(
                    "custom_formats[\"{name}\"]: attribute \"{key}\" is required"
                ))),
            };
            let format = (field("regex")?, field("description")?);
            settings.formats.insert(name, format);
        }
    }
    for block in &content.blocks {
        let body = block.body.clone().unwrap_or_default();
        let format = text(&body, "format")?.unwrap_or_default();
        let custom = text(&body, "custom")?.unwrap_or_default();
        settings
            .blocks
            .insert(block.r#type.clone(), (format, custom));
    }
    Ok(settings)
}

/// The named blocks, as the bundled rule asks for them.
async fn blocks(runner: &impl Runner) -> Result<BodyContent, PluginError> {
    let empty = BodySchema::default;
    let data = || block("data", &["type", "name"], empty());
    let blocks = vec![
        data(),
        block("module", &["name"], empty()),
        block("output", &["name"], empty()),
        block("resource", &["type", "name"], empty()),
        block("variable", &["name"], empty()),
        block("check", &["name"], body(&[], vec![data()])),
    ];
    module_content(runner, blocks).await
}

/// Every `locals` block with all its attributes (each local's range is its whole definition).
async fn locals_blocks(runner: &impl Runner) -> Result<BodyContent, PluginError> {
    module_content(runner, vec![block("locals", &[], every_attribute())]).await
}
