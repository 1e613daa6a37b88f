//! The rules, each as tflint-ruleset-terraform v0.15.0 has it: name, severity, message, range, and
//! which modules it looks at.

use std::collections::HashMap;

use go_plugin::PluginError;

use super::proto::{
    AttributeSchema, BlockSchema, BodyContent, BodySchema, EmitIssueRequest, ExpandMode,
    GetFilesRequest, GetModuleContentOption, GetModuleContentRequest, GetModulePathRequest,
    IssueRule, Pos, Range, Severity,
};
use super::service::Runner;

/// A rule of the ruleset.
#[derive(Debug)]
pub(super) struct Rule {
    pub(super) name: &'static str,
    severity: Severity,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    DocumentedOutputs,
    DocumentedVariables,
    RequiredVersion,
    TypedVariables,
}

/// Every rule, in the order the bundled ruleset declares and runs them (by name).
pub(super) static RULES: [Rule; 4] = [
    Rule {
        name: "terraform_documented_outputs",
        severity: Severity::Notice,
        kind: Kind::DocumentedOutputs,
    },
    Rule {
        name: "terraform_documented_variables",
        severity: Severity::Notice,
        kind: Kind::DocumentedVariables,
    },
    Rule {
        name: "terraform_required_version",
        severity: Severity::Warning,
        kind: Kind::RequiredVersion,
    },
    Rule {
        name: "terraform_typed_variables",
        severity: Severity::Warning,
        kind: Kind::TypedVariables,
    },
];

impl Rule {
    /// Checks the module `runner` is about.
    pub(super) async fn check(&self, runner: &impl Runner) -> Result<(), PluginError> {
        // None of these rules looks at child modules.
        let path = runner.get_module_path(GetModulePathRequest {}).await?;
        if !path.path.is_empty() {
            return Ok(());
        }
        match self.kind {
            Kind::DocumentedOutputs => self.documented(runner, "output").await,
            Kind::DocumentedVariables => self.documented(runner, "variable").await,
            Kind::RequiredVersion => self.required_version(runner).await,
            Kind::TypedVariables => self.typed_variables(runner).await,
        }
    }

    async fn emit(
        &self,
        runner: &impl Runner,
        message: String,
        range: Option<Range>,
    ) -> Result<(), PluginError> {
        runner
            .emit_issue(EmitIssueRequest {
                rule: Some(IssueRule {
                    name: self.name.to_owned(),
                    enabled: true,
                    severity: self.severity as i32,
                    link: format!(
                        "https://github.com/terraform-linters/tflint-ruleset-terraform/blob/v0.15.0/docs/rules/{}.md",
                        self.name
                    ),
                }),
                message,
                range,
                fixable: false,
            })
            .await?;
        Ok(())
    }

    /// `variable "x" {}` without `type`.
    async fn typed_variables(&self, runner: &impl Runner) -> Result<(), PluginError> {
        let content = blocks_with(runner, "variable", &["name"], "type").await?;
        for block in &content.blocks {
            if !has_attribute(&block.body, "type") {
                let message = format!("`{}` variable has no type", label(block));
                self.emit(runner, message, block.def_range.clone()).await?;
            }
        }
        Ok(())
    }

    /// `variable` or `output` blocks without a description, or with an empty one.
    async fn documented(&self, runner: &impl Runner, kind: &str) -> Result<(), PluginError> {
        let content = blocks_with(runner, kind, &["name"], "description").await?;
        for block in &content.blocks {
            let undocumented = match block
                .body
                .as_ref()
                .and_then(|body| body.attributes.get("description"))
            {
                None => true,
                Some(description) => {
                    let expression = description.expression.clone().unwrap_or_default();
                    decodes_to_empty_string(&expression.bytes)?
                }
            };
            if undocumented {
                let message = format!("`{}` {kind} has no description", label(block));
                self.emit(runner, message, block.def_range.clone()).await?;
            }
        }
        Ok(())
    }

    /// No `terraform { required_version = … }` in the module.
    async fn required_version(&self, runner: &impl Runner) -> Result<(), PluginError> {
        let files = runner.get_files(GetFilesRequest {}).await?.files;
        if files.is_empty() {
            return Ok(());
        }
        let content = blocks_with(runner, "terraform", &[], "required_version").await?;
        if content
            .blocks
            .iter()
            .any(|block| has_attribute(&block.body, "required_version"))
        {
            return Ok(());
        }
        let message = r#"terraform "required_version" attribute is required"#.to_owned();
        let range = match content.blocks.first() {
            Some(block) => block.def_range.clone(),
            None => Some(missing_range(&files)),
        };
        self.emit(runner, message, range).await
    }
}

/// Where the bundled rule points when the module has no `terraform` block: the module's one file,
/// else its `terraform.tf` or `main.tf`, else a `terraform.tf` that does not exist (no position).
fn missing_range(files: &HashMap<String, Vec<u8>>) -> Range {
    let at_start = |filename: String| Range {
        filename,
        start: Some(Pos {
            line: 1,
            column: 1,
            byte: 0,
        }),
        end: Some(Pos {
            line: 1,
            column: 1,
            byte: 0,
        }),
    };
    let mut names = files.keys();
    let Some(any) = names.next() else {
        return Range::default();
    };
    if files.len() == 1 {
        return at_start(any.clone());
    }
    // The bundled rule takes the directory of whichever file Go's map gives first; every file of
    // a module is in one directory.
    let directory = std::path::Path::new(any)
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty());
    let join = |name: &str| match directory {
        Some(dir) => dir.join(name).to_string_lossy().into_owned(),
        None => name.to_owned(),
    };
    for name in ["terraform.tf", "main.tf"] {
        let candidate = join(name);
        if files.contains_key(&candidate) {
            return at_start(candidate);
        }
    }
    Range {
        filename: join("terraform.tf"),
        start: None,
        end: None,
    }
}

/// Blocks of `kind` with `labels`, each with attribute `attribute` when it has one; as written
/// (no `count`/`for_each` expansion).
async fn blocks_with(
    runner: &impl Runner,
    kind: &str,
    labels: &[&str],
    attribute: &str,
) -> Result<BodyContent, PluginError> {
    let schema = BodySchema {
        blocks: vec![BlockSchema {
            r#type: kind.to_owned(),
            label_names: labels.iter().map(|&name| name.to_owned()).collect(),
            body: Some(BodySchema {
                attributes: vec![AttributeSchema {
                    name: attribute.to_owned(),
                    required: false,
                }],
                ..BodySchema::default()
            }),
        }],
        ..BodySchema::default()
    };
    let response = runner
        .get_module_content(GetModuleContentRequest {
            schema: Some(schema),
            option: Some(GetModuleContentOption {
                expand_mode: ExpandMode::None as i32,
                ..GetModuleContentOption::default()
            }),
        })
        .await?;
    Ok(response.content.unwrap_or_default())
}

fn has_attribute(body: &Option<BodyContent>, name: &str) -> bool {
    body.as_ref()
        .is_some_and(|body| body.attributes.contains_key(name))
}

fn label(block: &super::proto::Block) -> &str {
    block.labels.first().map(String::as_str).unwrap_or_default()
}

/// Whether an expression decodes, with no variables and no functions, to the empty string: `""`,
/// or a heredoc with no lines. A number or a bool converts to a non-empty string, as does a string
/// literal with anything in it.
///
/// Not yet as the bundled rule: expressions with interpolations or references (which it
/// evaluates, or fails on) are refused with an error of ours.
fn decodes_to_empty_string(bytes: &[u8]) -> Result<bool, PluginError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text == "\"\"" {
        return Ok(true);
    }
    if let Some(heredoc) = text.strip_prefix("<<") {
        let marker = heredoc.trim_start_matches('-');
        let (first, rest) = marker.split_once('\n').unwrap_or((marker, ""));
        let lines: Vec<_> = rest.lines().collect();
        return Ok(lines.len() == 1 && lines[0].trim() == first.trim());
    }
    let plain_literal = text.len() >= 2
        && text.starts_with('"')
        && text.ends_with('"')
        && !text.contains("${")
        && !text.contains("%{");
    let number_or_bool = text == "true" || text == "false" || text.parse::<f64>().is_ok();
    if plain_literal || number_or_bool {
        return Ok(false);
    }
    Err(PluginError::new(format!(
        "{text}: only string literals are supported here so far"
    )))
}
