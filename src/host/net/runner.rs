//! The one place where network commands run: `ip` (inside a network namespace when asked)
//! and the few other programs the bridge code needs. Privileged steps go through `pkexec`
//! when this process is not root, and the runner says so ([`Runner::escalates`]) so that
//! the UI can tell the user before it happens; nothing escalates silently.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::NetError;

/// Directories searched for programs besides `PATH`: `ip` lives in `/usr/sbin`, which a
/// normal user's `PATH` often lacks.
const EXTRA_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The environment variable naming a network namespace that the app's host networking
/// (the Networking page, its dialogs, the wizard's bridge list) uses instead of the host's:
/// the app then sees and changes only the links of that namespace. For tests and trials.
pub const NETNS_VARIABLE: &str = "VIRTDECK_NETNS";

/// Runs network commands, in the host's namespace or in a named one.
#[derive(Debug, Clone)]
pub struct Runner {
    netns: Option<String>,
    escalate: bool,
    network_manager: bool,
}

impl Runner {
    /// Commands in the host's network namespace.
    pub fn host() -> Runner {
        Runner {
            netns: None,
            escalate: needs_escalation(nix::unistd::geteuid()),
            network_manager: true,
        }
    }

    /// The runner of the app's host networking: [`Runner::host`], or the namespace named
    /// by [`NETNS_VARIABLE`] when it is set and not empty. The one place it is read.
    pub fn local() -> Runner {
        match std::env::var(NETNS_VARIABLE) {
            Ok(name) if !name.is_empty() => Runner::in_netns(&name),
            _ => Runner::host(),
        }
    }

    /// `ip` commands inside network namespace `name` (`ip -n name …`). The system bus's
    /// NetworkManager, if any, manages another namespace: it is not asked.
    pub fn in_netns(name: &str) -> Runner {
        Runner {
            netns: Some(name.to_owned()),
            network_manager: false,
            ..Runner::host()
        }
    }

    /// The NetworkManager on the system bus (`DBUS_SYSTEM_BUS_ADDRESS` when set) manages
    /// this runner's namespace: for a namespace that runs its own NetworkManager.
    pub fn with_network_manager(self) -> Runner {
        Runner {
            network_manager: true,
            ..self
        }
    }

    /// Whether the system bus's NetworkManager (if it runs) manages this namespace.
    pub fn network_manager(&self) -> bool {
        self.network_manager
    }

    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// Whether privileged steps ask for administrator rights through `pkexec`: say so in
    /// the UI before starting them.
    pub fn escalates(&self) -> bool {
        self.escalate
    }

    /// `ip [-n NS] -j ARGS`, parsed.
    pub fn ip_json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> Result<T, NetError> {
        let mut full = self.ns_args();
        full.push("-j".to_owned());
        full.extend(args.iter().map(|a| (*a).to_owned()));
        let out = self.run("ip", &full, None, false)?;
        serde_json::from_str(&out).map_err(|e| NetError::Parse(e.to_string()))
    }

    /// Runs `lines` as one `ip -batch -`: a single privileged call (so a single password
    /// prompt), which stops at the first failing line.
    pub fn ip_batch(&self, lines: &[String]) -> Result<(), NetError> {
        if lines.is_empty() {
            return Ok(());
        }
        tracing::info!(netns = ?self.netns, "ip -batch:\n{}", lines.join("\n"));
        let mut args = self.ns_args();
        args.extend(["-batch".to_owned(), "-".to_owned()]);
        let input = lines.join("\n") + "\n";
        self.run("ip", &args, Some(input.as_bytes()), true)
            .map(drop)
            .map_err(|e| match e {
                NetError::Command { message, .. } => NetError::Command {
                    command: failed_line(&message, lines),
                    message: message
                        .lines()
                        .filter(|l| !l.starts_with("Command failed"))
                        .collect::<Vec<_>>()
                        .join(" "),
                },
                other => other,
            })
    }

    /// Runs `program ARGS` (through `pkexec` when `privileged` and not root), feeding it
    /// `stdin`, and returns its standard output.
    pub fn run(
        &self,
        program: &str,
        args: &[String],
        stdin: Option<&[u8]>,
        privileged: bool,
    ) -> Result<String, NetError> {
        let line = self.command_line(program, args, privileged)?;
        if privileged && self.escalate {
            tracing::info!("asking for administrator rights to run {program}");
        }
        let mut cmd = Command::new(&line[0]);
        cmd.args(&line[1..])
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("{program} {}", args.join(" "));
        let spawn_err = |e: std::io::Error| NetError::Spawn {
            program: program.to_owned(),
            message: e.to_string(),
        };
        let mut child = cmd.spawn().map_err(spawn_err)?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input).map_err(spawn_err)?;
        }
        let out = child.wait_with_output().map_err(spawn_err)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            let message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            tracing::warn!("{shown} failed: {message}");
            Err(NetError::Command {
                command: shown,
                message,
            })
        }
    }

    /// The program and arguments that run `program ARGS`: the program's absolute path
    /// first, behind `pkexec` when the step is `privileged` and the runner escalates.
    pub fn command_line(
        &self,
        program: &str,
        args: &[String],
        privileged: bool,
    ) -> Result<Vec<OsString>, NetError> {
        let path = find_program(program).ok_or_else(|| NetError::Missing(program.to_owned()))?;
        let pkexec = if privileged && self.escalate {
            Some(find_program("pkexec").ok_or(NetError::NoPkexec)?)
        } else {
            None
        };
        Ok(command_line(pkexec.as_deref(), &path, args))
    }

    fn ns_args(&self) -> Vec<String> {
        match &self.netns {
            Some(ns) => vec!["-n".to_owned(), ns.clone()],
            None => Vec::new(),
        }
    }
}

/// Whether a process running as `euid` asks for administrator rights for privileged
/// steps: everyone but root does.
fn needs_escalation(euid: nix::unistd::Uid) -> bool {
    !euid.is_root()
}

/// `[PKEXEC] PROGRAM ARGS…`, with the program's absolute path: a user's `PATH` must not
/// choose what runs as root.
fn command_line(pkexec: Option<&Path>, program: &Path, args: &[String]) -> Vec<OsString> {
    pkexec
        .into_iter()
        .chain([program])
        .map(OsString::from)
        .chain(args.iter().map(OsString::from))
        .collect()
}

/// The batch line that `ip` names in "Command failed -:N", else the whole batch.
fn failed_line(stderr: &str, lines: &[String]) -> String {
    stderr
        .rsplit_once("Command failed -:")
        .and_then(|(_, n)| n.trim().parse::<usize>().ok())
        .and_then(|n| lines.get(n.checked_sub(1)?))
        .map(|l| format!("ip {l}"))
        .unwrap_or_else(|| "ip -batch".to_owned())
}

/// The absolute path of `program` on `PATH` or in the usual system directories.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failing_batch_line_is_named() {
        let lines = [
            "link add a type bridge".to_owned(),
            "route add x".to_owned(),
        ];
        let stderr = "Error: Nexthop has invalid gateway.\nCommand failed -:2";
        assert_eq!(failed_line(stderr, &lines), "ip route add x");
        assert_eq!(failed_line("garbage", &lines), "ip -batch");
    }

    fn strings(line: &[OsString]) -> Vec<&str> {
        line.iter().map(|s| s.to_str().unwrap()).collect()
    }

    #[test]
    fn a_privileged_step_of_a_user_runs_through_pkexec_with_the_absolute_path() {
        assert!(needs_escalation(nix::unistd::Uid::from_raw(1000)));
        let user = Runner {
            netns: Some("vdtest-ns".to_owned()),
            escalate: true,
            network_manager: false,
        };
        let args = ["-n", "vdtest-ns", "-batch", "-"].map(str::to_owned);
        let ip = find_program("ip").expect("iproute2 is installed");
        assert!(ip.is_absolute());
        let pkexec = find_program("pkexec").expect("pkexec is installed (apt install pkexec)");
        let line = user.command_line("ip", &args, true).unwrap();
        let mut expected = vec![pkexec.to_str().unwrap(), ip.to_str().unwrap()];
        expected.extend(["-n", "vdtest-ns", "-batch", "-"]);
        assert_eq!(strings(&line), expected);
        // Reading is never privileged.
        let read = user.command_line("ip", &args[..2], false).unwrap();
        assert_eq!(strings(&read), [ip.to_str().unwrap(), "-n", "vdtest-ns"]);
    }

    #[test]
    fn the_command_line_is_the_program_path_then_its_arguments() {
        let args = ["link".to_owned()];
        let line = command_line(None, Path::new("/usr/sbin/ip"), &args);
        assert_eq!(strings(&line), ["/usr/sbin/ip", "link"]);
        let line = command_line(
            Some(Path::new("/usr/bin/pkexec")),
            Path::new("/x/ip"),
            &args,
        );
        assert_eq!(strings(&line), ["/usr/bin/pkexec", "/x/ip", "link"]);
    }

    #[test]
    fn root_never_escalates() {
        assert!(!needs_escalation(nix::unistd::Uid::from_raw(0)));
        assert!(nix::unistd::geteuid().is_root(), "the tests run as root");
        let root = Runner::host();
        assert!(!root.escalates() && !Runner::in_netns("vdtest-ns").escalates());
        let line = root
            .command_line("ip", &["-batch".to_owned(), "-".to_owned()], true)
            .unwrap();
        let ip = find_program("ip").unwrap();
        assert_eq!(strings(&line), [ip.to_str().unwrap(), "-batch", "-"]);
    }

    #[test]
    fn programs_are_found_outside_path_too() {
        assert!(find_program("ip").is_some(), "iproute2 is installed here");
        assert!(find_program("vdtest-no-such-program").is_none());
    }
}
