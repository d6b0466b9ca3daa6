//! The credentials libvirt's own authentication asks for (SASL, the libssh transport),
//! answered in the same dialog as ssh's prompts, one credential after the other.

use super::{CredentialsDialog, Question, QuestionKind};
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::auth::{self, Credential, CredentialKind};
use crate::ui::Application;
use adw::prelude::*;
use gtk::glib;

/// Answers libvirt's questions for as long as `app` runs.
pub fn serve_libvirt_credentials(app: &Application) {
    let requests = auth::requests();
    let app = app.downgrade();
    glib::spawn_future_local(async move {
        while let Ok(request) = requests.recv().await {
            let Some(app) = app.upgrade() else {
                break;
            };
            let parent = app
                .active_window()
                .unwrap_or_else(|| app.main_window().upcast());
            let mut answers = Some(Vec::new());
            for credential in &request.credentials {
                let question = question_for(&request.uri, credential);
                let answer = CredentialsDialog::ask(Some(&parent), &question).await;
                match (answer, &mut answers) {
                    (Some(answer), Some(list)) => list.push(match credential.host_key() {
                        Some(_) => "y".to_owned(),
                        None => answer.text,
                    }),
                    _ => {
                        answers = None;
                        break;
                    }
                }
            }
            let _ = request.reply.try_send(answers);
        }
    });
}

fn question_for(uri: &str, credential: &Credential) -> Question {
    let title = crate::ui::connection_title(uri);
    if let Some((host, hash)) = credential.host_key() {
        return Question::unknown_host_key(&host, &hash);
    }
    let prompt = credential.prompt.trim().trim_end_matches(':').to_owned();
    let body = match &credential.challenge {
        Some(challenge) if !challenge.is_empty() => format!("{prompt}\n{challenge}"),
        _ => prompt.clone(),
    };
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
            can_remember: false,
        },
    }
}
