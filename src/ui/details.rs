//! The details of the selected virtual machine: state, OS, processors, memory, disks,
//! network interfaces and display, with the power actions.

use crate::i18n::{gettext, gettext_f};
use crate::libvirt::domain::DiskDevice;
use crate::libvirt::DomainInfo;
use crate::ui::domain::{format_memory, state_label};
use crate::ui::Domain;
use adw::prelude::*;
use gtk::glib;
use gtk::subclass::prelude::*;

mod imp {
    use super::*;
    use std::cell::{OnceCell, RefCell};

    #[derive(Default)]
    pub struct DomainDetails {
        pub domain: RefCell<Option<(Domain, glib::SignalHandlerId)>>,
        pub content: OnceCell<gtk::Box>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainDetails {
        const NAME: &'static str = "VdDomainDetails";
        type Type = super::DomainDetails;
        type ParentType = gtk::Box;
    }

    impl ObjectImpl for DomainDetails {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_orientation(gtk::Orientation::Vertical);
            let content = gtk::Box::builder()
                .orientation(gtk::Orientation::Vertical)
                .spacing(18)
                .margin_top(18)
                .margin_bottom(18)
                .margin_start(18)
                .margin_end(18)
                .build();
            let scroller = gtk::ScrolledWindow::builder()
                .hscrollbar_policy(gtk::PolicyType::Never)
                .vexpand(true)
                .child(&content)
                .build();
            obj.append(&scroller);
            let _ = self.content.set(content);
            obj.show_domain(None);
        }
    }

    impl WidgetImpl for DomainDetails {}
    impl BoxImpl for DomainDetails {}
}

glib::wrapper! {
    pub struct DomainDetails(ObjectSubclass<imp::DomainDetails>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl Default for DomainDetails {
    fn default() -> Self {
        glib::Object::new()
    }
}

/// A row of a details group: a title and its value, selectable for copying.
pub(crate) fn property_row(title: &str, value: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(glib::markup_escape_text(title))
        .subtitle(glib::markup_escape_text(value))
        .build();
    row.add_css_class("property");
    row
}

fn group(title: &str, rows: Vec<adw::ActionRow>) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::builder().title(title).build();
    for row in &rows {
        group.add(row);
    }
    group
}

/// "Ubuntu 22.04" from libosinfo's `http://ubuntu.com/ubuntu/22.04`.
pub fn os_name(os_id: &str) -> String {
    let mut parts = os_id.trim_end_matches('/').rsplit('/');
    let version = parts.next().unwrap_or_default();
    match parts.next() {
        Some(family) if !family.contains('.') && !family.is_empty() => {
            let mut chars = family.chars();
            let family: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            format!("{family} {version}")
        }
        _ => version.to_owned(),
    }
}

impl DomainDetails {
    /// Shows `domain`, following its changes, or a hint when nothing is selected.
    pub fn show_domain(&self, domain: Option<&Domain>) {
        let imp = self.imp();
        if let Some((old, handler)) = imp.domain.take() {
            old.disconnect(handler);
        }
        if let Some(domain) = domain {
            let handler = domain.connect_revision_notify(glib::clone!(
                #[weak(rename_to = details)]
                self,
                move |domain| details.render(Some(domain))
            ));
            imp.domain.replace(Some((domain.clone(), handler)));
        }
        self.render(domain);
    }

    fn render(&self, domain: Option<&Domain>) {
        let content = self.imp().content.get().expect("constructed");
        while let Some(child) = content.first_child() {
            content.remove(&child);
        }
        let Some(domain) = domain else {
            let empty = adw::StatusPage::builder()
                .icon_name("computer-symbolic")
                .title(gettext("No Virtual Machine Selected"))
                .description(gettext("Select a virtual machine to see its details."))
                .vexpand(true)
                .build();
            empty.add_css_class("compact");
            content.append(&empty);
            return;
        };
        let info = domain.info();
        let title = gtk::Label::builder()
            .label(&info.name)
            .xalign(0.0)
            .wrap(true)
            .selectable(true)
            .css_classes(["title-2"])
            .build();
        content.append(&title);
        content.append(&actions_bar());
        content.append(&group(&gettext("Overview"), overview_rows(domain, &info)));
        content.append(&group(&gettext("Disks"), disk_rows(&info)));
        content.append(&group(&gettext("Network Interfaces"), nic_rows(&info)));
        content.append(&group(&gettext("Display"), display_rows(&info)));
    }
}

fn actions_bar() -> gtk::FlowBox {
    let bar = gtk::FlowBox::builder()
        .selection_mode(gtk::SelectionMode::None)
        .column_spacing(6)
        .row_spacing(6)
        .max_children_per_line(4)
        .build();
    let buttons = [
        (
            "computer-symbolic",
            gettext("Console"),
            "win.domain-console",
        ),
        (
            "media-playback-start-symbolic",
            gettext("Start"),
            "win.domain-start",
        ),
        (
            "system-shutdown-symbolic",
            gettext("Shut Down"),
            "win.domain-shutdown",
        ),
        (
            "view-refresh-symbolic",
            gettext("Reboot"),
            "win.domain-reboot",
        ),
        (
            "media-playback-pause-symbolic",
            gettext("Pause"),
            "win.domain-pause",
        ),
        (
            "media-playback-start-symbolic",
            gettext("Resume"),
            "win.domain-resume",
        ),
        (
            "process-stop-symbolic",
            gettext("Force Off"),
            "win.domain-force-off",
        ),
        (
            "user-trash-symbolic",
            gettext("Delete"),
            "win.domain-delete",
        ),
    ];
    for (icon, label, action) in buttons {
        // Icon and words: the words are also what screen readers say.
        let button = gtk::Button::builder()
            .child(
                &adw::ButtonContent::builder()
                    .icon_name(icon)
                    .label(&label)
                    .build(),
            )
            .action_name(action)
            .build();
        bar.insert(&button, -1);
    }
    bar
}

fn overview_rows(domain: &Domain, info: &DomainInfo) -> Vec<adw::ActionRow> {
    let mut rows = vec![property_row(&gettext("State"), &state_label(info.state))];
    if let Some(os) = &info.os_id {
        rows.push(property_row(&gettext("Operating system"), &os_name(os)));
    }
    rows.push(property_row(&gettext("vCPUs"), &info.vcpus.to_string()));
    rows.push(property_row(
        &gettext("Memory"),
        &format_memory(info.memory_kib),
    ));
    if let Some(stats) = domain.stats() {
        rows.push(property_row(
            &gettext("CPU usage"),
            &format!("{:.1} %", stats.cpu_percent),
        ));
    }
    rows
}

fn disk_rows(info: &DomainInfo) -> Vec<adw::ActionRow> {
    if info.disks.is_empty() {
        return vec![property_row(&gettext("Disks"), &gettext("None"))];
    }
    info.disks
        .iter()
        .map(|disk| {
            let kind = match disk.device {
                DiskDevice::Cdrom => gettext("CD/DVD"),
                DiskDevice::Floppy => gettext("Floppy"),
                _ => gettext("Disk"),
            };
            let mut value = disk
                .source_path()
                .map(str::to_owned)
                .unwrap_or_else(|| gettext("No media"));
            if let Some(size) = disk.size_bytes {
                value = format!("{value} ({})", format_memory(size / 1024));
            }
            property_row(&format!("{kind} {}", disk.target), &value)
        })
        .collect()
}

fn nic_rows(info: &DomainInfo) -> Vec<adw::ActionRow> {
    if info.nics.is_empty() {
        return vec![property_row(&gettext("Network"), &gettext("None"))];
    }
    info.nics
        .iter()
        .map(|nic| {
            let source = nic.source.as_deref().unwrap_or("");
            let title = match nic.kind.as_str() {
                "bridge" => gettext_f("Bridge {name}", &[("name", source)]),
                "network" => gettext_f("Virtual network {name}", &[("name", source)]),
                "direct" => gettext_f("Macvtap on {name}", &[("name", source)]),
                "user" => gettext("User-mode networking"),
                other => other.to_owned(),
            };
            let details: Vec<&str> = [nic.mac.as_deref(), nic.model.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            property_row(&title, &details.join(" · "))
        })
        .collect()
}

fn display_rows(info: &DomainInfo) -> Vec<adw::ActionRow> {
    if info.graphics.is_empty() {
        return vec![property_row(&gettext("Display"), &gettext("None"))];
    }
    info.graphics
        .iter()
        .map(|g| {
            let listen = g.listen.as_deref().unwrap_or("127.0.0.1");
            let value = match g.port {
                Some(port) => format!("{listen}:{port}"),
                None => gettext_f(
                    // Translators: {address} is a listen address such as 127.0.0.1.
                    "{address}, port chosen at start",
                    &[("address", listen)],
                ),
            };
            property_row(&g.kind.to_uppercase(), &value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::os_name;

    #[test]
    fn os_names_come_from_libosinfo_ids() {
        assert_eq!(os_name("http://ubuntu.com/ubuntu/22.04"), "Ubuntu 22.04");
        assert_eq!(os_name("http://debian.org/debian/12"), "Debian 12");
        assert_eq!(os_name("http://libosinfo.org/linux/2022"), "Linux 2022");
    }
}
