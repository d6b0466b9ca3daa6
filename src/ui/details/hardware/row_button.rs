//! A device row's button: it shows a word ("Add") and a screen reader says what it does
//! whole ("Add USB Tablet"), through a hidden label it is labelled by (gtk-rs 0.11 sets
//! accessible properties in code only from GTK 4.10 on; the template's relation works on
//! 4.8).

use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::CompositeTemplate;
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties, Default)]
    #[properties(wrapper_type = super::RowButton)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/row_button.ui")]
    pub struct RowButton {
        /// What the button shows.
        #[property(get, set)]
        pub word: RefCell<String>,
        /// What a screen reader says.
        #[property(get, set)]
        pub spoken: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for RowButton {
        const NAME: &'static str = "VdRowButton";
        type Type = super::RowButton;
        type ParentType = gtk::Button;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for RowButton {}
    impl WidgetImpl for RowButton {}
    impl ButtonImpl for RowButton {}
}

glib::wrapper! {
    pub struct RowButton(ObjectSubclass<imp::RowButton>)
        @extends gtk::Button, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl RowButton {
    pub fn new(word: &str, spoken: &str) -> Self {
        glib::Object::builder()
            .property("word", word)
            .property("spoken", spoken)
            .build()
    }

    /// The button showing `word` in the row called `row`, said whole: "Remove Disk vda".
    pub fn for_row(word: &str, row: &str) -> Self {
        let spoken = crate::i18n::gettext_f(
            // Translators: a button's name for screen readers: {action} is its word (Add,
            // Remove, Eject…), {device} the row's title (USB Tablet, CD-ROM sda…).
            "{action} {device}",
            &[("action", word), ("device", row)],
        );
        Self::new(word, &spoken)
    }
}
