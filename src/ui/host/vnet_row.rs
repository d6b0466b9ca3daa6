//! A virtual network on the Networking page, with switches to run it and to start it with
//! the host. A switch asks the page (its `networking.run-network` and
//! `networking.autostart-network` actions); the row shows what libvirt then reports.

use super::vnets::VirtualNetwork;
use crate::i18n::gettext_f;
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::OnceCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/vnet_row.ui")]
    #[properties(wrapper_type = super::VirtualNetworkRow)]
    pub struct VirtualNetworkRow {
        #[property(get, construct_only)]
        network: OnceCell<VirtualNetwork>,
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
            if self.obj().network().active() != on {
                self.obj().ask("networking.run-network", on);
            }
            false
        }

        #[template_callback]
        fn autostart_changed(&self, on: bool) -> bool {
            if self.obj().network().autostart() != on {
                self.obj().ask("networking.autostart-network", on);
            }
            false
        }

        #[template_callback(function)]
        fn run_label(name: Option<&str>) -> String {
            gettext_f(
                // Translators: {name} is a virtual network.
                "Run {name}",
                &[("name", name.unwrap_or_default())],
            )
        }

        #[template_callback(function)]
        fn autostart_label(name: Option<&str>) -> String {
            gettext_f(
                // Translators: {name} is a virtual network.
                "Start {name} with the host",
                &[("name", name.unwrap_or_default())],
            )
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VirtualNetworkRow {}
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
        glib::Object::builder()
            .property("network", network)
            .build()
    }

    /// Activates the page's `action` for this row's network, turning it `on` or off.
    fn ask(&self, action: &str, on: bool) {
        let target = (self.network().name(), on).to_variant();
        if let Err(e) = self.activate_action(action, Some(&target)) {
            tracing::error!("{action}: {e}");
        }
    }
}
