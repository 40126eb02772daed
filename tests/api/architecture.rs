//! The layout rules of docs/architecture.md, checked on the sources: each top-level module of
//! `src/` imports only modules listed before it in the documented layer order; nothing under
//! `src/pipeline/` or `workers/` names a channel or imports `channels`; and no two modules import
//! each other. The layer order is read from the document itself, so the two cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level modules of `src/` in the documented order: the lines of the fenced block that
/// follows "## Layers" in docs/architecture.md, bottom layer first, modules separated by spaces.
fn documented_order() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let layers = doc.split("\n## Layers").nth(1).expect("a section \"## Layers\"");
    let block = layers.split("```").nth(1).expect("a fenced block with the layers");
    block
        .lines()
        .skip(1)
        .flat_map(|line| {
            line.split('#').next().unwrap_or_default().split_whitespace().map(str::to_string).collect::<Vec<_>>()
        })
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file under `src/`: `src/db/mod.rs` is `db`, `src/db/reports.rs` is
/// `db::reports`, `src/lib.rs` is the crate root (empty).
fn module_of(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root().join("src")).unwrap();
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// The source without comments, string and character literals (what is left is code).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('#') || next == Some('"')) && !is_ident(chars.get(i.wrapping_sub(1))) {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The paths a piece of code names from `start` (`crate` or `super`), with `use` groups
/// expanded: `crate::{db::{reports, Tx}, queue}` gives `db::reports`, `db::Tx` and `queue`.
fn paths_from(code: &str, start: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let pattern = format!("{start}::");
    let mut rest = code;
    while let Some(at) = rest.find(&pattern) {
        let before = rest[..at].chars().last();
        rest = &rest[at + pattern.len()..];
        if is_ident(before.as_ref()) {
            continue;
        }
        let mut prefix = Vec::new();
        if start == "super" {
            // `super::super::x`
            let mut levels = 1;
            while let Some(after) = rest.strip_prefix("super::") {
                levels += 1;
                rest = after;
            }
            prefix.push(format!("{levels}"));
        }
        for path in expand(rest) {
            let mut full = prefix.clone();
            full.extend(path);
            found.push(full);
        }
    }
    found
}

/// The paths at the start of `text`: one (`a::b::c`) or a group (`{a, b::{c, d}}`).
fn expand(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start();
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items.into_iter().filter(|i| !i.trim().is_empty()).flat_map(expand).collect();
    }
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(after) if after.starts_with('{') => {
                return expand(after).into_iter().map(|tail| path.iter().cloned().chain(tail).collect()).collect();
            }
            Some(after) => rest = after,
            None => break,
        }
    }
    if path.is_empty() {
        Vec::new()
    } else {
        vec![path]
    }
}

/// The modules (files) one file imports, resolved to the longest module path that is a file.
fn imports(file: &Path, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let source = std::fs::read_to_string(file).unwrap();
    let code = code_only(&source);
    let this = module_of(file);
    let mut targets = BTreeSet::new();
    for path in paths_from(&code, "crate") {
        targets.insert(resolve(&path, modules));
    }
    for path in paths_from(&code, "super") {
        let levels: usize = path[0].parse().unwrap();
        // `super` of a file `a/b.rs` (module a::b) is `a`; of a folder's `a/b/mod.rs` it is `a` too.
        let mut base = this.clone();
        for _ in 0..levels {
            base.pop();
        }
        let full: Vec<String> = base.into_iter().chain(path[1..].iter().cloned()).collect();
        targets.insert(resolve(&full, modules));
    }
    targets.remove(&this);
    targets
}

fn resolve(path: &[String], modules: &BTreeSet<Vec<String>>) -> Vec<String> {
    (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|prefix| modules.contains(prefix)).unwrap_or_default()
}

/// Each file under `src/` with its module path and what it imports.
fn graph() -> BTreeMap<Vec<String>, (PathBuf, BTreeSet<Vec<String>>)> {
    let files: Vec<PathBuf> =
        rust_files(&root().join("src")).into_iter().filter(|f| !f.ends_with("src/main.rs")).collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    files.iter().map(|f| (module_of(f), (f.clone(), imports(f, &modules)))).collect()
}

/// The channels: one folder each under `src/channels/`.
fn channel_names() -> Vec<String> {
    std::fs::read_dir(root().join("src/channels"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let order = documented_order();
    assert!(order.len() > 10, "the documented layers: {order:?}");
    let rank = |module: &str| order.iter().position(|m| m == module);
    let mut problems = Vec::new();
    let graph = graph();
    for top in graph.keys().filter_map(|m| m.first()).collect::<BTreeSet<_>>() {
        if rank(top).is_none() {
            problems.push(format!("src/{top} is not in the layer order of docs/architecture.md"));
        }
    }
    for (module, (file, targets)) in &graph {
        let Some(top) = module.first() else { continue };
        for target in targets {
            let Some(target_top) = target.first() else { continue };
            if target_top == top {
                continue;
            }
            if let (Some(from), Some(to)) = (rank(top), rank(target_top)) {
                if to > from {
                    problems.push(format!(
                        "{} imports {} (layer {target_top} is above {top})",
                        file.display(),
                        target.join("::")
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "imports against the layer order:\n{}", problems.join("\n"));
}

#[test]
fn the_pipeline_and_the_workers_name_no_channel() {
    let mut names: Vec<String> = Vec::new();
    for channel in channel_names() {
        names.push(channel.clone());
        if channel.contains('_') {
            names.push(channel.replace('_', " "));
            names.push(channel.replace('_', "-"));
            names.push(channel.replace('_', ""));
        }
    }
    assert!(names.iter().any(|n| n == "whatsapp"), "the channels found: {names:?}");
    let mut files = rust_files(&root().join("src/pipeline"));
    files.extend(
        rust_files(&root().join("workers")).into_iter().filter(|f| !f.starts_with(root().join("workers/target"))),
    );
    files.push(root().join("workers/Cargo.toml"));
    let graph = graph();
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap().to_lowercase();
        for name in &names {
            if text.contains(name.as_str()) {
                problems.push(format!("{} names the channel {name:?}", file.display()));
            }
        }
        let imported = graph.values().find(|(f, _)| *f == file).map(|(_, targets)| targets);
        if imported.is_some_and(|targets| targets.iter().any(|t| t.first().is_some_and(|m| m == "channels"))) {
            problems.push(format!("{} imports channels", file.display()));
        }
    }
    assert!(problems.is_empty(), "the core must not know its channels:\n{}", problems.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = graph();
    let mut problems = Vec::new();
    for (module, (file, targets)) in &graph {
        for target in targets {
            // A folder and the files in it may use each other (`super::`): they are one module.
            let related = target.starts_with(module) || module.starts_with(target);
            if related || module >= target {
                continue;
            }
            if graph.get(target).is_some_and(|(_, back)| back.contains(module)) {
                let other = &graph[target].0;
                problems.push(format!("{} and {} import each other", file.display(), other.display()));
            }
        }
    }
    assert!(problems.is_empty(), "circles:\n{}", problems.join("\n"));
}

#[test]
fn the_rules_see_what_they_check() {
    // The parser finds grouped, nested and `super` imports and ignores comments and strings.
    let code = code_only(
        "use crate::{db::{reports, Tx}, queue::Queue}; // crate::web\nlet s = \"crate::cli\"; use super::super::x::Y;",
    );
    let paths = paths_from(&code, "crate");
    assert_eq!(paths, vec![vec!["db", "reports"], vec!["db", "Tx"], vec!["queue", "Queue"]]);
    assert_eq!(paths_from(&code, "super"), vec![vec!["2", "x", "Y"]]);
    assert!(code_only("let c = '\"'; let l: &'a str = x; // crate::web").contains("&'a str"));
}
