//! The list of one connection's virtual machines: a GtkColumnView over a filter and sort
//! model, with type-to-search, sortable columns and a context menu.

use crate::i18n::gettext;
use crate::ui::domain::format_memory;
use crate::ui::Domain;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};

mod imp {
    use super::*;
    use std::cell::OnceCell;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/domain_list.ui")]
    pub struct DomainList {
        #[template_child]
        pub search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub view: TemplateChild<gtk::ColumnView>,
        pub filter: OnceCell<gtk::FilterListModel>,
        pub selection: OnceCell<gtk::SingleSelection>,
        pub menu: OnceCell<gtk::PopoverMenu>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainList {
        const NAME: &'static str = "VdDomainList";
        type Type = super::DomainList;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for DomainList {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().build();
        }

        fn dispose(&self) {
            if let Some(menu) = self.menu.get() {
                menu.unparent();
            }
        }
    }

    impl WidgetImpl for DomainList {}
    impl BoxImpl for DomainList {}
}

glib::wrapper! {
    pub struct DomainList(ObjectSubclass<imp::DomainList>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl Default for DomainList {
    fn default() -> Self {
        Self::new()
    }
}

fn domain_property(name: &str) -> gtk::PropertyExpression {
    gtk::PropertyExpression::new(Domain::static_type(), gtk::Expression::NONE, name)
}

/// The expression "this list item's domain's `property`".
fn item_property(list_item: &gtk::ListItem, property: &str) -> gtk::Expression {
    list_item
        .property_expression("item")
        .chain_property::<Domain>(property)
        .upcast()
}

impl DomainList {
    pub fn new() -> Self {
        glib::Object::new()
    }

    fn build(&self) {
        let imp = self.imp();
        let search = &*imp.search;
        let view = &*imp.view;
        let name_filter = gtk::StringFilter::builder()
            .expression(domain_property("name"))
            .match_mode(gtk::StringFilterMatchMode::Substring)
            .ignore_case(true)
            .build();
        search.connect_search_changed(glib::clone!(
            #[weak]
            name_filter,
            move |entry| name_filter.set_search(Some(&entry.text()))
        ));
        let filter = gtk::FilterListModel::new(None::<gio::ListModel>, Some(name_filter));
        filter.set_incremental(false);

        let sorted = gtk::SortListModel::new(Some(filter.clone()), view.sorter());
        let selection = gtk::SingleSelection::new(Some(sorted));
        view.set_model(Some(&selection));
        self.add_columns(view, &selection);

        let menu = gtk::PopoverMenu::from_model(Some(&domain_menu()));
        menu.set_has_arrow(false);
        menu.set_halign(gtk::Align::Start);
        menu.set_parent(view);
        let secondary = gtk::GestureClick::builder().button(3).build();
        secondary.connect_pressed(glib::clone!(
            #[weak]
            menu,
            move |_, _, x, y| {
                menu.set_pointing_to(Some(&gtk::gdk::Rectangle::new(x as i32, y as i32, 1, 1)));
                menu.popup();
            }
        ));
        view.add_controller(secondary);

        let _ = imp.filter.set(filter);
        let _ = imp.selection.set(selection);
        let _ = imp.menu.set(menu);
    }

    fn add_columns(&self, view: &gtk::ColumnView, selection: &gtk::SingleSelection) {
        let name = text_column(selection, "name", None);
        let state = state_column(selection);
        let vcpus = text_column(
            selection,
            "vcpus",
            Some(|value: &glib::Value| value.get::<u32>().unwrap_or(0).to_string()),
        );
        let memory = text_column(
            selection,
            "memory",
            Some(|value: &glib::Value| format_memory(value.get::<u64>().unwrap_or(0))),
        );
        let cpu = text_column(
            selection,
            "cpu-percent",
            Some(|value: &glib::Value| {
                let percent = value.get::<f64>().unwrap_or(-1.0);
                if percent < 0.0 {
                    "—".to_owned()
                } else {
                    format!("{percent:.1} %")
                }
            }),
        );
        let columns = [
            (name, gettext("Name"), "name", true),
            (state, gettext("State"), "state-label", false),
            (vcpus, gettext("vCPUs"), "vcpus", false),
            (memory, gettext("Memory"), "memory", false),
            (cpu, gettext("CPU"), "cpu-percent", false),
        ];
        for (factory, title, property, expand) in columns {
            let column = gtk::ColumnViewColumn::new(Some(&title), Some(factory));
            column.set_expand(expand);
            column.set_resizable(true);
            column.set_sorter(Some(&sorter_for(property)));
            view.append_column(&column);
        }
        if let Some(first) = view
            .columns()
            .item(0)
            .and_downcast::<gtk::ColumnViewColumn>()
        {
            view.sort_by_column(Some(&first), gtk::SortType::Ascending);
        }
    }

    /// Shows the domains of `model` (a list of [`Domain`]s), or nothing.
    pub fn set_model(&self, model: Option<&gio::ListModel>) {
        self.imp().filter.get().expect("built").set_model(model);
    }

    pub fn selected(&self) -> Option<Domain> {
        self.imp()
            .selection
            .get()
            .and_then(|s| s.selected_item())
            .and_downcast::<Domain>()
    }

    /// Selects the domain called `name` when it is shown.
    pub fn select_name(&self, name: &str) -> bool {
        let selection = self.imp().selection.get().expect("built");
        let position = (0..selection.n_items()).find(|&i| {
            selection
                .item(i)
                .and_downcast::<Domain>()
                .is_some_and(|d| d.name() == name)
        });
        if let Some(position) = position {
            selection.set_selected(position);
        }
        position.is_some()
    }

    pub fn connect_selection_changed<F: Fn(Option<Domain>) + 'static>(&self, f: F) {
        let selection = self.imp().selection.get().expect("built");
        selection
            .connect_selected_item_notify(move |s| f(s.selected_item().and_downcast::<Domain>()));
    }

    /// Typing anywhere in `widget` goes to the search field.
    pub fn capture_typing_from(&self, widget: &impl IsA<gtk::Widget>) {
        self.imp().search.set_key_capture_widget(Some(widget));
    }
}

fn sorter_for(property: &str) -> gtk::Sorter {
    match property {
        "name" | "state-label" => gtk::StringSorter::builder()
            .expression(domain_property(property))
            .ignore_case(true)
            .build()
            .upcast(),
        _ => gtk::NumericSorter::new(Some(domain_property(property))).upcast(),
    }
}

/// Right-clicking a row selects it before the menu opens.
fn select_on_secondary_click(
    cell: &gtk::Widget,
    list_item: &gtk::ListItem,
    selection: &gtk::SingleSelection,
) {
    let click = gtk::GestureClick::builder().button(3).build();
    click.connect_pressed(glib::clone!(
        #[weak]
        list_item,
        #[weak]
        selection,
        move |_, _, _, _| selection.set_selected(list_item.position())
    ));
    cell.add_controller(click);
}

type Format = fn(&glib::Value) -> String;

/// A column whose cells `build` makes for their list item; right-clicking a cell selects
/// its row.
fn cell_factory(
    selection: &gtk::SingleSelection,
    build: impl Fn(&gtk::ListItem) -> gtk::Widget + 'static,
) -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(glib::clone!(
        #[weak]
        selection,
        move |_, item| {
            let list_item = item.downcast_ref::<gtk::ListItem>().expect("a list item");
            let cell = build(list_item);
            select_on_secondary_click(&cell, list_item, &selection);
            list_item.set_child(Some(&cell));
        }
    ));
    factory
}

/// A column of labels showing a property, as text or through `format`.
fn text_column(
    selection: &gtk::SingleSelection,
    property: &'static str,
    format: Option<Format>,
) -> gtk::SignalListItemFactory {
    cell_factory(selection, move |list_item| {
        let label = gtk::Label::builder()
            .xalign(0.0)
            .ellipsize(gtk::pango::EllipsizeMode::End)
            .width_chars(if format.is_none() { 16 } else { 4 })
            .build();
        let expression = item_property(list_item, property);
        match format {
            None => expression.bind(&label, "label", gtk::Widget::NONE),
            Some(format) => gtk::ClosureExpression::new::<String>(
                [expression],
                glib::closure!(move |_: Option<glib::Object>, value: glib::Value| {
                    format(&value)
                }),
            )
            .bind(&label, "label", gtk::Widget::NONE),
        };
        label.upcast()
    })
}

/// The state column: an icon and the state in words.
fn state_column(selection: &gtk::SingleSelection) -> gtk::SignalListItemFactory {
    cell_factory(selection, |list_item| {
        let icon = gtk::Image::builder()
            .accessible_role(gtk::AccessibleRole::Presentation)
            .build();
        let label = gtk::Label::builder().xalign(0.0).build();
        item_property(list_item, "state-icon").bind(&icon, "icon-name", gtk::Widget::NONE);
        item_property(list_item, "state-label").bind(&label, "label", gtk::Widget::NONE);
        let cell = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        cell.append(&icon);
        cell.append(&label);
        cell.upcast()
    })
}

/// The actions on a virtual machine, for its context menu.
pub fn domain_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    let power = gio::Menu::new();
    power.append(Some(&gettext("Open _Console")), Some("win.domain-console"));
    power.append(Some(&gettext("_Start")), Some("win.domain-start"));
    power.append(Some(&gettext("Shut _Down")), Some("win.domain-shutdown"));
    power.append(Some(&gettext("_Reboot")), Some("win.domain-reboot"));
    power.append(Some(&gettext("_Pause")), Some("win.domain-pause"));
    power.append(Some(&gettext("Res_ume")), Some("win.domain-resume"));
    power.append(Some(&gettext("_Force Off")), Some("win.domain-force-off"));
    menu.append_section(None, &power);
    let other = gio::Menu::new();
    other.append(Some(&gettext("_Delete…")), Some("win.domain-delete"));
    menu.append_section(None, &other);
    menu
}
