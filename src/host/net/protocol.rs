//! What the app and the privileged network helper ([`super::privileged`]) say to each
//! other, and the checks of the names in it.
//!
//! The helper is this program started as `virtdeck --net-helper` (bridges) or
//! `virtdeck --bridge-conf-helper` (`/etc/qemu/bridge.conf`), through `pkexec` when the app
//! is not root. On its standard input it reads one [`Request`] as a JSON line, then, for a
//! bridge change that it applied, the words `keep` or `revert` (one a line). It writes one
//! [`Report`] a line, as JSON, on its standard output:
//!
//! ```text
//! app → helper  {"change":{"create-bridge":{"nic":"eth0","bridge":"br0","stp":false}},"countdown_secs":30}
//! helper → app  {"event":"applied","steps":12,"countdown_secs":30}
//! app → helper  keep
//! helper → app  {"event":"kept"}
//! ```
//!
//! Without `keep` within the countdown, after `revert`, or at the end of its input (the app
//! quit or died) the helper restores the state it recorded before the change and reports
//! `rolled-back`. Nothing in a request is ever run as a command: it names interfaces, which
//! the helper checks itself ([`check_name`]), and picks one of a few changes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::NetError;

/// The longest interface name Linux takes (`IFNAMSIZ` − 1), in bytes.
pub const MAX_NAME: usize = 15;

/// The countdown a request may ask for, in seconds: the app's is
/// [`super::CONFIRM_WITHIN`]; tests ask for a few seconds.
pub const COUNTDOWN_SECS: std::ops::RangeInclusive<u64> = 1..=300;

/// Which helper a process is, from its first argument. Each has its own polkit action (so
/// its own password prompt) and takes only its own kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create and delete bridges: `--net-helper`.
    Network,
    /// Allow a bridge for session VMs in `/etc/qemu/bridge.conf`: `--bridge-conf-helper`.
    BridgeConf,
}

impl Mode {
    /// The command-line flag that starts this helper.
    pub const fn flag(self) -> &'static str {
        match self {
            Mode::Network => "--net-helper",
            Mode::BridgeConf => "--bridge-conf-helper",
        }
    }

    /// The helper that `args` (the program's arguments after its name) start, if any.
    pub fn from_args(args: &[std::ffi::OsString]) -> Option<Mode> {
        let first = args.first()?;
        [Mode::Network, Mode::BridgeConf]
            .into_iter()
            .find(|m| first == m.flag())
    }

    fn takes(self, change: &Change) -> bool {
        match change {
            Change::CreateBridge { .. } | Change::DeleteBridge { .. } => self == Mode::Network,
            Change::AllowBridgeForSession { .. } => self == Mode::BridgeConf,
        }
    }
}

/// What the app asks the helper to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub change: Change,
    /// The network namespace to change (`ip netns` name) instead of the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<String>,
    /// Seconds the helper waits for `keep` before it rolls back, within
    /// [`COUNTDOWN_SECS`].
    #[serde(default = "default_countdown")]
    pub countdown_secs: u64,
}

fn default_countdown() -> u64 {
    super::CONFIRM_WITHIN.as_secs()
}

/// The changes the helper makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Change {
    /// Make `bridge` from `nic`: the NIC's addresses and routes move to the new bridge.
    CreateBridge {
        nic: String,
        bridge: String,
        stp: bool,
    },
    /// Delete `bridge`; its addresses and routes go back to the NIC that joined it.
    DeleteBridge { bridge: String },
    /// Add `allow BRIDGE` to `/etc/qemu/bridge.conf` (no countdown).
    AllowBridgeForSession { bridge: String },
}

/// Why a change was rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The app said `revert`.
    Revert,
    /// The app's end of the pipe closed: it quit or died.
    EndOfInput,
    /// The countdown ran out without `keep`.
    Timeout,
}

/// What the helper reports, one a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Report {
    /// The request was refused before anything changed.
    Refused { error: NetError },
    /// The change is made (`steps` commands); it is undone after `countdown_secs` unless
    /// the app says `keep`.
    Applied { steps: usize, countdown_secs: u64 },
    /// A step failed; the state before was restored at once (`steps` commands).
    FailedAndRestored { error: NetError, steps: usize },
    /// A step failed, and restoring the state before failed too.
    RestoreFailed {
        error: NetError,
        restore_error: NetError,
    },
    /// The change was undone (`steps` commands; 0 when nothing had to change back).
    RolledBack { reason: Reason, steps: usize },
    /// Undoing the change failed.
    RollbackFailed { reason: Reason, error: NetError },
    /// The app said `keep`: the change stays and the helper is done.
    Kept,
    /// The bridge is allowed for session VMs; `changed` when the file had to change.
    Allowed { changed: bool },
}

impl Report {
    /// The JSON line of this report (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("reports serialise")
    }

    pub fn from_line(line: &str) -> Result<Report, NetError> {
        serde_json::from_str(line.trim()).map_err(|e| {
            NetError::HelperFailed(format!("it said something this program does not know: {e}"))
        })
    }
}

impl Request {
    /// The JSON line of this request (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("requests serialise")
    }

    /// Reads and checks a request line for the helper `mode`: the JSON, the kind of
    /// change, the countdown's bounds and the names' form. Whether the interfaces exist is
    /// checked against the namespace when the change is planned.
    pub fn parse(mode: Mode, line: &str) -> Result<Request, NetError> {
        let request: Request = serde_json::from_str(line.trim())
            .map_err(|e| NetError::BadRequest(format!("it is not a request: {e}")))?;
        if !mode.takes(&request.change) {
            return Err(NetError::BadRequest(format!(
                "this helper ({}) does not make that change",
                mode.flag()
            )));
        }
        if !COUNTDOWN_SECS.contains(&request.countdown_secs) {
            return Err(NetError::BadRequest(format!(
                "the countdown must be {} to {} seconds, not {}",
                COUNTDOWN_SECS.start(),
                COUNTDOWN_SECS.end(),
                request.countdown_secs
            )));
        }
        if let Some(ns) = &request.netns {
            check_netns_name(ns)?;
        }
        match &request.change {
            Change::CreateBridge { nic, bridge, .. } => {
                check_name(nic)?;
                check_new_bridge_name(bridge)?;
            }
            Change::DeleteBridge { bridge } | Change::AllowBridgeForSession { bridge } => {
                check_name(bridge)?
            }
        }
        Ok(request)
    }

    pub fn countdown(&self) -> Duration {
        Duration::from_secs(self.countdown_secs)
    }
}

/// What is wrong with `name` as an interface name, if anything. The kernel's rules
/// (`dev_valid_name`): 1 to 15 bytes, not `.` or `..`, no `/`, `:` or white space. On top
/// of them this program takes only letters, digits, `_`, `.` and `-`, so that a name is
/// one word of an `ip -batch` line and can mean nothing else there.
pub fn name_problem(name: &str) -> Option<String> {
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')));
    if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.len() > MAX_NAME {
        Some(format!("it is longer than {MAX_NAME} characters"))
    } else if name == "." || name == ".." {
        Some("it is reserved".to_owned())
    } else if name.contains('/') || name.contains(':') || name.chars().any(char::is_whitespace) {
        Some("the kernel does not allow “/”, “:” or spaces in it".to_owned())
    } else {
        bad.map(|c| {
            let shown = if c.is_control() {
                format!("{:?}", c)
            } else {
                format!("“{c}”")
            };
            format!("it contains {shown}; use only letters, digits, “_”, “.” and “-”")
        })
    }
}

/// Checks the name of an interface that should exist.
pub fn check_name(name: &str) -> Result<(), NetError> {
    checked(name, |name, reason| NetError::BadInterfaceName {
        name,
        reason,
    })
}

/// Checks the name of a bridge to make (its form only).
pub fn check_new_bridge_name(name: &str) -> Result<(), NetError> {
    checked(name, |name, reason| NetError::InvalidName { name, reason })
}

/// `name`'s [`name_problem`], if any, as the error `error(name, reason)`.
fn checked(name: &str, error: fn(String, String) -> NetError) -> Result<(), NetError> {
    name_problem(name).map_or(Ok(()), |reason| Err(error(name.to_owned(), reason)))
}

/// Checks the form of a network namespace name (one file name under `/run/netns`).
fn check_netns_name(name: &str) -> Result<(), NetError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(NetError::NoSuchNetns(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Request, NetError> {
        Request::parse(Mode::Network, line)
    }

    #[test]
    fn names_follow_the_kernel_rules_and_stay_one_word() {
        for ok in ["br0", "eth0", "br-lan.1_x", "abcdefghijklmno", "enp3s0f1"] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
        let problem = |n: &str| name_problem(n).unwrap();
        assert_eq!(problem(""), "it is empty");
        assert_eq!(
            problem("abcdefghijklmnop"),
            "it is longer than 15 characters"
        );
        // 15 characters but 16 bytes.
        assert!(problem("abcdefghijklmnü").starts_with("it is longer"));
        assert_eq!(problem(".."), "it is reserved");
        assert_eq!(problem("."), "it is reserved");
        for kernel in ["br/0", "br:0", "br 0", "br\t0", "br0\n"] {
            assert!(
                problem(kernel).starts_with("the kernel does not allow"),
                "{kernel:?}"
            );
        }
        assert_eq!(
            problem("eth0;reboot"),
            "it contains “;”; use only letters, digits, “_”, “.” and “-”"
        );
        for shell in [
            "$(id)", "a`b`", "a|b", "a&b", "a>b", "a\"b", "a'b", "a#b", "a\\b",
        ] {
            assert!(problem(shell).starts_with("it contains"), "{shell}");
        }
        assert!(problem("br\u{7}").contains("'\\u{7}'"));
    }

    #[test]
    fn a_request_round_trips_and_takes_defaults() {
        let request = Request {
            change: Change::CreateBridge {
                nic: "eth0".into(),
                bridge: "br0".into(),
                stp: false,
            },
            netns: None,
            countdown_secs: 30,
        };
        let line = request.to_line();
        assert_eq!(
            line,
            r#"{"change":{"create-bridge":{"nic":"eth0","bridge":"br0","stp":false}},"countdown_secs":30}"#
        );
        assert_eq!(parse(&line).unwrap(), request);
        let short =
            parse(r#"{"change":{"delete-bridge":{"bridge":"br0"}},"netns":"vdtest-1"}"#).unwrap();
        assert_eq!(short.countdown_secs, 30);
        assert_eq!(short.netns.as_deref(), Some("vdtest-1"));
    }

    #[test]
    fn bad_requests_are_refused_in_words() {
        let refused = |line: &str| parse(line).unwrap_err().to_string();
        assert!(refused("ip link del eth0").starts_with("The network helper refused"));
        // Unknown fields and changes: nothing is guessed.
        assert!(refused(r#"{"change":{"run":{"command":"reboot"}}}"#).contains("unknown variant"));
        assert!(
            refused(r#"{"change":{"delete-bridge":{"bridge":"br0","command":"sh"}}}"#)
                .contains("unknown field")
        );
        assert!(
            refused(r#"{"change":{"delete-bridge":{"bridge":"br0"}},"x":1}"#)
                .contains("unknown field")
        );
        assert!(
            refused(r#"{"change":{"delete-bridge":{"bridge":"br0"}},"countdown_secs":0}"#)
                .contains("the countdown must be 1 to 300 seconds, not 0")
        );
        assert!(
            refused(r#"{"change":{"delete-bridge":{"bridge":"br0"}},"countdown_secs":86400}"#)
                .contains("not 86400")
        );
        assert_eq!(
            refused(r#"{"change":{"delete-bridge":{"bridge":"br0;reboot"}}}"#),
            "“br0;reboot” is not a usable network interface name: it contains “;”; use only letters, digits, “_”, “.” and “-”."
        );
        assert!(refused(
            r#"{"change":{"create-bridge":{"nic":"eth0","bridge":"$(reboot)","stp":false}}}"#
        )
        .starts_with("“$(reboot)” cannot be a bridge name: it contains “$”"));
        assert!(refused(
            r#"{"change":{"create-bridge":{"nic":"../eth0","bridge":"br0","stp":false}}}"#
        )
        .contains("the kernel does not allow"));
        assert_eq!(
            refused(r#"{"change":{"delete-bridge":{"bridge":"br0"}},"netns":"../../etc"}"#),
            "There is no network namespace named “../../etc”."
        );
    }

    #[test]
    fn each_helper_takes_only_its_own_changes() {
        let allow = r#"{"change":{"allow-bridge-for-session":{"bridge":"br0"}}}"#;
        assert!(parse(allow)
            .unwrap_err()
            .to_string()
            .contains("does not make that change"));
        assert!(Request::parse(Mode::BridgeConf, allow).is_ok());
        let delete = r#"{"change":{"delete-bridge":{"bridge":"br0"}}}"#;
        assert!(Request::parse(Mode::BridgeConf, delete).is_err());
    }

    #[test]
    fn the_mode_comes_from_the_first_argument_only() {
        let args = |a: &[&str]| a.iter().map(Into::into).collect::<Vec<_>>();
        assert_eq!(
            Mode::from_args(&args(&["--net-helper"])),
            Some(Mode::Network)
        );
        assert_eq!(
            Mode::from_args(&args(&["--bridge-conf-helper"])),
            Some(Mode::BridgeConf)
        );
        assert_eq!(Mode::from_args(&args(&["--connect", "--net-helper"])), None);
        assert_eq!(Mode::from_args(&args(&[])), None);
    }

    #[test]
    fn reports_are_one_json_line_each() {
        let reports = [
            Report::Applied {
                steps: 3,
                countdown_secs: 30,
            },
            Report::RolledBack {
                reason: Reason::EndOfInput,
                steps: 0,
            },
            Report::Refused {
                error: NetError::NoSuchLink("eth9".into()),
            },
            Report::FailedAndRestored {
                error: NetError::Command {
                    command: "ip addr add".into(),
                    message: "Error".into(),
                },
                steps: 4,
            },
            Report::Kept,
            Report::Allowed { changed: true },
        ];
        for report in reports {
            let line = report.to_line();
            assert!(!line.contains('\n'));
            assert_eq!(Report::from_line(&line).unwrap(), report);
        }
        assert_eq!(
            Report::RolledBack {
                reason: Reason::Timeout,
                steps: 2
            }
            .to_line(),
            r#"{"event":"rolled-back","reason":"timeout","steps":2}"#
        );
        assert_eq!(Report::Kept.to_line(), r#"{"event":"kept"}"#);
    }
}
