//! The rules, each as tflint-ruleset-terraform v0.15.0 has it: name, severity, message, range, and
//! which modules it looks at.

use std::collections::HashMap;

use go_plugin::PluginError;

use super::proto::{
    BodyContent, EmitIssueRequest, GetFilesRequest, GetModulePathRequest, IssueRule, Pos, Range,
    Severity,
};
use super::schema;
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
    DeprecatedInterpolation,
    DocumentedOutputs,
    DocumentedVariables,
    ModulePinnedSource,
    NamingConvention,
    RequiredVersion,
    TypedVariables,
    UnusedDeclarations,
}

/// Every rule, in the order the bundled ruleset declares and runs them (by name).
pub(super) static RULES: [Rule; 8] = [
    Rule {
        name: "terraform_deprecated_interpolation",
        severity: Severity::Warning,
        kind: Kind::DeprecatedInterpolation,
    },
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
        name: "terraform_module_pinned_source",
        severity: Severity::Warning,
        kind: Kind::ModulePinnedSource,
    },
    Rule {
        name: "terraform_naming_convention",
        severity: Severity::Notice,
        kind: Kind::NamingConvention,
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
    Rule {
        name: "terraform_unused_declarations",
        severity: Severity::Warning,
        kind: Kind::UnusedDeclarations,
    },
];

impl Rule {
    /// Checks the module `runner` is about.
    /// Checks the module `runner` is about; with `fix` (`--fix`), fixes what it can.
    pub(super) async fn check(&self, runner: &impl Runner, fix: bool) -> Result<(), PluginError> {
        // Pinned sources are checked in every module (TFLint drops the issues of child modules,
        // but their errors count); the other rules look at the root module only.
        if !matches!(self.kind, Kind::ModulePinnedSource) {
            let path = runner.get_module_path(GetModulePathRequest {}).await?;
            if !path.path.is_empty() {
                return Ok(());
            }
        }
        match self.kind {
            Kind::DeprecatedInterpolation => super::interpolation::check(self, runner, fix).await,
            Kind::DocumentedOutputs => self.documented(runner, "output").await,
            Kind::DocumentedVariables => self.documented(runner, "variable").await,
            Kind::ModulePinnedSource => super::pinned::check(self, runner).await,
            Kind::NamingConvention => super::naming::check(self, runner).await,
            Kind::RequiredVersion => self.required_version(runner).await,
            Kind::TypedVariables => self.typed_variables(runner).await,
            Kind::UnusedDeclarations => super::unused::check(self, runner, fix).await,
        }
    }

    pub(super) async fn emit(
        &self,
        runner: &impl Runner,
        message: String,
        range: Option<Range>,
    ) -> Result<(), PluginError> {
        self.emit_fixable(runner, message, range, false).await?;
        Ok(())
    }

    /// Reports an issue; whether TFLint took it (an annotation may silence it).
    pub(super) async fn emit_fixable(
        &self,
        runner: &impl Runner,
        message: String,
        range: Option<Range>,
        fixable: bool,
    ) -> Result<bool, PluginError> {
        let response = runner
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
                fixable,
            })
            .await?;
        Ok(response.applied)
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
                    super::hcl::string(&expression.bytes)
                        .map_err(|err| PluginError::new(at(&expression.range, &err)))?
                        .is_empty()
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

/// Blocks of `kind` with `labels`, each with attribute `attribute` when it has one.
async fn blocks_with(
    runner: &impl Runner,
    kind: &str,
    labels: &[&str],
    attribute: &str,
) -> Result<BodyContent, PluginError> {
    let blocks = vec![schema::block(
        kind,
        labels,
        schema::body(&[attribute], Vec::new()),
    )];
    schema::module_content(runner, blocks).await
}

/// `err` where it happened, as Go's HCL diagnostics print: `FILE:LINE,COL-COL: …`, or
/// `FILE:LINE,COL-LINE,COL: …` across lines.
pub(super) fn at(range: &Option<Range>, err: &str) -> String {
    let Some(range) = range else {
        return err.to_owned();
    };
    let start = range.start.unwrap_or_default();
    let end = range.end.unwrap_or_default();
    let file = &range.filename;
    if start.line == end.line {
        format!(
            "{file}:{},{}-{}: {err}",
            start.line, start.column, end.column
        )
    } else {
        format!(
            "{file}:{},{}-{},{}: {err}",
            start.line, start.column, end.line, end.column
        )
    }
}

fn has_attribute(body: &Option<BodyContent>, name: &str) -> bool {
    body.as_ref()
        .is_some_and(|body| body.attributes.contains_key(name))
}

fn label(block: &super::proto::Block) -> &str {
    block.labels.first().map(String::as_str).unwrap_or_default()
}
