//! A cell of the list: a box that knows its row's domain, so that a right click anywhere
//! in a row can select that row before the context menu opens.

use crate::ui::Domain;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::DomainCell)]
    pub struct DomainCell {
        /// The domain of the row, bound from the list item.
        #[property(get, set, nullable)]
        pub domain: RefCell<Option<Domain>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainCell {
        const NAME: &'static str = "VdDomainCell";
        type Type = super::DomainCell;
        type ParentType = gtk::Box;
    }

    #[glib::derived_properties]
    impl ObjectImpl for DomainCell {}
    impl WidgetImpl for DomainCell {}
    impl BoxImpl for DomainCell {}
}

glib::wrapper! {
    pub struct DomainCell(ObjectSubclass<imp::DomainCell>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl DomainCell {
    /// A cell of `list_item` holding `children`, side by side.
    pub fn new(list_item: &gtk::ListItem, children: &[gtk::Widget]) -> Self {
        let cell: Self = glib::Object::builder().property("spacing", 6).build();
        for child in children {
            cell.append(child);
        }
        list_item
            .property_expression("item")
            .bind(&cell, "domain", gtk::Widget::NONE);
        cell
    }

    /// The domain of the row that `widget` (picked under the pointer) belongs to.
    pub fn domain_at(widget: &gtk::Widget) -> Option<Domain> {
        widget
            .ancestor(Self::static_type())
            .and_downcast::<Self>()
            .and_then(|cell| cell.domain())
    }
}
