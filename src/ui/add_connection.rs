//! The Add Connection dialog: local system, user session, a remote host over SSH, or any
//! libvirt URI.

use crate::host::libvirtd::{SESSION_URI, SYSTEM_URI};
use crate::i18n::gettext;
use crate::ui::{Application, Window};
use adw::prelude::*;
use gtk::glib;

/// The kinds of connection offered, in the order of the dialog's drop-down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    System,
    Session,
    Ssh,
    Custom,
}

const KINDS: [Kind; 4] = [Kind::System, Kind::Session, Kind::Ssh, Kind::Custom];

impl Kind {
    fn label(self) -> String {
        match self {
            Kind::System => gettext("QEMU/KVM (system)"),
            Kind::Session => gettext("QEMU/KVM user session"),
            Kind::Ssh => gettext("Remote host over SSH"),
            Kind::Custom => gettext("Custom URI"),
        }
    }
}

/// The URI for a choice in the dialog, or why the input does not make one.
fn compose_uri(kind: Kind, host: &str, custom: &str) -> Result<String, String> {
    match kind {
        Kind::System => Ok(SYSTEM_URI.to_owned()),
        Kind::Session => Ok(SESSION_URI.to_owned()),
        Kind::Ssh => {
            let host = host.trim();
            if host.is_empty() {
                Err(gettext("Enter the remote host, for example admin@server"))
            } else if host.contains(|c: char| c.is_whitespace() || c == '/') {
                Err(gettext("The host cannot contain spaces or slashes"))
            } else {
                Ok(format!("qemu+ssh://{host}/system"))
            }
        }
        Kind::Custom => {
            let uri = custom.trim();
            match uri.split_once(':') {
                Some((scheme, _)) if !scheme.is_empty() && !uri.contains(char::is_whitespace) => {
                    Ok(uri.to_owned())
                }
                _ => Err(gettext(
                    "Enter a libvirt URI, for example qemu+ssh://admin@server/system",
                )),
            }
        }
    }
}

/// Shows the dialog over `window`; "Add" adds the connection and remembers it.
pub fn present(window: &Window) {
    let kinds: Vec<String> = KINDS.iter().map(|k| k.label()).collect();
    let kind_row = adw::ComboRow::builder()
        .title(gettext("Hypervisor"))
        .model(&gtk::StringList::new(
            &kinds.iter().map(String::as_str).collect::<Vec<_>>(),
        ))
        .build();
    let host_row = adw::EntryRow::builder()
        .title(gettext("User and host"))
        .visible(false)
        .build();
    let uri_row = adw::EntryRow::builder()
        .title(gettext("URI"))
        .visible(false)
        .build();
    let autoconnect = gtk::Switch::builder()
        .active(true)
        .valign(gtk::Align::Center)
        .build();
    let autoconnect_row = adw::ActionRow::builder()
        .title(gettext("Connect automatically"))
        .activatable_widget(&autoconnect)
        .build();
    autoconnect_row.add_suffix(&autoconnect);
    let error = gtk::Label::builder()
        .wrap(true)
        .xalign(0.0)
        .visible(false)
        .css_classes(["error"])
        .build();

    let group = adw::PreferencesGroup::new();
    for row in [
        kind_row.upcast_ref::<gtk::Widget>(),
        host_row.upcast_ref(),
        uri_row.upcast_ref(),
        autoconnect_row.upcast_ref(),
    ] {
        group.add(row);
    }
    let content = gtk::Box::new(gtk::Orientation::Vertical, 12);
    content.append(&group);
    content.append(&error);

    let dialog = adw::MessageDialog::builder()
        .title(gettext("Add Connection"))
        .heading(gettext("Add Connection"))
        .transient_for(window)
        .modal(true)
        .extra_child(&content)
        .default_response("add")
        .close_response("cancel")
        .build();
    dialog.add_responses(&[("cancel", &gettext("_Cancel")), ("add", &gettext("_Add"))]);
    dialog.set_response_appearance("add", adw::ResponseAppearance::Suggested);

    let selected = glib::clone!(
        #[weak]
        kind_row,
        #[upgrade_or]
        Kind::System,
        move || KINDS[(kind_row.selected() as usize).min(KINDS.len() - 1)]
    );
    let current_uri = glib::clone!(
        #[weak]
        host_row,
        #[weak]
        uri_row,
        #[strong]
        selected,
        #[upgrade_or_else]
        || Err(String::new()),
        move || compose_uri(selected(), &host_row.text(), &uri_row.text())
    );
    // "Add" stays disabled while the input makes no URI; the reason shows below the form.
    let validate = glib::clone!(
        #[weak]
        dialog,
        #[weak]
        host_row,
        #[weak]
        uri_row,
        #[weak]
        error,
        #[strong]
        current_uri,
        #[strong]
        selected,
        move || {
            host_row.set_visible(selected() == Kind::Ssh);
            uri_row.set_visible(selected() == Kind::Custom);
            let problem = current_uri().err();
            dialog.set_response_enabled("add", problem.is_none());
            error.set_label(problem.as_deref().unwrap_or_default());
            error.set_visible(problem.is_some());
        }
    );
    kind_row.connect_selected_notify(glib::clone!(
        #[strong]
        validate,
        move |_| validate()
    ));
    for entry in [&host_row, &uri_row] {
        entry.connect_changed(glib::clone!(
            #[strong]
            validate,
            move |_| validate()
        ));
    }
    validate();

    dialog.connect_response(
        Some("add"),
        glib::clone!(
            #[weak]
            window,
            #[weak]
            autoconnect,
            move |_, _| {
                let (Ok(uri), Some(app)) = (
                    current_uri(),
                    window.application().and_downcast::<Application>(),
                ) else {
                    return;
                };
                app.add_connection(&uri, true, true);
                app.set_autoconnect(&uri, autoconnect.is_active());
            }
        ),
    );
    dialog.present();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_kinds_need_no_input() {
        assert_eq!(compose_uri(Kind::System, "", "").unwrap(), "qemu:///system");
        assert_eq!(
            compose_uri(Kind::Session, "", "").unwrap(),
            "qemu:///session"
        );
    }

    #[test]
    fn ssh_builds_a_system_uri_for_the_host() {
        assert_eq!(
            compose_uri(Kind::Ssh, " admin@server ", "").unwrap(),
            "qemu+ssh://admin@server/system"
        );
        assert!(compose_uri(Kind::Ssh, "", "").is_err());
        assert!(compose_uri(Kind::Ssh, "a b", "").is_err());
        assert!(compose_uri(Kind::Ssh, "host/x", "").is_err());
    }

    #[test]
    fn custom_uris_need_a_scheme() {
        assert_eq!(
            compose_uri(Kind::Custom, "", "test:///default").unwrap(),
            "test:///default"
        );
        assert!(compose_uri(Kind::Custom, "", "").is_err());
        assert!(compose_uri(Kind::Custom, "", "noscheme").is_err());
        assert!(compose_uri(Kind::Custom, "", ":///x").is_err());
    }
}
