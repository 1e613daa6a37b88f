//! Building the schemas rules send TFLint, and asking for what they extract.

use go_plugin::PluginError;

use super::proto::{
    AttributeSchema, BlockSchema, BodyContent, BodySchema, ExpandMode, GetModuleContentOption,
    GetModuleContentRequest, SchemaMode,
};
use super::service::Runner;

/// Optional attributes named `names`.
pub(super) fn attributes(names: &[&str]) -> Vec<AttributeSchema> {
    names
        .iter()
        .map(|&name| AttributeSchema {
            name: name.to_owned(),
            required: false,
        })
        .collect()
}

/// Blocks of type `kind` with `labels`, and what to extract from their bodies.
pub(super) fn block(kind: &str, labels: &[&str], body: BodySchema) -> BlockSchema {
    BlockSchema {
        r#type: kind.to_owned(),
        label_names: labels.iter().map(|&label| label.to_owned()).collect(),
        body: Some(body),
    }
}

/// A body with `attributes` and `blocks`.
pub(super) fn body(attribute_names: &[&str], blocks: Vec<BlockSchema>) -> BodySchema {
    BodySchema {
        attributes: attributes(attribute_names),
        blocks,
        ..BodySchema::default()
    }
}

/// A body whose attributes are all taken, whatever their names (`locals`).
pub(super) fn every_attribute() -> BodySchema {
    BodySchema {
        mode: SchemaMode::JustAttributes as i32,
        ..BodySchema::default()
    }
}

/// What `blocks` extract from every file of the module, as written (no `count`, `for_each` or
/// dynamic block expanded), as every rule of the bundled ruleset asks.
pub(super) async fn module_content(
    runner: &impl Runner,
    blocks: Vec<BlockSchema>,
) -> Result<BodyContent, PluginError> {
    let response = runner
        .get_module_content(GetModuleContentRequest {
            schema: Some(body(&[], blocks)),
            option: Some(GetModuleContentOption {
                expand_mode: ExpandMode::None as i32,
                ..GetModuleContentOption::default()
            }),
        })
        .await?;
    Ok(response.content.unwrap_or_default())
}
