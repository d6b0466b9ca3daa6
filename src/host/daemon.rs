//! Is the libvirt daemon there for this user? When not, which of the three reasons it is
//! (not installed, not running, refusing this user) and the exact commands that fix it on
//! the detected distribution.
//!
//! Files are read below a root directory so that tests can use fixture trees:
//! `<root>/etc/os-release`, `<root>/usr/sbin/libvirtd`, `<root>/run/libvirt/*-sock`,
//! `<root>/run/systemd/system`, `<root>/etc/systemd/system/sockets.target.wants/`.

use std::io::ErrorKind;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use virt_sys as sys;

use super::libvirtd::SYSTEM_SOCKETS;

/// Where daemon binaries are installed.
const BIN_DIRS: [&str; 4] = ["usr/sbin", "usr/bin", "sbin", "bin"];

/// The daemon flavours, in the order of [`SYSTEM_SOCKETS`]: modular `virtqemud` and
/// monolithic `libvirtd`.
const DAEMONS: [&str; 2] = ["virtqemud", "libvirtd"];

/// The state of the libvirt daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Neither `libvirtd` nor `virtqemud` is installed.
    NotInstalled,
    /// Installed but nothing listens on its socket.
    NotRunning,
    /// Running, but it does not let this user in.
    Refused,
    /// Running and reachable through `socket`.
    Ok { socket: PathBuf },
}

/// Which distribution family the fix commands are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Debian,
    Fedora,
    Arch,
    Suse,
    Other,
}

/// The status with what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub status: Status,
    /// One sentence: what is wrong (or that all is well).
    pub problem: String,
    /// Commands to run, in order, as a user with `sudo` types them; empty when the
    /// status is [`Status::Ok`].
    pub fix: Vec<String>,
    /// Said after the commands (log out and back in, …), if anything.
    pub note: Option<String>,
}

impl Diagnosis {
    /// The fix as the user types it: root, who needs no `sudo`, without it.
    pub fn fix_for(&self, root: bool) -> Vec<&str> {
        self.fix
            .iter()
            .map(|line| match line.strip_prefix("sudo ") {
                Some(command) if root => command,
                _ => line,
            })
            .collect()
    }
}

/// The daemon on this host.
pub fn diagnose() -> Diagnosis {
    diagnose_at(Path::new("/"))
}

/// The daemon as seen below `root`.
pub fn diagnose_at(root: &Path) -> Diagnosis {
    explain(root, probe_at(root))
}

/// The daemon on this host, confirmed by opening `uri` with libvirt: a daemon that
/// accepts the socket may still refuse the user (polkit, SASL). Blocks: call it off the
/// main thread.
pub fn diagnose_connection(uri: &str) -> Diagnosis {
    let root = Path::new("/");
    let mut status = probe_at(root);
    if matches!(status, Status::Ok { .. }) {
        if let Err(e) = virt::connect::Connect::open(Some(uri)) {
            tracing::info!("opening {uri} failed: {e}");
            status = status_of_open_error(&e).unwrap_or(status);
        }
    }
    explain(root, status)
}

/// What a failed `virConnectOpen` says about the daemon, if anything.
pub fn status_of_open_error(error: &virt::error::Error) -> Option<Status> {
    status_of_open_code(error.code().to_raw())
}

/// [`status_of_open_error`] on a raw `virErrorNumber`.
pub fn status_of_open_code(code: u32) -> Option<Status> {
    match code {
        sys::VIR_ERR_AUTH_FAILED
        | sys::VIR_ERR_AUTH_CANCELLED
        | sys::VIR_ERR_AUTH_UNAVAILABLE
        | sys::VIR_ERR_ACCESS_DENIED => Some(Status::Refused),
        sys::VIR_ERR_SYSTEM_ERROR | sys::VIR_ERR_NO_CONNECT => Some(Status::NotRunning),
        _ => None,
    }
}

/// The status from the files and sockets below `root`.
pub fn probe_at(root: &Path) -> Status {
    let installed: Vec<&str> = DAEMONS
        .iter()
        .zip(SYSTEM_SOCKETS)
        .filter(|(bin, _)| binary(root, bin).is_some())
        .map(|(_, sock)| sock)
        .collect();
    if installed.is_empty() {
        return Status::NotInstalled;
    }
    let mut refused = false;
    for sock in installed {
        let path = root.join(sock.trim_start_matches('/'));
        match UnixStream::connect(&path) {
            Ok(_) => return Status::Ok { socket: path },
            Err(e) => {
                tracing::debug!("{}: {e}", path.display());
                refused |= status_of_socket_error(e.kind()) == Status::Refused;
            }
        }
    }
    if refused {
        Status::Refused
    } else {
        Status::NotRunning
    }
}

/// What failing to connect to the socket with `kind` means.
pub fn status_of_socket_error(kind: ErrorKind) -> Status {
    match kind {
        ErrorKind::PermissionDenied => Status::Refused,
        _ => Status::NotRunning,
    }
}

fn binary(root: &Path, name: &str) -> Option<PathBuf> {
    BIN_DIRS
        .iter()
        .map(|dir| root.join(dir).join(name))
        .find(|p| p.is_file())
}

/// The distribution family from `<root>/etc/os-release` (`ID` and `ID_LIKE`).
pub fn family_at(root: &Path) -> Family {
    let text = std::fs::read_to_string(root.join("etc/os-release"))
        .or_else(|_| std::fs::read_to_string(root.join("usr/lib/os-release")))
        .unwrap_or_default();
    let ids: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| *k == "ID" || *k == "ID_LIKE")
        .flat_map(|(_, v)| {
            v.trim_matches(['"', '\''])
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let any = |names: &[&str]| ids.iter().any(|id| names.contains(&id.as_str()));
    if any(&["debian", "ubuntu"]) {
        Family::Debian
    } else if any(&["fedora", "rhel", "centos"]) {
        Family::Fedora
    } else if any(&["arch"]) {
        Family::Arch
    } else if any(&["suse", "opensuse"]) {
        Family::Suse
    } else {
        Family::Other
    }
}

/// Whether the modular daemons are (or should be) used rather than `libvirtd`: enabled
/// units decide; otherwise Fedora's default (modular) or what is installed.
fn modular(root: &Path, family: Family) -> bool {
    let wants = root.join("etc/systemd/system/sockets.target.wants");
    if wants.join("virtqemud.socket").exists() {
        return true;
    }
    if wants.join("libvirtd.socket").exists() {
        return false;
    }
    family == Family::Fedora || binary(root, "libvirtd").is_none()
}

fn install_command(family: Family) -> String {
    match family {
        Family::Debian => "sudo apt install libvirt-daemon-system qemu-system-x86",
        Family::Fedora => "sudo dnf install libvirt-daemon-kvm qemu-kvm",
        Family::Arch => "sudo pacman -S libvirt qemu-base",
        Family::Suse => "sudo zypper install libvirt-daemon-qemu qemu-x86",
        Family::Other => "Install libvirt's daemon and QEMU with your package manager",
    }
    .to_owned()
}

fn start_command(root: &Path, family: Family) -> String {
    let systemd = root.join("run/systemd/system").is_dir();
    match (modular(root, family), systemd) {
        (true, true) => "sudo systemctl enable --now virtqemud.socket".to_owned(),
        (false, true) => "sudo systemctl enable --now libvirtd".to_owned(),
        (true, false) => "sudo virtqemud -d".to_owned(),
        (false, false) => "sudo libvirtd -d".to_owned(),
    }
}

/// Attaches the problem and the fix to `status`.
pub fn explain(root: &Path, status: Status) -> Diagnosis {
    let family = family_at(root);
    let relogin = Some("Then log out and back in so that the new group applies.".to_owned());
    let (problem, fix, note) = match &status {
        Status::NotInstalled => (
            "The libvirt daemon is not installed.",
            vec![install_command(family), start_command(root, family)],
            None,
        ),
        Status::NotRunning => (
            "The libvirt daemon is installed but not running.",
            vec![start_command(root, family)],
            None,
        ),
        Status::Refused => (
            "The libvirt daemon is running but does not let you in.",
            vec!["sudo usermod -aG libvirt $USER".to_owned()],
            relogin,
        ),
        Status::Ok { .. } => ("The libvirt daemon is running.", Vec::new(), None),
    };
    Diagnosis {
        status,
        problem: problem.to_owned(),
        fix,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::net::UnixListener;

    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str, os_release: &str) -> Tree {
            let dir =
                std::env::temp_dir().join(format!("vdtest-{}-daemon-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("etc")).unwrap();
            fs::create_dir_all(dir.join("run/libvirt")).unwrap();
            fs::write(dir.join("etc/os-release"), os_release).unwrap();
            Tree(dir)
        }
        fn file(&self, rel: &str) -> &Tree {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "").unwrap();
            self
        }
        fn dir(&self, rel: &str) -> &Tree {
            fs::create_dir_all(self.0.join(rel)).unwrap();
            self
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const DEBIAN: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
    const UBUNTU: &str = "ID=ubuntu\nID_LIKE=debian\n";
    const FEDORA: &str = "ID=fedora\nVERSION_ID=40\n";

    #[test]
    fn nothing_installed_on_debian_says_apt_and_systemctl() {
        let tree = Tree::new("none-debian", DEBIAN);
        tree.dir("run/systemd/system");
        let d = diagnose_at(&tree.0);
        assert_eq!(d.status, Status::NotInstalled);
        assert_eq!(d.problem, "The libvirt daemon is not installed.");
        assert_eq!(
            d.fix,
            [
                "sudo apt install libvirt-daemon-system qemu-system-x86",
                "sudo systemctl enable --now virtqemud.socket"
            ]
        );
    }

    #[test]
    fn root_is_told_the_commands_without_sudo() {
        let tree = Tree::new("stopped-root", DEBIAN);
        tree.file("usr/sbin/libvirtd");
        let d = explain(&tree.0, Status::NotRunning);
        assert_eq!(d.fix_for(false), ["sudo libvirtd -d"]);
        assert_eq!(d.fix_for(true), ["libvirtd -d"]);
        let other = explain(&tree.0, Status::NotInstalled);
        assert_eq!(
            other.fix_for(true),
            [
                "apt install libvirt-daemon-system qemu-system-x86",
                "libvirtd -d"
            ]
        );
    }

    #[test]
    fn installed_but_stopped_libvirtd_on_ubuntu_says_enable_libvirtd() {
        let tree = Tree::new("stopped-ubuntu", UBUNTU);
        tree.file("usr/sbin/libvirtd")
            .file("usr/sbin/virtqemud")
            .dir("run/systemd/system");
        tree.file("etc/systemd/system/sockets.target.wants/libvirtd.socket");
        let d = diagnose_at(&tree.0);
        assert_eq!(d.status, Status::NotRunning);
        assert_eq!(d.fix, ["sudo systemctl enable --now libvirtd"]);
        assert_eq!(family_at(&tree.0), Family::Debian);
    }

    #[test]
    fn fedora_gets_dnf_and_the_modular_daemon() {
        let tree = Tree::new("fedora", FEDORA);
        tree.dir("run/systemd/system");
        assert_eq!(
            diagnose_at(&tree.0).fix,
            [
                "sudo dnf install libvirt-daemon-kvm qemu-kvm",
                "sudo systemctl enable --now virtqemud.socket"
            ]
        );
        tree.file("usr/sbin/libvirtd").file("usr/sbin/virtqemud");
        assert_eq!(
            diagnose_at(&tree.0).fix,
            ["sudo systemctl enable --now virtqemud.socket"]
        );
    }

    #[test]
    fn without_systemd_the_daemon_is_started_by_hand() {
        let tree = Tree::new("nosystemd", DEBIAN);
        tree.file("usr/sbin/libvirtd");
        assert_eq!(diagnose_at(&tree.0).fix, ["sudo libvirtd -d"]);
    }

    #[test]
    fn a_stale_socket_is_not_running_and_a_listening_one_is_ok() {
        let tree = Tree::new("sockets", DEBIAN);
        tree.file("usr/sbin/libvirtd");
        let sock = tree.0.join("run/libvirt/libvirt-sock");
        drop(UnixListener::bind(&sock).unwrap()); // the file stays, nobody listens
        assert_eq!(probe_at(&tree.0), Status::NotRunning);
        fs::remove_file(&sock).unwrap();
        let _listener = UnixListener::bind(&sock).unwrap();
        let d = diagnose_at(&tree.0);
        assert_eq!(d.status, Status::Ok { socket: sock });
        assert!(d.fix.is_empty());
    }

    #[test]
    fn permission_denied_means_refused_with_the_group_fix() {
        assert_eq!(
            status_of_socket_error(ErrorKind::PermissionDenied),
            Status::Refused
        );
        assert_eq!(
            status_of_socket_error(ErrorKind::ConnectionRefused),
            Status::NotRunning
        );
        assert_eq!(
            status_of_socket_error(ErrorKind::NotFound),
            Status::NotRunning
        );
        let tree = Tree::new("refused", DEBIAN);
        let d = explain(&tree.0, Status::Refused);
        assert_eq!(d.fix, ["sudo usermod -aG libvirt $USER"]);
        assert!(d.note.unwrap().contains("log out"));
        assert_eq!(
            status_of_open_code(sys::VIR_ERR_ACCESS_DENIED),
            Some(Status::Refused)
        );
        assert_eq!(
            status_of_open_code(sys::VIR_ERR_AUTH_FAILED),
            Some(Status::Refused)
        );
        assert_eq!(
            status_of_open_code(sys::VIR_ERR_SYSTEM_ERROR),
            Some(Status::NotRunning)
        );
        assert_eq!(status_of_open_code(sys::VIR_ERR_XML_ERROR), None);
    }

    #[test]
    fn unknown_distribution_still_gets_words() {
        let tree = Tree::new("other", "ID=plan9\n");
        let d = diagnose_at(&tree.0);
        assert_eq!(family_at(&tree.0), Family::Other);
        assert!(d.fix[0].starts_with("Install libvirt"));
    }
}
