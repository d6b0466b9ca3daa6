//! A page of a stack that is built the first time it is shown ([`LazyPage`]): a window
//! that starts on the machine list need not build every tab of the details (the hardware
//! sections, the XML editor, the graphs) before anyone looks at them.
//!
//! The page is still a composite template widget of its own; the `.ui` that holds the
//! stack names its type and binds the `domain` and `connection` the page would have had,
//! and the lazy page hands them on once the page exists:
//!
//! ```xml
//! <object class="VdLazyPage">
//!   <property name="page-type">VdHardwarePage</property>
//!   <binding name="domain"><lookup name="domain">VdDomainDetails</lookup></binding>
//! </object>
//! ```

use crate::ui::{Connection, Domain};
use gtk::subclass::prelude::*;
use gtk::{glib, prelude::*};
use std::cell::RefCell;

/// The properties a page gets from its lazy page, when it has them: the connection first,
/// so that a page that reads its machine when it gets one has where to ask.
const HANDED_ON: [&str; 2] = ["connection", "domain"];

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::LazyPage)]
    pub struct LazyPage {
        /// The GType name of the page to build, a widget.
        #[property(get, set, construct_only)]
        pub page_type: RefCell<String>,
        /// The machine shown, handed on to the page.
        #[property(get, set, nullable)]
        pub domain: RefCell<Option<Domain>>,
        /// The machine's connection, handed on to the page.
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for LazyPage {
        const NAME: &'static str = "VdLazyPage";
        type Type = super::LazyPage;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.set_accessible_role(gtk::AccessibleRole::Generic);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for LazyPage {
        fn dispose(&self) {
            if let Some(page) = self.obj().first_child() {
                page.unparent();
            }
        }
    }

    impl WidgetImpl for LazyPage {
        fn map(&self) {
            self.obj().build();
            self.parent_map();
        }
    }
}

glib::wrapper! {
    pub struct LazyPage(ObjectSubclass<imp::LazyPage>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl LazyPage {
    /// Builds the page unless it exists, and hands on the properties it has.
    fn build(&self) {
        if self.first_child().is_some() {
            return;
        }
        let name = self.page_type();
        let Some(page_type) =
            glib::Type::from_name(&name).filter(|t| t.is_a(gtk::Widget::static_type()))
        else {
            tracing::error!(page_type = %name, "no such page to build");
            return;
        };
        let page = glib::Object::with_type(page_type)
            .downcast::<gtk::Widget>()
            .expect("a widget type");
        for property in HANDED_ON {
            if page.find_property(property).is_some() {
                self.bind_property(property, &page, property)
                    .sync_create()
                    .build();
            }
        }
        page.set_parent(self);
    }
}
