//! From the pages' controls to a [`VmSpec`], and what is wrong with it, page by page.

use super::problems::{problem_text, warning_text};
use super::{Wizard, PAGES};
use crate::i18n::{gettext, gettext_f};
use crate::spec::{DiskFormat, Firmware, Network, SpecField, Storage, VmSpec};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

/// The page where a problem with `field` is fixed.
fn page_of(field: SpecField) -> usize {
    match field {
        SpecField::InstallMedia => 0,
        SpecField::Memory | SpecField::Vcpus => 2,
        SpecField::Storage => 3,
        SpecField::Network => 4,
        SpecField::Name | SpecField::Firmware => 5,
    }
}

/// What stands in the way, in words.
#[derive(Default)]
pub(super) struct Review {
    /// (page, sentence)
    pub problems: Vec<(usize, String)>,
    pub warnings: Vec<String>,
    /// Something is still being read; nothing can go on until it is there.
    pub waiting: Option<String>,
}

/// A whole number typed into `entry`, or the sentence saying it is none.
fn number<T: std::str::FromStr>(entry: &gtk::Entry, what: &str) -> Result<T, String> {
    let text = entry.text();
    text.trim().parse().map_err(|_| {
        gettext_f(
            // Translators: {what} is e.g. "The memory"; {text} what the user typed.
            "{what} must be a whole number, not “{text}”.",
            &[("what", what), ("text", text.as_str())],
        )
    })
}

impl Wizard {
    /// The spec the pages describe, with the problems the controls themselves find
    /// (numbers that are no numbers) and those [`VmSpec::validate`] finds.
    pub(super) fn review(&self) -> (Option<VmSpec>, Review) {
        let imp = self.imp();
        let mut review = Review::default();
        let Some(connection) = self.connection() else {
            review.problems.push((0, gettext("Choose a connection.")));
            return (None, review);
        };
        let facts = imp.facts.borrow();
        let facts = match &*facts {
            None => {
                review.waiting = Some(gettext("Reading the host’s resources…"));
                return (None, review);
            }
            Some(Err(reason)) => {
                review.problems.push((
                    0,
                    gettext_f(
                        // Translators: {reason} is libvirt's explanation.
                        "The host of this connection could not be read: {reason}",
                        &[("reason", reason)],
                    ),
                ));
                return (None, review);
            }
            Some(Ok(facts)) => facts,
        };
        let (Some(os), Some(domain_type)) = (self.os_choice(), imp.domain_type.get()) else {
            review.waiting = Some(gettext("Reading the operating system database…"));
            return (None, review);
        };
        let mut parsed = |page: usize, entry: &gtk::Entry, what: String| -> u64 {
            number(entry, &what).unwrap_or_else(|problem| {
                review.problems.push((page, problem));
                1
            })
        };
        let memory_mib = parsed(2, &imp.memory_entry, gettext("The memory"));
        let vcpus = parsed(2, &imp.vcpus_entry, gettext("The number of virtual CPUs"));
        let storage = if imp.new_disk_radio.is_active() {
            Storage::NewVolume {
                pool: self.pool(),
                size_gib: parsed(3, &imp.disk_size_entry, gettext("The disk size")),
            }
        } else if imp.existing_disk_radio.is_active() {
            let path = imp.existing_entry.text().trim().to_owned();
            let format = DiskFormat::probe(std::path::Path::new(&path)).unwrap_or(DiskFormat::Raw);
            Storage::Existing { path, format }
        } else {
            Storage::None
        };
        let spec = VmSpec {
            uri: connection.uri(),
            name: imp.name_entry.text().to_string(),
            domain_type,
            install: self.install_method(),
            os,
            memory_mib,
            vcpus: u32::try_from(vcpus).unwrap_or(u32::MAX),
            storage,
            network: self.network(),
            firmware: if imp.uefi_radio.is_active() {
                Firmware::Uefi
            } else {
                Firmware::Bios
            },
            start_after: imp.start_switch.is_active(),
        };
        let mut problems = spec.validate(facts).err().unwrap_or_default();
        // The live list knows of machines made since the host was read.
        if !facts.existing_names.contains(&spec.name)
            && connection.domain_by_name(&spec.name).is_some()
        {
            problems.push(crate::spec::SpecProblem::NameTaken(spec.name.clone()));
        }
        review.problems.extend(
            problems
                .iter()
                .map(|p| (page_of(p.field()), problem_text(p))),
        );
        review.warnings = spec.warnings(facts).iter().map(warning_text).collect();
        (Some(spec), review)
    }

    /// The chosen storage pool's name.
    fn pool(&self) -> String {
        self.imp()
            .pool_row
            .selected_item()
            .and_downcast::<gtk::StringObject>()
            .map(|s| s.string().to_string())
            .unwrap_or_default()
    }

    /// The chosen network; an empty bridge name when none is.
    pub(super) fn network(&self) -> Network {
        self.imp()
            .network_choices
            .borrow()
            .iter()
            .find(|(radio, _)| radio.is_active())
            .map(|(_, network)| network.clone())
            .unwrap_or(Network::Bridge {
                name: String::new(),
            })
    }

    /// Shows what is wrong with the visible page and allows Forward (or Finish) only when
    /// nothing is. The summary page shows every problem. Returns whether the page is fine.
    pub(super) fn check_page(&self) -> bool {
        let imp = self.imp();
        let page = self.page();
        let (_, review) = self.review();
        let summary = page == PAGES.len() - 1;
        let mine: Vec<&str> = review
            .problems
            .iter()
            .filter(|(p, _)| *p == page || summary)
            .map(|(_, text)| text.as_str())
            .collect();
        let fine = mine.is_empty() && review.waiting.is_none() && !imp.busy.get();
        let mut shown: Vec<&str> = mine.clone();
        if let Some(waiting) = &review.waiting {
            shown.push(waiting);
        }
        let labels = [
            &*imp.source_problems,
            &*imp.os_problems,
            &*imp.resources_problems,
            &*imp.storage_problems,
            &*imp.network_problems,
            &*imp.summary_problems,
        ];
        set_text(labels[page], &shown.join("\n"));
        set_text(&imp.resources_warning, &review.warnings.join("\n"));
        imp.forward_button.set_sensitive(fine);
        imp.finish_button.set_sensitive(fine);
        fine
    }

    /// Fills the summary's review of every choice.
    pub(super) fn update_review(&self) {
        let imp = self.imp();
        if imp.name_entry.text().is_empty() {
            imp.name_entry.set_text(&self.default_name());
        }
        let (spec, _) = self.review();
        let Some(spec) = spec else {
            set_text(&imp.review_label, "");
            return;
        };
        let lines = [
            (
                gettext("Connection"),
                self.connection().map(|c| c.title()).unwrap_or_default(),
            ),
            (
                gettext("Acceleration"),
                super::choices::virtualization_text(spec.domain_type),
            ),
            (
                gettext("Installation"),
                super::choices::install_text(&spec.install),
            ),
            (
                gettext("Operating system"),
                super::choices::os_display_name(&spec.os.name),
            ),
            (gettext("Memory"), format!("{} MiB", spec.memory_mib)),
            (gettext("Virtual CPUs"), spec.vcpus.to_string()),
            (
                gettext("Storage"),
                super::choices::storage_text(&spec.storage),
            ),
            (
                gettext("Network"),
                super::choices::network_text(&spec.network),
            ),
        ];
        let text: Vec<String> = lines
            .iter()
            .map(|(key, value)| {
                gettext_f(
                    // Translators: one line of the summary, e.g. "Memory: 2048 MiB".
                    "{key}: {value}",
                    &[("key", key), ("value", value)],
                )
            })
            .collect();
        set_text(&imp.review_label, &text.join("\n"));
    }

    /// The OS's short name (or "vm"), made unique on the connection.
    fn default_name(&self) -> String {
        let base = self
            .imp()
            .os
            .borrow()
            .as_ref()
            .map(|os| os.short_id.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "vm".to_owned());
        let taken = |name: &str| {
            self.connection()
                .is_some_and(|c| c.domain_by_name(name).is_some())
        };
        (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|name| !taken(name))
            .unwrap_or(base)
    }

    /// Re-checks the page whenever any control changes.
    pub(super) fn connect_inputs(&self) {
        let imp = self.imp();
        let check = glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move || {
                wizard.check_page();
            }
        );
        for entry in [
            &*imp.media_entry,
            &*imp.memory_entry,
            &*imp.vcpus_entry,
            &*imp.disk_size_entry,
            &*imp.existing_entry,
            &*imp.name_entry,
        ] {
            let check = check.clone();
            entry.connect_changed(move |_| check());
        }
        for radio in [
            &*imp.new_disk_radio,
            &*imp.existing_disk_radio,
            &*imp.no_disk_radio,
        ] {
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                move |_| wizard.storage_changed()
            ));
        }
        for radio in [
            &*imp.iso_radio,
            &*imp.import_radio,
            &*imp.pxe_radio,
            &*imp.manual_radio,
        ] {
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                move |radio| {
                    if radio.is_active() {
                        wizard.install_changed();
                    }
                }
            ));
        }
        for radio in [&*imp.bios_radio, &*imp.uefi_radio] {
            let check = check.clone();
            radio.connect_toggled(move |_| check());
        }
        imp.start_switch.connect_active_notify(move |_| check());
        imp.pool_row.connect_selected_notify(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| {
                wizard.check_page();
            }
        ));
        self.connect_choosers();
        self.connect_bridge_helper();
        self.install_changed();
        self.storage_changed();
    }

    fn storage_changed(&self) {
        let imp = self.imp();
        imp.new_disk_group
            .set_visible(imp.new_disk_radio.is_active());
        imp.existing_group
            .set_visible(imp.existing_disk_radio.is_active());
        self.check_page();
    }

    /// Shows the path field the install method needs, and picks the storage that usually
    /// goes with it: an imported image is the disk.
    fn install_changed(&self) {
        let imp = self.imp();
        let kind = self.install_kind();
        let needs_file = matches!(kind, super::InstallKind::Iso | super::InstallKind::Import);
        imp.media_group.set_visible(needs_file);
        imp.volume_group
            .set_visible(kind == super::InstallKind::Iso);
        imp.media_group
            .set_title(&if kind == super::InstallKind::Import {
                gettext("Disk image file")
            } else {
                gettext("Installation image (ISO)")
            });
        if kind == super::InstallKind::Import {
            imp.no_disk_radio.set_active(true);
        } else {
            imp.new_disk_radio.set_active(true);
        }
        self.check_page();
    }
}

/// Sets a label's text and hides it when empty.
pub(super) fn set_text(label: &gtk::Label, text: &str) {
    label.set_label(text);
    label.set_visible(!text.is_empty());
}
