//! SSH to a remote host: one master connection per host that libvirt's connection and the
//! consoles share, so that a host costs one login however many consoles open on it.
//!
//! libvirt's `ssh` transport runs the `ssh` program; [`libvirt_uri`] points its `command`
//! at a small wrapper in a private runtime directory (0700, this process's own) that adds
//! `ControlMaster=auto`, a `ControlPath` in that directory and a short `ControlPersist`: the
//! first `ssh` to a host logs in and becomes the master, later ones ride on it.
//!
//! A console on a remote host never dials anything on this computer's network: its display
//! is reached through the master ([`open_tunnel`]), which forwards a socket in the private
//! directory to the display's listen address or UNIX socket as the remote host sees it
//! (`127.0.0.1` there is the remote host's loopback). The forwarding is taken down again
//! once the console's connection stands; the connection itself lives on in the master.
//!
//! Everything here blocks (it runs `ssh` and waits for it): call it off the GTK thread.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::graphics::Listen;
use super::uri::UriParts;

/// How long a master stays after its last user (libvirt's connection, a console) left.
const CONTROL_PERSIST_SECS: u32 = 30;
/// How long connecting to the host may take before ssh gives up.
const CONNECT_TIMEOUT_SECS: u32 = 20;
/// How long the display may take to greet through the tunnel.
const GREETING_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a tunnel to a remote display could not be made. The detail is what ssh said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TunnelError {
    #[error("The ssh program is not installed on this computer.")]
    NoSsh,
    #[error("The private directory for SSH connections could not be made: {0}")]
    RuntimeDir(String),
    #[error("The host's SSH key could not be verified: {0}")]
    HostKey(String),
    #[error("The host did not accept the login: {0}")]
    Auth(String),
    #[error("The host could not be reached over SSH: {0}")]
    Unreachable(String),
    /// The tunnel stands, but nothing answers at the display's address on the host.
    #[error("The display did not answer on the host.")]
    NoAnswer,
    #[error("SSH failed: {0}")]
    Other(String),
}

/// What `ssh` needs to reach the host of a `qemu+ssh://` (or `+libssh`, `+libssh2`) URI:
/// the same user, host, port and key file as libvirt's own connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<String>,
    pub keyfile: Option<String>,
    /// `no_verify=1`: do not check the host key (as libvirt does with it).
    pub no_verify: bool,
    /// `no_tty=1`: never ask on a terminal.
    pub no_tty: bool,
    /// `command=`: the ssh program the user named for libvirt.
    pub command: Option<String>,
}

impl SshTarget {
    /// The SSH side of `uri`; `None` when it does not go over SSH.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let parts = UriParts::parse(uri)?;
        if !matches!(parts.transport, Some("ssh" | "libssh" | "libssh2")) {
            return None;
        }
        let host = parts.host.filter(|h| !h.is_empty())?.to_owned();
        let param = |name: &str| query_param(parts.query, name);
        let flag = |name: &str| param(name).is_some_and(|v| v != "0");
        Some(Self {
            user: parts.user.map(percent_decode),
            host,
            port: parts.port.filter(|p| !p.is_empty()).map(str::to_owned),
            keyfile: param("keyfile"),
            no_verify: flag("no_verify"),
            no_tty: flag("no_tty"),
            command: param("command"),
        })
    }

    fn program(&self) -> &str {
        self.command.as_deref().unwrap_or("ssh")
    }

    /// The options every `ssh` for this host gets: the shared master in `dir`, then what
    /// libvirt passes for the URI.
    fn args(&self, dir: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut option = |value: String| {
            args.push("-o".into());
            args.push(value.into());
        };
        for value in master_options(dir) {
            option(value);
        }
        option(format!("ConnectTimeout={CONNECT_TIMEOUT_SECS}"));
        if self.no_verify {
            option("StrictHostKeyChecking=no".into());
        }
        if self.no_tty {
            option("BatchMode=yes".into());
        }
        if let Some(port) = &self.port {
            args.extend(["-p".into(), port.into()]);
        }
        if let Some(user) = &self.user {
            args.extend(["-l".into(), user.into()]);
        }
        if let Some(keyfile) = &self.keyfile {
            args.extend(["-i".into(), keyfile.into()]);
        }
        args
    }

    /// Runs `ssh <options> <extra> -- host` and waits for it; its error output on failure.
    fn run(&self, dir: &Path, extra: &[OsString]) -> Result<(), TunnelError> {
        let output = Command::new(self.program())
            .args(self.args(dir))
            .args(extra)
            .arg("--")
            .arg(&self.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => TunnelError::NoSsh,
                _ => TunnelError::Other(e.to_string()),
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(classify(&String::from_utf8_lossy(&output.stderr)))
        }
    }

    /// Makes sure a master connection to the host runs: the one libvirt's connection
    /// started, or a new one (a login).
    fn ensure_master(&self, dir: &Path) -> Result<(), TunnelError> {
        if self.run(dir, &["-O".into(), "check".into()]).is_ok() {
            return Ok(());
        }
        tracing::debug!(host = %self.host, "starting an SSH master connection");
        self.run(dir, &["-N".into(), "-f".into()])
    }
}

/// `ControlMaster=auto`, the `ControlPath` in `dir` and `ControlPersist`.
fn master_options(dir: &Path) -> [String; 3] {
    [
        "ControlMaster=auto".into(),
        format!("ControlPath={}/%C", dir.display()),
        format!("ControlPersist={CONTROL_PERSIST_SECS}"),
    ]
}

/// What ssh's error output says, as a [`TunnelError`].
fn classify(stderr: &str) -> TunnelError {
    let detail = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .collect::<Vec<_>>()
        .join(" ");
    let has = |needle: &str| detail.contains(needle);
    if has("Host key verification failed") || has("IDENTIFICATION HAS CHANGED") {
        TunnelError::HostKey(detail)
    } else if has("Permission denied") || has("Too many authentication failures") {
        TunnelError::Auth(detail)
    } else if [
        "Could not resolve hostname",
        "Connection refused",
        "No route to host",
        "Connection timed out",
        "Network is unreachable",
        "Connection closed by",
    ]
    .iter()
    .any(|n| has(n))
    {
        TunnelError::Unreachable(detail)
    } else {
        TunnelError::Other(detail)
    }
}

/// The value of `name` in a URI query (`a=1&b=2`), percent-decoded.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| percent_decode(value))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's private directory for SSH control sockets and the wrapper, made on first
/// use: `$XDG_RUNTIME_DIR/virtdeck-ssh-PID` (else in the temporary directory), mode 0700.
pub fn runtime_dir() -> Result<&'static Path, TunnelError> {
    static DIR: OnceLock<Result<PathBuf, TunnelError>> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute() && p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        make_private_dir(&base).map_err(|e| TunnelError::RuntimeDir(e.to_string()))
    })
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(Clone::clone)
}

const DIR_PREFIX: &str = "virtdeck-ssh-";

fn make_private_dir(base: &Path) -> io::Result<PathBuf> {
    remove_stale_dirs(base);
    let dir = base.join(format!("{DIR_PREFIX}{}", std::process::id()));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        // Left by an earlier process with this id: reused only when it is private and ours.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != nix::unistd::getuid().as_raw() {
        return Err(io::Error::other(format!(
            "{} is not a directory of this user",
            dir.display()
        )));
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    write_wrapper(&dir)?;
    Ok(dir)
}

/// Removes the directories of processes that have ended (their masters are gone too).
fn remove_stale_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let uid = nix::unistd::getuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let ours = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if ours && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The `ssh` that libvirt's connection runs: the real one with the master options.
fn write_wrapper(dir: &Path) -> io::Result<()> {
    let options: String = master_options(dir)
        .iter()
        .map(|o| format!(" -o {}", shell_quote(o)))
        .collect();
    let script = format!("#!/bin/sh\nexec ssh{options} \"$@\"\n");
    let path = dir.join("ssh");
    let temp = dir.join("ssh.new");
    let _ = std::fs::remove_file(&temp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(&temp)
        .and_then(|mut f| io::Write::write_all(&mut f, script.as_bytes()))?;
    std::fs::rename(temp, path)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The URI libvirt's connection opens for `uri`: for the `ssh` transport, with `command`
/// set to the wrapper that shares one master connection with the consoles. Unchanged for
/// any other URI, one that names its own `command`, or when the private directory cannot
/// be made (then the consoles log in on their own).
pub fn libvirt_uri(uri: &str) -> Cow<'_, str> {
    let Some(parts) = UriParts::parse(uri) else {
        return Cow::Borrowed(uri);
    };
    if parts.transport != Some("ssh") || query_param(parts.query, "command").is_some() {
        return Cow::Borrowed(uri);
    }
    let dir = match runtime_dir() {
        Ok(dir) => dir,
        Err(error) => {
            tracing::warn!(%error, "libvirt's SSH connection will not share its login");
            return Cow::Borrowed(uri);
        }
    };
    let separator = if parts.query.is_some_and(|q| !q.is_empty()) {
        "&"
    } else if parts.query.is_some() {
        ""
    } else {
        "?"
    };
    let wrapper = dir.join("ssh");
    Cow::Owned(format!(
        "{}{separator}command={}",
        uri.trim_end(),
        percent_encode(&wrapper.to_string_lossy())
    ))
}

/// Escapes what would end a URI query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where the tunnel leads on the remote host, as `ssh -L` writes it. A display listening
/// on every address of its host is reached at the host's own loopback.
fn remote_end(listen: &Listen) -> String {
    match listen {
        Listen::Socket(path) => path.clone(),
        Listen::Address { host, port } => {
            let host = match host.as_str() {
                "" | "0.0.0.0" => "127.0.0.1",
                "::" | "[::]" => "::1",
                other => other.trim_start_matches('[').trim_end_matches(']'),
            };
            if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            }
        }
    }
}

/// A stream connected through the host's SSH master to the display at `listen` on that
/// host, with the display's first bytes (its greeting) waiting unread. Logs in only when
/// no master runs yet.
pub fn open_tunnel(target: &SshTarget, listen: &Listen) -> Result<OwnedFd, TunnelError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = runtime_dir()?;
    target.ensure_master(dir)?;
    let local = dir.join(format!(
        "display-{}.sock",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&local);
    let spec: OsString = [local.as_os_str(), ":".as_ref(), remote_end(listen).as_ref()]
        .into_iter()
        .collect();
    target.run(
        dir,
        &["-O".into(), "forward".into(), "-L".into(), spec.clone()],
    )?;
    // Once the display greets, the master has taken the connection in: the forwarding
    // has done its part (cancelled earlier, a connection still queued would be lost).
    let stream = UnixStream::connect(&local)
        .map_err(|e| TunnelError::Other(e.to_string()))
        .and_then(|stream| wait_for_greeting(&stream).map(|()| stream));
    if let Err(error) = target.run(dir, &["-O".into(), "cancel".into(), "-L".into(), spec]) {
        tracing::debug!(%error, "cancelling the forwarding");
    }
    let _ = std::fs::remove_file(&local);
    Ok(OwnedFd::from(stream?))
}

/// Waits until the display has sent something; the master closes the stream at once when
/// nothing listens at the other end.
fn wait_for_greeting(stream: &UnixStream) -> Result<(), TunnelError> {
    use nix::sys::socket::{recv, MsgFlags};
    let other = |e: io::Error| TunnelError::Other(e.to_string());
    stream
        .set_read_timeout(Some(GREETING_TIMEOUT))
        .map_err(other)?;
    let mut first = [0u8; 1];
    let peeked = loop {
        match recv(stream.as_raw_fd(), &mut first, MsgFlags::MSG_PEEK) {
            Err(nix::errno::Errno::EINTR) => continue,
            result => break result,
        }
    };
    stream.set_read_timeout(None).map_err(other)?;
    match peeked {
        Ok(0) | Err(nix::errno::Errno::EAGAIN) => Err(TunnelError::NoAnswer),
        Ok(_) => Ok(()),
        Err(e) => Err(TunnelError::Other(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_follow_the_libvirt_uri() {
        let t = SshTarget::from_uri(
            "qemu+ssh://admin@kvm1.example:2222/system?keyfile=/k%20ey&no_verify=1&no_tty=0",
        )
        .unwrap();
        assert_eq!(t.user.as_deref(), Some("admin"));
        assert_eq!(t.host, "kvm1.example");
        assert_eq!(t.port.as_deref(), Some("2222"));
        assert_eq!(t.keyfile.as_deref(), Some("/k ey"));
        assert!(t.no_verify);
        assert!(!t.no_tty);
        let args: Vec<String> = t
            .args(Path::new("/run/x"))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(joined.contains("-o ControlMaster=auto"), "{joined}");
        assert!(joined.contains("-o ControlPath=/run/x/%C"), "{joined}");
        assert!(joined.contains("-o StrictHostKeyChecking=no"), "{joined}");
        assert!(!joined.contains("BatchMode"), "{joined}");
        assert!(joined.ends_with("-p 2222 -l admin -i /k ey"), "{joined}");
        assert!(SshTarget::from_uri("qemu+libssh://h/system").is_some());
        assert_eq!(SshTarget::from_uri("qemu+tls://h/system"), None);
        assert_eq!(SshTarget::from_uri("qemu:///system"), None);
        assert_eq!(SshTarget::from_uri("qemu+ssh:///system"), None);
    }

    #[test]
    fn the_tunnel_ends_on_the_remote_host() {
        let at = |host: &str| {
            remote_end(&Listen::Address {
                host: host.into(),
                port: 5901,
            })
        };
        assert_eq!(at("127.0.0.1"), "127.0.0.1:5901");
        assert_eq!(at("0.0.0.0"), "127.0.0.1:5901");
        assert_eq!(at("::"), "[::1]:5901");
        assert_eq!(at("fe80::2"), "[fe80::2]:5901");
        assert_eq!(at("192.0.2.9"), "192.0.2.9:5901");
        assert_eq!(
            remote_end(&Listen::Socket("/var/lib/libvirt/qemu/vnc.sock".into())),
            "/var/lib/libvirt/qemu/vnc.sock"
        );
    }

    #[test]
    fn ssh_errors_are_told_apart() {
        let key = classify("Host key verification failed.\r\n");
        assert!(matches!(key, TunnelError::HostKey(_)), "{key:?}");
        let auth = classify("root@h: Permission denied (publickey).\n");
        assert!(matches!(auth, TunnelError::Auth(_)), "{auth:?}");
        let down = classify("ssh: connect to host h port 22: Connection refused\n");
        assert!(matches!(down, TunnelError::Unreachable(_)), "{down:?}");
        let other = classify("Warning: Permanently added 'h' (ED25519) to the list\nboom\n");
        assert_eq!(other, TunnelError::Other("boom".into()));
    }

    #[test]
    fn libvirt_s_ssh_shares_the_master_and_other_uris_stay() {
        assert_eq!(libvirt_uri("qemu:///system"), "qemu:///system");
        assert_eq!(libvirt_uri("qemu+tls://h/system"), "qemu+tls://h/system");
        let own = "qemu+ssh://h/system?command=/opt/ssh";
        assert_eq!(libvirt_uri(own), own);
        let dir = runtime_dir().expect("a private directory");
        let meta = std::fs::metadata(dir).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        let wrapper = dir.join("ssh");
        let script = std::fs::read_to_string(&wrapper).unwrap();
        assert!(script.contains("ControlMaster=auto"), "{script}");
        let expected = format!("command={}", percent_encode(&wrapper.to_string_lossy()));
        let plain = libvirt_uri("qemu+ssh://root@h/system");
        assert_eq!(plain, format!("qemu+ssh://root@h/system?{expected}"));
        let with_query = libvirt_uri("qemu+ssh://root@h/system?keyfile=/k&no_tty=1");
        assert_eq!(
            with_query,
            format!("qemu+ssh://root@h/system?keyfile=/k&no_tty=1&{expected}")
        );
    }
}
