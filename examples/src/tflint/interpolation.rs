//! `terraform_deprecated_interpolation`: a string that is nothing but one interpolation
//! (`"${var.x}"`), which Terraform v0.12.14 deprecated; `--fix` replaces it with the expression
//! inside (in parentheses as an object key), as tflint-ruleset-terraform v0.15.0 does.

use std::collections::HashMap;

use go_plugin::PluginError;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::template::Element;
use hcl_edit::visit::{Visit, visit_expr, visit_object_key};

use super::proto::{ApplyChangesRequest, GetFilesRequest, Pos, Range};
use super::rules::Rule;
use super::service::Runner;

const MESSAGE: &str = "Interpolation-only expressions are deprecated in Terraform v0.12.14";

/// An interpolation-only string: its byte range, the range of the expression inside, and whether
/// it is an object key (whose fix keeps it in parentheses).
struct Finding {
    span: std::ops::Range<usize>,
    wrapped: std::ops::Range<usize>,
    in_key: bool,
}

/// Collects the interpolation-only strings of a file, object keys marked.
struct Walker {
    in_key: bool,
    found: Vec<Finding>,
}

impl Visit for Walker {
    fn visit_object_key(&mut self, key: &ObjectKey) {
        let outer = std::mem::replace(&mut self.in_key, true);
        visit_object_key(self, key);
        self.in_key = outer;
    }

    fn visit_expr(&mut self, expr: &Expression) {
        let in_key = std::mem::replace(&mut self.in_key, false);
        if let Expression::StringTemplate(template) = expr {
            let mut elements = template.iter();
            if let (Some(Element::Interpolation(interpolation)), None) =
                (elements.next(), elements.next())
                && let (Some(span), Some(inner)) = (expr.span(), interpolation.expr.span())
            {
                self.found.push(Finding {
                    span,
                    wrapped: inner,
                    in_key,
                });
            }
        }
        visit_expr(self, expr);
    }
}

pub(super) async fn check(rule: &Rule, runner: &impl Runner, fix: bool) -> Result<(), PluginError> {
    let files = runner.get_files(GetFilesRequest {}).await?.files;
    let mut changes = HashMap::new();
    for file in super::hcl::native_files(&files) {
        let (name, source) = (&file.name, &file.source);
        let mut walker = Walker {
            in_key: false,
            found: Vec::new(),
        };
        walker.visit_body(&file.body);
        let mut fixes = Vec::new();
        for finding in walker.found {
            let range = range_of(name, source, &finding.span);
            let applied = rule
                .emit_fixable(runner, MESSAGE.to_owned(), Some(range), true)
                .await?;
            if fix && applied {
                fixes.push(finding);
            }
        }
        if !fixes.is_empty() {
            // The SDK formats every file a fix changed.
            let fixed = super::tokens::align(&fixed(source, &(0..source.len()), &fixes));
            changes.insert(name.clone(), fixed.into_bytes());
        }
    }
    if !changes.is_empty() {
        runner
            .apply_changes(ApplyChangesRequest { changes })
            .await?;
    }
    Ok(())
}

/// The text of `within` (a range of `source`) with the fixes inside it made: each string that is
/// not inside another becomes its expression, itself with the fixes inside it made (so a string
/// nested in another is fixed in the same round, as TFLint's fixer does).
fn fixed(source: &str, within: &std::ops::Range<usize>, fixes: &[Finding]) -> String {
    let inside = |span: &std::ops::Range<usize>, of: &std::ops::Range<usize>| {
        of.start <= span.start && span.end <= of.end && span != of
    };
    // A string may be the whole of what another wraps (`"${"${var.x}"}"`).
    let candidates: Vec<&Finding> = fixes
        .iter()
        .filter(|fix| within.start <= fix.span.start && fix.span.end <= within.end)
        .collect();
    let mut outermost: Vec<&Finding> = candidates
        .iter()
        .copied()
        .filter(|fix| {
            !candidates
                .iter()
                .any(|other| inside(&fix.span, &other.span))
        })
        .collect();
    outermost.sort_by_key(|fix| std::cmp::Reverse(fix.span.start));
    let mut text = source[within.clone()].to_owned();
    for fix in outermost {
        let inner = fixed(source, &fix.wrapped, fixes);
        let replacement = if fix.in_key {
            format!("({inner})")
        } else {
            inner
        };
        let start = fix.span.start - within.start;
        text.replace_range(start..start + fix.span.len(), &replacement);
    }
    text
}

/// The TFLint range of bytes `span` of `source`: lines from 1, columns from 1 in characters.
pub(super) fn range_of(filename: &str, source: &str, span: &std::ops::Range<usize>) -> Range {
    Range {
        filename: filename.to_owned(),
        start: Some(position(source, span.start)),
        end: Some(position(source, span.end)),
    }
}

fn position(source: &str, byte: usize) -> Pos {
    let before = &source[..byte];
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Pos {
        line: before.matches('\n').count() as i64 + 1,
        column: before[line_start..].chars().count() as i64 + 1,
        byte: byte as i64,
    }
}
