//! The window's actions on connections. The actions on the selected virtual machine are
//! [`crate::ui::domain_action::DomainAction`]s, installed on the window's class.

use super::Window;
use crate::i18n::gettext;
use crate::ui::backend::Command;
use crate::ui::Connection;
use adw::prelude::*;
use gtk::{gio, glib};

impl Window {
    pub(super) fn setup_actions(&self) {
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
