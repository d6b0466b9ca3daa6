//! Translations: every file with translatable strings is listed in po/POTFILES.in, and the
//! Simplified Chinese translation covers every string.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn potfiles() -> Vec<String> {
    std::fs::read_to_string(root().join("po/POTFILES.in"))
        .expect("po/POTFILES.in is readable")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_under(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// Whether Rust source calls a gettext function with a string literal: the first thing
/// after the parenthesis, past white space and comments, is a quote.
fn rust_has_translatable(text: &str) -> bool {
    ["gettext(", "gettext_f(", "ngettext(", "pgettext("]
        .iter()
        .any(|call| {
            text.match_indices(call).any(|(at, _)| {
                let mut rest = &text[at + call.len()..];
                loop {
                    rest = rest.trim_start();
                    match rest.strip_prefix("//") {
                        Some(comment) => rest = comment.split_once('\n').map_or("", |c| c.1),
                        None => break,
                    }
                }
                rest.starts_with('"')
            })
        })
}

fn has_translatable(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    if name.ends_with(".rs") {
        rust_has_translatable(&text)
    } else if name.ends_with(".ui") {
        text.contains("translatable=\"yes\"")
    } else {
        name.ends_with(".desktop.in")
            || name.ends_with(".metainfo.xml.in")
            || name.ends_with(".policy")
    }
}

#[test]
fn every_file_with_translatable_strings_is_in_potfiles() {
    let listed = potfiles();
    let mut files = Vec::new();
    files_under(&root().join("src"), &mut files);
    files_under(&root().join("data"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|path| has_translatable(path))
        .map(|path| {
            path.strip_prefix(root())
                .expect("under the source tree")
                .to_string_lossy()
                .into_owned()
        })
        .filter(|path| !listed.contains(path))
        .collect();
    assert!(
        missing.is_empty(),
        "files with translatable strings missing from po/POTFILES.in: {missing:?}"
    );
}

#[test]
fn every_listed_file_exists() {
    for file in potfiles() {
        assert!(
            root().join(&file).is_file(),
            "po/POTFILES.in lists {file}, which is missing"
        );
    }
}

#[test]
fn the_literal_check_sees_calls_and_ignores_wrappers() {
    assert!(rust_has_translatable("gettext(\"Hello\")"));
    assert!(rust_has_translatable(
        "gettext_f(\n    // Translators: a name\n    \"Hi {name}\", &[])"
    ));
    assert!(!rust_has_translatable("fill(&gettext(msgid), args)"));
}

#[test]
fn simplified_chinese_translates_every_string() {
    let pot = std::env::temp_dir().join(format!("virtdeck-{}.pot", std::process::id()));
    let status = Command::new(root().join("build-aux/update-po.sh"))
        .arg("--pot")
        .arg(&pot)
        .status()
        .expect("build-aux/update-po.sh runs (gettext is installed)");
    assert!(status.success(), "extracting the strings failed");
    let compare = Command::new("msgcmp")
        .arg(root().join("po/zh_CN.po"))
        .arg(&pot)
        .output()
        .expect("msgcmp runs");
    let _ = std::fs::remove_file(&pot);
    assert!(
        compare.status.success(),
        "po/zh_CN.po is incomplete (run build-aux/update-po.sh and translate):\n{}",
        String::from_utf8_lossy(&compare.stderr)
    );
    let check = Command::new("msgfmt")
        .args(["--check", "-o", "/dev/null"])
        .arg(root().join("po/zh_CN.po"))
        .output()
        .expect("msgfmt runs");
    assert!(
        check.status.success(),
        "po/zh_CN.po has errors:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
