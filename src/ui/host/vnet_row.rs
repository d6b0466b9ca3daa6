//! A virtual network on the Networking page, with switches to run it and to start it with
//! the host. A switch asks the page (its `networking.run-network` and
//! `networking.autostart-network` actions); the row shows what libvirt then reports.

use super::vnets::VirtualNetwork;
use crate::i18n::gettext_f;
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/vnet_row.ui")]
    #[properties(wrapper_type = super::VirtualNetworkRow)]
    pub struct VirtualNetworkRow {
        #[property(get, construct_only)]
        network: RefCell<Option<VirtualNetwork>>,
        #[template_child]
        run_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        run_label: TemplateChild<gtk::Label>,
        #[template_child]
        autostart_box: TemplateChild<gtk::Box>,
        #[template_child]
        autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        autostart_label: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VirtualNetworkRow {
        const NAME: &'static str = "VdVirtualNetworkRow";
        type Type = super::VirtualNetworkRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            VirtualNetwork::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl VirtualNetworkRow {
        /// A switch the user turned asks the page; one the network's state turned (after
        /// a change, or back after a failed one) says nothing.
        #[template_callback]
        fn run_changed(&self, on: bool) -> bool {
            if self.obj().network().is_some_and(|n| n.active() != on) {
                self.obj().ask("networking.run-network", on);
            }
            false
        }

        #[template_callback]
        fn autostart_changed(&self, on: bool) -> bool {
            if self.obj().network().is_some_and(|n| n.autostart() != on) {
                self.obj().ask("networking.autostart-network", on);
            }
            false
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VirtualNetworkRow {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let Some(network) = obj.network() else {
                return;
            };
            for (property, target, target_property) in [
                ("name", obj.upcast_ref::<gtk::Widget>(), "title"),
                ("facts", obj.upcast_ref(), "subtitle"),
                ("active", self.run_switch.upcast_ref(), "active"),
                ("autostart", self.autostart_switch.upcast_ref(), "active"),
                ("persistent", self.autostart_box.upcast_ref(), "visible"),
            ] {
                network
                    .bind_property(property, target, target_property)
                    .sync_create()
                    .build();
            }
            // A row's network keeps its name.
            let name = network.name();
            self.run_label.set_label(&gettext_f(
                // Translators: {name} is a virtual network.
                "Run {name}",
                &[("name", &name)],
            ));
            self.autostart_label.set_label(&gettext_f(
                // Translators: {name} is a virtual network.
                "Start {name} with the host",
                &[("name", &name)],
            ));
        }
    }
    impl WidgetImpl for VirtualNetworkRow {}
    impl ListBoxRowImpl for VirtualNetworkRow {}
    impl PreferencesRowImpl for VirtualNetworkRow {}
    impl ActionRowImpl for VirtualNetworkRow {}
}

glib::wrapper! {
    pub struct VirtualNetworkRow(ObjectSubclass<imp::VirtualNetworkRow>)
        @extends adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl VirtualNetworkRow {
    pub fn new(network: &VirtualNetwork) -> Self {
        glib::Object::builder().property("network", network).build()
    }

    /// Activates the page's `action` for this row's network, turning it `on` or off.
    fn ask(&self, action: &str, on: bool) {
        if let Some(network) = self.network() {
            super::ask_page(self, action, network.name(), on);
        }
    }
}
