//! "Create a Bridge from “eth1”?": the new bridge's name, checked as it is typed, and
//! whether it runs STP; a warning when the card carries the computer's connection (the
//! default route).

use crate::host::net::{validate_bridge_name, BridgeRequest, Link, Runner, DEFAULT_BRIDGE};
use crate::i18n::gettext_f;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, OnceCell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/bridge_dialogs/create.ui")]
    #[properties(wrapper_type = super::CreateBridgeDialog)]
    pub struct CreateBridgeDialog {
        /// The network card the bridge is made from.
        #[property(get, construct_only)]
        pub nic: OnceCell<String>,
        /// What is wrong with the name typed; empty when nothing is.
        #[property(get)]
        pub problem: RefCell<String>,
        /// The change asks for administrator rights (polkit).
        #[property(get)]
        pub escalates: Cell<bool>,
        /// The card holds the default route: the computer's connection moves with it.
        #[property(get, construct_only)]
        pub holds_default_route: Cell<bool>,
        /// The host's links, which the name must not clash with.
        pub links: RefCell<Vec<Link>>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub stp: TemplateChild<gtk::Switch>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CreateBridgeDialog {
        const NAME: &'static str = "VdCreateBridgeDialog";
        type Type = super::CreateBridgeDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            crate::ui::util::Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl CreateBridgeDialog {
        /// A name that cannot be used says why and disables Create Bridge.
        #[template_callback]
        fn name_changed(&self) {
            let check = validate_bridge_name(&self.name_row.text(), &self.links.borrow());
            let problem = check.as_ref().err().map(ToString::to_string);
            self.obj().set_response_enabled("create", check.is_ok());
            self.problem.replace(problem.unwrap_or_default());
            self.obj().notify_problem();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CreateBridgeDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let nic = obj.nic();
            obj.set_heading(Some(&gettext_f(
                // Translators: {nic} is a network card such as eth0.
                "Create a Bridge from “{nic}”?",
                &[("nic", &nic)],
            )));
            obj.set_body(&gettext_f(
                // Translators: {nic} is a network card such as eth0.
                "The IP configuration of “{nic}” (its addresses and routes) moves to the new bridge, and “{nic}” joins the bridge. Connections may stop for a moment. The change lasts until the computer restarts.",
                &[("nic", &nic)],
            ));
            self.escalates.set(Runner::local().escalates());
            obj.notify_escalates();
        }
    }

    impl WidgetImpl for CreateBridgeDialog {}
    impl WindowImpl for CreateBridgeDialog {}
    impl MessageDialogImpl for CreateBridgeDialog {}
}

glib::wrapper! {
    pub struct CreateBridgeDialog(ObjectSubclass<imp::CreateBridgeDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl CreateBridgeDialog {
    /// Asks over `parent` for a bridge from `nic`, whose name must differ from `links`'.
    pub fn new(parent: &impl IsA<gtk::Window>, nic: &str, links: Vec<Link>) -> Self {
        let holds_default_route = links
            .iter()
            .any(|l| l.name == nic && l.holds_default_route());
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .property("nic", nic)
            .property("holds-default-route", holds_default_route)
            .build();
        dialog.imp().links.replace(links);
        dialog.imp().name_row.set_text(DEFAULT_BRIDGE);
        dialog
    }

    /// The bridge as the dialog describes it.
    pub fn request(&self) -> BridgeRequest {
        let imp = self.imp();
        BridgeRequest {
            nic: self.nic(),
            name: imp.name_row.text().to_string(),
            stp: imp.stp.is_active(),
        }
    }
}
