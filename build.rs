//! Compiles the GResource bundle, and for running from the source tree the GSettings
//! schema and the translations, into OUT_DIR.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    glib_build_tools::compile_resources(
        &["data/resources"],
        "data/resources/resources.gresource.xml",
        "virtdeck.gresource",
    );

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    compile_schema(&out.join("schemas"));
    compile_translations(&out.join("locale"));
}

fn compile_schema(dir: &Path) {
    let schema = "data/io.github.virtdeck.Virtdeck.gschema.xml";
    println!("cargo:rerun-if-changed={schema}");
    std::fs::create_dir_all(dir).expect("create schema dir");
    std::fs::copy(schema, dir.join("io.github.virtdeck.Virtdeck.gschema.xml"))
        .expect("copy schema");
    run(Command::new("glib-compile-schemas")
        .arg("--strict")
        .arg(dir));
    println!(
        "cargo:rustc-env=VIRTDECK_BUILD_SCHEMA_DIR={}",
        dir.display()
    );
}

fn compile_translations(localedir: &Path) {
    println!("cargo:rerun-if-changed=po/LINGUAS");
    let linguas = std::fs::read_to_string("po/LINGUAS").expect("read po/LINGUAS");
    for lang in linguas
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let po = format!("po/{lang}.po");
        println!("cargo:rerun-if-changed={po}");
        let dir = localedir.join(lang).join("LC_MESSAGES");
        std::fs::create_dir_all(&dir).expect("create locale dir");
        run(Command::new("msgfmt")
            .arg("--check")
            .arg("-o")
            .arg(dir.join("virtdeck.mo"))
            .arg(&po));
    }
    println!(
        "cargo:rustc-env=VIRTDECK_BUILD_LOCALEDIR={}",
        localedir.display()
    );
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}
