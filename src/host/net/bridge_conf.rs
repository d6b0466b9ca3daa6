//! qemu-bridge-helper: `qemu:///session` VMs attach to a bridge through this setuid helper,
//! which only allows the bridges listed in `/etc/qemu/bridge.conf` (`allow br0`), unless a
//! `deny` line names them (or says `deny all`).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::protocol::{check_name, Change, Report};
use super::spawn::Helper;
use super::{NetError, Runner};

/// The helper's configuration file.
pub const BRIDGE_CONF: &str = "/etc/qemu/bridge.conf";

/// Allows session VMs to use `bridge` in [`BRIDGE_CONF`], through the privileged helper
/// (`virtdeck --bridge-conf-helper`, behind `pkexec` unless root, whose polkit message
/// says that this file changes). Returns whether the file changed.
pub fn allow_bridge_for_session(runner: &Runner, bridge: &str) -> Result<bool, NetError> {
    check_name(bridge)?;
    let change = Change::AllowBridgeForSession {
        bridge: bridge.to_owned(),
    };
    match Helper::start(runner, change)?.next()? {
        Report::Allowed { changed } => Ok(changed),
        Report::Refused { error } => Err(error),
        other => Err(NetError::HelperFailed(format!(
            "it reported {} out of turn",
            other.to_line()
        ))),
    }
}

/// Adds `allow BRIDGE` to the helper configuration at `path` (making the file and its
/// directory if missing) unless the bridge is already allowed; every other line (comments,
/// `deny`, `include`) stays. A bridge that a `deny` line names is refused. The new file is
/// written beside the old one, flushed to disk and renamed over it, so that a reader sees
/// the old file or the new one, never half of it; it keeps the old file's owner and mode.
/// Runs in the privileged helper.
pub fn allow_bridge_in(path: &Path, bridge: &str) -> Result<bool, NetError> {
    check_name(bridge)?;
    let old = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(path, e)),
    };
    if denies(&old, bridge) {
        return Err(NetError::DeniedInBridgeConf {
            path: path.display().to_string(),
            bridge: bridge.to_owned(),
        });
    }
    let Some(new) = with_allow(&old, bridge) else {
        return Ok(false);
    };
    // A symbolic link stays one: the file it points to is replaced.
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = path.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    write_atomically(&path, new.as_bytes()).map_err(|e| io_error(&path, e))?;
    tracing::info!("allowed bridge {bridge} in {}", path.display());
    Ok(true)
}

/// Writes `contents` to a new file beside `path`, syncs it, renames it over `path` and
/// syncs the directory. The old file's mode and owner carry over (0644 root otherwise).
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old = fs::metadata(path).ok();
    let mode = old.as_ref().map_or(0o644, |m| m.mode() & 0o7777);
    let (mut file, temp) = new_beside(dir, &name, mode)?;
    let written = (|| {
        file.write_all(contents)?;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        if let Some(old) = &old {
            std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid()))?;
        }
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// A new file `.NAME.PID.N.tmp` in `dir` that did not exist before (never a link).
fn new_beside(dir: &Path, name: &str, mode: u32) -> std::io::Result<(File, PathBuf)> {
    let mut n = 0;
    loop {
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
        {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

fn io_error(path: &Path, e: std::io::Error) -> NetError {
    NetError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Whether [`BRIDGE_CONF`] allows session VMs to use `bridge`. A missing or unreadable
/// file allows nothing; `include` lines are not followed.
pub fn bridge_allowed_for_session(bridge: &str) -> bool {
    std::fs::read_to_string(BRIDGE_CONF).is_ok_and(|text| allows(&text, bridge))
}

/// Whether the helper configuration `text` allows `bridge`: an `allow` line names it (or
/// says `all`) and no `deny` line does — qemu-bridge-helper lets a deny win.
pub fn allows(text: &str, bridge: &str) -> bool {
    names(text, "allow", bridge) && !denies(text, bridge)
}

/// Whether a `deny` line of `text` names `bridge` or says `all`.
fn denies(text: &str, bridge: &str) -> bool {
    names(text, "deny", bridge)
}

/// Whether a `KEYWORD NAME` line of `text` names `bridge` or `all`.
fn names(text: &str, keyword: &str, bridge: &str) -> bool {
    text.lines().any(|line| {
        let mut words = line.split_whitespace();
        words.next() == Some(keyword)
            && matches!(words.next(), Some(b) if b == bridge || b == "all")
    })
}

/// `text` with `allow BRIDGE` appended, or `None` when an `allow` line names the bridge
/// (or all) already.
fn with_allow(text: &str, bridge: &str) -> Option<String> {
    if names(text, "allow", bridge) {
        return None;
    }
    let mut new = text.to_owned();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new += &format!("allow {bridge}\n");
    Some(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the temporary one, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("vdtest-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn entries(&self, sub: &str) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(self.0.join(sub))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn allow_lines_are_added_once_and_other_lines_kept() {
        let dir = TempDir::new("bridge-conf");
        let path = dir.0.join("qemu/bridge.conf");
        assert!(allow_bridge_in(&path, "br0").unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "allow br0\n");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o644);
        assert!(!allow_bridge_in(&path, "br0").unwrap());

        let old = "# local\ninclude /etc/qemu/more.conf\ndeny br9\nallow virbr0";
        fs::write(&path, old).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let before = fs::metadata(&path).unwrap();
        // A reader that opened the old file keeps reading it whole: the new one is
        // renamed over it, never written into it.
        let mut reader = File::open(&path).unwrap();
        assert!(allow_bridge_in(&path, "br0").unwrap());
        let new = "# local\ninclude /etc/qemu/more.conf\ndeny br9\nallow virbr0\nallow br0\n";
        assert_eq!(fs::read_to_string(&path).unwrap(), new);
        let mut seen = String::new();
        std::io::Read::read_to_string(&mut reader, &mut seen).unwrap();
        assert_eq!(seen, old);
        let after = fs::metadata(&path).unwrap();
        assert_ne!(
            after.ino(),
            before.ino(),
            "a new file took the old one's name"
        );
        assert_eq!(after.mode() & 0o7777, 0o640, "the mode carries over");
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        assert_eq!(
            dir.entries("qemu"),
            ["bridge.conf"],
            "no temporary file is left"
        );

        // A denied bridge stays denied, and the file untouched.
        let err = allow_bridge_in(&path, "br9").unwrap_err();
        assert!(matches!(err, NetError::DeniedInBridgeConf { .. }), "{err}");
        assert!(err.to_string().contains("denies bridge “br9”"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), new);

        assert!(matches!(
            allow_bridge_in(&path, "bad name").unwrap_err(),
            NetError::BadInterfaceName { .. }
        ));
        assert!(allow_bridge_in(&path, "br0\nallow all").is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), new);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_one() {
        let dir = TempDir::new("bridge-conf-fail");
        let path = dir.0.join("bridge.conf");
        fs::write(&path, "allow virbr0\n").unwrap();
        // The target is a directory: the rename fails after the temporary file was written.
        let blocked = dir.0.join("blocked");
        fs::create_dir(blocked.join("x").parent().unwrap()).unwrap();
        fs::create_dir(blocked.join("x")).unwrap();
        assert!(write_atomically(&blocked, b"allow br0\n").is_err());
        assert_eq!(dir.entries(""), ["blocked", "bridge.conf"]);
        assert_eq!(fs::read_to_string(&path).unwrap(), "allow virbr0\n");
    }

    #[test]
    fn a_link_to_the_file_stays_a_link() {
        let dir = TempDir::new("bridge-conf-link");
        let real = dir.0.join("real.conf");
        let link = dir.0.join("bridge.conf");
        fs::write(&real, "include /etc/qemu/other.conf\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(allow_bridge_in(&link, "br0").unwrap());
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "include /etc/qemu/other.conf\nallow br0\n"
        );
    }

    #[test]
    fn allows_reads_allow_lines_only() {
        assert!(allows("allow br0\n", "br0"));
        assert!(allows("# x\n allow all\n", "br9"));
        assert!(!allows("allow br00\n", "br0"));
        assert!(!allows("# allow br0\n", "br0"));
        assert!(!allows("allow br0\ndeny br0\n", "br0"));
        assert!(!allows("allow all\ndeny all\n", "br0"));
        assert!(allows("allow all\ndeny br1\n", "br0"));
        assert!(!allows("", "br0"));
    }

    #[test]
    fn allow_all_already_allows_every_bridge() {
        assert_eq!(with_allow("allow all\n", "br7"), None);
        assert_eq!(with_allow("  allow   br7  \n", "br7"), None);
        assert_eq!(
            with_allow("allow br70\n", "br7").unwrap(),
            "allow br70\nallow br7\n"
        );
    }
}
