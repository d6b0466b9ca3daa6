//! The cells of the list, as light as a cell can be: GTK 4.8's column view keeps up to
//! 200 rows of cells however few are on screen, so each widget and each expression watch
//! in a cell counts two thousandfold. A cell is its one widget (a label, mostly), with no
//! wrapper; which machine each cell shows is kept here, by the cell's widget, together
//! with the one handler that shows the machine's property again when it changes. That is
//! also how a right click or a drag anywhere in a row finds the row's machine.

use crate::ui::util::BoundObject;
use crate::ui::Domain;
use gtk::glib;
use gtk::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The machine each cell of the list shows, by the cell's widget, while it shows one.
#[derive(Default)]
pub struct Cells(RefCell<HashMap<gtk::Widget, BoundObject<Domain>>>);

impl Cells {
    /// A column whose cells `build` makes and `show` fills with their row's machine (`None`
    /// when a cell stops showing a row), again whenever the machine's `property` changes
    /// (`None`: only when it is bound to a row).
    pub fn factory<W: IsA<gtk::Widget>>(
        self: &Rc<Self>,
        property: Option<&'static str>,
        build: impl Fn() -> W + 'static,
        show: impl Fn(&W, Option<&Domain>) + 'static,
    ) -> gtk::SignalListItemFactory {
        let factory = gtk::SignalListItemFactory::new();
        factory.connect_setup(move |_, item| list_item(item).set_child(Some(&build())));
        let show = Rc::new(show);
        let unbound = show.clone();
        let cells = Rc::downgrade(self);
        factory.connect_bind(move |_, item| {
            let list_item = list_item(item);
            let (Some(cells), Some(child), Some(domain)) = (
                cells.upgrade(),
                list_item.child().and_downcast::<W>(),
                list_item.item().and_downcast::<Domain>(),
            ) else {
                return;
            };
            show(&child, Some(&domain));
            let followed = BoundObject::default();
            followed.follow(Some(&domain), |domain| {
                let show = show.clone();
                let child = child.downgrade();
                property
                    .map(|property| {
                        domain.connect_notify_local(Some(property), move |domain, _| {
                            if let Some(child) = child.upgrade() {
                                show(&child, Some(domain));
                            }
                        })
                    })
                    .into_iter()
                    .collect()
            });
            cells.0.borrow_mut().insert(child.upcast(), followed);
        });
        // A cell is kept here only while it shows a row: GTK unbinds a cell before it
        // tears it down (and clears the cell's child before the "teardown" signal).
        let cells = Rc::downgrade(self);
        factory.connect_unbind(move |_, item| {
            let Some(child) = list_item(item).child().and_downcast::<W>() else {
                return;
            };
            if let Some(cells) = cells.upgrade() {
                cells.0.borrow_mut().remove(child.upcast_ref());
            }
            unbound(&child, None);
        });
        factory
    }

    /// The widget of a cell in the row that `picked` (a widget under the pointer) is in,
    /// and the row's machine: the row is the ancestor whose parent is the list view, and
    /// its cells' children are the cells' widgets, so that a click on a cell's padding or
    /// on a widget inside a cell finds it too.
    pub fn at(&self, picked: &gtk::Widget) -> Option<(gtk::Widget, Domain)> {
        let row = std::iter::successors(Some(picked.clone()), |w| w.parent())
            .find(|w| w.parent().is_some_and(|p| p.is::<gtk::ListView>()))?;
        let cells = self.0.borrow();
        std::iter::successors(row.first_child(), |cell| cell.next_sibling())
            .filter_map(|cell| cell.first_child())
            .find_map(|child| {
                let domain = cells.get(&child)?.get()?;
                Some((child, domain))
            })
    }
}

fn list_item(item: &glib::Object) -> &gtk::ListItem {
    item.downcast_ref().expect("a list item")
}
