//! What the Overview page shows, as objects its template binds to: the facts libvirt gives
//! about the host, and the items of the virtualization check.

use crate::host::kvm::Outcome;
use crate::i18n::gettext_f;
use crate::ui::backend::HostInfo;
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
            .build()
    }
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
