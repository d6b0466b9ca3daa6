//! The application: one instance per user session (a second launch hands its command line
//! to the running one), its actions and its command-line flags.

use crate::config;
use crate::i18n::gettext;
use crate::ui::backend::{distinct_titles, Command};
use crate::ui::{settings::new_settings, Connection, ConsoleWindow, Domain, Window};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use std::time::Duration;

/// What a command line asks of the running instance.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub connect: Vec<String>,
    pub show_domain_console: Option<String>,
    pub show_domain_creator: bool,
}

impl Request {
    fn from_options(options: &glib::VariantDict) -> Self {
        Self {
            connect: options
                .lookup::<Vec<String>>("connect")
                .ok()
                .flatten()
                .unwrap_or_default(),
            show_domain_console: options
                .lookup::<String>("show-domain-console")
                .ok()
                .flatten(),
            show_domain_creator: options.contains("show-domain-creator"),
        }
    }
}

mod imp {
    use super::*;
    use std::cell::{Cell, OnceCell, RefCell};
    use std::ops::ControlFlow;

    #[derive(Default)]
    pub struct Application {
        pub settings: OnceCell<gio::Settings>,
        pub connections: OnceCell<gio::ListStore>,
        pub stats_paused: Cell<bool>,
        /// Where ssh's askpass program finds this instance, until startup serves it.
        pub askpass: RefCell<Option<crate::askpass::Rendezvous>>,
        pub askpass_service: OnceCell<crate::ui::credentials::AskpassService>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Application {
        const NAME: &'static str = "VdApplication";
        type Type = super::Application;
        type ParentType = adw::Application;
    }

    impl ObjectImpl for Application {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().add_options();
        }
    }

    impl ApplicationImpl for Application {
        fn startup(&self) {
            self.parent_startup();
            // The GTK main loop runs GLib's default context, where libvirt's events live.
            crate::ui::backend::events::drive_from_main_loop();
            gtk::Window::set_default_icon_name(config::APP_ID);
            self.obj().setup_actions();
            self.obj().serve_credentials();
        }

        fn activate(&self) {
            self.parent_activate();
            self.obj().main_window().present();
        }

        fn handle_local_options(&self, options: &glib::VariantDict) -> ControlFlow<glib::ExitCode> {
            if options.contains("version") {
                println!("virtdeck {}", config::VERSION);
                return ControlFlow::Break(glib::ExitCode::SUCCESS);
            }
            self.parent_handle_local_options(options)
        }

        fn command_line(&self, command_line: &gio::ApplicationCommandLine) -> glib::ExitCode {
            let request = Request::from_options(&command_line.options_dict());
            tracing::debug!(?request, "command line");
            self.obj().handle_request(request);
            glib::ExitCode::SUCCESS
        }
    }

    impl GtkApplicationImpl for Application {}
    impl AdwApplicationImpl for Application {}
}

glib::wrapper! {
    pub struct Application(ObjectSubclass<imp::Application>)
        @extends adw::Application, gtk::Application, gio::Application,
        @implements gio::ActionGroup, gio::ActionMap;
}

impl Default for Application {
    fn default() -> Self {
        Self::new()
    }
}

impl Application {
    pub fn new() -> Self {
        glib::Object::builder()
            .property("application-id", config::APP_ID)
            .property("flags", gio::ApplicationFlags::HANDLES_COMMAND_LINE)
            .property("resource-base-path", "/io/github/virtdeck/Virtdeck")
            .build()
    }

    /// Hands over the rendezvous of ssh's askpass program; served from startup on.
    pub fn set_askpass(&self, rendezvous: crate::askpass::Rendezvous) {
        self.imp().askpass.replace(Some(rendezvous));
    }

    /// Logins ask their questions in the window: ssh's through the askpass program,
    /// libvirt's own through its authentication callback.
    fn serve_credentials(&self) {
        use crate::ui::credentials::{serve_libvirt_credentials, AskpassService};
        serve_libvirt_credentials(self);
        let Some(rendezvous) = self.imp().askpass.take() else {
            return;
        };
        match AskpassService::start(self, rendezvous) {
            Ok(service) => {
                let _ = self.imp().askpass_service.set(service);
            }
            Err(error) => tracing::warn!("SSH prompts cannot reach the window: {error}"),
        }
    }

    /// The window's end of ssh's askpass program, which also keeps the passwords to
    /// remember; `None` when it could not start.
    pub fn askpass_service(&self) -> Option<crate::ui::credentials::AskpassService> {
        self.imp().askpass_service.get().cloned()
    }

    pub fn settings(&self) -> &gio::Settings {
        self.imp().settings.get_or_init(new_settings)
    }

    /// The connections shown in the main window, a list of [`Connection`]s. Whenever it
    /// changes, connections that share a title get their URI in their distinct title.
    pub fn connections(&self) -> &gio::ListStore {
        self.imp().connections.get_or_init(|| {
            let store = gio::ListStore::new::<Connection>();
            store.connect_items_changed(|store, _, _, _| tell_titles_apart(store));
            store
        })
    }

    pub fn connection(&self, uri: &str) -> Option<Connection> {
        self.connections()
            .iter::<Connection>()
            .filter_map(Result::ok)
            .find(|c| c.uri() == uri)
    }

    /// The statistics interval from the preferences; `None` when they are turned off or
    /// paused (the window is minimized).
    fn stats_interval(&self) -> Option<Duration> {
        let seconds = self.settings().uint("stats-interval");
        (seconds > 0 && !self.imp().stats_paused.get()).then(|| Duration::from_secs(seconds.into()))
    }

    fn apply_stats_interval(&self) {
        let interval = self.stats_interval();
        for connection in self
            .connections()
            .iter::<Connection>()
            .filter_map(Result::ok)
        {
            connection.send(Command::SetStatsInterval(interval));
        }
    }

    /// Stops statistics while nobody can see them.
    pub fn set_stats_paused(&self, paused: bool) {
        if self.imp().stats_paused.replace(paused) != paused {
            self.apply_stats_interval();
        }
    }

    /// Closes the connection with `uri` and forgets it.
    pub fn remove_connection(&self, uri: &str) {
        let store = self.connections();
        if let Some(connection) = self.connection(uri) {
            if let Some(position) = store.find(&connection) {
                store.remove(position);
            }
            connection.send(Command::Quit);
        }
        self.set_listed("connections", uri, false);
        self.set_listed("autoconnect", uri, false);
    }

    fn add_options(&self) {
        use glib::{OptionArg, OptionFlags};
        self.add_main_option(
            "connect",
            b'c'.into(),
            OptionFlags::NONE,
            OptionArg::StringArray,
            &gettext("Connect to the libvirt URI (may be given more than once)"),
            Some("URI"),
        );
        self.add_main_option(
            "show-domain-console",
            glib::Char::from(0),
            OptionFlags::NONE,
            OptionArg::String,
            &gettext("Show the console of the virtual machine NAME"),
            Some("NAME"),
        );
        self.add_main_option(
            "show-domain-creator",
            glib::Char::from(0),
            OptionFlags::NONE,
            OptionArg::None,
            &gettext("Show the New Virtual Machine assistant"),
            None,
        );
        self.add_main_option(
            "version",
            glib::Char::from(0),
            OptionFlags::NONE,
            OptionArg::None,
            &gettext("Show the version and exit"),
            None,
        );
        self.set_option_context_summary(Some(&gettext(
            "Manage the virtual machines of your Linux host.",
        )));
    }

    fn setup_actions(&self) {
        let new_vm = gio::ActionEntry::builder("new-vm")
            .activate(|app: &Self, _, _| app.main_window().show_creator())
            .build();
        let add_connection = gio::ActionEntry::builder("add-connection")
            .activate(|app: &Self, _, _| {
                super::add_connection::present(&app.main_window());
            })
            .build();
        let preferences = gio::ActionEntry::builder("preferences")
            .activate(|app: &Self, _, _| super::preferences::present(app))
            .build();
        let about = gio::ActionEntry::builder("about")
            .activate(|app: &Self, _, _| app.show_about())
            .build();
        // Closing the windows (rather than quitting outright) lets them save their state;
        // the application ends with its last window.
        let quit = gio::ActionEntry::builder("quit")
            .activate(|app: &Self, _, _| app.windows().iter().for_each(|w| w.close()))
            .build();
        self.add_action_entries([new_vm, add_connection, preferences, about, quit]);
        self.settings().connect_changed(
            Some("stats-interval"),
            glib::clone!(
                #[weak(rename_to = app)]
                self,
                move |_, _| app.apply_stats_interval()
            ),
        );
        super::domain_action::set_accels(self);

        self.set_accels_for_action("app.new-vm", &["<Control>n"]);
        self.set_accels_for_action("app.add-connection", &["<Control><Shift>n"]);
        self.set_accels_for_action("app.preferences", &["<Control>comma"]);
        self.set_accels_for_action("app.quit", &["<Control>q"]);
        self.set_accels_for_action("window.close", &["<Control>w"]);
    }

    /// The main window, made on first use.
    pub fn main_window(&self) -> Window {
        self.windows()
            .into_iter()
            .find_map(|w| w.downcast::<Window>().ok())
            .unwrap_or_else(|| Window::new(self))
    }

    /// Opens (or raises) the console window of `domain` on `connection`. One session per
    /// guest: the main window's Console view gives way to the window while it is open.
    pub fn open_console(&self, connection: &Connection, domain: &Domain) {
        let main = self
            .windows()
            .into_iter()
            .find_map(|w| w.downcast::<Window>().ok());
        let open = self
            .windows()
            .into_iter()
            .filter_map(|w| w.downcast::<ConsoleWindow>().ok())
            .find(|w| w.domain().as_ref() == Some(domain));
        let window = open.unwrap_or_else(|| {
            let window = ConsoleWindow::new(self.upcast_ref(), connection, domain);
            // The Console view takes the guest back when its window closes.
            let main = main.as_ref().map(|m| m.downgrade());
            window.connect_destroy(move |_| {
                let main = main.clone();
                glib::idle_add_local_once(move || {
                    if let Some(main) = main.and_then(|m| m.upgrade()) {
                        main.refresh_console_view();
                    }
                });
            });
            window
        });
        window.present();
        if let Some(main) = main {
            main.refresh_console_view();
        }
    }

    /// Carries out what a command line asked for, in this instance or a second launch.
    fn handle_request(&self, request: Request) {
        if request.connect.is_empty() {
            self.restore_connections();
        }
        for uri in &request.connect {
            self.add_connection(uri, false, true);
        }
        let window = self.main_window();
        window.present();
        if let Some(uri) = request.connect.first() {
            window.select_connection(uri);
        }
        if request.show_domain_creator {
            window.show_creator();
        }
        if let Some(name) = request.show_domain_console {
            window.show_domain_console(&name);
        }
    }

    /// On start, the connections remembered from last time; on the very first start, the
    /// system daemon when reachable, else the user session.
    fn restore_connections(&self) {
        if self.connections().n_items() > 0 {
            return;
        }
        let saved = self.settings().strv("connections");
        if saved.is_empty() {
            self.add_connection(crate::host::libvirtd::default_uri(), false, true);
        } else {
            let autoconnect = self.settings().strv("autoconnect");
            for uri in saved.iter() {
                let connect = autoconnect.iter().any(|a| a == uri);
                self.add_connection(uri.as_str(), false, connect);
            }
        }
    }

    /// Adds a connection unless it is there already; `remember` stores it in GSettings and
    /// `connect` opens it right away.
    pub fn add_connection(&self, uri: &str, remember: bool, connect: bool) {
        let store = self.connections();
        let known = store
            .iter::<Connection>()
            .filter_map(Result::ok)
            .any(|c| c.uri() == uri);
        if !known {
            let connection = Connection::new(uri, self.stats_interval(), connect);
            connection.connect_error(glib::clone!(
                #[weak(rename_to = app)]
                self,
                move |connection, message| {
                    app.main_window()
                        .show_error(&crate::ui::util::Failure::new(format!(
                            "{}: {message}",
                            connection.distinct_title()
                        )));
                }
            ));
            if let Some(askpass) = self.imp().askpass_service.get() {
                askpass.follow(&connection);
            }
            store.append(&connection);
        }
        if remember {
            self.set_listed("connections", uri, true);
        }
    }

    /// Whether `uri` is opened when Virtdeck starts.
    pub fn set_autoconnect(&self, uri: &str, autoconnect: bool) {
        self.set_listed("autoconnect", uri, autoconnect);
    }

    /// Adds `uri` to, or removes it from, the string-list setting `key`.
    fn set_listed(&self, key: &str, uri: &str, listed: bool) {
        let settings = self.settings();
        let mut values: Vec<String> = settings.strv(key).iter().map(|s| s.to_string()).collect();
        let present = values.iter().any(|v| v == uri);
        if present == listed {
            return;
        }
        if listed {
            values.push(uri.to_owned());
        } else {
            values.retain(|v| v != uri);
        }
        if let Err(e) = settings.set_strv(key, values) {
            tracing::warn!("cannot save {key}: {e}");
        }
    }

    fn show_about(&self) {
        let about = adw::AboutWindow::builder()
            .application_name("Virtdeck")
            .application_icon(config::APP_ID)
            .developer_name(gettext("The Virtdeck developers"))
            .version(config::VERSION)
            .website("https://github.com/virtdeck/virtdeck")
            .issue_url("https://github.com/virtdeck/virtdeck/issues")
            .license_type(gtk::License::Gpl30)
            // Translators: put your names here, one per line.
            .translator_credits(gettext("translator-credits"))
            .transient_for(&self.main_window())
            .modal(true)
            .build();
        about.present();
    }
}

/// Gives every connection of `store` its distinct title ([`distinct_titles`]).
fn tell_titles_apart(store: &gio::ListStore) {
    let connections: Vec<Connection> = store.iter::<Connection>().flatten().collect();
    let hosts: Vec<(String, String)> = connections.iter().map(|c| (c.title(), c.uri())).collect();
    for (connection, title) in connections.iter().zip(distinct_titles(&hosts)) {
        if connection.distinct_title() != title {
            connection.set_distinct_title(title);
        }
    }
}
