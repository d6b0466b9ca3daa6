//! The list of virtual machines — one connection's, or every connected host's with a Host
//! column: a GtkColumnView over a filter and sort model, with type-to-search, a tag filter,
//! grouping by tag, sortable columns, a context menu, several machines selected at once, and
//! rows dragged onto a host of the sidebar; an empty connection and a search that finds
//! nothing say so instead of showing an empty table.

mod cell;
mod tags;

use crate::i18n::{gettext, gettext_f};
use crate::ui::domain::{format_memory, state_icons};
use crate::ui::domain_action::{self, DomainAction};
use crate::ui::graph::Graph;
use crate::ui::settings::new_settings;
use crate::ui::util::load_status_icons_when_shown;
use crate::ui::{Connection, Domain};
use cell::Cells;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, gio, glib};
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

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
        pub filters: TemplateChild<gtk::EveryFilter>,
        #[template_child]
        pub sort: TemplateChild<gtk::SortListModel>,
        #[template_child]
        pub selection: TemplateChild<gtk::MultiSelection>,
        #[template_child]
        pub tag_button: TemplateChild<gtk::MenuButton>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub name_column: TemplateChild<gtk::ColumnViewColumn>,
        #[template_child]
        pub host_column: TemplateChild<gtk::ColumnViewColumn>,
        /// A reference to the Host column, which is out of the view while hidden.
        pub host_column_kept: OnceCell<gtk::ColumnViewColumn>,
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
        /// The tag the list is filtered by; empty for none.
        #[property(get, set = Self::set_tag)]
        pub tag: RefCell<String>,
        /// Machines are grouped by tag: sorted by their first tag, the Tags column first.
        #[property(get, set = Self::set_grouped)]
        pub grouped: Cell<bool>,
        /// Shows only machines with `tag`.
        pub tag_filter: OnceCell<gtk::CustomFilter>,
        /// Orders machines by their first tag while grouped, before the column's order.
        pub group_sorter: OnceCell<gtk::CustomSorter>,
        /// The connections whose machines are listed together, for the Host column; `None`
        /// while one connection's machines are listed.
        pub hosts: RefCell<Option<gio::ListModel>>,
        /// What the selection callbacks last heard: the one selected machine, and how many.
        pub told: RefCell<(Option<Domain>, u64)>,
        pub on_selection: RefCell<Vec<SelectionCallback>>,
        /// The machine each cell shows.
        pub cells: Rc<Cells>,
    }

    impl DomainList {
        fn set_tag(&self, tag: String) {
            if self.tag.replace(tag) != *self.tag.borrow() {
                if let Some(filter) = self.tag_filter.get() {
                    filter.changed(gtk::FilterChange::Different);
                }
                self.obj().notify_tag();
            }
        }

        fn set_grouped(&self, grouped: bool) {
            if self.grouped.replace(grouped) != grouped {
                self.obj().show_grouped();
                self.obj().notify_grouped();
            }
        }
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
            // The tag button's menu: `list.tag::web` filters by "web", `list.tag::` shows
            // all machines; `list.group-by-tag` toggles the grouping.
            klass.install_property_action("list.tag", "tag");
            klass.install_property_action("list.group-by-tag", "grouped");
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks(functions)]
    impl DomainList {
        /// The page of the stack: the table, "none yet" or "no match".
        #[template_callback]
        fn page_name(
            shown: u32,
            loaded: bool,
            search: Option<String>,
            tag: Option<String>,
        ) -> &'static str {
            let searching =
                search.is_some_and(|s| !s.is_empty()) || tag.is_some_and(|t| !t.is_empty());
            match (shown, searching, loaded) {
                (0, true, _) => "no-match",
                (0, false, true) => "empty",
                _ => "list",
            }
        }

        /// The tag button's words: the tag filtered by, if any.
        #[template_callback]
        fn tag_button_label(tag: Option<String>) -> String {
            match tag.filter(|t| !t.is_empty()) {
                Some(tag) => gettext_f(
                    // Translators: {tag} is a tag the list is filtered by.
                    "Tag: {tag}",
                    &[("tag", &tag)],
                ),
                None => gettext("Tags"),
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
            let obj = self.obj();
            load_status_icons_when_shown(&self.stack);
            obj.setup_columns();
            obj.setup_menu();
            obj.setup_tags();
            obj.setup_selection();
            obj.setup_drag();
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

impl DomainList {
    pub fn new() -> Self {
        glib::Object::new()
    }

    fn setup_columns(&self) {
        let imp = self.imp();
        imp.name_column
            .set_factory(Some(&self.label_column("name", 16, |d| d.name())));
        imp.state_column.set_factory(Some(&self.state_column()));
        self.setup_host_column();
        // 0 until known: the first look at a long list may not tell them yet.
        imp.vcpus_column
            .set_factory(Some(&self.label_column("vcpus", 4, |d| match d.vcpus() {
                0 => "—".to_owned(),
                vcpus => vcpus.to_string(),
            })));
        imp.memory_column.set_factory(Some(&self.label_column(
            "memory",
            4,
            |d| match d.memory() {
                0 => "—".to_owned(),
                kib => format_memory(kib),
            },
        )));
        imp.cpu_column
            .set_factory(Some(&self.label_column("cpu-percent", 4, |d| {
                let percent = d.cpu_percent();
                if percent < 0.0 {
                    "—".to_owned()
                } else {
                    format!("{percent:.1} %")
                }
            })));
        self.setup_tags_column();
        imp.address_column
            .set_factory(Some(&self.label_column("address", 4, |d| {
                let address = d.address();
                if address.is_empty() {
                    "—".to_owned()
                } else {
                    address
                }
            })));
        imp.sparkline_column.set_factory(Some(&imp.cells.factory(
            None,
            Graph::new_sparkline,
            |graph, domain| graph.set_domain(domain),
        )));
        let settings = imp.settings.get_or_init(new_settings);
        settings
            .bind("cpu-sparklines", &*imp.sparkline_column, "visible")
            .get()
            .build();
        imp.view
            .sort_by_column(Some(&*imp.name_column), gtk::SortType::Ascending);
    }

    /// The Host column: the title of each machine's connection, sorted by it.
    fn setup_host_column(&self) {
        let list = self.downgrade();
        let title = move |domain: &Domain| {
            list.upgrade()
                .map(|l| l.host_title(domain))
                .unwrap_or_default()
        };
        let text = title.clone();
        let factory = self.imp().cells.factory(
            None,
            || cell_text(12),
            move |cell, domain| {
                if let Some(domain) = domain {
                    cell.set_text(Some(&text(domain)));
                }
            },
        );
        self.imp().host_column.set_factory(Some(&factory));
        let sorter = gtk::CustomSorter::new(move |a, b| {
            match (a.downcast_ref::<Domain>(), b.downcast_ref::<Domain>()) {
                (Some(a), Some(b)) => title(a).to_lowercase().cmp(&title(b).to_lowercase()).into(),
                _ => gtk::Ordering::Equal,
            }
        });
        let imp = self.imp();
        imp.host_column.set_sorter(Some(&sorter));
        // GTK 4.8 builds the cells of a hidden column all the same: the column is in the
        // view only while it is shown (see `set_hosts`).
        let _ = imp.host_column_kept.set(imp.host_column.get());
        imp.view.remove_column(&imp.host_column);
    }

    /// A column of labels showing `text` of each machine, again when its `property`
    /// changes.
    fn label_column(
        &self,
        property: &'static str,
        width_chars: u32,
        text: impl Fn(&Domain) -> String + 'static,
    ) -> gtk::SignalListItemFactory {
        self.imp().cells.factory(
            Some(property),
            move || cell_text(width_chars),
            move |cell, domain| {
                if let Some(domain) = domain {
                    cell.set_text(Some(&text(domain)));
                }
            },
        )
    }

    /// The state column: the state in words, after its icon (which changes whenever the
    /// words do). The icon is the label's background, from the style sheet
    /// ([`state_icon_css`]): one widget instead of a box, an image and a label.
    fn state_column(&self) -> gtk::SignalListItemFactory {
        let provider = gtk::CssProvider::new();
        provider.load_from_data(&state_icon_css());
        gtk::style_context_add_provider_for_display(
            &self.display(),
            &provider,
            gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
        );
        self.imp().cells.factory(
            Some("state-label"),
            || gtk::Label::builder().xalign(0.0).build(),
            |label, domain| {
                if let Some(domain) = domain {
                    label.set_css_classes(&[STATE_CELL, &domain.state_icon()]);
                    label.set_label(&domain.state_label());
                }
            },
        )
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
                        .and_then(|picked| list.imp().cells.at(&picked))
                        .map(|(_, domain)| domain);
                    // Within the selection the menu acts on all selected machines.
                    if let Some(domain) = domain.filter(|d| !list.selected_domains().contains(d)) {
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

    /// Shows which of `hosts` (the connections) each machine is on, in a Host column:
    /// for a model of several connections' machines. `None` hides the column.
    pub fn set_hosts(&self, hosts: Option<&gio::ListModel>) {
        let imp = self.imp();
        imp.hosts.replace(hosts.cloned());
        let view = &*imp.view;
        let column = &*imp.host_column;
        let position = |column: &gtk::ColumnViewColumn| {
            view.columns()
                .iter::<gtk::ColumnViewColumn>()
                .position(|c| c.as_ref() == Ok(column))
        };
        match (hosts.is_some(), position(column).is_some()) {
            (true, false) => {
                // After the Name column.
                let name = position(&imp.name_column).map_or(0, |p| p + 1);
                view.insert_column(name as u32, column);
            }
            (false, true) => view.remove_column(column),
            _ => {}
        }
    }

    /// The connection of `domain` among those of [`Self::set_hosts`].
    pub fn host_of(&self, domain: &Domain) -> Option<Connection> {
        host_of(self.imp().hosts.borrow().as_ref()?, domain)
    }

    /// What the Host column calls the host of `domain`: its title, with its URI when
    /// another host has the same title.
    fn host_title(&self, domain: &Domain) -> String {
        self.host_of(domain)
            .map(|c| c.distinct_title())
            .unwrap_or_default()
    }

    /// The one selected machine; `None` when none or several are selected.
    pub fn selected(&self) -> Option<Domain> {
        let mut domains = self.selected_domains();
        (domains.len() == 1).then(|| domains.pop()).flatten()
    }

    /// The selected machines, in the list's order.
    pub fn selected_domains(&self) -> Vec<Domain> {
        let selection = &*self.imp().selection;
        let set = selection.selection();
        (0..set.size())
            .filter_map(|i| selection.item(set.nth(i as u32)).and_downcast::<Domain>())
            .collect()
    }

    /// Selects `domain` (alone) when it is shown.
    fn select(&self, domain: &Domain) -> bool {
        self.select_where(|d| d == domain)
    }

    /// Selects the domain called `name` (alone) when it is shown.
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
            selection.select_item(position, true);
        }
        position.is_some()
    }

    /// Calls `f` when the selection changes: another machine, or how many.
    pub fn connect_selection_changed<F: Fn(&Self) + 'static>(&self, f: F) {
        self.imp().on_selection.borrow_mut().push(Box::new(f));
    }

    /// Like a single selection, a list with machines always has one selected; the callbacks
    /// hear of real changes only.
    fn setup_selection(&self) {
        let selection = &*self.imp().selection;
        selection.connect_selection_changed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, _, _| list.selection_changed()
        ));
        selection.connect_items_changed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, _, _, _| list.selection_changed()
        ));
    }

    fn selection_changed(&self) {
        let imp = self.imp();
        let selection = &*imp.selection;
        let count = selection.selection().size();
        if count == 0 && selection.n_items() > 0 {
            // Selecting emits this again.
            selection.select_item(0, true);
            return;
        }
        let now = (self.selected(), count);
        if *imp.told.borrow() == now {
            return;
        }
        imp.told.replace(now);
        for f in imp.on_selection.borrow().iter() {
            f(self);
        }
    }

    /// A row dragged onto a host in the sidebar carries its machine ([`Domain`]); the
    /// row's first cell (its name) goes along under the pointer.
    fn setup_drag(&self) {
        let view = &*self.imp().view;
        let drag = gtk::DragSource::new();
        drag.set_actions(gdk::DragAction::COPY);
        drag.connect_prepare(glib::clone!(
            #[weak(rename_to = list)]
            self,
            #[weak]
            view,
            #[upgrade_or]
            None,
            move |drag, x, y| {
                let picked = view.pick(x, y, gtk::PickFlags::DEFAULT)?;
                let (cell, domain) = list.imp().cells.at(&picked)?;
                drag.set_icon(Some(&gtk::WidgetPaintable::new(Some(&cell))), 0, 0);
                Some(gdk::ContentProvider::for_value(&domain.to_value()))
            }
        ));
        view.add_controller(drag);
    }

    /// Typing anywhere in `widget` goes to the search field.
    pub fn capture_typing_from(&self, widget: &impl IsA<gtk::Widget>) {
        self.imp().search.set_key_capture_widget(Some(widget));
    }
}

/// The connection among `hosts` whose machine `domain` is.
pub fn host_of(hosts: &gio::ListModel, domain: &Domain) -> Option<Connection> {
    hosts
        .iter::<Connection>()
        .flatten()
        .find(|c| c.owns(domain))
}

/// What [`DomainList::connect_selection_changed`] calls.
type SelectionCallback = Box<dyn Fn(&DomainList)>;

/// A cell's text: left-aligned, `width_chars` wide, ellipsized past that. An inscription,
/// not a label: it never measures its text, which a cell of a long list need not.
fn cell_text(width_chars: u32) -> gtk::Inscription {
    gtk::Inscription::builder()
        .xalign(0.0)
        .hexpand(true)
        .text_overflow(gtk::InscriptionOverflow::EllipsizeEnd)
        .min_chars(width_chars)
        .nat_chars(width_chars)
        .build()
}

/// A cell's label: left-aligned, ellipsized past `width_chars`.
fn cell_label(width_chars: i32) -> gtk::Label {
    gtk::Label::builder()
        .xalign(0.0)
        .hexpand(true)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .width_chars(width_chars)
        .build()
}

/// The style class of the state column's labels (see style.css).
const STATE_CELL: &str = "state-cell";

/// Each state icon as the background of a state label with its name as a style class.
fn state_icon_css() -> String {
    state_icons()
        .into_iter()
        .map(|icon| {
            format!(".{STATE_CELL}.{icon} {{ background-image: -gtk-icontheme(\"{icon}\"); }}\n")
        })
        .collect()
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
