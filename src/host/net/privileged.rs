//! The privileged helper: this program started as `virtdeck --net-helper` or
//! `virtdeck --bridge-conf-helper` (see [`super::protocol`]), as root — through `pkexec`
//! and the polkit actions of `io.github.virtdeck.Virtdeck.policy` when the app is not
//! root, as a plain child process when it is. One helper makes one change, like
//! `netplan try`:
//!
//! 1. read one request and check it: names by the kernel's rules, the namespace, the NIC
//!    or bridge against the links that exist — before anything changes;
//! 2. record the links involved (kind, bridge, state, addresses, routes) and apply the
//!    change as one `ip -batch`; when a step fails, restore the record at once, in this
//!    same process (no second password);
//! 3. report `applied` and wait: `keep` within the countdown keeps the change; `revert`,
//!    the end of the input (the app quit or died) or the countdown running out restore the
//!    record, comparing first, so that restoring a state that is back already runs nothing.
//!
//! No GUI code runs here: the mode is picked in [`crate::run`] before GTK starts.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Instant;

use super::bridge::{plan_create, plan_delete, BridgeRequest, Transition};
use super::bridge_conf::{allow_bridge_in, BRIDGE_CONF};
use super::plan::{plan, rollback};
use super::protocol::{Change, Mode, Reason, Report, Request};
use super::state::{read_links, Link};
use super::{NetError, Runner};

/// Where `ip netns` keeps the named network namespaces.
const NETNS_DIR: &str = "/run/netns";

/// Runs helper `mode` on this process's standard input and output; returns the exit
/// status: 0 when it did as asked, 1 when it refused or failed.
pub fn main(mode: Mode) -> u8 {
    let (lines, input) = mpsc::channel();
    // The end of the input drops the sender: the change is rolled back.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdout = std::io::stdout();
    let mut report = |r: &Report| {
        // The app may be gone; the change is rolled back all the same.
        let _ = writeln!(stdout, "{}", r.to_line()).and_then(|()| stdout.flush());
    };
    let outcome = serve(mode, &input, &mut report);
    u8::from(!outcome)
}

/// Reads the request from `input`, makes the change and waits for its fate, reporting
/// each event to `report`. Whether it did as asked.
fn serve(mode: Mode, input: &Receiver<String>, report: &mut dyn FnMut(&Report)) -> bool {
    let Ok(line) = input.recv() else {
        tracing::info!("no request: nothing to do");
        return false;
    };
    let prepared = Request::parse(mode, &line).and_then(|request| {
        if !nix::unistd::geteuid().is_root() {
            return Err(NetError::NotPermitted);
        }
        let runner = runner(request.netns.as_deref())?;
        Ok((request, runner))
    });
    let (request, runner) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            report(&Report::Refused { error });
            return false;
        }
    };
    match &request.change {
        Change::AllowBridgeForSession { bridge } => {
            match allow_bridge_in(Path::new(BRIDGE_CONF), bridge) {
                Ok(changed) => report(&Report::Allowed { changed }),
                Err(error) => {
                    report(&Report::Refused { error });
                    return false;
                }
            }
            true
        }
        change => try_change(&runner, &request, change, input, report),
    }
}

/// The runner of namespace `netns` (which must exist), or of the host.
fn runner(netns: Option<&str>) -> Result<Runner, NetError> {
    match netns {
        None => Ok(Runner::host()),
        Some(ns) if Path::new(NETNS_DIR).join(ns).exists() => Ok(Runner::in_netns(ns)),
        Some(ns) => Err(NetError::NoSuchNetns(ns.to_owned())),
    }
}

/// Plans `change` against the links as they are now; also returns them.
fn transition(runner: &Runner, change: &Change) -> Result<(Transition, Vec<Link>), NetError> {
    let links = read_links(runner)?;
    let planned = match change {
        Change::CreateBridge { nic, bridge, stp } => {
            let request = BridgeRequest {
                nic: nic.clone(),
                name: bridge.clone(),
                stp: *stp,
            };
            plan_create(&links, &request).map(|(t, _)| t)
        }
        Change::DeleteBridge { bridge } => plan_delete(&links, bridge).map(|(t, _)| t),
        Change::AllowBridgeForSession { .. } => {
            Err(NetError::BadRequest("not a bridge change".to_owned()))
        }
    }?;
    Ok((planned, links))
}

/// Applies a bridge change, then keeps it or rolls it back as the app (or its silence)
/// says.
fn try_change(
    runner: &Runner,
    request: &Request,
    change: &Change,
    input: &Receiver<String>,
    report: &mut dyn FnMut(&Report),
) -> bool {
    let (Transition { before, target }, links) = match transition(runner, change) {
        Ok(t) => t,
        Err(error) => {
            report(&Report::Refused { error });
            return false;
        }
    };
    let lines = plan(&target, &links);
    let steps = match runner.ip_batch(&lines).map(|()| lines.len()) {
        Ok(steps) => steps,
        Err(error) => {
            report(&match rollback(runner, &before) {
                Ok(steps) => Report::FailedAndRestored { error, steps },
                Err(restore_error) => Report::RestoreFailed {
                    error,
                    restore_error,
                },
            });
            return false;
        }
    };
    report(&Report::Applied {
        steps,
        countdown_secs: request.countdown_secs,
    });
    let reason = match wait_for_answer(input, Instant::now() + request.countdown()) {
        None => {
            report(&Report::Kept);
            return true;
        }
        Some(reason) => reason,
    };
    tracing::info!("rolling back ({reason:?})");
    match rollback(runner, &before) {
        Ok(steps) => {
            report(&Report::RolledBack { reason, steps });
            reason == Reason::Revert
        }
        Err(error) => {
            report(&Report::RollbackFailed { reason, error });
            false
        }
    }
}

/// Waits until `deadline` for `keep` (`None`) or a reason to roll back.
fn wait_for_answer(input: &Receiver<String>, deadline: Instant) -> Option<Reason> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match input.recv_timeout(left) {
            Ok(word) => match word.trim() {
                "keep" => return None,
                "revert" => return Some(Reason::Revert),
                other => tracing::warn!("ignoring “{other}” (expected keep or revert)"),
            },
            Err(RecvTimeoutError::Timeout) => return Some(Reason::Timeout),
            Err(RecvTimeoutError::Disconnected) => return Some(Reason::EndOfInput),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(words: &[&str], close: bool, within: Duration) -> Option<Reason> {
        let (tx, rx) = mpsc::channel();
        for w in words {
            tx.send((*w).to_owned()).unwrap();
        }
        let keep_open = (!close).then_some(tx);
        let reason = wait_for_answer(&rx, Instant::now() + within);
        drop(keep_open);
        reason
    }

    #[test]
    fn keep_revert_silence_and_the_end_of_input() {
        let long = Duration::from_secs(60);
        assert_eq!(answer(&["keep"], false, long), None);
        assert_eq!(answer(&["  keep "], true, long), None);
        assert_eq!(answer(&["revert"], false, long), Some(Reason::Revert));
        assert_eq!(
            answer(&["please", "revert"], false, long),
            Some(Reason::Revert)
        );
        assert_eq!(answer(&[], true, long), Some(Reason::EndOfInput));
        assert_eq!(answer(&["kept"], true, long), Some(Reason::EndOfInput));
        let start = Instant::now();
        let short = Duration::from_millis(200);
        assert_eq!(answer(&[], false, short), Some(Reason::Timeout));
        assert!(start.elapsed() >= short);
    }

    #[test]
    fn a_bad_request_is_refused_before_anything_runs() {
        let (tx, rx) = mpsc::channel();
        tx.send(r#"{"change":{"delete-bridge":{"bridge":"br0 ; reboot"}}}"#.to_owned())
            .unwrap();
        let mut reports = Vec::new();
        assert!(!serve(Mode::Network, &rx, &mut |r| reports.push(r.clone())));
        let [Report::Refused { error }] = reports.as_slice() else {
            panic!("{reports:?}");
        };
        assert!(
            matches!(error, NetError::BadInterfaceName { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_missing_namespace_is_refused() {
        assert_eq!(
            runner(Some("vdtest-no-such-ns")).unwrap_err(),
            NetError::NoSuchNetns("vdtest-no-such-ns".to_owned())
        );
    }
}
