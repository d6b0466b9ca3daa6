//! The main window: connections in a sidebar (below "All Virtual Machines"), the selected
//! connection's virtual machines (or every connected host's), and the details of the
//! selected machine.

use crate::i18n::gettext_f;
use crate::ui::domain_action::{self, DomainActionTarget};
use crate::ui::util::{load_status_icons_when_shown, Failure};
use crate::ui::{Application, Connection, ConsolePage, Domain, DomainDetails, DomainList};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gdk, gio, glib, CompositeTemplate};

mod actions;
mod daemon_status;
mod delete_dialog;
mod migrate_dialog;
mod sidebar;

pub(crate) use delete_dialog::confirm_delete;
pub(crate) use migrate_dialog::open_migrate;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window.ui")]
    pub struct Window {
        #[template_child]
        pub toast_overlay: TemplateChild<adw::ToastOverlay>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub connection_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub domain_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub domain_list: TemplateChild<DomainList>,
        #[template_child]
        pub connection_status: TemplateChild<adw::StatusPage>,
        #[template_child]
        pub connect_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub connecting_spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub daemon_help: TemplateChild<gtk::Box>,
        #[template_child]
        pub daemon_fix: TemplateChild<gtk::Label>,
        #[template_child]
        pub use_session_button: TemplateChild<gtk::Button>,
        /// The last diagnosis of the libvirt daemon, by URI, while it is not connected.
        pub diagnosis: std::cell::RefCell<Option<(String, crate::host::daemon::Diagnosis)>>,
        /// A diagnosis is running.
        pub diagnosing: std::cell::Cell<bool>,
        #[template_child]
        pub details: TemplateChild<DomainDetails>,
        #[template_child]
        pub console_page: TemplateChild<ConsolePage>,
        #[template_child]
        pub content_paned: TemplateChild<gtk::Paned>,
        #[template_child]
        pub domain_views: TemplateChild<adw::ViewStack>,
        /// The list's width before the Console view widened the pane beside it.
        pub list_width: std::cell::Cell<Option<i32>>,
        /// Signal handlers on the shown connection, dropped when another is shown.
        pub shown: crate::ui::util::BoundObject<Connection>,
        /// A console asked for on the command line before the list was loaded.
        pub pending_console: std::cell::RefCell<Option<String>>,
        /// The handler keeping the actions in step with the selected domain's state.
        pub followed: crate::ui::util::BoundObject<Domain>,
        /// The handlers keeping the actions in step with several selected domains' states.
        pub followed_many: std::cell::RefCell<Vec<(Domain, glib::SignalHandlerId)>>,
        /// "All Virtual Machines" is shown: every connection's machines.
        pub all: std::cell::Cell<bool>,
        /// Every connection's machines in one list, following the connections.
        pub all_domains: std::cell::OnceCell<gtk::FlattenListModel>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Window {
        const NAME: &'static str = "VdWindow";
        type Type = super::Window;
        type ParentType = adw::ApplicationWindow;

        fn class_init(klass: &mut Self::Class) {
            DomainList::ensure_type();
            DomainDetails::ensure_type();
            ConsolePage::ensure_type();
            klass.bind_template();
            domain_action::install(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for Window {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.setup_actions();
            load_status_icons_when_shown(&self.stack);
            load_status_icons_when_shown(&self.domain_stack);
            // GTK 4.8 animates a spinning spinner off screen too (a core's percent).
            self.connecting_spinner
                .connect_map(|spinner| spinner.set_spinning(true));
            self.connecting_spinner
                .connect_unmap(|spinner| spinner.set_spinning(false));
            self.domain_list.capture_typing_from(&*obj);
            self.domain_views
                .connect_visible_child_name_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |views| obj.make_room_for(views.visible_child_name().as_deref())
                ));
            self.domain_list.connect_selection_changed(glib::clone!(
                #[weak]
                obj,
                move |list| {
                    obj.imp()
                        .details
                        .set_selected(list.selected_domains().len() as u32);
                    obj.show_details(list.selected().as_ref());
                    obj.follow_selection();
                }
            ));
        }
    }

    impl WidgetImpl for Window {
        fn realize(&self) {
            self.parent_realize();
            self.obj().pause_stats_while_minimized();
        }
    }

    impl WindowImpl for Window {
        fn close_request(&self) -> glib::Propagation {
            self.obj().save_window_state();
            self.parent_close_request()
        }
    }

    impl ApplicationWindowImpl for Window {}
    impl AdwApplicationWindowImpl for Window {}
}

glib::wrapper! {
    pub struct Window(ObjectSubclass<imp::Window>)
        @extends adw::ApplicationWindow, gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Buildable,
            gtk::ConstraintTarget, gtk::Native, gtk::Root, gtk::ShortcutManager;
}

impl Window {
    pub fn new(app: &Application) -> Self {
        let window: Self = glib::Object::builder().property("application", app).build();
        window.restore_window_state(app.settings());
        window.bind_connections(app.connections());
        window
    }

    fn app(&self) -> Option<Application> {
        self.application().and_downcast::<Application>()
    }

    fn restore_window_state(&self, settings: &gio::Settings) {
        self.set_default_size(settings.int("window-width"), settings.int("window-height"));
        if settings.boolean("window-maximized") {
            self.maximize();
        }
    }

    fn save_window_state(&self) {
        let Some(app) = self.app() else {
            return;
        };
        let settings = app.settings();
        let (width, height) = self.default_size();
        let saved = settings
            .set_int("window-width", width)
            .and_then(|_| settings.set_int("window-height", height))
            .and_then(|_| settings.set_boolean("window-maximized", self.is_maximized()));
        if let Err(e) = saved {
            tracing::warn!("cannot save the window size: {e}");
        }
    }

    /// Statistics stop while the window is minimized: nobody sees them.
    fn pause_stats_while_minimized(&self) {
        let Some(toplevel) = self.surface().and_downcast::<gdk::Toplevel>() else {
            return;
        };
        toplevel.connect_state_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |toplevel| {
                let hidden = toplevel.state().contains(gdk::ToplevelState::MINIMIZED);
                if let Some(app) = window.app() {
                    app.set_stats_paused(hidden);
                }
            }
        ));
    }

    fn show_page_for(&self, connections: &gio::ListStore) {
        let page = if connections.n_items() == 0 {
            "empty"
        } else {
            "main"
        };
        self.imp().stack.set_visible_child_name(page);
    }

    /// Shows every connection's machines in one list with a Host column.
    fn show_all(&self, all: &gtk::FlattenListModel) {
        let imp = self.imp();
        imp.shown.clear();
        imp.all.set(true);
        let hosts = self
            .app()
            .map(|app| app.connections().clone().upcast::<gio::ListModel>());
        imp.domain_list.set_hosts(hosts.as_ref());
        imp.domain_list.set_model(Some(all.upcast_ref()));
        imp.domain_list.set_loaded(true);
        imp.domain_stack.set_visible_child_name("list");
        self.show_details(imp.domain_list.selected().as_ref());
    }

    /// Shows the domains of `connection`, or its state when it is not connected.
    fn show_connection(&self, connection: Option<&Connection>) {
        let imp = self.imp();
        imp.shown.clear();
        imp.all.set(false);
        imp.domain_list.set_hosts(None);
        imp.domain_list
            .set_model(connection.map(|c| c.domains().upcast_ref::<gio::ListModel>()));
        let Some(connection) = connection else {
            self.show_details(None);
            return;
        };
        let update = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |connection: &Connection| window.update_connection_page(connection)
        );
        let retry_console = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_: &Connection| {
                if let Some(name) = window.imp().pending_console.take() {
                    window.show_domain_console(&name);
                }
            }
        );
        // The summary ("3 virtual machines") is there once the list has arrived.
        let loaded = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |connection: &Connection| {
                let list = &window.imp().domain_list;
                list.set_loaded(!connection.summary().is_empty());
            }
        );
        loaded(connection);
        let handlers = vec![
            connection.connect_connected_notify(update.clone()),
            connection.connect_status_notify(update),
            connection.connect_summary_notify(retry_console),
            connection.connect_summary_notify(loaded),
        ];
        imp.shown.set(connection.clone(), handlers);
        self.update_connection_page(connection);
        self.show_details(imp.domain_list.selected().as_ref());
    }

    fn update_connection_page(&self, connection: &Connection) {
        let imp = self.imp();
        if connection.connected() {
            imp.diagnosis.take();
            imp.domain_stack.set_visible_child_name("list");
        } else {
            self.show_status(connection);
            imp.domain_stack.set_visible_child_name("status");
        }
        self.update_action_states();
    }

    /// The connection chosen in the sidebar; `None` while "All Virtual Machines" is.
    pub fn selected_connection(&self) -> Option<Connection> {
        self.imp().shown.get()
    }

    /// The connection `domain` belongs to.
    pub fn connection_of(&self, domain: &Domain) -> Option<Connection> {
        if !self.imp().all.get() {
            return self.selected_connection();
        }
        self.imp().domain_list.host_of(domain)
    }

    pub fn selected_domain(&self) -> Option<Domain> {
        let domain = self.imp().domain_list.selected()?;
        self.connection_of(&domain)
            .is_some_and(|c| c.connected())
            .then_some(domain)
    }

    /// The selected machines of connected hosts, with their connections.
    fn selected_targets(&self) -> Vec<(Connection, Domain)> {
        self.imp()
            .domain_list
            .selected_domains()
            .into_iter()
            .filter_map(|d| Some((self.connection_of(&d).filter(|c| c.connected())?, d)))
            .collect()
    }

    /// While several machines are selected, the actions follow each one's state.
    fn follow_selection(&self) {
        let imp = self.imp();
        for (domain, handler) in imp.followed_many.take() {
            domain.disconnect(handler);
        }
        let domains = imp.domain_list.selected_domains();
        if domains.len() < 2 {
            return;
        }
        let followed = domains
            .into_iter()
            .map(|domain| {
                let handler = domain.connect_state_label_notify(glib::clone!(
                    #[weak(rename_to = window)]
                    self,
                    move |_| window.update_action_states()
                ));
                (domain, handler)
            })
            .collect();
        imp.followed_many.replace(followed);
        self.update_action_states();
    }

    /// A machine dropped on `destination` in the sidebar: Migrate… with that destination,
    /// unless it is the machine's own host or not connected. Whether the drop was taken.
    /// Migrate… moves one machine: one of several selected ones dropped is refused, in words.
    pub(crate) fn migrate_by_drop(&self, domain: &Domain, destination: &Connection) -> bool {
        if !destination.connected() {
            return false;
        }
        let selected = self.imp().domain_list.selected_domains();
        if selected.len() > 1 && selected.contains(domain) {
            migrate_dialog::refuse_several(self.upcast_ref(), &selected, destination);
            return false;
        }
        let Some(source) = self.connection_of(domain).filter(|s| s != destination) else {
            return false;
        };
        migrate_dialog::open_migrate_to(
            self.upcast_ref(),
            &source,
            domain,
            Some(&destination.uri()),
        );
        true
    }

    fn show_details(&self, domain: Option<&Domain>) {
        let imp = self.imp();
        let connection = domain
            .and_then(|d| self.connection_of(d))
            .or_else(|| self.selected_connection());
        imp.details.set_connection(connection.as_ref());
        imp.details.set_domain(domain);
        imp.console_page.set_target(
            connection
                .as_ref()
                .zip(domain)
                .filter(|(c, _)| c.connected()),
        );
        imp.followed.clear();
        if let Some(domain) = domain {
            let handler = domain_action::follow(self, domain);
            imp.followed.set(domain.clone(), vec![handler]);
        }
        self.update_action_states();
    }

    /// The Console view wants room: it takes three fifths of the width beside the sidebar
    /// (when it has less) and gives it back to the list when the Details view returns.
    fn make_room_for(&self, view: Option<&str>) {
        let imp = self.imp();
        let paned = &imp.content_paned;
        if view == Some("console") {
            let list = paned.position();
            let wanted = paned.width() * 2 / 5;
            if list > wanted && wanted > 0 {
                imp.list_width.set(Some(list));
                paned.set_position(wanted);
            }
        } else if let Some(list) = imp.list_width.take() {
            paned.set_position(list);
        }
    }

    /// Tells the user about `error` (see [`crate::ui::util::show_error`]).
    pub fn show_error(&self, error: &dyn crate::ui::util::UserError) {
        crate::ui::util::show_error(&*self.imp().toast_overlay, error);
    }

    /// Tells the user that something went well, in a toast.
    pub fn toast(&self, message: &str) {
        self.imp()
            .toast_overlay
            .add_toast(adw::Toast::new(&glib::markup_escape_text(message)));
    }

    /// Opens the New Virtual Machine assistant.
    pub fn show_creator(&self) {
        crate::ui::wizard::present(self);
    }

    /// Shows the new machine `name` of connection `uri` selected in the list once libvirt
    /// has reported it, and opens its console when `console`.
    pub fn reveal_domain(&self, uri: &str, name: &str, console: bool) {
        self.select_connection(uri);
        let Some(connection) = self.selected_connection().filter(|c| c.uri() == uri) else {
            return;
        };
        let reveal = glib::clone!(
            #[weak(rename_to = window)]
            self,
            #[to_owned]
            name,
            move || {
                if console {
                    window.show_domain_console(&name);
                } else {
                    window.imp().domain_list.select_name(&name);
                }
            }
        );
        if connection.domain_by_name(name).is_some() {
            reveal();
            return;
        }
        let handler = std::rc::Rc::new(std::cell::RefCell::new(None));
        let id = connection.domains().connect_items_changed(glib::clone!(
            #[weak]
            connection,
            #[strong]
            handler,
            #[to_owned]
            name,
            move |store, _, _, _| {
                if connection.domain_by_name(&name).is_some() {
                    if let Some(id) = handler.borrow_mut().take() {
                        store.disconnect(id);
                    }
                    reveal();
                }
            }
        ));
        handler.replace(Some(id));
    }

    /// Selects the machine called `name` and opens its console.
    pub fn show_domain_console(&self, name: &str) {
        if !self.imp().domain_list.select_name(name) {
            if self
                .selected_connection()
                .is_some_and(|c| c.summary().is_empty())
            {
                // Not loaded yet: try again when the list arrives.
                self.imp().pending_console.replace(Some(name.to_owned()));
                return;
            }
            self.show_error(&Failure::new(gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "There is no virtual machine called “{name}”",
                &[("name", name)],
            )));
            return;
        }
        self.open_console();
    }

    /// Opens (or raises) the console window of the selected machine.
    pub fn open_console(&self) {
        if let (Some((connection, domain)), Some(app)) = (self.action_target(), self.app()) {
            app.open_console(&connection, &domain);
        }
    }

    /// The Console view gives a guest's screen way to its console window, and takes it
    /// back when that closes.
    pub(crate) fn refresh_console_view(&self) {
        self.imp().console_page.refresh();
    }

    /// Enables the domain actions that make sense for the selected domains' states.
    fn update_action_states(&self) {
        let domains: Vec<Domain> = self
            .selected_targets()
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        domain_action::set_enabled_for(self, &domains);
    }
}

impl DomainActionTarget for Window {
    const GROUP: &'static str = "win";

    fn action_target(&self) -> Option<(Connection, Domain)> {
        let domain = self.selected_domain()?;
        Some((self.connection_of(&domain)?, domain))
    }

    fn action_targets(&self) -> Vec<(Connection, Domain)> {
        self.selected_targets()
    }
}
