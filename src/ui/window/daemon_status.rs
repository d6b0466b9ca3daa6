//! The page of a connection that is not connected. For the local QEMU connections it says
//! what is wrong with the libvirt daemon (not installed, not running, refusing you) and
//! the commands that fix it, with Try Again and, for the system connection, a way to the
//! user session.

use super::Window;
use crate::host::daemon::{self, Diagnosis, Status};
use crate::host::libvirtd::SESSION_URI;
use crate::ui::backend::{Command, ConnectionKind, ConnectionName};
use crate::ui::host::text;
use crate::ui::util::run_blocking;
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

/// The local QEMU connection `uri` is, if it is one.
fn local_qemu(uri: &str) -> Option<ConnectionKind> {
    let name = ConnectionName::parse(uri);
    let local = !name.is_remote()
        && matches!(
            name.kind,
            ConnectionKind::QemuSystem | ConnectionKind::QemuSession
        );
    local.then_some(name.kind)
}

/// Whether `diagnosis` explains why connection `kind` fails. A normal user's session
/// daemon is started by libvirt itself, so only a missing libvirt matters there; root's
/// session is served by the system daemon.
fn explains(kind: ConnectionKind, diagnosis: &Diagnosis) -> bool {
    match diagnosis.status {
        Status::Ok { .. } => false,
        Status::NotInstalled => true,
        _ => kind == ConnectionKind::QemuSystem || nix::unistd::geteuid().is_root(),
    }
}

/// Whether the status page of connection `kind` offers the user session instead: only for
/// the system connection, and not when libvirt is missing (the session needs it too).
fn offers_session(kind: Option<ConnectionKind>, status: &Status) -> bool {
    kind == Some(ConnectionKind::QemuSystem) && *status != Status::NotInstalled
}

/// The daemon as connection `kind` at `uri` needs it. Blocks.
fn diagnose(kind: ConnectionKind, uri: &str) -> Diagnosis {
    match kind {
        ConnectionKind::QemuSystem => daemon::diagnose_connection(uri),
        _ => daemon::diagnose(),
    }
}

impl Window {
    /// Shows the state of `connection`, which is not connected, and looks into the daemon
    /// behind it when it is a local one.
    pub(super) fn show_status(&self, connection: &Connection) {
        let uri = connection.uri();
        let known = self
            .imp()
            .diagnosis
            .borrow()
            .as_ref()
            .filter(|(u, _)| *u == uri)
            .map(|(_, d)| d.clone());
        self.render_status(connection, known.as_ref());
        if let Some(kind) = local_qemu(&uri) {
            self.diagnose(kind, uri);
        }
    }

    fn diagnose(&self, kind: ConnectionKind, uri: String) {
        let imp = self.imp();
        if imp.diagnosing.replace(true) {
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let probed = uri.clone();
                let diagnosis = run_blocking(move || diagnose(kind, &probed)).await;
                let imp = window.imp();
                imp.diagnosing.set(false);
                let Some(connection) = window.selected_connection() else {
                    return;
                };
                if connection.uri() != uri || connection.connected() {
                    return;
                }
                let diagnosis = diagnosis.filter(|d| explains(kind, d));
                imp.diagnosis.replace(diagnosis.clone().map(|d| (uri, d)));
                window.render_status(&connection, diagnosis.as_ref());
            }
        ));
    }

    /// The status page: the diagnosis and its fix when there is one, else the
    /// connection's state with a Connect button.
    fn render_status(&self, connection: &Connection, diagnosis: Option<&Diagnosis>) {
        let imp = self.imp();
        let page = &imp.connection_status;
        page.set_title(&connection.distinct_title());
        let connecting = diagnosis.is_none() && connection.connecting();
        imp.connect_button
            .set_visible(diagnosis.is_none() && !connecting);
        imp.connecting_spinner.set_visible(connecting);
        imp.daemon_help.set_visible(diagnosis.is_some());
        let Some(diagnosis) = diagnosis else {
            // A spinner while connecting, not the offline icon: nothing is wrong yet.
            let icon = (!connecting).then_some("network-offline-symbolic");
            page.set_icon_name(icon);
            page.set_description(Some(&glib::markup_escape_text(&connection.status())));
            return;
        };
        page.set_icon_name(Some("dialog-warning-symbolic"));
        let description = format!(
            "{}\n{}",
            text::daemon_problem(&diagnosis.status),
            connection.status()
        );
        page.set_description(Some(&glib::markup_escape_text(&description)));
        imp.daemon_fix.set_label(&text::daemon_fix(diagnosis));
        imp.use_session_button.set_visible(offers_session(
            local_qemu(&connection.uri()),
            &diagnosis.status,
        ));
    }

    /// Adds the user session (or wakes it) and shows it.
    pub(super) fn use_session(&self) {
        let Some(app) = self.app() else {
            return;
        };
        app.add_connection(SESSION_URI, true, true);
        if let Some(session) = app.connection(SESSION_URI) {
            if !session.connected() {
                session.send(Command::Connect);
            }
        }
        self.select_connection(SESSION_URI);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn diagnosis(status: Status) -> Diagnosis {
        Diagnosis {
            status,
            problem: String::new(),
            fix: Vec::new(),
            note: None,
        }
    }

    #[test]
    fn only_local_qemu_connections_are_diagnosed() {
        assert_eq!(
            local_qemu("qemu:///system"),
            Some(ConnectionKind::QemuSystem)
        );
        assert_eq!(
            local_qemu("qemu:///session"),
            Some(ConnectionKind::QemuSession)
        );
        assert_eq!(local_qemu("qemu+ssh://host/system"), None);
        assert_eq!(local_qemu("test:///default"), None);
    }

    #[test]
    fn the_user_session_is_offered_for_the_system_connection_when_libvirt_is_there() {
        let system = Some(ConnectionKind::QemuSystem);
        assert!(offers_session(system, &Status::NotRunning));
        assert!(offers_session(system, &Status::Refused));
        assert!(!offers_session(system, &Status::NotInstalled));
        let session = Some(ConnectionKind::QemuSession);
        assert!(!offers_session(session, &Status::NotRunning));
        assert!(!offers_session(None, &Status::Refused));
    }

    #[test]
    fn a_running_daemon_explains_nothing() {
        let ok = diagnosis(Status::Ok {
            socket: PathBuf::from("/run/libvirt/libvirt-sock"),
        });
        assert!(!explains(ConnectionKind::QemuSystem, &ok));
        assert!(explains(
            ConnectionKind::QemuSystem,
            &diagnosis(Status::NotRunning)
        ));
        assert!(explains(
            ConnectionKind::QemuSession,
            &diagnosis(Status::NotInstalled)
        ));
    }
}
