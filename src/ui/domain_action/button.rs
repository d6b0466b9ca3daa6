//! A button for a [`DomainAction`]: name the action (`win.domain-start`) and it shows the
//! action's icon and words, so that every button of an action looks and reads the same.

use super::DomainAction;
use adw::prelude::*;
use gtk::glib;
use gtk::subclass::prelude::*;
use std::cell::Cell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Properties)]
    #[properties(wrapper_type = super::DomainActionButton)]
    pub struct DomainActionButton {
        /// The icon beside the words; without it the words carry a mnemonic.
        #[property(get, set = Self::set_show_icon)]
        pub show_icon: Cell<bool>,
    }

    impl Default for DomainActionButton {
        fn default() -> Self {
            Self {
                show_icon: Cell::new(true),
            }
        }
    }

    impl DomainActionButton {
        fn set_show_icon(&self, show: bool) {
            self.show_icon.set(show);
            self.obj().show_action();
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainActionButton {
        const NAME: &'static str = "VdDomainActionButton";
        type Type = super::DomainActionButton;
        type ParentType = gtk::Button;
    }

    #[glib::derived_properties]
    impl ObjectImpl for DomainActionButton {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.connect_notify_local(Some("action-name"), |button, _| button.show_action());
            obj.show_action();
        }
    }

    impl WidgetImpl for DomainActionButton {}
    impl ButtonImpl for DomainActionButton {}
}

glib::wrapper! {
    pub struct DomainActionButton(ObjectSubclass<imp::DomainActionButton>)
        @extends gtk::Button, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl DomainActionButton {
    fn show_action(&self) {
        let Some(action) = self
            .action_name()
            .and_then(|name| DomainAction::from_detailed_name(&name))
        else {
            return;
        };
        if self.show_icon() {
            // Icon and words: the words are also what screen readers say.
            let content = adw::ButtonContent::builder()
                .icon_name(action.icon_name())
                .label(action.button_label())
                .build();
            self.set_child(Some(&content));
        } else {
            self.set_label(&action.menu_label());
            self.set_use_underline(true);
        }
    }
}
