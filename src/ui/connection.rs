//! One libvirt connection as the UI sees it.

use gtk::glib;
use gtk::subclass::prelude::*;

mod imp {
    use super::*;
    use gtk::glib::Properties;
    use gtk::prelude::*;
    use std::cell::RefCell;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::Connection)]
    pub struct Connection {
        /// The libvirt URI, e.g. `qemu:///system`.
        #[property(get, construct_only)]
        pub uri: RefCell<String>,
        /// What the user reads: "QEMU/KVM", "QEMU/KVM User session", …
        #[property(get, construct_only)]
        pub title: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Connection {
        const NAME: &'static str = "VdConnection";
        type Type = super::Connection;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Connection {}
}

glib::wrapper! {
    pub struct Connection(ObjectSubclass<imp::Connection>);
}

impl Connection {
    pub fn new(uri: &str, title: &str) -> Self {
        glib::Object::builder()
            .property("uri", uri)
            .property("title", title)
            .build()
    }
}
