//! The Overview page: hypervisor, processors and memory of the host, and the
//! virtualization check of this computer.

use super::{off_main, text};
use crate::host::kvm::{self, Outcome};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::{ConnectionName, HostInfo, Request};
use crate::ui::details::property_row;
use crate::ui::domain::format_memory;
use crate::ui::Connection;
use adw::prelude::*;
use gtk::glib;

pub(super) fn page(connection: &Connection) -> adw::PreferencesPage {
    let uri = connection.uri();
    let page = adw::PreferencesPage::builder()
        .title(gettext("Overview"))
        .icon_name("computer-symbolic")
        .build();
    let host = adw::PreferencesGroup::builder()
        .title(glib::markup_escape_text(&connection.title()))
        .description(glib::markup_escape_text(&uri))
        .build();
    let loading = property_row(&gettext("Host"), &gettext("Loading…"));
    host.add(&loading);
    page.add(&host);
    page.add(&check_group(&uri));

    let connection = connection.clone();
    glib::spawn_future_local(glib::clone!(
        #[weak]
        host,
        async move {
            let facts = connection
                .request(Request::HostInfo)
                .await
                .map_err(|e| e.to_string());
            host.remove(&loading);
            for row in facts_rows(facts) {
                host.add(&row);
            }
        }
    ));
    page
}

/// The rows of the facts, or of why they are missing.
fn facts_rows(facts: Result<HostInfo, String>) -> Vec<adw::ActionRow> {
    match facts {
        Ok(f) => vec![
            property_row(&gettext("Host name"), &f.hostname),
            property_row(&gettext("Hypervisor"), &f.hypervisor),
            property_row(&gettext("libvirt version"), &f.libvirt),
            property_row(&gettext("Processor"), &f.cpu_model),
            property_row(
                &gettext("Processors"),
                &gettext_f(
                    // Translators: the number of logical processors and how they are made up.
                    "{cpus} ({sockets} × {cores} cores × {threads} threads)",
                    &[
                        ("cpus", &f.cpus.to_string()),
                        ("sockets", &f.sockets.to_string()),
                        ("cores", &f.cores.to_string()),
                        ("threads", &f.threads.to_string()),
                    ],
                ),
            ),
            property_row(&gettext("Memory"), &format_memory(f.memory_kib)),
        ],
        Err(reason) => vec![property_row(
            &gettext("The host's details are not available"),
            &reason,
        )],
    }
}

/// The virtualization check of this computer, or why it does not apply.
fn check_group(uri: &str) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::builder()
        .title(gettext("Virtualization Check"))
        .build();
    if let Some(host) = ConnectionName::parse(uri).host {
        group.set_description(Some(&glib::markup_escape_text(&gettext_f(
            // Translators: {host} is the name of a remote computer.
            "This check looks at this computer only. “{host}” is a remote host, so it does not apply there.",
            &[("host", &host)],
        ))));
        return group;
    }
    group.set_description(Some(&gettext("Checking…")));
    glib::spawn_future_local(glib::clone!(
        #[weak]
        group,
        async move {
            let Some(report) = off_main(kvm::check).await else {
                return;
            };
            group.set_description(Some(&glib::markup_escape_text(&text::acceleration(
                report.acceleration,
            ))));
            for (item, outcome) in &report.items {
                group.add(&check_row(&text::kvm_item(*item), outcome));
            }
        }
    ));
    group
}

fn check_row(title: &str, outcome: &Outcome) -> adw::ActionRow {
    let (mark, class, subtitle) = match outcome {
        Outcome::Pass { detail } => ("✓", "success", detail.clone()),
        Outcome::Fail { problem, fix } => (
            "✗",
            "error",
            gettext_f(
                // Translators: {problem} says what is wrong, {fix} what to do about it.
                "{problem}\nFix: {fix}",
                &[("problem", problem), ("fix", fix)],
            ),
        ),
    };
    let row = adw::ActionRow::builder()
        .title(glib::markup_escape_text(title))
        .subtitle(glib::markup_escape_text(&subtitle))
        .build();
    let icon = gtk::Label::builder()
        .label(mark)
        .css_classes([class, "title-3"])
        .build();
    row.add_prefix(&icon);
    row
}
