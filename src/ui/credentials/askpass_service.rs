//! The window's end of the askpass program: it serves `Ask` on the application's own
//! session bus connection, shows the question, and answers ssh. A password the user asked
//! to remember goes into the keyring only once a connection to its host has come up with
//! it; a refused one is dropped.

use super::{CredentialsDialog, Question, QuestionKind};
use crate::askpass::keyring::Keyring;
use crate::askpass::{self, Answer, Prompt, Rendezvous};
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::auth::{Credential, CredentialKind};
use crate::ui::backend::ConnectionName;
use crate::ui::util::run_blocking;
use crate::ui::{Application, Connection};
use adw::prelude::*;
use gtk::{gio, glib};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// A password waiting for its login to work before it is kept.
#[derive(Debug)]
struct Pending {
    kind: &'static str,
    target: String,
    /// The host it logs in to; `None` for a key's passphrase (any host).
    host: Option<String>,
    secret: String,
}

#[derive(Default)]
struct State {
    /// What each ssh (by pid) was answered, by prompt, and whether from the keyring.
    answered: HashMap<(u32, String), bool>,
    /// The ssh processes whose login the user cancelled: asked again, they get no answer.
    cancelled: HashSet<u32>,
    pending: Vec<Pending>,
    /// The connections (by URI) whose libvirt login was last answered from the keyring
    /// and has not come up since: asked again, they get the dialog.
    libvirt_from_keyring: HashSet<String>,
}

/// The keyring's kinds for libvirt's own logins (SASL, libssh), kept by connection URI.
const LIBVIRT_USER: &str = "libvirt-user";
const LIBVIRT_PASSWORD: &str = "libvirt-password";

/// The keyring kind that keeps the answer to a libvirt credential of `kind`, if any.
fn libvirt_keyring_kind(kind: CredentialKind) -> Option<&'static str> {
    match kind {
        CredentialKind::UserName => Some(LIBVIRT_USER),
        CredentialKind::Secret => Some(LIBVIRT_PASSWORD),
        CredentialKind::Question | CredentialKind::Realm => None,
    }
}

/// Answers the askpass program for one application instance.
#[derive(Clone)]
pub struct AskpassService {
    app: glib::WeakRef<Application>,
    state: Rc<RefCell<State>>,
    _rendezvous: Rc<Rendezvous>,
}

impl AskpassService {
    /// Serves `Ask` on `app`'s session bus connection and tells askers where it is.
    pub fn start(app: &Application, rendezvous: Rendezvous) -> Result<Self, String> {
        let bus = app
            .dbus_connection()
            .ok_or_else(|| "the application has no session bus connection".to_owned())?;
        let info = gio::DBusNodeInfo::for_xml(askpass::INTERFACE_XML)
            .map_err(|e| e.to_string())?
            .lookup_interface(askpass::INTERFACE)
            .ok_or_else(|| "no askpass interface".to_owned())?;
        let service = Self {
            app: app.downgrade(),
            state: Rc::default(),
            _rendezvous: Rc::new(rendezvous),
        };
        let served = service.clone();
        bus.register_object(askpass::OBJECT_PATH, &info)
            .method_call(move |_, _, _, _, method, params, invocation| {
                served.method_call(method, params, invocation)
            })
            .build()
            .map_err(|e| e.to_string())?;
        let address =
            gio::dbus_address_get_for_bus_sync(gio::BusType::Session, None::<&gio::Cancellable>)
                .map_err(|e| e.to_string())?;
        let name = bus
            .unique_name()
            .ok_or_else(|| "no unique name on the session bus".to_owned())?;
        service
            ._rendezvous
            .publish(&address, &name)
            .map_err(|e| e.to_string())?;
        Ok(service)
    }

    fn method_call(
        &self,
        method: &str,
        params: glib::Variant,
        invocation: gio::DBusMethodInvocation,
    ) {
        let Some((prompt, hint, asker)) = params.get::<(String, String, u32)>() else {
            invocation.return_dbus_error(
                "org.freedesktop.DBus.Error.InvalidArgs",
                &format!("{method} takes (s, s, u)"),
            );
            return;
        };
        let service = self.clone();
        glib::spawn_future_local(async move {
            match service.answer(&prompt, &hint, asker).await {
                Some(text) => invocation.return_value(Some(&(text,).to_variant())),
                None => invocation.return_dbus_error(askpass::CANCELLED, "Cancelled"),
            }
        });
    }

    /// The answer to ssh's `text`: remembered, or asked in a dialog.
    async fn answer(&self, text: &str, hint: &str, asker: u32) -> Option<String> {
        let app = self.app.upgrade()?;
        if self.state.borrow().cancelled.contains(&asker) {
            return None;
        }
        let prompt = Prompt::parse(text, hint);
        tracing::debug!(asker, ?prompt, "ssh asks");
        let key = (asker, text.to_owned());
        let refused = self.state.borrow().answered.get(&key).copied();
        if let Some((kind, target)) = prompt.keyring_key() {
            if refused.is_some() {
                // The last answer did not work: not that one again.
                self.forget_pending(kind, target);
            } else if let Some(secret) = remembered(kind, target).await {
                self.state.borrow_mut().answered.insert(key, true);
                return Some(secret);
            }
        }
        tracing::debug!(asker, "nothing remembered: asking the user");
        let question = question_for(&prompt, refused);
        let parent = app
            .active_window()
            .unwrap_or_else(|| app.main_window().upcast());
        let Some(answer) = CredentialsDialog::ask(Some(&parent), &question).await else {
            // ssh would ask again (with an empty answer counted as a try): not the user.
            self.state.borrow_mut().cancelled.insert(asker);
            return None;
        };
        self.state.borrow_mut().answered.insert(key, false);
        match prompt {
            Prompt::UnknownHostKey { .. } => Some("yes".to_owned()),
            Prompt::Confirm { .. } => Some(String::new()),
            _ => {
                if answer.remember {
                    self.keep_after_login(&prompt, &answer);
                }
                Some(answer.text)
            }
        }
    }

    fn keep_after_login(&self, prompt: &Prompt, answer: &Answer) {
        let Some((kind, target)) = prompt.keyring_key() else {
            return;
        };
        self.forget_pending(kind, target);
        self.state.borrow_mut().pending.push(Pending {
            kind,
            target: target.to_owned(),
            host: prompt.host().map(str::to_owned),
            secret: answer.text.clone(),
        });
    }

    /// The answers to libvirt's own login on `uri` from the keyring, one per credential in
    /// order: only when every credential is a user name or a password the keyring holds
    /// for `uri`, and the last such answer did not fail (see [`Self::libvirt_refused`]).
    pub async fn remembered_libvirt(
        &self,
        uri: &str,
        credentials: &[Credential],
    ) -> Option<Vec<String>> {
        let mut answers = Vec::with_capacity(credentials.len());
        for credential in credentials {
            let kind = libvirt_keyring_kind(credential.kind)?;
            answers.push(remembered(kind, uri).await?);
        }
        if answers.is_empty() {
            return None;
        }
        self.state
            .borrow_mut()
            .libvirt_from_keyring
            .insert(uri.to_owned());
        Some(answers)
    }

    /// Whether the last answer from the keyring for `uri` did not bring its connection up
    /// (libvirt asks again): the dialog then asks the user and says so. Asks only once.
    pub fn libvirt_refused(&self, uri: &str) -> bool {
        self.state.borrow_mut().libvirt_from_keyring.remove(uri)
    }

    /// Keeps `answer` to a libvirt credential of `kind` for `uri` in the keyring once the
    /// connection has come up with it; nothing when it fails.
    pub fn keep_libvirt_after_login(&self, uri: &str, kind: CredentialKind, answer: &str) {
        let Some(kind) = libvirt_keyring_kind(kind) else {
            return;
        };
        self.forget_pending(kind, uri);
        self.state.borrow_mut().pending.push(Pending {
            kind,
            target: uri.to_owned(),
            host: ConnectionName::parse(uri).host,
            secret: answer.to_owned(),
        });
    }

    fn forget_pending(&self, kind: &str, target: &str) {
        self.state
            .borrow_mut()
            .pending
            .retain(|p| !(p.kind == kind && p.target == target));
    }

    /// Follows `connection`: when it comes up, the passwords given for its host are kept;
    /// when it fails instead, they are dropped.
    pub fn follow(&self, connection: &Connection) {
        let service = self.clone();
        connection.connect_status_notify(move |connection| {
            let uri = connection.uri();
            if connection.connected() {
                service.state.borrow_mut().libvirt_from_keyring.remove(&uri);
            }
            let Some(host) = ConnectionName::parse(&uri).host else {
                return;
            };
            let ours: Vec<Pending> = {
                let mut state = service.state.borrow_mut();
                let (ours, others) = std::mem::take(&mut state.pending)
                    .into_iter()
                    .partition(|p| p.host.as_deref().is_none_or(|h| h == host));
                state.pending = others;
                ours
            };
            tracing::debug!(
                waiting = ours.len(),
                connected = connection.connected(),
                "a login to {host} ended"
            );
            if ours.is_empty() || !connection.connected() {
                return; // a failed login keeps nothing
            }
            let app = service.app.clone();
            glib::spawn_future_local(async move {
                for pending in ours {
                    let stored = run_blocking(move || {
                        Keyring::open()?.store(pending.kind, &pending.target, &pending.secret)
                    })
                    .await;
                    if let (Some(Err(error)), Some(app)) = (stored, app.upgrade()) {
                        app.main_window()
                            .show_error(&crate::ui::util::Failure::with_detail(
                                gettext("The password could not be remembered"),
                                error.to_string(),
                            ));
                    }
                }
            });
        });
    }
}

/// The remembered secret, or `None` when there is none or no keyring answers.
async fn remembered(kind: &'static str, target: &str) -> Option<String> {
    let target = target.to_owned();
    match run_blocking(move || Keyring::open()?.lookup(kind, &target)).await {
        Some(Ok(secret)) => secret,
        Some(Err(error)) => {
            tracing::debug!("no remembered secret: {error}");
            None
        }
        None => None,
    }
}

/// The dialog for ssh's `prompt`; `refused` is `Some(from_keyring)` when the last answer to
/// the same question was not accepted.
fn question_for(prompt: &Prompt, refused: Option<bool>) -> Question {
    let again = match refused {
        Some(true) => Some(gettext("The remembered password was not accepted.")),
        Some(false) => Some(gettext("The password was not accepted. Try again.")),
        None => None,
    };
    let text = |label: String, can_remember: bool| QuestionKind::Text {
        label,
        echo: false,
        can_remember,
    };
    match prompt {
        Prompt::Password { target } => Question {
            heading: gettext_f(
                // Translators: {target} is a login such as root@example.org.
                "Password for {target}",
                &[("target", target)],
            ),
            body: again.unwrap_or_else(|| gettext("The SSH server asks for a password.")),
            kind: text(gettext("Password"), true),
        },
        Prompt::Passphrase { key } => Question {
            heading: gettext("Unlock SSH Key"),
            body: again.unwrap_or_else(|| {
                gettext_f(
                    // Translators: {key} is the path of an SSH private key file.
                    "Enter the passphrase of the key {key}.",
                    &[("key", key)],
                )
            }),
            kind: text(gettext("Passphrase"), true),
        },
        Prompt::UnknownHostKey { host, fingerprint } => {
            Question::unknown_host_key(host, fingerprint)
        }
        Prompt::Confirm { text } => Question {
            heading: gettext("SSH"),
            body: text.clone(),
            kind: QuestionKind::Confirm,
        },
        Prompt::Other { text: prompt_text } => Question {
            heading: gettext("SSH"),
            body: again.unwrap_or_else(|| prompt_text.clone()),
            kind: text(prompt_text.trim().trim_end_matches(':').to_owned(), false),
        },
    }
}
