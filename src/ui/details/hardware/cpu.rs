//! The Hardware page's processor section: the CPU model (the choices of the machine's
//! domain capabilities) and its topology, part of the page's form (Apply / Revert). A
//! topology that is not the maximum number of virtual CPUs says so under its fields.

use super::HardwarePage;
use crate::i18n::gettext;
use crate::i18n::gettext_f;
use crate::spec::edit::{CpuModel, DeviceChoices, DomainEdit, Hardware, Topology};
use crate::ui::backend::edit::EditRequest;
use crate::ui::backend::Request;
use crate::ui::Connection;
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties, Default)]
    #[properties(wrapper_type = super::CpuSection)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/cpu.ui")]
    pub struct CpuSection {
        #[template_child]
        pub model: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub model_names: TemplateChild<gtk::StringList>,
        #[template_child]
        pub sockets: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub cores: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub threads: TemplateChild<gtk::Adjustment>,
        /// The page's maximum number of virtual CPUs, which the topology must make.
        #[property(get, set = Self::set_max_vcpus)]
        pub max_vcpus: Cell<f64>,
        /// Why the topology is refused, in words; empty when it is fine.
        #[property(get)]
        pub topology_error: RefCell<String>,
        /// The models of the drop-down, in its order; `None` is the hypervisor's default.
        pub models: RefCell<Vec<Option<CpuModel>>>,
        /// What the hypervisor offers, for the machine `choices_for` (its UUID).
        pub choices: RefCell<DeviceChoices>,
        pub choices_for: RefCell<String>,
        /// The configuration the fields were filled from.
        pub loaded: RefCell<Option<Hardware>>,
        /// The topology fields were changed by hand since they were filled.
        pub touched: Cell<bool>,
        pub filling: Cell<bool>,
    }

    impl CpuSection {
        fn set_max_vcpus(&self, max: f64) {
            if self.max_vcpus.replace(max) == max {
                return;
            }
            let obj = self.obj();
            if !self.touched.get() {
                // As the vCPU edit does it: the topology follows the new maximum.
                let expected = obj.expected_topology();
                obj.set_topology_fields(expected);
            }
            obj.check_topology();
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CpuSection {
        const NAME: &'static str = "VdHardwareCpu";
        type Type = super::CpuSection;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CpuSection {}

    #[gtk::template_callbacks]
    impl CpuSection {
        #[template_callback]
        fn on_changed(&self) {
            if !self.filling.get() {
                super::form_changed(&*self.obj());
            }
        }

        #[template_callback]
        fn on_topology_changed(&self) {
            if self.filling.get() {
                return;
            }
            self.touched.set(true);
            let obj = self.obj();
            obj.check_topology();
            super::form_changed(&*obj);
        }

        #[template_callback(function)]
        fn not_empty(text: Option<String>) -> bool {
            text.is_some_and(|t| !t.is_empty())
        }
    }

    impl WidgetImpl for CpuSection {}
    impl BoxImpl for CpuSection {}
}

glib::wrapper! {
    pub struct CpuSection(ObjectSubclass<imp::CpuSection>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

/// Tells the page its form changed, unless the page is filling it.
pub(super) fn form_changed(section: &impl IsA<gtk::Widget>) {
    if let Some(page) = section
        .ancestor(HardwarePage::static_type())
        .and_downcast::<HardwarePage>()
    {
        if !page.imp().filling.get() {
            page.form_changed();
        }
    }
}

/// The machine's device choices, asked once per machine; `None` when they could not be
/// read (the page then offers what the machine has).
pub(super) async fn device_choices(connection: &Connection, uuid: &str) -> Option<DeviceChoices> {
    let uuid = uuid.to_owned();
    let answer = connection
        .request(|reply| Request::Edit(EditRequest::DeviceChoices { uuid, reply }))
        .await;
    answer
        .inspect_err(|error| tracing::info!(%error, "no domain capabilities"))
        .ok()
}

/// How the drop-down names a model.
fn model_name(model: Option<&CpuModel>) -> String {
    match model {
        None => gettext("Hypervisor Default"),
        Some(CpuModel::HostPassthrough) => gettext("Host Passthrough"),
        Some(CpuModel::HostModel) => gettext("Same as the Host (host-model)"),
        Some(CpuModel::Named(name)) => name.clone(),
    }
}

impl CpuSection {
    /// Shows `hw`'s processor; asks for the choices of machine `uuid` the first time.
    pub(super) fn fill(&self, hw: &Hardware, connection: Option<Connection>, uuid: String) {
        let imp = self.imp();
        imp.loaded.replace(Some(hw.clone()));
        imp.touched.set(false);
        self.fill_models();
        self.set_topology_fields(self.expected_topology());
        self.check_topology();
        if *imp.choices_for.borrow() == uuid {
            return;
        }
        imp.choices_for.replace(uuid.clone());
        imp.choices.replace(DeviceChoices::default());
        let Some(connection) = connection else {
            return;
        };
        let section = self.clone();
        glib::spawn_future_local(async move {
            let choices = device_choices(&connection, &uuid).await;
            if *section.imp().choices_for.borrow() != uuid {
                return;
            }
            if let Some(choices) = choices {
                section.imp().choices.replace(choices);
                let selected = section.selected_model();
                section.fill_models();
                section.select_model(selected.as_ref());
            }
        });
    }

    /// The drop-down holds the machine's model and the hypervisor's choices, the machine's
    /// model selected.
    fn fill_models(&self) {
        let imp = self.imp();
        let current = imp
            .loaded
            .borrow()
            .as_ref()
            .and_then(|hw| hw.cpu.model.clone());
        let mut models: Vec<Option<CpuModel>> = imp
            .choices
            .borrow()
            .cpu_models
            .iter()
            .cloned()
            .map(Some)
            .collect();
        if !models.contains(&current) {
            models.insert(0, current.clone());
        }
        let names: Vec<String> = models.iter().map(|m| model_name(m.as_ref())).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        imp.filling.set(true);
        imp.model_names.splice(0, imp.model_names.n_items(), &names);
        imp.models.replace(models);
        imp.filling.set(false);
        self.select_model(current.as_ref());
    }

    fn select_model(&self, model: Option<&CpuModel>) {
        let imp = self.imp();
        let position = imp
            .models
            .borrow()
            .iter()
            .position(|m| m.as_ref() == model)
            .unwrap_or(0);
        imp.filling.set(true);
        imp.model.set_selected(position as u32);
        imp.filling.set(false);
    }

    fn selected_model(&self) -> Option<CpuModel> {
        let imp = self.imp();
        imp.models
            .borrow()
            .get(imp.model.selected() as usize)
            .cloned()
            .flatten()
    }

    fn topology(&self) -> Topology {
        let imp = self.imp();
        let value = |a: &gtk::Adjustment| a.value().round() as u32;
        Topology {
            sockets: value(&imp.sockets),
            cores: value(&imp.cores),
            threads: value(&imp.threads),
        }
    }

    fn set_topology_fields(&self, topology: Topology) {
        let imp = self.imp();
        imp.filling.set(true);
        imp.sockets.set_value(f64::from(topology.sockets));
        imp.cores.set_value(f64::from(topology.cores));
        imp.threads.set_value(f64::from(topology.threads));
        imp.filling.set(false);
    }

    /// The topology the machine has for the page's maximum without a topology edit.
    fn expected_topology(&self) -> Topology {
        let max = self.imp().max_vcpus.get().round().max(1.0) as u32;
        let loaded = self
            .imp()
            .loaded
            .borrow()
            .as_ref()
            .and_then(|hw| hw.cpu.topology);
        Topology::for_vcpus(loaded, max)
    }

    fn check_topology(&self) {
        let imp = self.imp();
        let topology = self.topology();
        let max = imp.max_vcpus.get().round() as u32;
        let error = if topology != self.expected_topology() && topology.check(max).is_err() {
            let product = topology.vcpus().to_string();
            let number = |n: u32| n.to_string();
            gettext_f(
                // Translators: sockets × cores × threads of a virtual machine's processor.
                "{sockets} × {cores} × {threads} is {product} virtual CPUs, not the maximum of {max}.",
                &[
                    ("sockets", &number(topology.sockets)),
                    ("cores", &number(topology.cores)),
                    ("threads", &number(topology.threads)),
                    ("product", &product),
                    ("max", &number(max)),
                ],
            )
        } else {
            String::new()
        };
        if *imp.topology_error.borrow() != error {
            imp.topology_error.replace(error);
            self.notify_topology_error();
        }
    }

    /// The edits the fields hold against `hw`, after those of the vCPU count.
    pub(super) fn edits(&self, hw: &Hardware) -> Vec<DomainEdit> {
        let mut edits = Vec::new();
        let selected = self.selected_model();
        if selected != hw.cpu.model {
            if let Some(model) = selected {
                edits.push(DomainEdit::CpuModel(model));
            }
        }
        let topology = self.topology();
        if topology != self.expected_topology() {
            edits.push(DomainEdit::CpuTopology(topology));
        }
        edits
    }
}
