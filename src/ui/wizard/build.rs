//! From the pages' choices to a [`VmSpec`], what is wrong with it, page by page, and the
//! summary's review of it.

use super::choices::virtualization_text;
use super::choices::{install_text, network_text, os_display_name, storage_text};
use super::page::Page;
use super::problems::{problem_text, warning_text};
use super::storage::StorageKind;
use super::Wizard;
use crate::i18n::{gettext, gettext_f};
use crate::spec::{DiskFormat, Firmware, SpecProblem, Storage, VmSpec};
use adw::prelude::*;
use adw::subclass::prelude::*;

/// What stands in the way, in words.
#[derive(Default)]
pub(super) struct Review {
    /// The page to fix each on, and the sentence.
    pub problems: Vec<(Page, String)>,
    pub warnings: Vec<String>,
    /// Something is still being read; nothing can go on until it is there.
    pub waiting: Option<String>,
}

impl Review {
    /// What `page` shows: its own problems (every one on the summary) and what is
    /// still being read.
    fn shown_on(&self, page: Page) -> String {
        let mut shown: Vec<&str> = self
            .problems
            .iter()
            .filter(|(p, _)| *p == page || page == Page::Summary)
            .map(|(_, text)| text.as_str())
            .collect();
        shown.extend(self.waiting.as_deref());
        shown.join("\n")
    }
}

/// A whole number typed into a field (`text`), or the sentence saying it is none.
fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| {
        gettext_f(
            // Translators: {what} is e.g. "The memory"; {text} what the user typed.
            "{what} must be a whole number, not “{text}”.",
            &[("what", what), ("text", text)],
        )
    })
}

impl Wizard {
    /// The spec the pages describe, with the problems the fields themselves show
    /// (numbers that are no numbers) and those [`VmSpec::validate`] finds.
    pub(super) fn review(&self) -> (Option<VmSpec>, Review) {
        let imp = self.imp();
        let mut review = Review::default();
        let Some(connection) = imp.source_page.connection() else {
            review
                .problems
                .push((Page::Source, gettext("Choose a connection.")));
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
                    Page::Source,
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
        let (Some(os), Some(domain_type)) = (imp.os_page.chosen(), imp.domain_type.get()) else {
            review.waiting = Some(gettext("Reading the operating system database…"));
            return (None, review);
        };
        let mut parsed = |page: Page, text: String, what: String| -> u64 {
            number(&text, &what).unwrap_or_else(|problem| {
                review.problems.push((page, problem));
                1
            })
        };
        let resources = &imp.resources_page;
        let memory_mib = parsed(Page::Resources, resources.memory(), gettext("The memory"));
        let vcpus = parsed(
            Page::Resources,
            resources.vcpus(),
            gettext("The number of virtual CPUs"),
        );
        let disk = &imp.storage_page;
        let storage = match disk.kind() {
            StorageKind::New => Storage::NewVolume {
                pool: disk.pool(),
                size_gib: parsed(Page::Storage, disk.disk_size(), gettext("The disk size")),
            },
            StorageKind::Existing => {
                let path = disk.existing_path().trim().to_owned();
                let format =
                    DiskFormat::probe(std::path::Path::new(&path)).unwrap_or(DiskFormat::Raw);
                Storage::Existing { path, format }
            }
            StorageKind::None => Storage::None,
        };
        let summary = &imp.summary_page;
        let spec = VmSpec {
            uri: connection.uri(),
            name: summary.vm_name(),
            domain_type,
            install: imp.source_page.install_method(),
            os: os.choice(),
            memory_mib,
            vcpus: u32::try_from(vcpus).unwrap_or(u32::MAX),
            storage,
            network: imp.network_page.chosen(),
            firmware: if summary.uefi() {
                Firmware::Uefi
            } else {
                Firmware::Bios
            },
            start_after: summary.start(),
        };
        let mut problems = spec.validate(facts).err().unwrap_or_default();
        // The live list knows of machines made since the host was read.
        if !facts.existing_names.contains(&spec.name)
            && connection.domain_by_name(&spec.name).is_some()
        {
            problems.push(SpecProblem::NameTaken(spec.name.clone()));
        }
        review.problems.extend(
            problems
                .iter()
                .map(|p| (Page::of_field(p.field()), problem_text(p))),
        );
        review.warnings = spec.warnings(facts).iter().map(warning_text).collect();
        (Some(spec), review)
    }

    /// Checks the choices again and gives each page its problems (which make it
    /// incomplete), the resources page its warnings and the summary its review. Returns
    /// the spec when nothing stands in the way of creating it.
    pub(super) fn show_review(&self) -> Option<VmSpec> {
        let imp = self.imp();
        let (spec, review) = self.review();
        for page in Page::ALL {
            page.widget(self).set_problems(review.shown_on(page));
        }
        imp.resources_page.set_warnings(review.warnings.join("\n"));
        imp.summary_page.set_review(
            spec.as_ref()
                .map(|spec| self.review_text(spec))
                .unwrap_or_default(),
        );
        set_text(&imp.summary_problems, "");
        spec.filter(|_| review.problems.is_empty())
    }

    /// Every choice, one a line.
    fn review_text(&self, spec: &VmSpec) -> String {
        let connection = self.imp().source_page.connection();
        let lines = [
            (
                gettext("Connection"),
                connection.map(|c| c.distinct_title()).unwrap_or_default(),
            ),
            (
                gettext("Acceleration"),
                virtualization_text(spec.domain_type),
            ),
            (gettext("Installation"), install_text(&spec.install)),
            (gettext("Operating system"), os_display_name(&spec.os.name)),
            (gettext("Memory"), format!("{} MiB", spec.memory_mib)),
            (gettext("Virtual CPUs"), spec.vcpus.to_string()),
            (gettext("Storage"), storage_text(&spec.storage)),
            (gettext("Network"), network_text(&spec.network)),
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
        text.join("\n")
    }

    /// The OS's short name (or "vm"), made unique on the connection.
    pub(super) fn default_name(&self) -> String {
        let imp = self.imp();
        let base = imp
            .os_page
            .chosen()
            .map(|os| os.short_id)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "vm".to_owned());
        let connection = imp.source_page.connection();
        let taken = |name: &str| {
            connection
                .as_ref()
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
}

/// Sets a label's text and hides it when empty.
pub(super) fn set_text(label: &gtk::Label, text: &str) {
    label.set_label(text);
    label.set_visible(!text.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_whole_numbers() {
        assert_eq!(number::<u64>(" 2048 ", "The memory"), Ok(2048));
        let refused = number::<u64>("2 GiB", "The memory").unwrap_err();
        assert!(refused.contains("“2 GiB”"), "{refused}");
        assert!(number::<u64>("-1", "The memory").is_err());
    }

    #[test]
    fn the_summary_shows_every_problem_and_a_page_its_own() {
        let review = Review {
            problems: vec![
                (Page::Resources, "memory".into()),
                (Page::Summary, "name".into()),
            ],
            warnings: Vec::new(),
            waiting: None,
        };
        assert_eq!(review.shown_on(Page::Resources), "memory");
        assert_eq!(review.shown_on(Page::Source), "");
        assert_eq!(review.shown_on(Page::Summary), "memory\nname");
        let waiting = Review {
            waiting: Some("reading".into()),
            ..Review::default()
        };
        assert_eq!(waiting.shown_on(Page::Os), "reading");
    }
}
