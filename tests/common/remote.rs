//! A remote libvirt host for tests: tests/remote/host.sh (root only: a private sshd and
//! libvirtd in a network namespace on the test LAN, reached as
//! `qemu+ssh://root@ADDRESS/system`), brought down again when the [`RemoteHost`] is
//! dropped. Two of them are a migration pair.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

fn host_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/remote/host.sh")
}

/// A remote host, brought down again when dropped.
pub struct RemoteHost {
    name: String,
    env: HashMap<String, String>,
}

impl RemoteHost {
    pub fn up(name: &str, index: u32) -> Self {
        let out = Command::new(host_sh())
            .args(["up", name, &index.to_string()])
            .output()
            .expect("tests/remote/host.sh runs");
        // Built before the check, so that a failed `up` is taken down too.
        let mut host = RemoteHost {
            name: name.to_owned(),
            env: HashMap::new(),
        };
        assert!(
            out.status.success(),
            "host.sh up {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        host.env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        host
    }

    pub fn get(&self, key: &str) -> &str {
        &self.env[key]
    }

    /// The libvirt URI that reaches the host over SSH with the rig's key.
    pub fn uri(&self) -> String {
        self.get("URI").to_owned()
    }

    /// Runs `virsh -c qemu:///system ARGS` inside the host (no SSH login); its output, or
    /// the test fails with its errors.
    pub fn virsh_ok(&self, args: &[&str]) -> String {
        let out = self.virsh(args);
        assert!(
            out.status.success(),
            "virsh {} on {} failed: {}",
            args.join(" "),
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn virsh(&self, args: &[&str]) -> std::process::Output {
        Command::new(host_sh())
            .args(["exec", &self.name, "virsh", "-q", "-c", "qemu:///system"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("could not run host.sh exec: {e}"))
    }

    /// The names of the host's domains, running or not.
    pub fn domains(&self) -> Vec<String> {
        self.virsh_ok(&["list", "--all", "--name"])
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether domain `name` runs there.
    pub fn runs(&self, name: &str) -> bool {
        let out = self.virsh(&["domstate", name]);
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "running"
    }

    /// Runs `args` inside the host, without SSH (no login counted).
    pub fn exec(&self, args: &[&str]) -> String {
        let out = Command::new(host_sh())
            .args(["exec", &self.name])
            .args(args)
            .output()
            .expect("host.sh exec runs");
        assert!(
            out.status.success(),
            "{args:?} on {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn logins(&self) -> u32 {
        let out = Command::new(host_sh())
            .args(["logins", &self.name])
            .output()
            .expect("host.sh logins runs");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        let _ = Command::new(host_sh()).args(["down", &self.name]).status();
    }
}
