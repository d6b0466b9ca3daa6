//! The window's actions on the selected virtual machine and on connections.

use super::{accepts, command_for, Window};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::{Command, DomainState};
use crate::ui::{Application, Connection, Domain};
use adw::prelude::*;
use gtk::{gio, glib};

/// The power actions, named as in `win.domain-NAME`.
const POWER: [&str; 6] = [
    "start",
    "shutdown",
    "reboot",
    "pause",
    "resume",
    "force-off",
];

impl Window {
    pub(super) fn setup_actions(&self) {
        for name in POWER {
            let action = gio::SimpleAction::new(&format!("domain-{name}"), None);
            action.connect_activate(glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |_, _| window.power_action(name)
            ));
            self.add_action(&action);
        }
        let console = gio::SimpleAction::new("domain-console", None);
        console.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| window.open_console()
        ));
        self.add_action(&console);
        let delete = gio::SimpleAction::new("domain-delete", None);
        delete.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| window.confirm_delete()
        ));
        self.add_action(&delete);

        type MakeCommand = fn() -> Command;
        let by_uri: [(_, Option<MakeCommand>); 3] = [
            ("connection-connect", Some(|| Command::Connect)),
            ("connection-disconnect", Some(|| Command::Disconnect)),
            ("connection-remove", None),
        ];
        for (name, command) in by_uri {
            let action = gio::SimpleAction::new(name, Some(glib::VariantTy::STRING));
            action.connect_activate(glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |_, uri| {
                    let Some(uri) = uri.and_then(|u| u.get::<String>()) else {
                        return;
                    };
                    window.connection_action(&uri, command.map(|make| make()));
                }
            ));
            self.add_action(&action);
        }
        let connect_selected = gio::SimpleAction::new("connection-connect-selected", None);
        connect_selected.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| {
                if let Some(connection) = window.selected_connection() {
                    connection.send(Command::Connect);
                }
            }
        ));
        self.add_action(&connect_selected);

        self.add_window_action(
            "host-details",
            Some(glib::VariantTy::STRING),
            |window, uri| {
                let connection = uri
                    .and_then(|u| u.get::<String>())
                    .and_then(|uri| window.app()?.connection(&uri));
                if let Some(connection) = connection {
                    crate::ui::host::present(window, &connection);
                }
            },
        );
        self.add_window_action("host-details-selected", None, |window, _| {
            if let Some(connection) = window.selected_connection() {
                crate::ui::host::present(window, &connection);
            }
        });
        self.add_window_action("use-session", None, |window, _| window.use_session());
    }

    /// Adds `win.NAME`, which calls `activate` with this window and its parameter.
    fn add_window_action(
        &self,
        name: &str,
        parameter: Option<&glib::VariantTy>,
        activate: impl Fn(&Window, Option<&glib::Variant>) + 'static,
    ) {
        let action = gio::SimpleAction::new(name, parameter);
        action.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, parameter| activate(&window, parameter)
        ));
        self.add_action(&action);
    }

    fn power_action(&self, name: &str) {
        let (Some(connection), Some(domain)) = (self.selected_connection(), self.selected_domain())
        else {
            return;
        };
        if let Some(command) = command_for(name, domain.uuid()) {
            connection.send(command);
        }
    }

    fn connection_action(&self, uri: &str, command: Option<Command>) {
        let Some(app) = self.app() else {
            return;
        };
        match command {
            Some(command) => {
                if let Some(connection) = app.connection(uri) {
                    connection.send(command);
                }
            }
            None => app.remove_connection(uri),
        }
    }

    /// Asks before deleting the selected domain, offering to delete its storage too.
    fn confirm_delete(&self) {
        let (Some(connection), Some(domain)) = (self.selected_connection(), self.selected_domain())
        else {
            return;
        };
        let info = domain.info();
        let volumes: Vec<String> = info
            .disks
            .iter()
            .filter(|d| !d.read_only)
            .filter_map(|d| d.source_path().map(str::to_owned))
            .collect();
        let dialog = adw::MessageDialog::builder()
            .title(gettext("Delete Virtual Machine"))
            .heading(gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "Delete “{name}”?",
                &[("name", &info.name)],
            ))
            .body(gettext(
                "The virtual machine is stopped if it runs and its definition is removed. This cannot be undone.",
            ))
            .transient_for(self)
            .modal(true)
            .close_response("cancel")
            .default_response("cancel")
            .build();
        let storage = (!volumes.is_empty()).then(|| {
            let check = gtk::CheckButton::builder()
                .label(gettext("Also delete its storage:"))
                .active(false)
                .build();
            let list = gtk::Label::builder()
                .label(volumes.join("\n"))
                .xalign(0.0)
                .wrap(true)
                .selectable(true)
                .css_classes(["dim-label", "caption"])
                .margin_start(28)
                .build();
            let content = gtk::Box::new(gtk::Orientation::Vertical, 6);
            content.append(&check);
            content.append(&list);
            dialog.set_extra_child(Some(&content));
            check
        });
        dialog.add_responses(&[
            ("cancel", &gettext("_Cancel")),
            ("delete", &gettext("_Delete")),
        ]);
        dialog.set_response_appearance("delete", adw::ResponseAppearance::Destructive);
        dialog.connect_response(Some("delete"), move |_, _| {
            connection.send(Command::Delete {
                uuid: domain.uuid(),
                delete_storage: storage.as_ref().is_some_and(|c| c.is_active()),
            });
        });
        dialog.present();
    }
}

pub(super) fn update_enabled(window: &Window, state: Option<DomainState>) {
    for name in POWER.iter().copied().chain(["delete", "console"]) {
        if let Some(action) = window
            .lookup_action(&format!("domain-{name}"))
            .and_downcast::<gio::SimpleAction>()
        {
            action.set_enabled(state.is_some_and(|s| accepts(s, name)));
        }
    }
}

/// Keeps the actions in step with the state of `domain` while it is selected.
pub(super) fn follow_state(window: &Window, domain: &Domain) -> glib::SignalHandlerId {
    domain.connect_state_label_notify(glib::clone!(
        #[weak]
        window,
        move |domain| update_enabled(&window, Some(domain.state()))
    ))
}

/// The accelerators of the domain actions.
pub fn set_accels(app: &Application) {
    for (action, accels) in [
        ("win.domain-start", ["<Control><Shift>r"]),
        ("win.domain-shutdown", ["<Control><Shift>d"]),
        ("win.domain-reboot", ["<Control><Shift>b"]),
        ("win.domain-pause", ["<Control><Shift>p"]),
        ("win.domain-resume", ["<Control><Shift>u"]),
        ("win.domain-force-off", ["<Control><Shift>f"]),
        ("win.domain-delete", ["<Control>Delete"]),
        ("win.domain-console", ["<Control><Shift>o"]),
    ] {
        app.set_accels_for_action(action, &accels);
    }
}

/// The connection a row stands for.
pub(super) fn connection_menu(connection: &Connection) -> gio::Menu {
    let uri = connection.uri().to_variant();
    let menu = gio::Menu::new();
    for (label, action) in [
        (gettext("_Connect"), "win.connection-connect"),
        (gettext("_Disconnect"), "win.connection-disconnect"),
        (gettext("Host _Details"), "win.host-details"),
        (gettext("_Remove"), "win.connection-remove"),
    ] {
        let item = gio::MenuItem::new(Some(&label), None);
        item.set_action_and_target_value(Some(action), Some(&uri));
        menu.append_item(&item);
    }
    menu
}
