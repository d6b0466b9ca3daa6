//! The Overview page: hypervisor, processors and memory of the host, and the
//! virtualization check of this computer.

use super::{off_main, text};
use crate::host::kvm::{self, Outcome};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::error::describe;
use crate::libvirt::worker::format_version;
use crate::libvirt::ConnectionName;
use crate::ui::details::property_row;
use crate::ui::domain::format_memory;
use adw::prelude::*;
use gtk::glib;
use virt::connect::Connect;

/// What libvirt says about the host.
struct Facts {
    hostname: String,
    hypervisor: String,
    libvirt: String,
    cpu_model: String,
    cpus: u32,
    sockets: u32,
    cores: u32,
    threads: u32,
    memory_kib: u64,
}

/// Asks libvirt about the host over a connection of its own. Blocks.
fn read_facts(uri: &str, local: bool) -> Result<Facts, String> {
    let conn = Connect::open(Some(uri)).map_err(|e| describe(&e))?;
    let info = conn.node_info().map_err(|e| describe(&e))?;
    let driver = conn.driver_type().unwrap_or_default();
    let hyp = conn.hyp_version().map(format_version).unwrap_or_default();
    let caps = conn.capabilities().unwrap_or_default();
    let cpu_model = local
        .then(local_cpu_model)
        .flatten()
        .or_else(|| capabilities_cpu(&caps))
        .unwrap_or_else(|| info.model.clone());
    Ok(Facts {
        hostname: conn.hostname().unwrap_or_default(),
        hypervisor: format!("{driver} {hyp}").trim().to_owned(),
        libvirt: conn.lib_version().map(format_version).unwrap_or_default(),
        cpu_model,
        cpus: info.cpus,
        sockets: info.sockets * info.nodes.max(1),
        cores: info.cores,
        threads: info.threads,
        memory_kib: info.memory,
    })
}

/// The processor's marketing name from `/proc/cpuinfo`.
fn local_cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// "AMD kvm64-v1" from the host CPU of libvirt's capabilities.
fn capabilities_cpu(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let cpu = doc
        .descendants()
        .find(|n| n.has_tag_name("cpu") && n.parent().is_some_and(|p| p.has_tag_name("host")))?;
    let child = |name: &str| {
        cpu.children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
    };
    let words: Vec<&str> = [child("vendor"), child("model")]
        .into_iter()
        .flatten()
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

pub(super) fn page(uri: &str, title: &str) -> adw::PreferencesPage {
    let page = adw::PreferencesPage::builder()
        .title(gettext("Overview"))
        .icon_name("computer-symbolic")
        .build();
    let host = adw::PreferencesGroup::builder()
        .title(glib::markup_escape_text(title))
        .description(glib::markup_escape_text(uri))
        .build();
    let loading = property_row(&gettext("Host"), &gettext("Loading…"));
    host.add(&loading);
    page.add(&host);
    page.add(&check_group(uri));

    let remote = ConnectionName::parse(uri).is_remote();
    let owned = uri.to_owned();
    glib::spawn_future_local(glib::clone!(
        #[weak]
        host,
        async move {
            let facts = off_main(move || read_facts(&owned, !remote)).await;
            host.remove(&loading);
            for row in facts_rows(facts) {
                host.add(&row);
            }
        }
    ));
    page
}

/// The rows of the facts, or of why they are missing.
fn facts_rows(facts: Option<Result<Facts, String>>) -> Vec<adw::ActionRow> {
    let facts = facts.unwrap_or_else(|| Err(gettext("The host could not be read.")));
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

#[cfg(test)]
mod tests {
    use super::capabilities_cpu;

    #[test]
    fn the_host_cpu_comes_from_the_capabilities() {
        let xml = "<capabilities><host><cpu><arch>x86_64</arch><model>kvm64-v1</model><vendor>AMD</vendor></cpu></host><guest><cpu><model>no</model></cpu></guest></capabilities>";
        assert_eq!(capabilities_cpu(xml).as_deref(), Some("AMD kvm64-v1"));
        assert_eq!(capabilities_cpu("<capabilities/>"), None);
    }
}
