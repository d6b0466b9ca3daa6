//! The one place where `ip` runs (inside a network namespace when asked), and where the
//! privileged helper is started. Programs are taken from fixed system paths, never through
//! `PATH`, and run with an environment of their own. Changes go through the helper, behind
//! `pkexec` when this process is not root, and the runner says so ([`Runner::escalates`])
//! so that the UI can tell the user before it happens; nothing escalates silently.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::protocol::Mode;
use super::NetError;

/// Where `ip` may be, in this order.
pub const IP_PATHS: [&str; 3] = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"];

/// Where `pkexec` may be, in this order.
pub const PKEXEC_PATHS: [&str; 2] = ["/usr/bin/pkexec", "/bin/pkexec"];

/// The `PATH` that `ip` gets (it runs nothing itself; this is for tidiness).
const PROGRAM_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment variable naming a network namespace that the app's host networking
/// (the Networking page, its dialogs, the wizard's bridge list) uses instead of the host's:
/// the app then sees and changes only the links of that namespace. For tests and trials.
pub const NETNS_VARIABLE: &str = "VIRTDECK_NETNS";

#[derive(Debug, Clone)]
pub struct Runner {
    netns: Option<String>,
    escalate: bool,
    network_manager: bool,
    /// The program started as the privileged helper; this program when `None`.
    helper: Option<PathBuf>,
    confirm_within: Duration,
}

impl Runner {
    /// Commands in the host's network namespace.
    pub fn host() -> Runner {
        Runner {
            netns: None,
            escalate: needs_escalation(nix::unistd::geteuid()),
            network_manager: true,
            helper: None,
            confirm_within: super::CONFIRM_WITHIN,
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

    /// The privileged helper is `program` (a `virtdeck` binary) instead of this program:
    /// for tests, whose own binary is not `virtdeck`.
    pub fn with_helper(self, program: impl Into<PathBuf>) -> Runner {
        Runner {
            helper: Some(program.into()),
            ..self
        }
    }

    /// Changes are undone unless kept within `countdown` (instead of
    /// [`super::CONFIRM_WITHIN`]); the helper takes
    /// [`super::protocol::COUNTDOWN_SECS`]. For tests.
    pub fn with_confirm_within(self, countdown: Duration) -> Runner {
        Runner {
            confirm_within: countdown,
            ..self
        }
    }

    /// How long a change waits to be kept before it is undone.
    pub fn confirm_within(&self) -> Duration {
        self.confirm_within
    }

    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// Whether changes ask for administrator rights through `pkexec`: say so in the UI
    /// before starting them.
    pub fn escalates(&self) -> bool {
        self.escalate
    }

    /// `ip [-n NS] -j ARGS`, parsed.
    pub fn ip_json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> Result<T, NetError> {
        let mut full = self.ns_args();
        full.push("-j".to_owned());
        full.extend(args.iter().map(|a| (*a).to_owned()));
        let out = self.ip(&full, None)?;
        serde_json::from_str(&out).map_err(|e| NetError::Parse(e.to_string()))
    }

    /// Runs `lines` as one `ip -batch -`, which stops at the first failing line.
    pub fn ip_batch(&self, lines: &[String]) -> Result<(), NetError> {
        if lines.is_empty() {
            return Ok(());
        }
        tracing::info!(netns = ?self.netns, "ip -batch:\n{}", lines.join("\n"));
        let mut args = self.ns_args();
        args.extend(["-batch".to_owned(), "-".to_owned()]);
        let input = lines.join("\n") + "\n";
        self.ip(&args, Some(input.as_bytes()))
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

    /// Runs `ip ARGS` from its system path with an environment of its own, feeding it
    /// `stdin`, and returns its standard output.
    fn ip(&self, args: &[String], stdin: Option<&[u8]>) -> Result<String, NetError> {
        let path = system_program(&IP_PATHS).ok_or_else(|| NetError::Missing("ip".to_owned()))?;
        let mut cmd = Command::new(&path);
        cmd.args(args)
            .env_clear()
            .env("PATH", PROGRAM_PATH)
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("ip {}", args.join(" "));
        let spawn_err = |e: std::io::Error| NetError::Spawn {
            program: path.display().to_string(),
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

    /// The program and arguments that start helper `mode`: this program (or the one
    /// given to [`Runner::with_helper`]) with the mode's flag, behind `pkexec` when the
    /// runner escalates. An installed `virtdeck` matches the polkit actions of
    /// `io.github.virtdeck.Virtdeck.policy`, whose messages say what is being changed.
    pub fn helper_command(&self, mode: Mode) -> Result<Vec<OsString>, NetError> {
        let program = match &self.helper {
            Some(program) => program.clone(),
            None => std::env::current_exe().map_err(|e| NetError::Spawn {
                program: "virtdeck".to_owned(),
                message: e.to_string(),
            })?,
        };
        let pkexec = if self.escalate {
            Some(system_program(&PKEXEC_PATHS).ok_or(NetError::NoPkexec)?)
        } else {
            None
        };
        Ok(command_line(pkexec.as_deref(), &program, mode.flag()))
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

/// `[PKEXEC] PROGRAM FLAG`, with absolute paths: a user's `PATH` must not choose what
/// runs as root.
fn command_line(pkexec: Option<&Path>, program: &Path, flag: &str) -> Vec<OsString> {
    pkexec
        .into_iter()
        .chain([program])
        .map(OsString::from)
        .chain([OsString::from(flag)])
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

/// The first of `paths` that is a file.
pub fn system_program(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.is_file())
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
    fn a_user_starts_the_helper_through_pkexec_with_absolute_paths() {
        assert!(needs_escalation(nix::unistd::Uid::from_raw(1000)));
        let user = Runner {
            escalate: true,
            ..Runner::in_netns("vdtest-ns")
        };
        let pkexec =
            system_program(&PKEXEC_PATHS).expect("pkexec is installed (apt install pkexec)");
        let me = std::env::current_exe().unwrap();
        let line = user.helper_command(Mode::Network).unwrap();
        assert_eq!(
            strings(&line),
            [
                pkexec.to_str().unwrap(),
                me.to_str().unwrap(),
                "--net-helper"
            ]
        );
        let line = user
            .with_helper("/usr/bin/virtdeck")
            .helper_command(Mode::BridgeConf)
            .unwrap();
        assert_eq!(
            strings(&line),
            [
                pkexec.to_str().unwrap(),
                "/usr/bin/virtdeck",
                "--bridge-conf-helper"
            ]
        );
    }

    #[test]
    fn root_starts_the_helper_itself() {
        assert!(!needs_escalation(nix::unistd::Uid::from_raw(0)));
        assert!(nix::unistd::geteuid().is_root(), "the tests run as root");
        let root = Runner::host();
        assert!(!root.escalates() && !Runner::in_netns("vdtest-ns").escalates());
        let line = root
            .with_helper("/x/virtdeck")
            .helper_command(Mode::Network)
            .unwrap();
        assert_eq!(strings(&line), ["/x/virtdeck", "--net-helper"]);
    }

    #[test]
    fn programs_come_from_fixed_system_paths_only() {
        let ip = system_program(&IP_PATHS).expect("iproute2 is installed here");
        assert!(IP_PATHS.contains(&ip.to_str().unwrap()));
        assert!(system_program(&["/nonexistent/ip"]).is_none());
        // A directory is no program.
        assert!(system_program(&["/usr/sbin"]).is_none());
    }
}
