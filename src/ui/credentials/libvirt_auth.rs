//! The credentials libvirt's own authentication asks for (SASL, the libssh transport),
//! answered in the same dialog as ssh's prompts, one credential after the other.

use super::{CredentialsDialog, Question, QuestionKind};
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::auth::{self, Credential, CredentialKind};
use crate::ui::Application;
use adw::prelude::*;
use gtk::glib;

/// Answers libvirt's questions for as long as `app` runs: from the keyring when the user
/// asked to remember them (kept by the askpass service once the login worked), else in
/// the dialog.
pub fn serve_libvirt_credentials(app: &Application) {
    let requests = auth::requests();
    let app = app.downgrade();
    glib::spawn_future_local(async move {
        while let Ok(request) = requests.recv().await {
            let Some(app) = app.upgrade() else {
                break;
            };
            let kinds: Vec<_> = request.credentials.iter().map(|c| c.kind).collect();
            tracing::debug!(uri = request.uri, ?kinds, "libvirt asks");
            let keyring = app.askpass_service();
            let refused = keyring
                .as_ref()
                .is_some_and(|k| k.libvirt_refused(&request.uri));
            if let (Some(keyring), false) = (&keyring, refused) {
                let remembered = keyring
                    .remembered_libvirt(&request.uri, &request.credentials)
                    .await;
                if let Some(answers) = remembered {
                    let _ = request.reply.try_send(Some(answers));
                    continue;
                }
            }
            let parent = app
                .active_window()
                .unwrap_or_else(|| app.main_window().upcast());
            let mut answers = Some(Vec::new());
            let mut remember = false;
            let mut user_name: Option<String> = None;
            for credential in &request.credentials {
                // SASL asks for the name to log in as and the one to act as: one name, asked
                // once, answers both.
                if let (CredentialKind::UserName, Some(name), Some(list)) =
                    (credential.kind, &user_name, &mut answers)
                {
                    list.push(name.clone());
                    continue;
                }
                let question = question_for(&request.uri, credential, refused);
                let answer = CredentialsDialog::ask(Some(&parent), &question).await;
                match (answer, &mut answers) {
                    (Some(answer), Some(list)) => {
                        remember |= answer.remember;
                        if credential.kind == CredentialKind::UserName {
                            user_name = Some(answer.text.clone());
                        }
                        list.push(match credential.host_key() {
                            Some(_) => "y".to_owned(),
                            None => answer.text,
                        });
                    }
                    _ => {
                        answers = None;
                        break;
                    }
                }
            }
            if let (Some(keyring), Some(list), true) = (&keyring, &answers, remember) {
                for (credential, answer) in request.credentials.iter().zip(list) {
                    keyring.keep_libvirt_after_login(&request.uri, credential.kind, answer);
                }
            }
            let _ = request.reply.try_send(answers);
        }
    });
}

/// The dialog for `credential`; `refused` when the remembered answers did not work.
fn question_for(uri: &str, credential: &Credential, refused: bool) -> Question {
    let title = crate::ui::connection_title(uri);
    if let Some((host, hash)) = credential.host_key() {
        return Question::unknown_host_key(&host, &hash);
    }
    let prompt = credential.prompt.trim().trim_end_matches(':').to_owned();
    let mut body = match &credential.challenge {
        Some(challenge) if !challenge.is_empty() => format!("{prompt}\n{challenge}"),
        _ => prompt.clone(),
    };
    if refused {
        body = format!(
            "{}\n{body}",
            gettext("The remembered password was not accepted.")
        );
    }
    let (heading, label, echo) = match credential.kind {
        CredentialKind::UserName => (gettext("User Name"), gettext("User name"), true),
        CredentialKind::Secret => (gettext("Password"), gettext("Password"), false),
        CredentialKind::Realm => (gettext("Realm"), gettext("Realm"), true),
        CredentialKind::Question => (gettext("Question"), prompt.clone(), true),
    };
    Question {
        heading: gettext_f(
            // Translators: {what} is e.g. "Password", {connection} a connection's name.
            "{what} for {connection}",
            &[("what", &heading), ("connection", &title)],
        ),
        body,
        kind: QuestionKind::Text {
            label,
            echo,
            // The password's dialog offers it; the user name goes with it.
            can_remember: credential.kind == CredentialKind::Secret,
        },
    }
}
