//! `VdHostLoadHistory`: the recent CPU and memory use of a connection's host, kept from the
//! worker's [`HostLoad`] samples (taken at the statistics tick, so nothing is sampled while
//! statistics are off), with the memory of the running machines in words. Graphs follow
//! its `samples` property as they follow a machine's.

use crate::i18n::{gettext_f, ngettext};
use crate::ui::backend::{HostLoad, StatsHistory};
use crate::ui::domain::format_memory;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::HostLoadHistory)]
    pub struct HostLoadHistory {
        /// Counts the samples taken in; notified once per sample.
        #[property(get)]
        pub samples: Cell<u64>,
        /// The host's memory, KiB (0 while unknown).
        #[property(get)]
        pub memory_total: Cell<u64>,
        /// The memory of the running machines against the host's, in words.
        #[property(get)]
        pub committed: RefCell<String>,
        pub history: RefCell<StatsHistory>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostLoadHistory {
        const NAME: &'static str = "VdHostLoadHistory";
        type Type = super::HostLoadHistory;
    }

    #[glib::derived_properties]
    impl ObjectImpl for HostLoadHistory {}
}

glib::wrapper! {
    pub struct HostLoadHistory(ObjectSubclass<imp::HostLoadHistory>);
}

impl Default for HostLoadHistory {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl HostLoadHistory {
    /// Takes in one sample of the host.
    pub fn push(&self, load: &HostLoad) {
        let imp = self.imp();
        imp.history.borrow_mut().push_host(load);
        let total = load.memory.map_or(0, |m| m.total_kib);
        if imp.memory_total.replace(total) != total {
            self.notify_memory_total();
        }
        let committed = committed(load);
        if *imp.committed.borrow() != committed {
            imp.committed.replace(committed);
            self.notify_committed();
        }
        imp.samples.set(imp.samples.get().wrapping_add(1));
        self.notify_samples();
    }

    /// Forgets the samples (the connection was lost: a new one starts a new graph).
    pub fn clear(&self) {
        let imp = self.imp();
        if imp.history.borrow().is_empty() {
            return;
        }
        imp.history.borrow_mut().clear();
        imp.samples.set(imp.samples.get().wrapping_add(1));
        self.notify_samples();
    }

    /// The recent samples, oldest first: CPU use and memory in use.
    pub fn history(&self) -> std::cell::Ref<'_, StatsHistory> {
        self.imp().history.borrow()
    }
}

/// "1.5 GiB of 7.8 GiB (19 %) for 2 running machines".
fn committed(load: &HostLoad) -> String {
    let machines = ngettext("{n} running machine", "{n} running machines", load.running)
        .replace("{n}", &load.running.to_string());
    let committed = format_memory(load.committed_kib);
    match load.memory.filter(|m| m.total_kib > 0) {
        Some(memory) => gettext_f(
            // Translators: memory given to virtual machines; {committed} and {total} are
            // sizes like "1.5 GiB", {share} a percentage, {machines} "2 running machines".
            "{committed} of {total} ({share} %) for {machines}",
            &[
                ("committed", &committed),
                ("total", &format_memory(memory.total_kib)),
                (
                    "share",
                    &format!(
                        "{:.0}",
                        load.committed_kib as f64 / memory.total_kib as f64 * 100.0
                    ),
                ),
                ("machines", &machines),
            ],
        ),
        None => gettext_f(
            // Translators: {committed} is a size like "1.5 GiB", {machines} "2 running machines".
            "{committed} for {machines}",
            &[("committed", &committed), ("machines", &machines)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::backend::MemoryUse;

    #[test]
    fn committed_memory_reads_against_the_host_s() {
        let load = HostLoad {
            cpu_percent: None,
            memory: Some(MemoryUse {
                total_kib: 8 * 1024 * 1024,
                used_kib: 0,
            }),
            committed_kib: 1536 * 1024,
            running: 2,
        };
        assert_eq!(
            committed(&load),
            "1.5 GiB of 8 GiB (19 %) for 2 running machines"
        );
        let unknown = HostLoad {
            memory: None,
            committed_kib: 512 * 1024,
            running: 1,
            ..load
        };
        assert_eq!(committed(&unknown), "512 MiB for 1 running machine");
    }
}
