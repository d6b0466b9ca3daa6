//! An action on several selected machines at once (Start, Shut Down, Force Off, Delete):
//! one confirmation naming the machines that accept it (and those left alone), then the
//! action on each, on its own connection, and one dialog with each machine's result.

use super::{accepted, DomainAction};
use crate::i18n::{gettext, gettext_f, ngettext};
use crate::ui::InWords;
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/domain_action/batch_dialog.ui")]
    pub struct BatchDialog {}

    #[glib::object_subclass]
    impl ObjectSubclass for BatchDialog {
        const NAME: &'static str = "VdBatchDialog";
        type Type = super::BatchDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for BatchDialog {}
    impl WidgetImpl for BatchDialog {}
    impl WindowImpl for BatchDialog {}
    impl MessageDialogImpl for BatchDialog {}
}

glib::wrapper! {
    /// The question before an action on several machines.
    pub struct BatchDialog(ObjectSubclass<imp::BatchDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

/// One machine's result: its name, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub failure: Option<String>,
}

/// The confirmation's question, for `count` machines.
pub fn question(action: DomainAction, count: usize) -> String {
    let n = count as u32;
    let text = match action {
        DomainAction::Start => ngettext(
            "Start {n} virtual machine?",
            "Start {n} virtual machines?",
            n,
        ),
        DomainAction::Shutdown => ngettext(
            "Shut down {n} virtual machine?",
            "Shut down {n} virtual machines?",
            n,
        ),
        DomainAction::ForceOff => ngettext(
            "Force off {n} virtual machine?",
            "Force off {n} virtual machines?",
            n,
        ),
        DomainAction::Delete => ngettext(
            "Delete {n} virtual machine?",
            "Delete {n} virtual machines?",
            n,
        ),
        _ => return action.button_label(),
    };
    text.replace("{n}", &count.to_string())
}

/// The confirmation's text: the machines acted on, one a line, and those that do not
/// accept the action now (left alone).
pub fn confirmation_body(action: DomainAction, names: &[String], skipped: &[String]) -> String {
    let mut body = names.join("\n");
    if action == DomainAction::Delete {
        body.push_str("\n\n");
        body.push_str(&gettext(
            "Their disk images are kept; delete a machine on its own to remove its storage.",
        ));
    }
    if !skipped.is_empty() {
        body.push_str("\n\n");
        body.push_str(&gettext_f(
            // Translators: {names} is a list of virtual machines, comma-separated.
            "Left alone, as they cannot do this now: {names}",
            &[("names", &skipped.join(", "))],
        ));
    }
    body
}

/// The result's heading ("2 of 3 succeeded") and one line per machine.
pub fn summary(outcomes: &[Outcome]) -> (String, String) {
    let done = outcomes.iter().filter(|o| o.failure.is_none()).count();
    let heading = gettext_f(
        // Translators: {done} and {total} are numbers of virtual machines.
        "{done} of {total} succeeded",
        &[
            ("done", &done.to_string()),
            ("total", &outcomes.len().to_string()),
        ],
    );
    let lines: Vec<String> = outcomes
        .iter()
        .map(|o| match &o.failure {
            None => gettext_f(
                // Translators: {name} is a virtual machine the action succeeded on.
                "{name}: done",
                &[("name", &o.name)],
            ),
            Some(reason) => gettext_f(
                // Translators: {name} is a virtual machine, {reason} why the action failed.
                "{name}: failed — {reason}",
                &[("name", &o.name), ("reason", reason)],
            ),
        })
        .collect();
    (heading, lines.join("\n"))
}

/// Asks once whether to carry `action` out on the `targets` that accept it, then does.
pub fn confirm(widget: &gtk::Widget, action: DomainAction, targets: Vec<(Connection, Domain)>) {
    if !DomainAction::BATCH.contains(&action) {
        return;
    }
    let (chosen, skipped): (Vec<_>, Vec<_>) =
        targets.into_iter().partition(|(_, d)| accepted(action, d));
    if chosen.is_empty() {
        return;
    }
    let names: Vec<String> = chosen.iter().map(|(_, d)| d.name()).collect();
    let skipped: Vec<String> = skipped.iter().map(|(_, d)| d.name()).collect();
    let dialog: BatchDialog = glib::Object::builder()
        .property("heading", question(action, chosen.len()))
        .property("body", confirmation_body(action, &names, &skipped))
        .build();
    dialog.set_transient_for(widget.root().and_downcast_ref::<gtk::Window>());
    dialog.set_response_label("act", &action.button_label());
    if matches!(action, DomainAction::ForceOff | DomainAction::Delete) {
        dialog.set_response_appearance("act", adw::ResponseAppearance::Destructive);
    }
    let parent = widget.downgrade();
    dialog.connect_response(None, move |_, response| {
        if response != "act" {
            return;
        }
        if let Some(parent) = parent.upgrade() {
            let chosen = chosen.clone();
            glib::spawn_future_local(async move { run(&parent, action, chosen).await });
        }
    });
    dialog.present();
}

/// Carries `action` out on each machine (each connection's worker takes its machines in
/// turn, the hosts at the same time), then shows every result in the machines' order.
async fn run(widget: &gtk::Widget, action: DomainAction, chosen: Vec<(Connection, Domain)>) {
    let running: Vec<_> = chosen
        .into_iter()
        .filter_map(|(connection, domain)| {
            let command = action.batch_command(domain.uuid())?;
            let name = domain.name();
            Some(glib::spawn_future_local(async move {
                let failure = connection.run(command).await.err().map(|e| e.in_words());
                Outcome { name, failure }
            }))
        })
        .collect();
    let mut outcomes = Vec::with_capacity(running.len());
    for handle in running {
        if let Ok(outcome) = handle.await {
            outcomes.push(outcome);
        }
    }
    let (heading, body) = summary(&outcomes);
    crate::ui::util::error_dialog(widget, &heading, &body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_counts_the_machines() {
        assert_eq!(
            question(DomainAction::Start, 3),
            "Start 3 virtual machines?"
        );
        assert_eq!(
            question(DomainAction::ForceOff, 1),
            "Force off 1 virtual machine?"
        );
    }

    #[test]
    fn the_confirmation_names_the_machines_and_those_left_alone() {
        let body = confirmation_body(
            DomainAction::Start,
            &["a".into(), "b".into()],
            &["c".into()],
        );
        assert_eq!(body, "a\nb\n\nLeft alone, as they cannot do this now: c");
        let delete = confirmation_body(DomainAction::Delete, &["a".into()], &[]);
        assert!(delete.starts_with("a\n\nTheir disk images are kept"));
    }

    #[test]
    fn the_summary_says_which_succeeded_and_why_the_others_failed() {
        let outcomes = [
            Outcome {
                name: "a".into(),
                failure: None,
            },
            Outcome {
                name: "b".into(),
                failure: Some("no disk".into()),
            },
        ];
        let (heading, body) = summary(&outcomes);
        assert_eq!(heading, "1 of 2 succeeded");
        assert_eq!(body, "a: done\nb: failed — no disk");
    }
}
