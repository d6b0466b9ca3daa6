//! A network card or bridge of this computer on the Networking page, with the buttons
//! that act on it: Create Bridge… on a card in no bridge, Delete (and, for user sessions,
//! Allow for User Sessions) on a bridge — greyed out, with the reason, on bridges of
//! libvirt's networks and of other software. The buttons ask the page through its
//! `networking.*` actions.

use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::{Cell, RefCell};

mod link {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::HostLink)]
    pub struct HostLink {
        /// The interface name, e.g. `eth1`, `br0`.
        #[property(get, set)]
        name: RefCell<String>,
        /// State, addresses, members…, in one line.
        #[property(get, set)]
        facts: RefCell<String>,
        /// A card in no bridge: a bridge can be made from it.
        #[property(get, set)]
        can_create_bridge: Cell<bool>,
        /// A bridge.
        #[property(get, set)]
        can_delete: Cell<bool>,
        /// Why this bridge is not to be deleted here (libvirt's, other software's), in
        /// words; empty when it may be.
        #[property(get, set)]
        left_alone: RefCell<String>,
        /// A bridge that user sessions' VMs may be allowed to use (qemu-bridge-helper).
        #[property(get, set)]
        can_allow_sessions: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostLink {
        const NAME: &'static str = "VdHostLink";
        type Type = super::HostLink;
    }

    #[glib::derived_properties]
    impl ObjectImpl for HostLink {}
}

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/link_row.ui")]
    #[properties(wrapper_type = super::LinkRow)]
    pub struct LinkRow {
        #[property(get, construct_only)]
        link: RefCell<Option<super::HostLink>>,
        #[template_child]
        create_button: TemplateChild<gtk::Button>,
        #[template_child]
        allow_button: TemplateChild<gtk::Button>,
        #[template_child]
        delete_button: TemplateChild<gtk::Button>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for LinkRow {
        const NAME: &'static str = "VdHostLinkRow";
        type Type = super::LinkRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            super::HostLink::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl LinkRow {
        #[template_callback]
        fn create_bridge(&self) {
            self.obj().ask("networking.create-bridge");
        }

        #[template_callback]
        fn allow_bridge(&self) {
            self.obj().ask("networking.allow-bridge");
        }

        #[template_callback]
        fn delete_bridge(&self) {
            self.obj().ask("networking.delete-bridge");
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for LinkRow {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let Some(link) = obj.link() else {
                return;
            };
            for (property, target, target_property) in [
                ("name", obj.upcast_ref::<gtk::Widget>(), "title"),
                ("facts", obj.upcast_ref(), "subtitle"),
                (
                    "can-create-bridge",
                    self.create_button.upcast_ref(),
                    "visible",
                ),
                (
                    "can-allow-sessions",
                    self.allow_button.upcast_ref(),
                    "visible",
                ),
                ("can-delete", self.delete_button.upcast_ref(), "visible"),
            ] {
                link.bind_property(property, target, target_property)
                    .sync_create()
                    .build();
            }
            // A bridge left alone keeps its Delete button, greyed out, saying why.
            link.bind_property("left-alone", &*self.delete_button, "sensitive")
                .transform_to(|_, why: String| Some(why.is_empty()))
                .sync_create()
                .build();
            link.bind_property("left-alone", &*self.delete_button, "tooltip-text")
                .transform_to(|_, why: String| Some((!why.is_empty()).then_some(why)))
                .sync_create()
                .build();
        }
    }
    impl WidgetImpl for LinkRow {}
    impl ListBoxRowImpl for LinkRow {}
    impl PreferencesRowImpl for LinkRow {}
    impl ActionRowImpl for LinkRow {}
}

glib::wrapper! {
    /// A network card or bridge as its row shows it.
    pub struct HostLink(ObjectSubclass<link::HostLink>);
}

glib::wrapper! {
    pub struct LinkRow(ObjectSubclass<imp::LinkRow>)
        @extends adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl HostLink {
    pub fn new(name: &str, facts: &str) -> Self {
        glib::Object::builder()
            .property("name", name)
            .property("facts", facts)
            .build()
    }
}

impl LinkRow {
    pub fn new(link: &HostLink) -> Self {
        glib::Object::builder().property("link", link).build()
    }

    /// Activates the page's `action` on this row's link.
    fn ask(&self, action: &str) {
        let Some(link) = self.link() else {
            return;
        };
        if let Err(e) = self.activate_action(action, Some(&link.name().to_variant())) {
            tracing::error!("{action}: {e}");
        }
    }
}
