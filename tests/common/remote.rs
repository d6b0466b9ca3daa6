//! A real remote libvirt host made by `tests/remote/host.sh` (root only): a network
//! namespace on the test LAN with its own libvirtd and sshd, reached as
//! `qemu+ssh://root@ADDRESS/system`. Two of them are a migration pair.

use std::path::PathBuf;
use std::process::Command as Process;

/// One host; it goes down (and everything in it, guests too) when dropped.
pub struct RemoteHost {
    pub name: String,
    pub uri: String,
    pub address: String,
    pub libvirtd_log: PathBuf,
}

fn host_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/remote/host.sh")
}

impl RemoteHost {
    /// Brings host `name` up at 203.0.113.(`index`+1); fails the test with the script's
    /// errors when it cannot.
    pub fn up(name: &str, index: u8) -> Self {
        let out = Process::new(host_sh())
            .args(["up", name, &index.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("could not run host.sh: {e}"));
        assert!(
            out.status.success(),
            "host.sh up {name} {index} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let value = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim_matches('\'').to_owned())
                .unwrap_or_else(|| panic!("host.sh printed no {key}: {stdout}"))
        };
        Self {
            name: name.to_owned(),
            uri: value("URI"),
            address: value("ADDRESS"),
            libvirtd_log: value("LIBVIRTD_LOG").into(),
        }
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
        Process::new(host_sh())
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
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        let _ = Process::new(host_sh()).args(["down", &self.name]).output();
    }
}
