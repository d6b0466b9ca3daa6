//! GUI-free: SSH prompts answered in the window, never in a terminal.
//!
//! ```text
//!  ssh (libvirt's transport, a console tunnel)
//!   └─ runs $SSH_ASKPASS = <rendezvous>/virtdeck-askpass "root@host's password: "
//!        (a link to this binary, which then runs `child::main`)
//!        └─ reads <rendezvous>/bus: the session bus and the running instance's unique name
//!        └─ calls Ask(prompt, hint, ssh's pid) on it ──▶ the window shows a dialog
//!        ◀─ the answer on stdout (exit 0), or exit 1 on Cancel
//! ```
//!
//! [`Rendezvous::install`] runs first thing in `main`, before any thread exists, and sets
//! `SSH_ASKPASS` and `SSH_ASKPASS_REQUIRE=force` for the whole process, so every ssh it
//! starts asks the window. libvirt hands ssh only a few variables (no session bus address),
//! so what the asker needs lies in the rendezvous directory beside the link, which is
//! private to this instance (mode 0700, named after the process). [`prompt`] reads what
//! ssh asks; [`keyring`] keeps remembered passwords in the Secret Service.

pub mod child;
pub mod keyring;
pub mod prompt;

use std::io;
use std::path::{Path, PathBuf};

pub use prompt::{Answer, Prompt};

/// The name of the link ssh runs; the binary started under it is the asker.
pub const PROGRAM_NAME: &str = "virtdeck-askpass";
/// Where the running instance serves prompts on its session bus connection.
pub const OBJECT_PATH: &str = "/io/github/virtdeck/Virtdeck/Askpass";
pub const INTERFACE: &str = "io.github.virtdeck.Virtdeck.Askpass";
/// The D-Bus error the instance answers when the user cancels.
pub const CANCELLED: &str = "io.github.virtdeck.Virtdeck.Askpass.Error.Cancelled";
/// `Ask(prompt, hint, asker)`: ssh's prompt, its `SSH_ASKPASS_PROMPT`, and the pid of the
/// ssh that asks (the same ssh asking again means the last answer was refused).
pub const INTERFACE_XML: &str = r#"<node>
  <interface name="io.github.virtdeck.Virtdeck.Askpass">
    <method name="Ask">
      <arg name="prompt" type="s" direction="in"/>
      <arg name="hint" type="s" direction="in"/>
      <arg name="asker" type="u" direction="in"/>
      <arg name="answer" type="s" direction="out"/>
    </method>
  </interface>
</node>"#;
/// The file in the rendezvous directory: the bus address, then the unique name.
const BUS_FILE: &str = "bus";

/// Whether this process was started as the asker (through the link).
pub fn is_asker(argv0: &std::ffi::OsStr) -> bool {
    Path::new(argv0).file_name() == Some(std::ffi::OsStr::new(PROGRAM_NAME))
}

/// This instance's rendezvous directory.
#[derive(Debug)]
pub struct Rendezvous {
    dir: PathBuf,
}

impl Rendezvous {
    /// Makes the directory and the link, and points ssh at it for the whole process.
    /// Call before any other thread runs (it changes the environment). Directories left by
    /// instances that no longer run are removed.
    pub fn install() -> io::Result<Self> {
        let base = base_dir()?;
        remove_stale(&base);
        let dir = base.join(format!("askpass-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        make_private_dir(&dir)?;
        let link = dir.join(PROGRAM_NAME);
        std::os::unix::fs::symlink(std::env::current_exe()?, &link)?;
        std::env::set_var("SSH_ASKPASS", &link);
        std::env::set_var("SSH_ASKPASS_REQUIRE", "force");
        Ok(Self { dir })
    }

    /// Tells askers where this instance listens: the session bus `address` and the unique
    /// name it has there.
    pub fn publish(&self, address: &str, unique_name: &str) -> io::Result<()> {
        let tmp = self.dir.join(format!("{BUS_FILE}.tmp"));
        std::fs::write(&tmp, format!("{address}\n{unique_name}\n"))?;
        std::fs::rename(tmp, self.dir.join(BUS_FILE))
    }
}

impl Drop for Rendezvous {
    /// The instance ends: no asker can reach it any more.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `$XDG_RUNTIME_DIR/virtdeck`, or a private directory for this user under the temporary
/// directory when there is no runtime directory.
fn base_dir() -> io::Result<PathBuf> {
    let base = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(runtime) => PathBuf::from(runtime).join("virtdeck"),
        None => std::env::temp_dir().join(format!("virtdeck-{}", nix::unistd::getuid())),
    };
    make_private_dir(&base)?;
    Ok(base)
}

/// Makes `dir` (mode 0700) unless it exists; an existing one must be a directory of ours
/// that nobody else can enter.
fn make_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != nix::unistd::getuid().as_raw() || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not a private directory", dir.display()),
        ));
    }
    Ok(())
}

/// Removes the rendezvous directories of instances that have ended.
fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("askpass-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Reads the bus file beside the link the asker was started as.
fn read_bus_file(argv0: &Path) -> io::Result<(String, String)> {
    let dir = argv0.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(dir.join(BUS_FILE))?;
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(address), Some(name)) if !address.is_empty() && !name.is_empty() => {
            Ok((address.to_owned(), name.to_owned()))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the bus file names no bus",
        )),
    }
}
