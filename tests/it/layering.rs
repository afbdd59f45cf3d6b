//! The layering rule (README "How it works"): each top-level module of `src/` may use
//! only the modules below it, so dependencies point one way along the data flow.
//!
//! ```text
//! error, stream, dsp          nothing of the crate (dsp: itself only)
//! io                          error, stream, dsp
//! render                      error, dsp
//! audio                       error, stream, dsp, io
//! analysis                    error, stream, dsp, io, audio, render (the column fold)
//! cli                         error, stream, dsp, io, render, audio (--host values)
//! config                      error, stream, dsp, io, render, cli, analysis (MAX_PANES)
//! offline                     error, stream, dsp, io, render, config
//! ui                          everything above but cli
//! app                         everything
//! ```
//!
//! Read from the source: every `crate::NAME` path (in `use` lines, expressions and doc
//! links alike) and every `crate::{NAME, …}` group, and `super::` paths that climb out of
//! a top-level module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (module, the modules it may use besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("stream", &["error"]),
    ("dsp", &[]),
    ("io", &["error", "stream", "dsp"]),
    ("render", &["error", "dsp"]),
    ("audio", &["error", "stream", "dsp", "io"]),
    (
        "analysis",
        &["error", "stream", "dsp", "io", "audio", "render"],
    ),
    ("cli", &["error", "stream", "dsp", "io", "render", "audio"]),
    (
        "config",
        &["error", "stream", "dsp", "io", "render", "cli", "analysis"],
    ),
    (
        "offline",
        &["error", "stream", "dsp", "io", "render", "config"],
    ),
    (
        "ui",
        &[
            "error", "stream", "dsp", "io", "render", "audio", "analysis", "config", "offline",
        ],
    ),
    (
        "app",
        &[
            "error", "stream", "dsp", "io", "render", "audio", "analysis", "cli", "config",
            "offline", "ui",
        ],
    ),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None`: lib.rs, main.rs).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    if rel.components().count() > 1 {
        return Some(first);
    }
    let stem = first.strip_suffix(".rs")?;
    (!matches!(stem, "lib" | "main")).then(|| stem.to_string())
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The crate's top-level modules named by `crate::` paths in `text`.
fn crate_uses(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        // `hopscope_crate::` or `my_crate::` are not ours.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d}`: the first segment of each item (one level deep).
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        used.insert(ident_at(&group[i..]).to_string());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                used.insert(name.to_string());
            }
        }
    }
    used
}

/// Every `(file, module, used)` that breaks [`ALLOWED`].
fn violations() -> Vec<String> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let top_level: BTreeSet<String> = files.iter().filter_map(|f| top_module(&src, f)).collect();
    let mut found = Vec::new();
    for file in &files {
        let Some(module) = top_module(&src, file) else {
            continue;
        };
        let allowed = ALLOWED
            .iter()
            .find(|(m, _)| *m == module)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("src/{module}: not in the layering table"));
        let text = std::fs::read_to_string(file).expect("read source");
        let depth = file
            .strip_prefix(&src)
            .expect("under src")
            .components()
            .count();
        // `super::super::…` from depth d climbs d−1 levels to the crate root and then
        // names a top-level module.
        if depth >= 2 && text.contains(&"super::".repeat(depth)) {
            found.push(format!(
                "{}: super:: climbs out of src/{module}",
                file.display()
            ));
        }
        for used in crate_uses(&text) {
            if used == module || !top_level.contains(&used) {
                continue;
            }
            if !allowed.contains(&used.as_str()) {
                found.push(format!("{}: {module} uses crate::{used}", file.display()));
            }
        }
    }
    found
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let found = violations();
    assert!(
        found.is_empty(),
        "layering violations:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_top_level_module_is_in_the_table() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for module in files.iter().filter_map(|f| top_module(&src, f)) {
        assert!(
            ALLOWED.iter().any(|(m, _)| *m == module),
            "src/{module} is not in the layering table"
        );
    }
}

#[test]
fn the_reader_sees_paths_groups_and_nested_groups() {
    let text = "use crate::dsp::stft::Stft;\nuse crate::{io, render::freqmap::{A, B}, ui};\n\
                /// See [`crate::audio::ring`].\nlet x = my_crate::offline::f();";
    let got: Vec<String> = crate_uses(text).into_iter().collect();
    assert_eq!(got, ["audio", "dsp", "io", "render", "ui"]);
}
