//! `terraform_module_pinned_source`: module sources from Git or Mercurial that are not pinned to
//! a revision, or pinned to a default branch (or, with `style = "semver"`, to something that is
//! not a semantic version), as tflint-ruleset-terraform v0.15.0 finds them. Sources are classified
//! as go-getter v1.8.6 (which TFLint v0.64.0 links) detects them: forced getters (`git::`), a
//! subdirectory after `//`, then GitHub, scp-like Git, GCS, S3 and file sources, with Go's URL
//! parsing rules where they decide the outcome.
//!
//! A module's `version` must be a constraint hashicorp/go-version v1.9.0 reads, or the rule fails,
//! as the bundled one does.
//!
//! Not yet as the bundled rule: a `bitbucket.org/` source (go-getter asks Bitbucket's API about
//! it, over the network) is refused with an error.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use go_plugin::PluginError;
use regex::Regex;

use super::proto::{
    EvaluateExprOption, EvaluateExprRequest, GetRuleConfigContentRequest, ModuleCtxType,
};
use super::rules::{Rule, at};
use super::schema::{block, body, module_content};
use super::service::Runner;

const DEFAULT_BRANCHES: [&str; 4] = ["master", "main", "default", "develop"];

/// What the rule says about a source.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Not from Git or Mercurial, or pinned well.
    Fine,
    NotValidUrl,
    NotPinned,
    /// `ref` or `rev`, and its value.
    Revision(&'static str, String),
}

pub(super) async fn check(rule: &Rule, runner: &impl Runner) -> Result<(), PluginError> {
    let (style, branches) = settings(runner, rule.name).await?;
    let modules = module_content(
        runner,
        vec![block(
            "module",
            &["name"],
            body(&["source", "version"], Vec::new()),
        )],
    )
    .await?;
    // Every call is read first; any call's error fails the rule before any issue.
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    for module in &modules.blocks {
        let attribute = |name: &str| {
            module
                .body
                .as_ref()
                .and_then(|body| body.attributes.get(name))
                .map(|a| a.expression.clone().unwrap_or_default())
        };
        let source = match attribute("source") {
            Some(expression) => match evaluate(runner, &expression).await? {
                Evaluated::Text(source) => Some((source, expression.range)),
                Evaluated::NotText => {
                    errors.push(at(&expression.range, NOT_A_STRING));
                    continue;
                }
                // Unknown or marked: not checked. (Null would crash the bundled rule.)
                Evaluated::Unknown | Evaluated::Null => None,
            },
            None => Some((String::new(), None)),
        };
        if let Some(expression) = attribute("version")
            && let version = evaluate(runner, &expression).await?
        {
            match version {
                Evaluated::Text(version) if !is_version_constraint(&version) => {
                    errors.push(at(&expression.range, BAD_CONSTRAINT));
                }
                Evaluated::NotText => errors.push(at(&expression.range, NOT_A_STRING)),
                _ => {}
            }
        }
        calls.extend(source);
    }
    if let Some(first) = errors.first() {
        let more = match errors.len() {
            1 => String::new(),
            n => format!(", and {} other diagnostic(s)", n - 1),
        };
        return Err(PluginError::new(format!("{first}{more}")));
    }
    for (source, range) in calls {
        let message = match verdict(&source).map_err(PluginError::new)? {
            Verdict::Fine => continue,
            Verdict::NotValidUrl => {
                format!("Module source {} is not a valid URL", go_quote(&source))
            }
            Verdict::NotPinned => format!("Module source \"{source}\" is not pinned"),
            Verdict::Revision(key, value) => match style.as_str() {
                "flexible" => match branches.iter().find(|branch| **branch == value) {
                    Some(branch) => format!(
                        "Module source \"{source}\" uses a default branch as {key} ({branch})"
                    ),
                    None => continue,
                },
                "semver" if is_semantic_version(&value) => continue,
                "semver" => format!(
                    "Module source \"{source}\" uses a {key} which is not a semantic version string"
                ),
                other => return Err(PluginError::new(format!("`{other}` is invalid style"))),
            },
        };
        rule.emit(runner, message, range).await?;
    }
    Ok(())
}

/// `style` and `default_branches` from the rule's block.
async fn settings(runner: &impl Runner, name: &str) -> Result<(String, Vec<String>), PluginError> {
    let content = runner
        .get_rule_config_content(GetRuleConfigContentRequest {
            name: name.to_owned(),
            schema: Some(body(&["default_branches", "style"], Vec::new())),
        })
        .await?
        .content
        .unwrap_or_default();
    let bytes = |name: &str| {
        content
            .attributes
            .get(name)
            .and_then(|a| a.expression.as_ref())
            .map(|e| e.bytes.clone())
    };
    let style = match bytes("style") {
        Some(bytes) => super::hcl::string(&bytes).map_err(PluginError::new)?,
        None => "flexible".to_owned(),
    };
    let branches = match bytes("default_branches") {
        Some(bytes) => match super::hcl::evaluate(&bytes).map_err(PluginError::new)? {
            hcl::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    hcl::Value::String(text) => Ok(text),
                    _ => Err(PluginError::new(
                        "default_branches: a list of strings is required",
                    )),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(PluginError::new(
                    "default_branches: a list of strings is required",
                ));
            }
        },
        None => DEFAULT_BRANCHES.iter().map(|&b| b.to_owned()).collect(),
    };
    Ok((style, branches))
}

const NOT_A_STRING: &str = "Expected a string; The expression should evaluate to a string.";
const BAD_CONSTRAINT: &str =
    "Invalid version constraint; This string does not use correct version constraint syntax.";

/// A module attribute's value, as the bundled rule sees it.
enum Evaluated {
    /// Not known yet, or marked (sensitive, ephemeral).
    Unknown,
    Null,
    Text(String),
    NotText,
}

/// The value of a module's `source` or `version`, as TFLint evaluates it in the module's context.
async fn evaluate(
    runner: &impl Runner,
    expression: &super::proto::Expression,
) -> Result<Evaluated, PluginError> {
    let response = runner
        .evaluate_expr(EvaluateExprRequest {
            option: Some(EvaluateExprOption {
                r#type: b"\"dynamic\"".to_vec(),
                module_ctx: ModuleCtxType::SelfModule as i32,
            }),
            expression: Some(super::proto::Expression {
                bytes: expression.bytes.clone(),
                range: expression.range.clone(),
                value: Vec::new(),
            }),
        })
        .await?;
    if !response.marks.is_empty() {
        return Ok(Evaluated::Unknown);
    }
    let value = rmpv::decode::read_value(&mut response.value.as_slice())
        .map_err(|err| PluginError::new(format!("the module attribute's value: {err}")))?;
    // A known value of type `dynamic` is `[type as JSON, value]`; an unknown one is an extension.
    let value = match value {
        rmpv::Value::Array(pair) if pair.len() == 2 => pair[1].clone(),
        other => other,
    };
    Ok(match value {
        rmpv::Value::Ext(..) => Evaluated::Unknown,
        rmpv::Value::Nil => Evaluated::Null,
        rmpv::Value::String(text) => match text.into_str() {
            Some(text) => Evaluated::Text(text),
            None => Evaluated::NotText,
        },
        _ => Evaluated::NotText,
    })
}

/// Whether hashicorp/go-version v1.9.0's `NewConstraint` takes `text`: comma-separated
/// constraints, each an optional operator and a version whose numbers fit 64 bits.
fn is_version_constraint(text: &str) -> bool {
    static CONSTRAINT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^\s*(<=|>=|!=|~>|<|>|=|)\s*(v?([0-9]+(\.[0-9]+)*?)",
            r"(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?",
            r"(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))??)\s*$",
        ))
        .expect("go-version's constraint pattern")
    });
    text.split(',').all(|single| {
        CONSTRAINT.captures(single).is_some_and(|captures| {
            captures[3]
                .split('.')
                .all(|number| number.parse::<i64>().is_ok())
        })
    })
}

/// Go's `%q` of a string: quoted, with `"` and `\` and control characters escaped.
fn go_quote(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() => quoted.push_str(&format!("\\x{:02x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The rule's verdict on `source`, or the error that fails it (as go-getter's).
fn verdict(source: &str) -> Result<Verdict, String> {
    let original_query = source
        .split_once('?')
        .and_then(|(_, query)| parse_query(query).ok());
    let result = detect(source)?;
    let outer = Url::parse(&result);
    if outer.scheme != "git" && outer.scheme != "hg" {
        return Ok(Verdict::Fine);
    }
    let inner = match &outer.opaque {
        Some(opaque) => Url::parse(opaque.strip_prefix(':').unwrap_or(opaque)),
        None => outer.clone(),
    };
    if inner.hostname().is_empty() {
        return Ok(Verdict::NotValidUrl);
    }
    let mut query =
        parse_query(outer.query.as_deref().unwrap_or_default()).unwrap_or_else(|partial| partial);
    for (key, values) in original_query.unwrap_or_default() {
        query.entry(key).or_insert(values);
    }
    let first = |key: &str| {
        query
            .get(key)
            .and_then(|values| values.first())
            .filter(|value| !value.is_empty())
            .cloned()
    };
    Ok(match (first("ref"), first("rev")) {
        (Some(value), _) => Verdict::Revision("ref", value),
        (None, Some(value)) => Verdict::Revision("rev", value),
        (None, None) => Verdict::NotPinned,
    })
}

/// go-getter's `Detect`: the source as a URL its getters take.
fn detect(source: &str) -> Result<String, String> {
    let (force, rest) = forced(source);
    let (rest, _subdirectory) = subdirectory(rest);
    if !Url::parse(&rest).scheme.is_empty() {
        return Ok(source.to_owned());
    }
    let detected = if let Some(path) = rest.strip_prefix("github.com/") {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 2 {
            return Err("GitHub URLs should be github.com/username/repo".to_owned());
        }
        // The repository's URL; more parts go after `//` in its path, where a query is escaped.
        let (repository, query) = match parts[1].split_once('?') {
            Some((repository, query)) if parts.len() == 2 => (repository, Some(query)),
            _ => (parts[1], None),
        };
        let suffix = if repository.ends_with(".git") {
            ""
        } else {
            ".git"
        };
        let mut url = format!("git::https://github.com/{}/{repository}{suffix}", parts[0]);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        Some(url)
    } else if let Some((host, path)) = scp_like(&rest)? {
        Some(format!("git::ssh://git@{host}/{path}"))
    } else if rest.starts_with("bitbucket.org/") {
        return Err(format!(
            "{source}: bitbucket.org sources are not supported by tflint-ruleset-rust"
        ));
    } else if rest.contains("googleapis.com/") {
        Some(format!("gcs::https://www.{rest}"))
    } else if rest.contains(".amazonaws.com/") {
        Some(format!("s3::https://{rest}"))
    } else if !rest.is_empty() {
        Some("file:///".to_owned())
    } else {
        None
    };
    let Some(detected) = detected else {
        return Err(format!("invalid source string: {source}"));
    };
    Ok(match force {
        Some(force) => {
            let (_, url) = forced(&detected);
            format!("{force}::{url}")
        }
        None => detected,
    })
}

/// go-getter's scp-like Git source (`git@host:path`), as `(host, path?query)`; only with the user
/// `git`. Its query must parse.
fn scp_like(source: &str) -> Result<Option<(String, String)>, String> {
    static SCP_LIKE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:([^@]+)@)?([^:]+):/?(.+)$").expect("go-getter's scp-like pattern")
    });
    let Some(captures) = SCP_LIKE.captures(source) else {
        return Ok(None);
    };
    if captures.get(1).map(|user| user.as_str()) != Some("git") {
        return Ok(None);
    }
    let host = captures[2].to_owned();
    let path = &captures[3];
    Ok(Some(match path.split_once('?') {
        Some((path, query)) => {
            parse_query(query).map_err(|_| {
                "error parsing GitHub SSH URL: invalid semicolon separator in query".to_owned()
            })?;
            (host, format!("{path}?{query}"))
        }
        None => (host, path.to_owned()),
    }))
}

/// A forced getter (`git::…`) and the rest.
fn forced(source: &str) -> (Option<&str>, &str) {
    match source.split_once("::") {
        Some((force, rest))
            if !force.is_empty()
                && !rest.is_empty()
                && force.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (Some(force), rest)
        }
        _ => (None, source),
    }
}

/// go-getter's `SourceDirSubdir`: the source without its `//subdirectory` (its query kept), and
/// the subdirectory.
fn subdirectory(source: &str) -> (String, String) {
    let stop = source.find('?').unwrap_or(source.len());
    let offset = source[..stop].find("://").map_or(0, |at| at + 3);
    let Some(at) = source[offset..stop].find("//") else {
        return (source.to_owned(), String::new());
    };
    let at = at + offset;
    let mut subdirectory = source[at + 2..].to_owned();
    let mut rest = source[..at].to_owned();
    if let Some(query_at) = subdirectory.find('?') {
        rest.push_str(&subdirectory[query_at..]);
        subdirectory.truncate(query_at);
    }
    (rest, subdirectory)
}

/// The parts of a URL Go's `url.Parse` gives that decide the outcome.
#[derive(Clone, Debug, Default)]
struct Url {
    scheme: String,
    opaque: Option<String>,
    host: String,
    query: Option<String>,
}

impl Url {
    fn parse(raw: &str) -> Url {
        let raw = raw.split_once('#').map_or(raw, |(before, _)| before);
        let mut url = Url::default();
        let rest = match scheme(raw) {
            Some((scheme, rest)) => {
                url.scheme = scheme.to_ascii_lowercase();
                rest
            }
            None => raw,
        };
        let rest = match rest.split_once('?') {
            Some((rest, query)) => {
                url.query = Some(query.to_owned());
                rest
            }
            None => rest,
        };
        if !url.scheme.is_empty() && !rest.starts_with('/') {
            url.opaque = Some(rest.to_owned());
            return url;
        }
        if let Some(authority) = rest.strip_prefix("//") {
            let authority = authority.split('/').next().unwrap_or_default();
            url.host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host)
                .to_owned();
        }
        url
    }

    /// The host without its port.
    fn hostname(&self) -> &str {
        if let Some(bracketed) = self.host.strip_prefix('[') {
            return bracketed.split(']').next().unwrap_or_default();
        }
        self.host.split(':').next().unwrap_or_default()
    }
}

/// Go's `getScheme`: a letter, then letters, digits, `+`, `-` or `.`, up to a `:`.
fn scheme(raw: &str) -> Option<(&str, &str)> {
    for (at, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if at > 0 => {}
            ':' if at > 0 => return Some((&raw[..at], &raw[at + 1..])),
            _ => return None,
        }
    }
    None
}

/// Go's `url.ParseQuery`: values by key, in order. Pairs Go refuses (a `;` in them, a bad
/// escape) are left out, and the whole is then an `Err` with the rest.
fn parse_query(
    query: &str,
) -> Result<BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failed = false;
    for pair in query.split('&') {
        if pair.is_empty() {
            continue;
        }
        if pair.contains(';') {
            failed = true;
            continue;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (unescape(key), unescape(value)) {
            (Some(key), Some(value)) => values.entry(key).or_default().push(value),
            _ => failed = true,
        }
    }
    if failed { Err(values) } else { Ok(values) }
}

/// Go's `QueryUnescape`: `+` is a space, `%XX` a byte.
fn unescape(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = (input.next()? as char).to_digit(16)?;
                let low = (input.next()? as char).to_digit(16)?;
                bytes.push((high * 16 + low) as u8);
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

/// Masterminds semver v3.5.0's `NewVersion` (coercing: `v1`, `1.2` pass).
fn is_semantic_version(text: &str) -> bool {
    static SEMVER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
        )
        .expect("Masterminds semver's pattern")
    });
    let Some(captures) = SEMVER.captures(text) else {
        return false;
    };
    if text.len() > 256 {
        return false;
    }
    let numbers_fit = [1, 2, 3].iter().all(|&group| {
        captures
            .get(group)
            .is_none_or(|part| part.as_str().trim_start_matches('.').parse::<u64>().is_ok())
    });
    let prerelease_fine = captures.get(5).is_none_or(|prerelease| {
        prerelease.as_str().split('.').all(|identifier| {
            !(identifier.len() > 1
                && identifier.starts_with('0')
                && identifier.bytes().all(|b| b.is_ascii_digit()))
        })
    });
    numbers_fit && prerelease_fine
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_judged_as_the_bundled_rule_judges_them() {
        let cases = [
            ("git::https://example.com/vpc.git", Verdict::NotPinned),
            (
                "github.com/hashicorp/example?ref=main",
                Verdict::Revision("ref", "main".into()),
            ),
            (
                "git@github.com:org/repo.git?ref=master",
                Verdict::Revision("ref", "master".into()),
            ),
            (
                "github.com/org/repo//sub?ref=v1.0.0",
                Verdict::Revision("ref", "v1.0.0".into()),
            ),
            (
                "hg::https://example.com/a?rev=default",
                Verdict::Revision("rev", "default".into()),
            ),
            ("https://example.com/a.git", Verdict::Fine),
            ("git::https://example.com/a.git?ref=", Verdict::NotPinned),
            ("git::https://example.com/a.git?ref=a;b", Verdict::NotPinned),
            ("git::/abs/path", Verdict::NotValidUrl),
            ("./modules/child", Verdict::Fine),
            ("hashicorp/consul/aws", Verdict::Fine),
            ("s3::https://s3.amazonaws.com/bucket/key", Verdict::Fine),
        ];
        for (source, expected) in cases {
            assert_eq!(verdict(source), Ok(expected), "{source}");
        }
        assert_eq!(verdict(""), Err("invalid source string: ".to_owned()));
    }

    #[test]
    fn version_constraints_as_go_version_reads_them() {
        for good in [
            "1.0.0",
            ">= 1.2, < 2",
            "~> 0.12",
            "v1.2.3-beta.1",
            "= 1",
            "!=1.2.3+meta",
        ] {
            assert!(is_version_constraint(good), "{good}");
        }
        for bad in [
            "latest",
            "",
            ">= ",
            "1.2.x",
            "=> 1.0",
            "99999999999999999999",
        ] {
            assert!(!is_version_constraint(bad), "{bad}");
        }
    }

    #[test]
    fn semantic_versions_as_masterminds_semver_reads_them() {
        for good in [
            "1.2.3",
            "v1.2.3",
            "1",
            "v1.2",
            "1.2.3-rc.1",
            "1.2.3+build.5",
        ] {
            assert!(is_semantic_version(good), "{good}");
        }
        for bad in ["main", "1.2.3.4", "1.2.3-01", "", "v", "1..2"] {
            assert!(!is_semantic_version(bad), "{bad}");
        }
    }
}
