//! Keeps the runtime's layers pointing one way (the map at the top of `lib.rs`): reads every
//! source file's `crate::…` and `super::…` paths, outside comments, and fails on an import from a
//! layer above the file's own, on `host/` and `plugin/` importing each other, on a layer naming an
//! item through the crate root's re-exports, and on a cycle among the modules of the runtime.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. `host` and `plugin` share a rank and may not import each other.
const LAYERS: [(&str, usize); 6] = [
    ("sys", 1),
    ("protocol", 2),
    ("net", 3),
    ("rpc", 4),
    ("host", 5),
    ("plugin", 5),
];

/// Below every layer, usable from all of them.
const FOUNDATION: [&str; 4] = ["error", "generated", "hostile", "sync"];

/// Pairs of modules that import each other by design, each named in its layer's documentation.
const MUTUAL: [(&str, &str); 2] = [
    // `Broker::dial` returns a `Connection`, and `Connection::broker()` a `Broker`.
    ("rpc::broker", "rpc::connection"),
    // A served call's context carries its connection's broker, and the broker serves brokered
    // services through the one function that makes those contexts.
    ("rpc::broker", "rpc::context"),
];

/// A module of the crate: its top-level name, and (within a layer) the module under it.
type Unit = String;

#[derive(Debug)]
struct SourceFile {
    /// Module path, from the crate root: `["rpc", "broker"]` for `rpc/broker.rs`.
    module: Vec<String>,
    /// The file as written, comments left out.
    code: String,
}

fn rank(top: &str) -> Option<usize> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .map(|(_, rank)| *rank)
        .or_else(|| FOUNDATION.contains(&top).then_some(0))
}

fn sources(root: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                files.push(SourceFile {
                    module: module_path(root, &path),
                    code: without_comments(&text),
                });
            }
        }
    }
    files
}

fn module_path(root: &Path, file: &Path) -> Vec<String> {
    let relative: PathBuf = file
        .strip_prefix(root)
        .expect("under the root")
        .to_path_buf();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        parts.pop();
    }
    parts
}

/// The code without `//` comments (doc comments and their intra-doc links included). A `//`
/// inside a string literal is rare enough in this crate not to matter: at worst a path after it
/// on the same line is not seen.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path the code names, resolved from the crate root: `crate::rpc::broker::X`
/// gives `["rpc", "broker", "X"]`, `super::x` in `rpc/broker.rs` gives `["rpc", "x"]`.
fn named_paths(file: &SourceFile) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let code = &file.code;
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && is_ident_char(code.as_bytes()[at - 1]) {
            continue;
        }
        for path in paths_after(&code[at + "crate::".len()..]) {
            found.push(path);
        }
    }
    for (at, _) in code.match_indices("super::") {
        if at > 0 && (is_ident_char(code.as_bytes()[at - 1]) || code.as_bytes()[at - 1] == b':') {
            continue;
        }
        let mut rest = &code[at..];
        let mut base = file.module.clone();
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after;
        }
        for path in paths_after(rest) {
            let mut full = base.clone();
            full.extend(path);
            found.push(full);
        }
    }
    found
}

/// The paths at the start of `rest`: one (`a::b::C`) or, for a braced group, one per member.
fn paths_after(rest: &str) -> Vec<Vec<String>> {
    if let Some(group) = rest.strip_prefix('{') {
        let end = group.find('}').unwrap_or(group.len());
        return group[..end]
            .split(',')
            .map(|member| first_path(member.trim()))
            .filter(|path| !path.is_empty())
            .collect();
    }
    let path = first_path(rest);
    if path.is_empty() { vec![] } else { vec![path] }
}

fn first_path(text: &str) -> Vec<String> {
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        let end = rest
            .bytes()
            .position(|b| !is_ident_char(b))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    path
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The unit a path names: its top-level module and, inside a layer, the module under it.
fn unit(path: &[String]) -> Unit {
    match path {
        [top, second, ..] if rank(top).is_some_and(|rank| rank > 0) => format!("{top}::{second}"),
        [top, ..] => top.clone(),
        [] => String::new(),
    }
}

/// What is wrong with `file` naming `path`, if anything.
fn violation(file: &SourceFile, path: &[String]) -> Option<String> {
    let (own, target) = (file.module.first()?, path.first()?);
    let own_rank = rank(own)?;
    let Some(target_rank) = rank(target) else {
        return Some(format!(
            "names crate::{} from the crate root: import it from its module",
            path.join("::")
        ));
    };
    if target_rank > own_rank {
        return Some(format!(
            "imports {} from {target}/, a layer above {own}/",
            path.join("::")
        ));
    }
    if target_rank == own_rank && own != target {
        return Some(format!(
            "imports {} from {target}/: {own}/ and {target}/ never import each other",
            path.join("::")
        ));
    }
    None
}

fn violations(files: &[SourceFile]) -> Vec<String> {
    let mut found = BTreeSet::new();
    for file in files {
        for path in named_paths(file) {
            if let Some(problem) = violation(file, &path) {
                found.insert(format!("{}: {problem}", file.module.join("/")));
            }
        }
    }
    found.into_iter().collect()
}

/// The cycles among the layers' modules (`rpc::broker`, `host::launch`, …; a module's own
/// submodules are part of it), other than the mutual pairs by design.
fn cycles(files: &[SourceFile]) -> Vec<Vec<Unit>> {
    let mut edges: BTreeMap<Unit, BTreeSet<Unit>> = BTreeMap::new();
    for file in files {
        let from = unit(&file.module);
        if rank(file.module.first().map_or("", String::as_str)).is_none() {
            continue;
        }
        for path in named_paths(file) {
            let to = unit(&path);
            let mutual = MUTUAL
                .iter()
                .any(|&(a, b)| (a == from && b == to) || (a == to && b == from));
            if to != from && !to.is_empty() && !mutual {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        let mut stack = vec![start.clone()];
        walk(&edges, &mut stack, &mut done, &mut cycles);
    }
    cycles
}

fn walk(
    edges: &BTreeMap<Unit, BTreeSet<Unit>>,
    stack: &mut Vec<Unit>,
    done: &mut BTreeSet<Unit>,
    cycles: &mut Vec<Vec<Unit>>,
) {
    let current = stack.last().cloned().unwrap_or_default();
    if done.contains(&current) {
        return;
    }
    for next in edges.get(&current).into_iter().flatten() {
        if let Some(at) = stack.iter().position(|unit| unit == next) {
            cycles.push(stack[at..].to_vec());
            continue;
        }
        stack.push(next.clone());
        walk(edges, stack, done, cycles);
        stack.pop();
    }
    done.insert(current);
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let files = sources(&source_root());
    assert!(files.len() > 40, "found only {} source files", files.len());
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "imports against the layering:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_modules_of_the_layers_import_each_other_in_no_cycle() {
    let files = sources(&source_root());
    let found = cycles(&files);
    assert!(
        found.is_empty(),
        "import cycles: {}",
        found
            .iter()
            .map(|cycle| cycle.join(" -> "))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

#[test]
fn a_planted_upward_import_or_cycle_is_caught() {
    let file = |module: &str, code: &str| SourceFile {
        module: module.split('/').map(str::to_owned).collect(),
        code: without_comments(code),
    };
    let upward = file("net/listener", "use crate::rpc::broker::Broker;");
    assert_eq!(violations(&[upward]).len(), 1);
    let sideways = file("host/launch", "use crate::plugin::serve;");
    assert_eq!(violations(&[sideways]).len(), 1);
    let through_root = file("rpc/connection", "fn f() -> crate::Error { todo!() }");
    assert_eq!(violations(&[through_root]).len(), 1);
    let escaping = file("rpc", "use super::host::Client;");
    assert_eq!(violations(&[escaping]).len(), 1);
    let grouped = file(
        "protocol/handshake",
        "use crate::{error::Error, net::tls::Tls};",
    );
    assert_eq!(violations(&[grouped]).len(), 1);
    let commented = file(
        "sys/process",
        "// see crate::host::process\n/// [x](crate::Client)",
    );
    assert!(violations(&[commented]).is_empty());
    let downward = file(
        "host/launch",
        "use crate::rpc::exit::ExitWatch; use super::log::Tail;",
    );
    assert!(violations(&[downward]).is_empty());

    let cycle = [
        file("host/launch", "use crate::host::attach::Target;"),
        file("host/attach", "use super::session::Session;"),
        file("host/session", "use crate::host::launch::Launch;"),
    ];
    assert_eq!(cycles(&cycle).len(), 1, "{:?}", cycles(&cycle));
    let pair = [
        file("rpc/broker", "use super::connection::Connection;"),
        file("rpc/connection", "use super::broker::Broker;"),
    ];
    assert!(cycles(&pair).is_empty());
}
