//! The layering the README describes, checked on the source text:
//! - `src/ui` never talks to libvirt itself: no `virt::` or `virt_sys` paths and no
//!   `Connect::open`; it asks the connection's worker (`Connection::request`).
//! - The GUI-free folders (`src/libvirt`, `src/spec`, `src/host`, `src/console`) import
//!   no GTK or libadwaita.
//!
//! A failure names every offending `file:line`.

use std::path::{Path, PathBuf};

use regex::Regex;

/// What `src/ui` must not contain: any `virt::` path (the UI names the worker's module
/// `backend`, so not even `crate::libvirt::` appears), the `virt-sys` crate, and opening a
/// connection.
fn libvirt_patterns() -> Vec<Regex> {
    [r"virt::", r"\bvirt_sys\b", r"\bConnect::open\b"]
        .iter()
        .map(|p| Regex::new(p).expect("valid pattern"))
        .collect()
}

/// What the GUI-free folders must not contain.
fn gui_patterns() -> Vec<Regex> {
    [
        r"(^|[^A-Za-z0-9_])(gtk|adw|gtk4|libadwaita)::",
        r"\buse\s+(gtk|adw|gtk4|libadwaita)\b",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("valid pattern"))
    .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `file:line: text` for each line of `text` that matches one of `patterns`.
fn offending_lines(file: &str, text: &str, patterns: &[Regex]) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| patterns.iter().any(|p| p.is_match(line)))
        .map(|(n, line)| format!("{file}:{}: {}", n + 1, line.trim()))
        .collect()
}

/// The offending lines of every Rust file under the folders `dirs` (relative to the crate).
fn scan(dirs: &[&str], patterns: &[Regex]) -> Vec<String> {
    let root = root();
    let mut found = Vec::new();
    for dir in dirs {
        let files = rust_files(&root.join(dir));
        assert!(!files.is_empty(), "no Rust files under {dir}");
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let name = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            found.extend(offending_lines(&name, &text, patterns));
        }
    }
    found
}

#[test]
fn the_ui_asks_the_connection_worker_instead_of_calling_libvirt() {
    let found = scan(&["src/ui"], &libvirt_patterns());
    assert!(
        found.is_empty(),
        "src/ui calls libvirt directly; send a Request to the connection's worker \
         (Connection::request) instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn gui_free_modules_import_no_gtk() {
    let found = scan(
        &["src/libvirt", "src/spec", "src/host", "src/console"],
        &gui_patterns(),
    );
    assert!(
        found.is_empty(),
        "GUI-free modules use GTK or libadwaita:\n{}",
        found.join("\n")
    );
}

/// Checks that `patterns` flag each line of `bad` and none of `good`.
fn assert_flags(patterns: &[Regex], bad: &[&str], good: &[&str]) {
    for line in bad {
        assert_eq!(offending_lines("f.rs", line, patterns).len(), 1, "{line}");
    }
    for line in good {
        assert!(offending_lines("f.rs", line, patterns).is_empty(), "{line}");
    }
}

#[test]
fn the_patterns_catch_what_they_should_and_nothing_else() {
    let libvirt = libvirt_patterns();
    assert_flags(
        &libvirt,
        &[
            "use virt::connect::Connect;",
            "let conn = virt::connect::Connect::open(Some(uri))?;",
            "    virt::error::clear_error_callback();",
            "use virt_sys as sys;",
            "let c = Connect::open(Some(&uri));",
            "x(::virt::domain::Domain)",
            "use crate::libvirt::{Command, Request};",
        ],
        &[
            "use crate::ui::backend::{Command, Request};",
            "let reply = connection.request(Request::Networks).await;",
        ],
    );
    let found = offending_lines(
        "src/ui/x.rs",
        "fn a() {}\nuse virt::domain::Domain;\n",
        &libvirt,
    );
    assert_eq!(found, ["src/ui/x.rs:2: use virt::domain::Domain;"]);

    assert_flags(
        &gui_patterns(),
        &[
            "use gtk::prelude::*;",
            "use adw::subclass::prelude::*;",
            "let w = gtk::Label::new(None);",
            "use gtk4 as gtk;",
        ],
        &[
            "use glib::clone;",
            "// the gtkmm of C++",
            "use crate::host::kvm;",
        ],
    );
}
