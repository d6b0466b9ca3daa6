//! A virtual machine's console with its controls: a header with Send Key, the machine's
//! power actions, fit, screenshot and fullscreen; the guest screen; and the states around
//! it (connecting, "not running" with Start, "disconnected" with Reconnect). Used by the
//! console window and, `embedded`, by the main window's Console view.
//!
//! The page holds a session only while it is mapped: leaving the Console view or closing
//! the window disconnects. It connects again by itself when the guest is started or its
//! QEMU process is replaced (a new domain id), and stays connected across a guest reboot
//! inside the same process. An embedded page gives way to the domain's console window
//! while one is open ("Open in its own window"), so one guest never has two sessions
//! fighting over its keyboard and mouse.

mod connect;
mod password;
mod spice;

use spice::SpiceBanner;

use crate::console::{ConnectOptions, ConsoleError};
use crate::i18n::gettext;
use crate::ui::backend::Tablet;
use crate::ui::domain_action::{self, DomainAction, DomainActionButton, DomainActionTarget};
use crate::ui::util::{load_status_icons_when_shown, show_error, BoundObject, Failure};
use crate::ui::{Application, Connection, ConsoleView, ConsoleWindow, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::ConsolePage)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/console_page.ui")]
    pub struct ConsolePage {
        #[template_child]
        pub window_title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub tablet_revealer: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub tablet_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub tablet_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub spice_banner: TemplateChild<SpiceBanner>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub view: TemplateChild<ConsoleView>,
        #[template_child]
        pub disconnected_page: TemplateChild<adw::StatusPage>,
        #[template_child]
        pub function_keys: TemplateChild<gio::Menu>,
        #[template_child]
        pub power_section: TemplateChild<gio::Menu>,
        /// Inside the main window rather than in a window of its own.
        #[property(get, set)]
        pub embedded: Cell<bool>,
        /// The guest screen scales to fit the page (else one to one).
        #[property(get, set)]
        pub fit: Cell<bool>,
        /// The domain shown, followed for its state.
        pub target: BoundObject<Domain>,
        /// The connection of the domain shown.
        pub connection: RefCell<Option<Connection>>,
        /// The domain id (QEMU process) the current session or attempt is for; `None`
        /// while there is none.
        pub opened_for: Cell<Option<Option<u32>>>,
        /// A connection attempt is under way.
        pub connecting: Cell<bool>,
        /// The VNC password the user typed for this target; only ever in memory.
        pub password: RefCell<Option<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConsolePage {
        const NAME: &'static str = "VdConsolePage";
        type Type = super::ConsolePage;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            ConsoleView::ensure_type();
            SpiceBanner::ensure_type();
            DomainActionButton::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
            domain_action::install(klass);
            klass.install_action(
                "console.send-key",
                Some(glib::VariantTy::STRING),
                |page, _, key| {
                    if let Some(key) = key.and_then(|k| k.str()).and_then(connect::send_key_named) {
                        page.imp().view.send_key(key);
                    }
                },
            );
            klass.install_action_async("console.paste-keys", None, |page, _, _| async move {
                page.paste_as_keystrokes().await
            });
            klass.install_action("console.fullscreen", None, |page, _, _| {
                if let Some(window) = page.root().and_downcast::<gtk::Window>() {
                    window.set_fullscreened(!window.is_fullscreen());
                }
            });
            klass.install_action("console.resize-guest", None, |page, _, _| {
                page.imp().view.resize_guest_to_widget()
            });
            klass.install_action("console.reconnect", None, |page, _, _| {
                page.connect_console()
            });
            klass.install_action("console.screenshot", None, |page, _, _| {
                page.save_screenshot()
            });
            klass.install_property_action("console.fit", "fit");
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks(functions)]
    impl ConsolePage {
        #[template_callback]
        fn not(value: bool) -> bool {
            !value
        }

        /// A spinning spinner keeps GTK restyling and relaying out the window on every
        /// frame even while its page is hidden: it spins only while it is shown.
        #[template_callback]
        fn spins(page: Option<String>) -> bool {
            page.as_deref() == Some("connecting")
        }

        /// What the title says under the machine's name: how to use the screen.
        #[template_callback]
        fn hint(grabbed: bool, relative_pointer: bool, connected: bool) -> String {
            if grabbed && relative_pointer {
                gettext("Press Ctrl+Alt to release the mouse and keyboard")
            } else if grabbed {
                gettext("Press Ctrl+Alt to release")
            } else if connected {
                gettext("Click to use the keyboard and mouse in the virtual machine")
            } else {
                String::new()
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConsolePage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            load_status_icons_when_shown(&self.stack);
            self.view
                .bind_property("fit", &*obj, "fit")
                .bidirectional()
                .sync_create()
                .build();
            // Fit or one to one, the same in every console and remembered between runs.
            if let Some(app) = gio::Application::default().and_downcast::<Application>() {
                app.settings()
                    .bind("console-scale-to-fit", &*obj, "fit")
                    .build();
            }
            domain_action::set_enabled(&*obj, None);
            domain_action::append_items(&self.power_section, "console", DomainAction::POWER);
            for n in 1..=12 {
                let item = gio::MenuItem::new(Some(&format!("Ctrl+Alt+F{n}")), None);
                item.set_action_and_target_value(
                    Some("console.send-key"),
                    Some(&format!("ctrl-alt-f{n}").to_variant()),
                );
                self.function_keys.append_item(&item);
            }
            self.view.connect_connected_notify(glib::clone!(
                #[weak]
                obj,
                move |view| {
                    if view.connected() {
                        obj.imp().connecting.set(false);
                        obj.imp().stack.set_visible_child_name("console");
                        view.grab_focus();
                    }
                }
            ));
            // "Resize Guest to Window" only where the guest's screen can be resized.
            obj.action_set_enabled("console.resize-guest", false);
            self.view.connect_guest_resizable_notify(glib::clone!(
                #[weak]
                obj,
                move |view| obj.action_set_enabled("console.resize-guest", view.guest_resizable())
            ));
            self.view.connect_guest_resize_failed(glib::clone!(
                #[weak]
                obj,
                move |_, reason| show_error(
                    &obj,
                    &Failure::with_detail(
                        // Translators: after "Resize Guest to Window", when the display
                        // (QEMU with a VGA video model) cannot resize the guest's screen.
                        gettext("The guest's screen cannot be resized from here"),
                        reason.to_owned()
                    )
                )
            ));
            self.view.connect_disconnected(glib::clone!(
                #[weak]
                obj,
                move |_, reason| obj.disconnected(reason)
            ));
            obj.refresh();
        }

        fn dispose(&self) {
            self.target.clear();
        }
    }

    impl WidgetImpl for ConsolePage {
        fn map(&self) {
            self.parent_map();
            self.obj().refresh();
        }

        fn unmap(&self) {
            self.obj().close_session();
            self.parent_unmap();
        }
    }

    impl BoxImpl for ConsolePage {}
}

glib::wrapper! {
    pub struct ConsolePage(ObjectSubclass<imp::ConsolePage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl Default for ConsolePage {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl ConsolePage {
    /// Shows the console of `domain` on `connection`, or nothing; the previous session
    /// closes.
    pub fn set_target(&self, target: Option<(&Connection, &Domain)>) {
        let imp = self.imp();
        let same = match (imp.target.get(), target) {
            (Some(old), Some((_, new))) => old == *new,
            (None, None) => true,
            _ => false,
        };
        if same {
            return;
        }
        self.close_session();
        imp.password.take();
        imp.target.clear();
        imp.connection.replace(target.map(|(c, _)| c.clone()));
        imp.spice_banner
            .set_connection(target.map(|(c, _)| c.clone()));
        imp.spice_banner.set_domain(target.map(|(_, d)| d.clone()));
        if let Some((_, domain)) = target {
            let refresh = domain.connect_revision_notify(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |_| page.refresh()
            ));
            let actions = domain_action::follow(self, domain);
            imp.target.set(domain.clone(), vec![refresh, actions]);
        }
        domain_action::set_enabled(self, target.map(|(_, d)| d));
        imp.window_title
            .set_title(&target.map(|(_, d)| d.name()).unwrap_or_default());
        self.refresh();
    }

    pub fn domain(&self) -> Option<Domain> {
        self.imp().target.get()
    }

    fn target(&self) -> Option<(Domain, Connection)> {
        let imp = self.imp();
        imp.target.get().zip(imp.connection.borrow().clone())
    }

    /// Brings the page in step with the domain: connects when it should and is not yet,
    /// or shows why there is no screen.
    pub fn refresh(&self) {
        let imp = self.imp();
        let Some((domain, _)) = self.target() else {
            self.close_session();
            self.show_tablet_banner(Tablet::Present);
            imp.stack.set_visible_child_name("none");
            return;
        };
        let tablet = domain.tablet();
        self.show_tablet_banner(tablet);
        // Without a tablet the guest's pointer is QEMU's PS/2 mouse, which moves by motion.
        imp.view.set_relative_pointer(tablet != Tablet::Present);
        if !self.is_mapped() {
            return;
        }
        if self.held_elsewhere() {
            self.close_session();
            imp.stack.set_visible_child_name("elsewhere");
        } else if !domain.state().is_active() {
            self.close_session();
            imp.stack.set_visible_child_name("stopped");
        } else if domain.spice_only() {
            self.close_session();
            imp.stack.set_visible_child_name("spice");
        } else if imp.opened_for.get() != Some(domain.hypervisor_id()) {
            // Never opened, or a new QEMU process: the old socket is gone.
            self.connect_console();
        }
    }

    /// Whether the domain's own console window is open (only asked by an embedded page).
    fn held_elsewhere(&self) -> bool {
        let (true, Some(domain)) = (self.embedded(), self.domain()) else {
            return false;
        };
        let app = self
            .root()
            .and_downcast::<gtk::Window>()
            .and_then(|w| w.application());
        app.into_iter()
            .flat_map(|app| app.windows())
            .filter_map(|w| w.downcast::<ConsoleWindow>().ok())
            .any(|w| w.is_visible() && w.domain().as_ref() == Some(&domain))
    }

    /// Ends the session, if any; the next [`Self::refresh`] of a running domain connects.
    pub fn close_session(&self) {
        let imp = self.imp();
        imp.view.close();
        imp.opened_for.set(None);
        imp.connecting.set(false);
    }

    fn show_tablet_banner(&self, tablet: Tablet) {
        let imp = self.imp();
        let text = match tablet {
            Tablet::Present => None,
            Tablet::Missing => Some(gettext(
                "The mouse may not follow your pointer exactly: this virtual machine has no USB tablet.",
            )),
            Tablet::AtNextStart => Some(gettext(
                "A USB tablet was added; it takes effect when the virtual machine starts again.",
            )),
        };
        imp.tablet_button.set_visible(tablet == Tablet::Missing);
        if let Some(text) = &text {
            imp.tablet_label.set_label(text);
        }
        // Hidden, not only folded away, so that screen readers skip it too.
        imp.tablet_revealer.set_visible(text.is_some());
        imp.tablet_revealer.set_reveal_child(text.is_some());
    }

    fn disconnected(&self, reason: &str) {
        let imp = self.imp();
        imp.connecting.set(false);
        let running = self.domain().is_some_and(|d| d.state().is_active());
        if !running {
            imp.stack.set_visible_child_name("stopped");
            return;
        }
        match imp.view.last_error() {
            Some(ConsoleError::PasswordRequired) => self.ask_password(false),
            Some(ConsoleError::AuthenticationFailed(_)) => self.ask_password(true),
            Some(ConsoleError::Tls(tls)) => self.show_disconnected(&connect::tls_in_words(&tls)),
            _ => self.show_disconnected(reason),
        }
    }

    /// The "disconnected" state, with Reconnect, saying `reason`.
    fn show_disconnected(&self, reason: &str) {
        let imp = self.imp();
        imp.disconnected_page
            .set_description(Some(&glib::markup_escape_text(reason)));
        imp.stack.set_visible_child_name("disconnected");
    }

    fn connect_console(&self) {
        let Some((domain, connection)) = self.target() else {
            return;
        };
        let imp = self.imp();
        imp.view.close();
        imp.opened_for.set(Some(domain.hypervisor_id()));
        imp.connecting.set(true);
        imp.stack.set_visible_child_name("connecting");
        let attempt = imp.opened_for.get();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let source = connect::console_source(&connection, &domain).await;
                let typed = page.imp().password.borrow().clone();
                let password = match &source {
                    Ok(source) => connect::password_for(source, typed, &connection, &domain).await,
                    Err(_) => None,
                };
                let imp = page.imp();
                let current = page.domain().as_ref() == Some(&domain);
                if !current || !imp.connecting.get() || imp.opened_for.get() != attempt {
                    return; // superseded while libvirt answered
                }
                match source {
                    Ok(source) => imp.view.open(
                        source,
                        ConnectOptions {
                            password,
                            server_name: connect::tls_server_name(&connection),
                            ..ConnectOptions::default()
                        },
                    ),
                    Err(error) => page.disconnected(&error.in_words()),
                }
            }
        ));
    }

    /// Types the clipboard's text into the guest, key by key.
    async fn paste_as_keystrokes(&self) {
        let imp = self.imp();
        match imp.view.clipboard().read_text_future().await {
            Ok(Some(text)) => imp.view.type_text(&text).await,
            Ok(None) => show_error(self, &Failure::new(gettext("The clipboard holds no text"))),
            Err(e) => show_error(
                self,
                &Failure::with_detail(gettext("The clipboard could not be read"), e.to_string()),
            ),
        }
    }

    fn save_screenshot(&self) {
        let Some(texture) = self.imp().view.screen_texture() else {
            return;
        };
        let chooser = gtk::FileChooserNative::new(
            Some(&gettext("Save Screenshot")),
            self.root().and_downcast_ref::<gtk::Window>(),
            gtk::FileChooserAction::Save,
            Some(&gettext("_Save")),
            Some(&gettext("_Cancel")),
        );
        let name = self.domain().map(|d| d.name()).unwrap_or_default();
        chooser.set_current_name(&format!("{}.png", name.replace('/', "_")));
        chooser.connect_response(glib::clone!(
            #[strong]
            chooser,
            #[weak(rename_to = page)]
            self,
            move |_, response| {
                let path = chooser.file().and_then(|f| f.path());
                if let (gtk::ResponseType::Accept, Some(path)) = (response, path) {
                    if let Err(e) = texture.save_to_png(&path) {
                        show_error(
                            &page,
                            &Failure::with_detail(
                                gettext("The screenshot could not be saved"),
                                e.to_string(),
                            ),
                        );
                    }
                }
            }
        ));
        chooser.show();
    }
}

impl DomainActionTarget for ConsolePage {
    const GROUP: &'static str = "console";

    fn action_target(&self) -> Option<(Connection, Domain)> {
        self.target().map(|(d, c)| (c, d))
    }
}
