//! A virtual network on the Networking page, with switches to run it and to start it with
//! the host ([`RunSwitches`], asking the page's `networking.run-network` and
//! `networking.autostart-network` actions); the row shows what libvirt then reports.

use super::run_switches::RunSwitches;
use super::vnets::VirtualNetwork;
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
        switches: TemplateChild<RunSwitches>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VirtualNetworkRow {
        const NAME: &'static str = "VdVirtualNetworkRow";
        type Type = super::VirtualNetworkRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            VirtualNetwork::ensure_type();
            RunSwitches::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
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
            ] {
                network
                    .bind_property(property, target, target_property)
                    .sync_create()
                    .build();
            }
            self.switches
                .set_item(Some(network.upcast_ref::<glib::Object>()));
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
}
