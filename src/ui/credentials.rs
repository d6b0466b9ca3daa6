//! Questions a login asks, answered in the window: SSH passwords, key passphrases and
//! unknown host keys (through the askpass program, [`askpass_service`]), and the
//! credentials libvirt's own authentication asks for ([`libvirt_auth`]). One dialog
//! shows them all.

mod askpass_service;
mod libvirt_auth;

pub use askpass_service::AskpassService;
pub use libvirt_auth::serve_libvirt_credentials;

use crate::askpass::Answer;
use crate::i18n::{gettext, gettext_f};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, RefCell};

/// What the dialog asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub heading: String,
    pub body: String,
    pub kind: QuestionKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    /// A text to type: its accessible `label`, shown as typed when `echo`; `can_remember`
    /// offers to keep it in the keyring.
    Text {
        label: String,
        echo: bool,
        can_remember: bool,
    },
    /// A host key to trust, shown by its fingerprint.
    Trust { fingerprint: String },
    /// A yes or no.
    Confirm,
}

impl Question {
    /// Whether to trust the key of a host never connected to before.
    pub fn unknown_host_key(host: &str, fingerprint: &str) -> Self {
        Self {
            heading: gettext("Unknown Host Key"),
            body: gettext_f(
                // Translators: {host} is a host name or address.
                "The identity of {host} cannot be confirmed: it has not been connected to before. Trust it only if this fingerprint matches the host's key.",
                &[("host", host)],
            ),
            kind: QuestionKind::Trust {
                fingerprint: fingerprint.to_owned(),
            },
        }
    }
}

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, gtk::CompositeTemplate, Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/credentials.ui")]
    #[properties(wrapper_type = super::CredentialsDialog)]
    pub struct CredentialsDialog {
        #[template_child]
        pub entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub remember: TemplateChild<gtk::CheckButton>,
        /// Whether the dialog asks for a text (password, passphrase, name).
        #[property(get, set)]
        pub asks_text: Cell<bool>,
        /// What the text is ("Password"), the entry's placeholder.
        #[property(get, set)]
        pub label: RefCell<String>,
        /// Whether the text is shown as it is typed.
        #[property(get, set)]
        pub echo: Cell<bool>,
        /// Whether it asks to trust a host key, shown as `fingerprint`.
        #[property(get, set)]
        pub asks_trust: Cell<bool>,
        #[property(get, set)]
        pub fingerprint: RefCell<String>,
        /// Whether "Remember" is offered.
        #[property(get, set)]
        pub can_remember: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CredentialsDialog {
        const NAME: &'static str = "VdCredentialsDialog";
        type Type = super::CredentialsDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CredentialsDialog {}
    impl WidgetImpl for CredentialsDialog {}
    impl WindowImpl for CredentialsDialog {}
    impl MessageDialogImpl for CredentialsDialog {}
}

glib::wrapper! {
    /// Asks one question of a login; what is typed lives only until it is handed over.
    pub struct CredentialsDialog(ObjectSubclass<imp::CredentialsDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl CredentialsDialog {
    /// Shows `question` above `parent` and waits for the answer; `None` on Cancel.
    pub async fn ask(parent: Option<&gtk::Window>, question: &Question) -> Option<Answer> {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .property("title", &question.heading)
            .property("heading", &question.heading)
            .property("body", &question.body)
            .build();
        let imp = dialog.imp();
        match &question.kind {
            QuestionKind::Text {
                label,
                echo,
                can_remember,
            } => {
                dialog.set_asks_text(true);
                dialog.set_echo(*echo);
                dialog.set_can_remember(*can_remember);
                dialog.set_label(label.as_str());
                imp.entry.set_input_purpose(if *echo {
                    gtk::InputPurpose::FreeForm
                } else {
                    gtk::InputPurpose::Password
                });
            }
            QuestionKind::Trust { fingerprint } => {
                dialog.set_asks_trust(true);
                dialog.set_fingerprint(fingerprint.as_str());
                dialog.set_response_label("answer", &gettext("_Trust this host"));
            }
            QuestionKind::Confirm => dialog.set_response_label("answer", &gettext("_Yes")),
        }
        let (tx, rx) = async_channel::bounded(1);
        dialog.connect_response(None, move |dialog, response| {
            let imp = dialog.imp();
            let answer = (response == "answer").then(|| Answer {
                text: imp.entry.text().to_string(),
                remember: imp.remember.is_active(),
            });
            // What was typed is not needed here any more.
            imp.entry.set_text("");
            let _ = tx.try_send(answer);
        });
        // When the question reached the screen: how long a login takes to ask, in the log.
        dialog.connect_map(|_| tracing::debug!("login question shown"));
        dialog.present();
        if dialog.asks_text() {
            imp.entry.grab_focus();
        }
        rx.recv().await.ok().flatten()
    }
}
