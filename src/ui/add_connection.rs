//! The Add Connection dialog: local system, user session, a remote host over SSH, over TCP
//! with a SASL login, or over TLS with certificates, or any libvirt URI.

use crate::host::libvirtd::{SESSION_URI, SYSTEM_URI};
use crate::i18n::gettext;
use crate::ui::{Application, Window};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::RefCell;

/// The kinds of connection offered, in the order of the dialog's drop-down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    System,
    Session,
    Ssh,
    /// libvirt's own TCP transport, with a SASL login (user name and password).
    Sasl,
    /// libvirt's TLS transport, with the client certificates under /etc/pki.
    Tls,
    Custom,
}

const KINDS: [Kind; 6] = [
    Kind::System,
    Kind::Session,
    Kind::Ssh,
    Kind::Sasl,
    Kind::Tls,
    Kind::Custom,
];

impl Kind {
    /// The kind at `position` of the drop-down.
    fn at(position: u32) -> Kind {
        KINDS[(position as usize).min(KINDS.len() - 1)]
    }

    /// How the template names the kinds that need input.
    fn id(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Session => "session",
            Kind::Ssh | Kind::Sasl | Kind::Tls => "remote",
            Kind::Custom => "custom",
        }
    }
}

/// The URI for a choice in the dialog, or why the input does not make one.
fn compose_uri(kind: Kind, host: &str, custom: &str) -> Result<String, String> {
    match kind {
        Kind::System => Ok(SYSTEM_URI.to_owned()),
        Kind::Session => Ok(SESSION_URI.to_owned()),
        Kind::Ssh | Kind::Sasl | Kind::Tls => {
            let host = host.trim();
            let transport = match kind {
                Kind::Sasl => "tcp",
                Kind::Tls => "tls",
                _ => "ssh",
            };
            if host.is_empty() {
                Err(gettext("Enter the remote host, for example admin@server"))
            } else if host.contains(|c: char| c.is_whitespace() || c == '/') {
                Err(gettext("The host cannot contain spaces or slashes"))
            } else {
                Ok(format!("qemu+{transport}://{host}/system"))
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

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/add_connection.ui")]
    #[properties(wrapper_type = super::AddConnectionDialog)]
    pub struct AddConnectionDialog {
        /// Why the input makes no URI, shown below the form; empty when it does.
        #[property(get)]
        pub problem: RefCell<String>,
        #[template_child]
        pub kind_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub host_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub uri_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub autoconnect: TemplateChild<gtk::Switch>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for AddConnectionDialog {
        const NAME: &'static str = "VdAddConnectionDialog";
        type Type = super::AddConnectionDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            crate::ui::util::Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl AddConnectionDialog {
        /// "Add" stays disabled while the input makes no URI; the reason shows below the
        /// form.
        #[template_callback]
        fn input_changed(&self) {
            let problem = self.obj().uri().err().unwrap_or_default();
            self.obj().set_response_enabled("add", problem.is_empty());
            if *self.problem.borrow() != problem {
                self.problem.replace(problem);
                self.obj().notify_problem();
            }
        }

        #[template_callback(function)]
        fn kind_is(position: u32, id: &str) -> bool {
            Kind::at(position).id() == id
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for AddConnectionDialog {
        fn constructed(&self) {
            self.parent_constructed();
            self.input_changed();
        }
    }

    impl WidgetImpl for AddConnectionDialog {}
    impl WindowImpl for AddConnectionDialog {}

    impl MessageDialogImpl for AddConnectionDialog {
        /// "Add" adds the connection, connects it and remembers it.
        fn response(&self, response: &str) {
            if response == "add" {
                self.obj().add();
            }
            self.parent_response(response);
        }
    }
}

glib::wrapper! {
    pub struct AddConnectionDialog(ObjectSubclass<imp::AddConnectionDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl AddConnectionDialog {
    pub fn new(window: &Window) -> Self {
        glib::Object::builder()
            .property("transient-for", window)
            .build()
    }

    /// The URI the input makes, or why it makes none.
    fn uri(&self) -> Result<String, String> {
        let imp = self.imp();
        compose_uri(
            Kind::at(imp.kind_row.selected()),
            &imp.host_row.text(),
            &imp.uri_row.text(),
        )
    }

    fn add(&self) {
        let app = self
            .transient_for()
            .and_then(|w| w.application())
            .and_downcast::<Application>();
        let (Ok(uri), Some(app)) = (self.uri(), app) else {
            return;
        };
        app.add_connection(&uri, true, true);
        app.set_autoconnect(&uri, self.imp().autoconnect.is_active());
    }
}

/// Shows the dialog over `window`; "Add" adds the connection and remembers it.
pub fn present(window: &Window) {
    let dialog = AddConnectionDialog::new(window);
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
    fn tcp_and_tls_build_their_transport_s_uri() {
        assert_eq!(
            compose_uri(Kind::Sasl, "server", "").unwrap(),
            "qemu+tcp://server/system"
        );
        assert_eq!(
            compose_uri(Kind::Tls, "server.example.org", "").unwrap(),
            "qemu+tls://server.example.org/system"
        );
        assert!(compose_uri(Kind::Tls, " ", "").is_err());
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
