//! Network namespaces for the bridge tests.

use std::process::Command;

use virtdeck::host::net::{self, Link, Runner};

/// `ip ARGS`, failing the test if it fails.
pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("iproute2 is required (apt install iproute2): {e}"));
    assert!(
        out.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The links of `runner`'s namespace.
pub fn links(runner: &Runner) -> Vec<Link> {
    net::read_links(runner).expect("read links")
}

/// Link `name` of `runner`'s namespace, which must exist.
pub fn link(runner: &Runner, name: &str) -> Link {
    links(runner)
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{name} is missing"))
}

/// The addresses of `link` as `ADDRESS/PREFIX`.
pub fn addresses(link: &Link) -> Vec<String> {
    link.addresses
        .iter()
        .map(|a| format!("{}/{}", a.local, a.prefixlen))
        .collect()
}
