//! qemu-bridge-helper: `qemu:///session` VMs attach to a bridge through this setuid helper,
//! which only allows the bridges listed in `/etc/qemu/bridge.conf` (`allow br0`).

use std::path::Path;

use super::{NetError, Runner};

/// The helper's configuration file.
pub const BRIDGE_CONF: &str = "/etc/qemu/bridge.conf";

/// Allows session VMs to use `bridge` in [`BRIDGE_CONF`]. Returns whether the file changed.
pub fn allow_bridge_for_session(runner: &Runner, bridge: &str) -> Result<bool, NetError> {
    allow_bridge_in(runner, Path::new(BRIDGE_CONF), bridge)
}

/// Adds `allow BRIDGE` to the helper configuration at `path` (making the file and its
/// directory if missing) unless the bridge is already allowed; other lines stay. Written
/// through `pkexec` when the runner escalates.
pub fn allow_bridge_in(runner: &Runner, path: &Path, bridge: &str) -> Result<bool, NetError> {
    super::bridge::validate_bridge_name(bridge, &[])?;
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(path, e)),
    };
    let Some(new) = with_allow(&old, bridge) else {
        return Ok(false);
    };
    let dir = path.parent().unwrap_or(Path::new("/"));
    if runner.escalates() {
        let script = "mkdir -p \"$1\" && cat > \"$2\"";
        let args = [
            "-c",
            script,
            "sh",
            &dir.to_string_lossy(),
            &path.to_string_lossy(),
        ]
        .map(|s| s.to_owned());
        runner.run("sh", &args, Some(new.as_bytes()), true)?;
    } else {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        std::fs::write(path, new).map_err(|e| io_error(path, e))?;
    }
    tracing::info!("allowed bridge {bridge} in {}", path.display());
    Ok(true)
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

/// Whether the helper configuration `text` allows `bridge` (by name or `allow all`).
pub fn allows(text: &str, bridge: &str) -> bool {
    text.lines().any(|line| {
        let mut words = line.split_whitespace();
        words.next() == Some("allow")
            && matches!(words.next(), Some(b) if b == bridge || b == "all")
    })
}

/// `text` with `allow BRIDGE` appended, or `None` when it already [`allows`] the bridge.
fn with_allow(text: &str, bridge: &str) -> Option<String> {
    if allows(text, bridge) {
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

    #[test]
    fn allow_lines_are_added_once_and_other_lines_kept() {
        let dir = std::env::temp_dir().join(format!("vdtest-{}-helper", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("qemu/bridge.conf");
        let runner = Runner::host();
        assert!(allow_bridge_in(&runner, &path, "br0").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "allow br0\n");
        assert!(!allow_bridge_in(&runner, &path, "br0").unwrap());
        std::fs::write(&path, "# local\ninclude /etc/qemu/more.conf\nallow virbr0").unwrap();
        assert!(allow_bridge_in(&runner, &path, "br0").unwrap());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# local\ninclude /etc/qemu/more.conf\nallow virbr0\nallow br0\n"
        );
        assert!(allow_bridge_in(&runner, &path, "bad name").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn allows_reads_allow_lines_only() {
        assert!(allows("allow br0\n", "br0"));
        assert!(allows("# x\n allow all\n", "br9"));
        assert!(!allows("allow br00\n", "br0"));
        assert!(!allows("# allow br0\ndeny br0\n", "br0"));
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
