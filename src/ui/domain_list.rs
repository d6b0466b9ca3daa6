//! The list of one connection's virtual machines: a GtkColumnView over a filter and sort
//! model, with type-to-search, sortable columns and a context menu; an empty connection and
//! a search that finds nothing say so instead of showing an empty table.

mod cell;

use crate::i18n::gettext_f;
use crate::ui::domain::format_memory;
use crate::ui::domain_action::{self, DomainAction};
use crate::ui::graph::Graph;
use crate::ui::settings::new_settings;
use crate::ui::Domain;
use cell::DomainCell;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};
use std::cell::Cell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, gtk::CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::DomainList)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/domain_list.ui")]
    pub struct DomainList {
        #[template_child]
        pub search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub view: TemplateChild<gtk::ColumnView>,
        #[template_child]
        pub filter: TemplateChild<gtk::FilterListModel>,
        #[template_child]
        pub selection: TemplateChild<gtk::SingleSelection>,
        #[template_child]
        pub name_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub state_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub vcpus_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub memory_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub cpu_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub address_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub tags_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub sparkline_column: TemplateChild<gtk::ColumnViewColumn>,
        /// Where `cpu-sparklines` comes from.
        pub settings: std::cell::OnceCell<gio::Settings>,
        /// The connection's list has arrived: until then an empty list is not "no virtual
        /// machines yet".
        #[property(get, set)]
        pub loaded: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainList {
        const NAME: &'static str = "VdDomainList";
        type Type = super::DomainList;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            Domain::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks(functions)]
    impl DomainList {
        /// The page of the stack: the table, "none yet" or "no match".
        #[template_callback]
        fn page_name(shown: u32, loaded: bool, search: Option<String>) -> &'static str {
            let searching = search.is_some_and(|s| !s.is_empty());
            match (shown, searching, loaded) {
                (0, true, _) => "no-match",
                (0, false, true) => "empty",
                _ => "list",
            }
        }

        #[template_callback]
        fn no_match(search: Option<String>) -> String {
            gettext_f(
                // Translators: {text} is what the user typed in the search field.
                "No virtual machines match “{text}”.",
                // The description is markup: what was typed is text.
                &[(
                    "text",
                    &glib::markup_escape_text(search.as_deref().unwrap_or_default()),
                )],
            )
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DomainList {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().setup_columns();
            self.obj().setup_menu();
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

    fn setup_columns(&self) {
        let imp = self.imp();
        imp.name_column
            .set_factory(Some(&text_column("name", None)));
        imp.state_column.set_factory(Some(&state_column()));
        imp.vcpus_column.set_factory(Some(&text_column(
            "vcpus",
            Some(|value: &glib::Value| value.get::<u32>().unwrap_or(0).to_string()),
        )));
        imp.memory_column.set_factory(Some(&text_column(
            "memory",
            Some(|value: &glib::Value| format_memory(value.get::<u64>().unwrap_or(0))),
        )));
        imp.cpu_column.set_factory(Some(&text_column(
            "cpu-percent",
            Some(|value: &glib::Value| {
                let percent = value.get::<f64>().unwrap_or(-1.0);
                if percent < 0.0 {
                    "—".to_owned()
                } else {
                    format!("{percent:.1} %")
                }
            }),
        )));
        imp.tags_column
            .set_factory(Some(&text_column("tags", None)));
        imp.address_column.set_factory(Some(&text_column(
            "address",
            Some(|value: &glib::Value| {
                let address = value.get::<String>().unwrap_or_default();
                if address.is_empty() {
                    "—".to_owned()
                } else {
                    address
                }
            }),
        )));
        imp.sparkline_column
            .set_factory(Some(&cell_factory(|list_item| {
                let graph = Graph::new_sparkline();
                list_item
                    .property_expression("item")
                    .bind(&graph, "domain", gtk::Widget::NONE);
                DomainCell::new(list_item, &[graph.upcast()])
            })));
        let settings = imp.settings.get_or_init(new_settings);
        settings
            .bind("cpu-sparklines", &*imp.sparkline_column, "visible")
            .get()
            .build();
        imp.view
            .sort_by_column(Some(&*imp.name_column), gtk::SortType::Ascending);
    }

    /// The context menu of a row; a right click selects the row under the pointer first.
    fn setup_menu(&self) {
        let view = &*self.imp().view;
        crate::ui::util::add_context_menu(
            view,
            &domain_menu(),
            glib::clone!(
                #[weak(rename_to = list)]
                self,
                #[weak]
                view,
                move |at| {
                    let Some((x, y)) = at else {
                        return;
                    };
                    let domain = view
                        .pick(x, y, gtk::PickFlags::DEFAULT)
                        .and_then(|picked| DomainCell::domain_at(&picked));
                    if let Some(domain) = domain {
                        list.select(&domain);
                    }
                }
            ),
        );
    }

    /// Shows the domains of `model` (a list of [`Domain`]s), or nothing.
    pub fn set_model(&self, model: Option<&gio::ListModel>) {
        self.imp().filter.set_model(model);
    }

    pub fn selected(&self) -> Option<Domain> {
        self.imp()
            .selection
            .selected_item()
            .and_downcast::<Domain>()
    }

    /// Selects `domain` when it is shown.
    fn select(&self, domain: &Domain) -> bool {
        self.select_where(|d| d == domain)
    }

    /// Selects the domain called `name` when it is shown.
    pub fn select_name(&self, name: &str) -> bool {
        self.select_where(|d| d.name() == name)
    }

    fn select_where(&self, wanted: impl Fn(&Domain) -> bool) -> bool {
        let selection = &*self.imp().selection;
        let position = (0..selection.n_items()).find(|&i| {
            selection
                .item(i)
                .and_downcast::<Domain>()
                .is_some_and(|d| wanted(&d))
        });
        if let Some(position) = position {
            selection.set_selected(position);
        }
        position.is_some()
    }

    pub fn connect_selection_changed<F: Fn(Option<Domain>) + 'static>(&self, f: F) {
        self.imp()
            .selection
            .connect_selected_item_notify(move |s| f(s.selected_item().and_downcast::<Domain>()));
    }

    /// Typing anywhere in `widget` goes to the search field.
    pub fn capture_typing_from(&self, widget: &impl IsA<gtk::Widget>) {
        self.imp().search.set_key_capture_widget(Some(widget));
    }
}

type Format = fn(&glib::Value) -> String;

/// A column whose cells `build` makes for their list item.
fn cell_factory(
    build: impl Fn(&gtk::ListItem) -> DomainCell + 'static,
) -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(move |_, item| {
        let list_item = item.downcast_ref::<gtk::ListItem>().expect("a list item");
        list_item.set_child(Some(&build(list_item)));
    });
    factory
}

/// A column of labels showing a property, as text or through `format`.
fn text_column(property: &'static str, format: Option<Format>) -> gtk::SignalListItemFactory {
    cell_factory(move |list_item| {
        let label = gtk::Label::builder()
            .xalign(0.0)
            .hexpand(true)
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
        DomainCell::new(list_item, &[label.upcast()])
    })
}

/// The state column: an icon and the state in words.
fn state_column() -> gtk::SignalListItemFactory {
    cell_factory(|list_item| {
        let icon = gtk::Image::builder()
            .accessible_role(gtk::AccessibleRole::Presentation)
            .build();
        let label = gtk::Label::builder().xalign(0.0).build();
        item_property(list_item, "state-icon").bind(&icon, "icon-name", gtk::Widget::NONE);
        item_property(list_item, "state-label").bind(&label, "label", gtk::Widget::NONE);
        DomainCell::new(list_item, &[icon.upcast(), label.upcast()])
    })
}

/// The actions on a virtual machine, for its context menu.
fn domain_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    let power = gio::Menu::new();
    domain_action::append_items(
        &power,
        "win",
        &[DomainAction::Console, DomainAction::TextConsole],
    );
    domain_action::append_items(&power, "win", DomainAction::POWER);
    menu.append_section(None, &power);
    let saved = gio::Menu::new();
    domain_action::append_items(
        &saved,
        "win",
        &[DomainAction::Save, DomainAction::DiscardSaved],
    );
    menu.append_section(None, &saved);
    let other = gio::Menu::new();
    domain_action::append_items(
        &other,
        "win",
        &[
            DomainAction::Migrate,
            DomainAction::EditTags,
            DomainAction::Clone,
            DomainAction::UnmarkTemplate,
            DomainAction::Delete,
        ],
    );
    menu.append_section(None, &other);
    menu
}
