//! The app's end of the privileged helper: start it (through `pkexec` when the runner
//! escalates), hand it the request, read its reports, and say `keep` or `revert`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

use super::protocol::{Change, Mode, Report, Request};
use super::{NetError, Runner};

/// pkexec's exit status when the user dismissed the authentication dialog.
const PKEXEC_DISMISSED: i32 = 126;
/// pkexec's exit status when polkit did not authorise the user (or found no agent).
const PKEXEC_NOT_AUTHORIZED: i32 = 127;

/// A running helper: its input pipe (closing it means "roll back") and its reports.
#[derive(Debug)]
pub(super) struct Helper {
    child: Option<Child>,
    input: Option<ChildStdin>,
    reports: Option<BufReader<ChildStdout>>,
    escalated: bool,
}

impl Helper {
    /// Starts the helper that makes `change` for `runner` and sends it the request. It
    /// runs in a process group of its own, so that a Ctrl+C meant for the app does not kill
    /// it before it has rolled back.
    pub(super) fn start(runner: &Runner, change: Change) -> Result<Helper, NetError> {
        let mode = match change {
            Change::AllowBridgeForSession { .. } => Mode::BridgeConf,
            _ => Mode::Network,
        };
        let request = Request {
            netns: match mode {
                Mode::Network => runner.netns().map(str::to_owned),
                Mode::BridgeConf => None,
            },
            countdown_secs: runner.confirm_within().as_secs(),
            change,
        };
        let line = runner.helper_command(mode)?;
        if runner.escalates() {
            tracing::info!("asking for administrator rights to change the network");
        }
        let mut child = Command::new(&line[0])
            .args(&line[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(|e| NetError::Spawn {
                program: line[0].to_string_lossy().into_owned(),
                message: e.to_string(),
            })?;
        let mut helper = Helper {
            input: child.stdin.take(),
            reports: child.stdout.take().map(BufReader::new),
            child: Some(child),
            escalated: runner.escalates(),
        };
        tracing::debug!("network helper request: {}", request.to_line());
        helper.say(&request.to_line());
        Ok(helper)
    }

    /// Writes `line` to the helper. A helper that is gone already has said why in its
    /// reports, so a failure here is only logged.
    pub(super) fn say(&mut self, line: &str) {
        let Some(input) = &mut self.input else {
            return;
        };
        if let Err(e) = writeln!(input, "{line}").and_then(|()| input.flush()) {
            tracing::debug!("the network helper does not listen any more: {e}");
        }
    }

    /// The helper's next report. When it ends without one, its exit status says why:
    /// pkexec's "dismissed" and "not authorised" become sentences.
    pub(super) fn next(&mut self) -> Result<Report, NetError> {
        let mut line = String::new();
        let read = match &mut self.reports {
            Some(reports) => reports.read_line(&mut line),
            None => Ok(0),
        };
        match read {
            Ok(n) if n > 0 => {
                tracing::debug!("network helper: {}", line.trim_end());
                Report::from_line(&line)
            }
            Ok(_) => Err(self.ended()),
            Err(e) => Err(NetError::HelperFailed(e.to_string())),
        }
    }

    /// Why the helper ended without a report.
    fn ended(&mut self) -> NetError {
        self.input = None;
        let status = self.child.take().map(|mut c| c.wait());
        match status {
            Some(Ok(status)) => exit_error(status, self.escalated),
            Some(Err(e)) => NetError::HelperFailed(e.to_string()),
            None => NetError::HelperFailed("it has ended".to_owned()),
        }
    }
}

/// The error of a helper that ended with `status` before reporting.
fn exit_error(status: ExitStatus, escalated: bool) -> NetError {
    match (status.code(), escalated) {
        (Some(PKEXEC_DISMISSED), true) => NetError::AuthDismissed,
        (Some(PKEXEC_NOT_AUTHORIZED), true) => NetError::NotAuthorized,
        (Some(code), _) => NetError::HelperFailed(format!("it exited with status {code}")),
        (None, _) => NetError::HelperFailed(format!(
            "it was killed by signal {}",
            status.signal().unwrap_or_default()
        )),
    }
}

impl Drop for Helper {
    /// Closes the helper's input, which rolls back a change not kept yet, and reaps the
    /// process on a thread of its own once it has finished.
    fn drop(&mut self) {
        self.input = None;
        let (Some(mut child), reports) = (self.child.take(), self.reports.take()) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(reports) = reports {
                for line in reports.lines().map_while(Result::ok) {
                    tracing::info!("network helper: {line}");
                }
            }
            let _ = child.wait();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkexec_refusals_are_said_in_words_only_when_escalating() {
        let exit = |code: i32| ExitStatus::from_raw(code << 8);
        assert_eq!(exit_error(exit(126), true), NetError::AuthDismissed);
        assert_eq!(exit_error(exit(127), true), NetError::NotAuthorized);
        assert_eq!(
            NetError::AuthDismissed.to_string(),
            "The request for administrator rights was dismissed, so nothing was changed."
        );
        assert!(NetError::NotAuthorized
            .to_string()
            .ends_with("so nothing was changed."));
        assert_eq!(
            exit_error(exit(126), false).to_string(),
            "The network helper stopped unexpectedly: it exited with status 126."
        );
        assert_eq!(
            exit_error(ExitStatus::from_raw(9), true).to_string(),
            "The network helper stopped unexpectedly: it was killed by signal 9."
        );
    }
}
