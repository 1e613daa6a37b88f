//! `terraform_unused_declarations`: variables, data sources, locals and provider aliases that no
//! expression of the module refers to, as tflint-ruleset-terraform v0.15.0 finds them. Any reference
//! anywhere counts (no reachability), except a variable's references from its own validations.
//! `--fix` removes them, with their comments and a blank line, as the SDK's fixer does
//! (`tokens`).

use std::collections::{BTreeMap, BTreeSet};

use go_plugin::PluginError;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::visit::{Visit, visit_expr};

use super::proto::{BodySchema, GetFilesRequest, Range};
use super::rules::Rule;
use super::schema::{block, body, every_attribute, module_content};
use super::service::Runner;

/// A reference found in an expression, and where it is.
struct Reference {
    file: String,
    span: std::ops::Range<usize>,
    /// `var`, `local`, `data` or anything else, then the attribute names after it.
    steps: Vec<String>,
}

/// Collects the references of every expression of a file.
struct Walker<'a> {
    file: &'a str,
    found: Vec<Reference>,
}

impl Visit for Walker<'_> {
    fn visit_expr(&mut self, expr: &Expression) {
        if let Expression::Traversal(traversal) = expr
            && let Expression::Variable(root) = &traversal.expr
            && let Some(span) = expr.span()
        {
            let mut steps = vec![root.as_str().to_owned()];
            for operator in &traversal.operators {
                match operator.value() {
                    TraversalOperator::GetAttr(name) => steps.push(name.as_str().to_owned()),
                    _ => break,
                }
            }
            self.found.push(Reference {
                file: self.file.to_owned(),
                span,
                steps,
            });
        }
        visit_expr(self, expr);
    }
}

/// A declaration: where it is reported, and the byte ranges (file, span) of its own validations.
struct Declared {
    range: Option<Range>,
    own: Vec<(String, std::ops::Range<usize>)>,
}

fn bytes_of(range: &Option<Range>) -> Option<(String, std::ops::Range<usize>)> {
    let range = range.as_ref()?;
    let start = range.start.unwrap_or_default().byte as usize;
    let end = range.end.unwrap_or_default().byte as usize;
    Some((range.filename.clone(), start..end))
}

pub(super) async fn check(rule: &Rule, runner: &impl Runner, fix: bool) -> Result<(), PluginError> {
    let data = || block("data", &["type", "name"], BodySchema::default());
    let validation = block(
        "validation",
        &[],
        body(&["condition", "error_message"], Vec::new()),
    );
    let declarations = module_content(
        runner,
        vec![
            block("variable", &["name"], body(&[], vec![validation])),
            data(),
            block("check", &["name"], body(&[], vec![data()])),
            block("provider", &["name"], body(&["alias"], Vec::new())),
        ],
    )
    .await?;
    let mut variables = BTreeMap::new();
    let mut data = BTreeMap::new();
    let mut aliases = BTreeMap::new();
    let label = |b: &super::proto::Block, i: usize| b.labels.get(i).cloned().unwrap_or_default();
    for declaration in &declarations.blocks {
        let body = declaration.body.clone().unwrap_or_default();
        match declaration.r#type.as_str() {
            "variable" => {
                let own = body
                    .blocks
                    .iter()
                    .flat_map(|validation| validation.body.iter())
                    .flat_map(|body| body.attributes.values())
                    .filter_map(|attribute| {
                        bytes_of(&attribute.expression.as_ref().and_then(|e| e.range.clone()))
                    })
                    .collect();
                let declared = Declared {
                    range: declaration.def_range.clone(),
                    own,
                };
                variables.insert(label(declaration, 0), declared);
            }
            "data" => {
                let key = (label(declaration, 0), label(declaration, 1));
                data.insert(key, declaration.def_range.clone());
            }
            "check" => {
                for nested in &body.blocks {
                    let key = (label(nested, 0), label(nested, 1));
                    data.insert(key, nested.def_range.clone());
                }
            }
            "provider" => {
                let alias = body.attributes.get("alias").and_then(|attribute| {
                    let bytes = attribute.expression.as_ref().map(|e| e.bytes.as_slice());
                    super::hcl::string(bytes.unwrap_or_default()).ok()
                });
                if let Some(alias) = alias {
                    aliases.insert(
                        (label(declaration, 0), alias),
                        declaration.def_range.clone(),
                    );
                }
            }
            _ => {}
        }
    }
    let mut locals = BTreeMap::new();
    let locals_blocks = module_content(runner, vec![block("locals", &[], every_attribute())]);
    for block in locals_blocks.await?.blocks {
        for (name, attribute) in block.body.unwrap_or_default().attributes {
            locals.insert(name, attribute.range);
        }
    }

    let files = runner.get_files(GetFilesRequest {}).await?.files;
    let files = super::hcl::native_files(&files);
    let mut references = Vec::new();
    for file in &files {
        let mut walker = Walker {
            file: &file.name,
            found: Vec::new(),
        };
        walker.visit_body(&file.body);
        references.extend(walker.found);
    }
    let mut used_aliases = BTreeSet::new();
    for reference in &references {
        let steps: Vec<&str> = reference.steps.iter().map(String::as_str).collect();
        if let [first, second] = steps.as_slice() {
            used_aliases.insert(((*first).to_owned(), (*second).to_owned()));
        }
        match steps.as_slice() {
            ["var", name, ..] => {
                let own = variables.get(*name).is_some_and(|declared: &Declared| {
                    declared.own.iter().any(|(file, span)| {
                        *file == reference.file
                            && span.start <= reference.span.start
                            && reference.span.end <= span.end
                    })
                });
                if !own {
                    variables.remove(*name);
                }
            }
            ["local", name, ..] => {
                locals.remove(*name);
            }
            ["data", kind, name, ..] => {
                data.remove(&((*kind).to_owned(), (*name).to_owned()));
            }
            _ => {}
        }
    }
    for alias in &used_aliases {
        aliases.remove(alias);
    }

    // Each issue, then (with --fix) its declaration removed: a block to its closing brace, a
    // local its attribute.
    let mut issues = Vec::new();
    for (name, declared) in variables {
        let message = format!("variable \"{name}\" is declared but not used");
        issues.push((message, declared.range, true));
    }
    for ((kind, name), range) in data {
        let message = format!("data \"{kind}\" \"{name}\" is declared but not used");
        issues.push((message, range, true));
    }
    for (name, range) in locals {
        issues.push((
            format!("local.{name} is declared but not used"),
            range,
            false,
        ));
    }
    for ((provider, alias), range) in aliases {
        let message =
            format!("provider \"{provider}\" with alias \"{alias}\" is declared but not used");
        issues.push((message, range, true));
    }
    // What to remove, by file: a declaration's bytes, and whether it is a block.
    let mut removals: BTreeMap<String, Vec<(std::ops::Range<usize>, bool)>> = BTreeMap::new();
    for (message, range, is_block) in issues {
        // The SDK's fixer removes from native syntax only.
        let fixable = range.as_ref().is_some_and(|r| r.filename.ends_with(".tf"));
        let applied = rule
            .emit_fixable(runner, message, range.clone(), fixable)
            .await?;
        if fix
            && fixable
            && applied
            && let Some((file, span)) = bytes_of(&range)
        {
            removals.entry(file).or_default().push((span, is_block));
        }
    }
    let mut changes = std::collections::HashMap::new();
    for (name, declarations) in removals {
        let Some(file) = files.iter().find(|file| file.name == name) else {
            continue;
        };
        let lexed = super::tokens::Lexed::new(&file.source);
        let mut ranges = Vec::new();
        for (span, is_block) in declarations {
            let whole = if is_block {
                lexed.block_range(span.start, span.end)
            } else {
                Some(span)
            };
            let removal = whole
                .and_then(|whole| lexed.removal(whole))
                .ok_or_else(|| PluginError::new(format!("{name}: no token found to remove")))?;
            ranges.push(removal);
        }
        let mut text = file.source.clone();
        ranges.sort_by_key(|range| std::cmp::Reverse(range.start));
        for range in ranges {
            text.replace_range(range, "");
        }
        changes.insert(name, super::tokens::align(&text).into_bytes());
    }
    if !changes.is_empty() {
        runner
            .apply_changes(super::proto::ApplyChangesRequest { changes })
            .await?;
    }
    Ok(())
}
