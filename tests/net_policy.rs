//! The polkit policy of the network helper, `data/io.github.virtdeck.Virtdeck.policy`:
//! merged with its translations and given a binary directory the way meson installs it,
//! it passes `build-aux/validate-policy.sh` (xmllint against polkit's DTD, the actions,
//! their defaults and annotations), and a broken copy fails it loudly. Its actions name
//! the flags the helper answers to.

use std::path::{Path, PathBuf};
use std::process::Command;

use virtdeck::host::net::protocol::Mode;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The policy as meson installs it, with `bindir`, in a temporary file.
fn installed(bindir: &Path, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vdtest-{}-policy", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let merged = dir.join(format!("{name}.merged"));
    let out = Command::new("msgfmt")
        .args(["--xml", "--template"])
        .arg(root().join("data/io.github.virtdeck.Virtdeck.policy"))
        .arg("-d")
        .arg(root().join("po"))
        .arg("-o")
        .arg(&merged)
        .output()
        .expect("msgfmt runs (apt install gettext)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&merged)
        .unwrap()
        .replace("@bindir@", bindir.to_str().unwrap());
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the validator; its exit status and what it said.
fn validate(policy: &Path, bindir: &Path) -> (bool, String) {
    let out = Command::new(root().join("build-aux/validate-policy.sh"))
        .arg(policy)
        .arg(bindir)
        .output()
        .expect("run build-aux/validate-policy.sh");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_policy_validates_and_a_broken_one_does_not() {
    let bindir = Path::new(env!("CARGO_BIN_EXE_virtdeck")).parent().unwrap();
    let good = installed(bindir, "good.policy");
    let (ok, said) = validate(&good, bindir);
    assert!(ok, "{said}");

    let text = std::fs::read_to_string(&good).unwrap();
    for flag in [Mode::Network.flag(), Mode::BridgeConf.flag()] {
        assert!(
            text.contains(&format!(
                "<annotate key=\"org.freedesktop.policykit.exec.argv1\">{flag}</annotate>"
            )),
            "no action for {flag}"
        );
    }
    let broken = [
        ("unclosed.policy", text.replacen("</action>", "", 1)),
        (
            "unknown-default.policy",
            text.replacen("auth_admin_keep", "auth_admin_forever", 1),
        ),
        (
            "wrong-path.policy",
            text.replacen(bindir.to_str().unwrap(), "/nonexistent", 1),
        ),
        (
            "wrong-order.policy",
            text.replacen(
                "<defaults>",
                "<annotate key=\"x\">y</annotate><defaults>",
                1,
            ),
        ),
    ];
    for (name, text) in broken {
        let path = good.with_file_name(name);
        std::fs::write(&path, text).unwrap();
        let (ok, said) = validate(&path, bindir);
        assert!(!ok, "{name} passed");
        assert!(said.contains("FAILED: polkit policy"), "{name}: {said}");
    }
    let _ = std::fs::remove_dir_all(good.parent().unwrap());
}
