//! The two switches of a pool or virtual network row: run it, and start it with the host
//! (shown only for a persistent one). A switch the user turns asks the page's
//! `run-action` / `autostart-action` with the item's name; one that the item's own state
//! turned (after a change, or back after a failed one) asks nothing. The item is any object
//! with `name`, `active`, `autostart` and `persistent` properties.

use crate::i18n::gettext_f;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/run_switches.ui")]
    #[properties(wrapper_type = super::RunSwitches)]
    pub struct RunSwitches {
        /// The pool or network; set once.
        #[property(get, set = Self::set_item, nullable)]
        item: RefCell<Option<glib::Object>>,
        /// The page action (`group.name`) that runs or stops an item by name.
        #[property(get, set)]
        run_action: RefCell<String>,
        /// The page action that turns an item's autostart on or off.
        #[property(get, set)]
        autostart_action: RefCell<String>,
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

    impl RunSwitches {
        fn set_item(&self, item: Option<glib::Object>) {
            if let Some(item) = &item {
                for (property, target, target_property) in [
                    (
                        "active",
                        self.run_switch.upcast_ref::<gtk::Widget>(),
                        "active",
                    ),
                    ("autostart", self.autostart_switch.upcast_ref(), "active"),
                    ("persistent", self.autostart_box.upcast_ref(), "visible"),
                ] {
                    item.bind_property(property, target, target_property)
                        .sync_create()
                        .build();
                }
                // An item keeps its name.
                let name = item.property::<String>("name");
                self.run_label.set_label(&gettext_f(
                    // Translators: {name} is a storage pool or a virtual network.
                    "Run {name}",
                    &[("name", &name)],
                ));
                self.autostart_label.set_label(&gettext_f(
                    // Translators: {name} is a storage pool or a virtual network.
                    "Start {name} with the host",
                    &[("name", &name)],
                ));
            }
            self.item.replace(item);
        }

        /// Asks `action` to turn the item's boolean `property` to `on`, unless it is so.
        fn ask(&self, action: &str, property: &str, on: bool) {
            let Some(item) = self.item.borrow().clone() else {
                return;
            };
            if item.property::<bool>(property) != on {
                super::super::ask_page(&*self.obj(), action, item.property("name"), on);
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for RunSwitches {
        const NAME: &'static str = "VdRunSwitches";
        type Type = super::RunSwitches;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl RunSwitches {
        #[template_callback]
        fn run_changed(&self, on: bool) -> bool {
            self.ask(&self.run_action.borrow(), "active", on);
            false
        }

        #[template_callback]
        fn autostart_changed(&self, on: bool) -> bool {
            self.ask(&self.autostart_action.borrow(), "autostart", on);
            false
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for RunSwitches {}
    impl WidgetImpl for RunSwitches {}
    impl BoxImpl for RunSwitches {}
}

glib::wrapper! {
    pub struct RunSwitches(ObjectSubclass<imp::RunSwitches>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}
