//! What the Overview page shows, as objects its template binds to: the facts libvirt gives
//! about the host, and the items of the virtualization check.

use crate::host::kvm::Outcome;
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{HostInfo, PoolUse};
use crate::ui::domain::format_memory;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, RefCell};

mod facts {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::HostFacts)]
    pub struct HostFacts {
        #[property(get, construct_only)]
        hostname: RefCell<String>,
        /// "QEMU 7.2.0"
        #[property(get, construct_only)]
        hypervisor: RefCell<String>,
        #[property(get, construct_only)]
        libvirt: RefCell<String>,
        /// The processor's model.
        #[property(get, construct_only)]
        processor: RefCell<String>,
        /// "4 (1 × 2 cores × 2 threads)"
        #[property(get, construct_only)]
        processors: RefCell<String>,
        /// "15.6 GiB"
        #[property(get, construct_only)]
        memory: RefCell<String>,
        /// "3.1 GiB of 15.6 GiB", empty when libvirt does not tell.
        #[property(get, construct_only)]
        memory_use: RefCell<String>,
        /// What the running machines have of the host's memory.
        #[property(get, construct_only)]
        committed: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostFacts {
        const NAME: &'static str = "VdHostFacts";
        type Type = super::HostFacts;
    }

    #[glib::derived_properties]
    impl ObjectImpl for HostFacts {}
}

mod check {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::HostCheck)]
    pub struct HostCheck {
        /// What is checked.
        #[property(get, construct_only)]
        title: RefCell<String>,
        #[property(get, construct_only)]
        passed: Cell<bool>,
        /// What was found, or what is wrong and how to fix it.
        #[property(get, construct_only)]
        detail: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostCheck {
        const NAME: &'static str = "VdHostCheck";
        type Type = super::HostCheck;
    }

    #[glib::derived_properties]
    impl ObjectImpl for HostCheck {}
}

glib::wrapper! {
    /// What libvirt says about the host, in words.
    pub struct HostFacts(ObjectSubclass<facts::HostFacts>);
}

glib::wrapper! {
    /// One item of the virtualization check and its outcome.
    pub struct HostCheck(ObjectSubclass<check::HostCheck>);
}

impl HostFacts {
    pub(super) fn new(f: &HostInfo) -> Self {
        let processors = gettext_f(
            // Translators: the number of logical processors and how they are made up.
            "{cpus} ({sockets} × {cores} cores × {threads} threads)",
            &[
                ("cpus", &f.cpus.to_string()),
                ("sockets", &f.sockets.to_string()),
                ("cores", &f.cores.to_string()),
                ("threads", &f.threads.to_string()),
            ],
        );
        glib::Object::builder()
            .property("hostname", &f.hostname)
            .property("hypervisor", &f.hypervisor)
            .property("libvirt", &f.libvirt)
            .property("processor", &f.cpu_model)
            .property("processors", processors)
            .property("memory", format_memory(f.memory_kib))
            .property("memory-use", memory_use(f))
            .property("committed", committed(f))
            .build()
    }
}

/// The host's memory in use: "3.1 GiB of 15.6 GiB"; empty when libvirt does not tell.
pub(super) fn memory_use(f: &HostInfo) -> String {
    let Some(free) = f.free_memory_kib else {
        return String::new();
    };
    gettext_f(
        // Translators: memory in use; {used} and {total} are sizes like "512 MiB".
        "{used} of {total}",
        &[
            ("used", &format_memory(f.memory_kib.saturating_sub(free))),
            ("total", &format_memory(f.memory_kib)),
        ],
    )
}

/// The memory of the running machines against the host's: "6 GiB of 15.6 GiB (38 %) ·
/// 3 running".
pub(super) fn committed(f: &HostInfo) -> String {
    let percent = if f.memory_kib > 0 {
        (f.committed_kib as f64 / f.memory_kib as f64 * 100.0).round()
    } else {
        0.0
    };
    gettext_f(
        // Translators: memory given to running machines against the host's; {count} is how
        // many machines run.
        "{committed} of {total} ({percent} %) · {count} running",
        &[
            ("committed", &format_memory(f.committed_kib)),
            ("total", &format_memory(f.memory_kib)),
            ("percent", &percent.to_string()),
            ("count", &f.running.to_string()),
        ],
    )
}

/// A storage pool's line: its name, and how full it is.
pub(super) fn pool_line(pool: &PoolUse) -> (String, String) {
    let size = |bytes: u64| glib::format_size(bytes).to_string();
    let value = if pool.active {
        gettext_f(
            // Translators: a storage pool's use; {used}, {capacity} and {free} are sizes.
            "{used} used of {capacity} · {free} free",
            &[
                ("used", &size(pool.allocation_bytes)),
                ("capacity", &size(pool.capacity_bytes)),
                ("free", &size(pool.available_bytes)),
            ],
        )
    } else {
        gettext("Not running")
    };
    (pool.name.clone(), value)
}

impl HostCheck {
    pub(super) fn new(title: &str, outcome: &Outcome) -> Self {
        let (passed, detail) = match outcome {
            Outcome::Pass { detail } => (true, detail.clone()),
            Outcome::Fail { problem, fix } => (
                false,
                gettext_f(
                    // Translators: {problem} says what is wrong, {fix} what to do about it.
                    "{problem}\nFix: {fix}",
                    &[("problem", problem), ("fix", fix)],
                ),
            ),
        };
        glib::Object::builder()
            .property("title", title)
            .property("passed", passed)
            .property("detail", detail)
            .build()
    }

    /// Its row in the check's list: the item, what was found, and ✓ or ✗ before it.
    pub(super) fn row(&self) -> gtk::Widget {
        let row = adw::ActionRow::builder()
            .title(glib::markup_escape_text(&self.title()))
            .subtitle(glib::markup_escape_text(&self.detail()))
            .build();
        let (mark, class) = if self.passed() {
            ("✓", "success")
        } else {
            ("✗", "error")
        };
        let mark = gtk::Label::builder()
            .label(mark)
            .css_classes([class, "title-3"])
            .build();
        row.add_prefix(&mark);
        row.upcast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostInfo {
        HostInfo {
            hostname: "h".into(),
            hypervisor: String::new(),
            libvirt: String::new(),
            cpu_model: String::new(),
            cpus: 4,
            sockets: 1,
            cores: 2,
            threads: 2,
            memory_kib: 16 * 1024 * 1024,
            free_memory_kib: Some(12 * 1024 * 1024),
            committed_kib: 6 * 1024 * 1024,
            running: 3,
            pools: Vec::new(),
        }
    }

    #[test]
    fn memory_reads_against_the_host_s_total() {
        assert_eq!(memory_use(&host()), "4 GiB of 16 GiB");
        assert_eq!(committed(&host()), "6 GiB of 16 GiB (38 %) · 3 running");
        let unknown = HostInfo {
            free_memory_kib: None,
            memory_kib: 0,
            ..host()
        };
        assert_eq!(memory_use(&unknown), "");
        assert!(committed(&unknown).contains("(0 %)"));
    }

    #[test]
    fn a_pool_says_how_full_it_is() {
        let mut pool = PoolUse {
            name: "default".into(),
            active: true,
            capacity_bytes: 100_000_000_000,
            allocation_bytes: 25_000_000_000,
            available_bytes: 75_000_000_000,
        };
        let (name, value) = pool_line(&pool);
        assert_eq!(name, "default");
        assert_eq!(
            value.replace('\u{a0}', " "),
            "25.0 GB used of 100.0 GB · 75.0 GB free"
        );
        pool.active = false;
        assert_eq!(pool_line(&pool).1, "Not running");
    }
}
