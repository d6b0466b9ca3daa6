//! A virtual machine's console in its own window: connecting, the guest screen, "not
//! running" with a Start button, or "disconnected" with Reconnect. It reconnects by itself
//! when the guest is started again.

use crate::console::{ConnectOptions, ConsoleSource, SendKey};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::{error::describe, events::open_graphics_fd, Command, ConnectionName};
use crate::ui::{Connection, ConsoleView, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/console_window.ui")]
    pub struct ConsoleWindow {
        #[template_child]
        pub window_title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub view: TemplateChild<ConsoleView>,
        #[template_child]
        pub disconnected_page: TemplateChild<adw::StatusPage>,
        #[template_child]
        pub function_keys: TemplateChild<gio::Menu>,
        pub domain: RefCell<Option<(Domain, Connection, glib::SignalHandlerId)>>,
        /// A connection attempt is under way.
        pub connecting: std::cell::Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConsoleWindow {
        const NAME: &'static str = "VdConsoleWindow";
        type Type = super::ConsoleWindow;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            ConsoleView::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ConsoleWindow {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.setup_actions();
            for n in 1..=12 {
                let item = gio::MenuItem::new(Some(&format!("Ctrl+Alt+F{n}")), None);
                item.set_action_and_target_value(
                    Some("console.send-key"),
                    Some(&format!("ctrl-alt-f{n}").to_variant()),
                );
                self.function_keys.append_item(&item);
            }
            self.view.connect_grabbed_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update_subtitle()
            ));
            self.view.connect_connected_notify(glib::clone!(
                #[weak]
                obj,
                move |view| {
                    if view.connected() {
                        obj.imp().connecting.set(false);
                        obj.imp().stack.set_visible_child_name("console");
                        view.grab_focus();
                    }
                    obj.update_subtitle();
                }
            ));
            self.view.connect_disconnected(glib::clone!(
                #[weak]
                obj,
                move |_, reason| obj.disconnected(reason)
            ));
        }

        fn dispose(&self) {
            if let Some((domain, _, handler)) = self.domain.take() {
                domain.disconnect(handler);
            }
        }
    }

    impl WidgetImpl for ConsoleWindow {}
    impl WindowImpl for ConsoleWindow {
        fn close_request(&self) -> glib::Propagation {
            self.view.close();
            self.parent_close_request()
        }
    }
    impl AdwWindowImpl for ConsoleWindow {}
}

glib::wrapper! {
    pub struct ConsoleWindow(ObjectSubclass<imp::ConsoleWindow>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

/// The key combination a `console.send-key` target names.
fn send_key_named(name: &str) -> Option<SendKey> {
    match name {
        "ctrl-alt-delete" => Some(SendKey::CtrlAltDelete),
        "ctrl-alt-backspace" => Some(SendKey::CtrlAltBackspace),
        "print" => Some(SendKey::PrintScreen),
        other => other
            .strip_prefix("ctrl-alt-f")
            .and_then(|n| n.parse().ok())
            .filter(|n| (1..=12).contains(n))
            .map(SendKey::CtrlAltF),
    }
}

impl ConsoleWindow {
    /// Opens the console of `domain` on `connection`.
    pub fn new(application: &gtk::Application, connection: &Connection, domain: &Domain) -> Self {
        let window: Self = glib::Object::builder()
            .property("application", application)
            .build();
        let title = gettext_f(
            // Translators: the console window's title; {name} is the virtual machine.
            "{name} — Console",
            &[("name", &domain.name())],
        );
        window.set_title(Some(&title));
        window.imp().window_title.set_title(&domain.name());
        let handler = domain.connect_state_label_notify(glib::clone!(
            #[weak]
            window,
            move |domain| window.state_changed(domain)
        ));
        window
            .imp()
            .domain
            .replace(Some((domain.clone(), connection.clone(), handler)));
        window.state_changed(domain);
        window
    }

    pub fn domain(&self) -> Option<Domain> {
        self.target().map(|(d, _)| d)
    }

    fn target(&self) -> Option<(Domain, Connection)> {
        self.imp()
            .domain
            .borrow()
            .as_ref()
            .map(|(d, c, _)| (d.clone(), c.clone()))
    }

    fn state_changed(&self, domain: &Domain) {
        let imp = self.imp();
        let running = domain.state().is_active();
        if !running {
            imp.view.close();
            imp.stack.set_visible_child_name("stopped");
        } else if !imp.view.connected() && !imp.connecting.get() {
            self.connect_console();
        }
    }

    fn disconnected(&self, reason: &str) {
        let imp = self.imp();
        imp.connecting.set(false);
        let running = self.domain().is_some_and(|d| d.state().is_active());
        if !running {
            imp.stack.set_visible_child_name("stopped");
            return;
        }
        imp.disconnected_page
            .set_description(Some(&glib::markup_escape_text(reason)));
        imp.stack.set_visible_child_name("disconnected");
    }

    fn update_subtitle(&self) {
        let view = &self.imp().view;
        let subtitle = if view.grabbed() {
            gettext("Press Ctrl+Alt to release")
        } else if view.connected() {
            gettext("Click to use the keyboard and mouse in the virtual machine")
        } else {
            String::new()
        };
        self.imp().window_title.set_subtitle(&subtitle);
    }

    /// Connects the view: through a socket libvirt hands over for a local connection, so
    /// no TCP port needs to be reachable, else to the graphics listen address.
    fn connect_console(&self) {
        let Some((domain, connection)) = self.target() else {
            return;
        };
        self.imp().connecting.set(true);
        self.imp().stack.set_visible_child_name("connecting");
        if let Some(source) = address_override() {
            self.imp().view.open(source, ConnectOptions::default());
            return;
        }
        let uri = connection.uri();
        let name = ConnectionName::parse(&uri);
        let uuid = domain.uuid();
        let graphics = domain.info().graphics.into_iter().find(|g| g.kind == "vnc");
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let source = match name.host {
                    None => gio::spawn_blocking(move || local_socket(&uri, &uuid))
                        .await
                        .unwrap_or_else(|_| Err(gettext("The console could not be opened"))),
                    Some(host) => remote_address(host, graphics),
                };
                match source {
                    Ok(source) => window.imp().view.open(source, ConnectOptions::default()),
                    Err(reason) => window.disconnected(&reason),
                }
            }
        ));
    }

    fn setup_actions(&self) {
        let group = gio::SimpleActionGroup::new();
        let send_key = gio::SimpleAction::new("send-key", Some(glib::VariantTy::STRING));
        send_key.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, target| {
                if let Some(key) = target.and_then(|t| t.str()).and_then(send_key_named) {
                    window.imp().view.send_key(key);
                }
            }
        ));
        let power = gio::SimpleAction::new("power", Some(glib::VariantTy::STRING));
        power.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, target| {
                let Some((domain, connection)) = window.target() else {
                    return;
                };
                let uuid = domain.uuid();
                let command = match target.and_then(|t| t.str()) {
                    Some("start") => Command::Start(uuid),
                    Some("shutdown") => Command::Shutdown(uuid),
                    Some("reboot") => Command::Reboot(uuid),
                    Some("force-off") => Command::ForceOff(uuid),
                    _ => return,
                };
                connection.send(command);
            }
        ));
        let fullscreen = gio::SimpleAction::new("fullscreen", None);
        fullscreen.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| window.set_fullscreened(!window.is_fullscreen())
        ));
        let fit = gio::PropertyAction::new("fit", &*self.imp().view, "fit");
        let resize = gio::SimpleAction::new("resize-guest", None);
        resize.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| window.imp().view.resize_guest_to_widget()
        ));
        let reconnect = gio::SimpleAction::new("reconnect", None);
        reconnect.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| window.connect_console()
        ));
        let screenshot = gio::SimpleAction::new("screenshot", None);
        screenshot.connect_activate(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, _| window.save_screenshot()
        ));
        group.add_action(&send_key);
        group.add_action(&power);
        group.add_action(&fullscreen);
        group.add_action(&fit);
        group.add_action(&resize);
        group.add_action(&reconnect);
        group.add_action(&screenshot);
        self.insert_action_group("console", Some(&group));

        let shortcuts = gtk::ShortcutController::new();
        shortcuts.set_scope(gtk::ShortcutScope::Managed);
        shortcuts.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string("F11"),
            Some(gtk::NamedAction::new("console.fullscreen")),
        ));
        self.add_controller(shortcuts);
    }

    fn save_screenshot(&self) {
        let Some(texture) = self.imp().view.screen_texture() else {
            return;
        };
        let chooser = gtk::FileChooserNative::new(
            Some(&gettext("Save Screenshot")),
            Some(self),
            gtk::FileChooserAction::Save,
            Some(&gettext("_Save")),
            Some(&gettext("_Cancel")),
        );
        let name = self.domain().map(|d| d.name()).unwrap_or_default();
        chooser.set_current_name(&format!("{}.png", name.replace('/', "_")));
        chooser.connect_response(glib::clone!(
            #[weak(rename_to = window)]
            self,
            #[strong]
            chooser,
            move |_, response| {
                let path = chooser.file().and_then(|f| f.path());
                if let (gtk::ResponseType::Accept, Some(path)) = (response, path) {
                    if let Err(e) = texture.save_to_png(&path) {
                        tracing::warn!("cannot save the screenshot: {e}");
                        window.imp().disconnected_page.set_description(None);
                    }
                }
            }
        ));
        chooser.show();
    }
}

/// `VIRTDECK_CONSOLE_ADDRESS=host:port` makes consoles connect to that TCP address
/// instead of the guest's own display (benches/console puts a counting proxy there).
fn address_override() -> Option<ConsoleSource> {
    let value = std::env::var("VIRTDECK_CONSOLE_ADDRESS").ok()?;
    let (host, port) = value.rsplit_once(':')?;
    let port = port.parse().ok()?;
    tracing::info!("console address overridden: {value}");
    Some(ConsoleSource::Tcp {
        host: host.to_owned(),
        port,
    })
}

/// A socket connected to the guest's VNC server, from libvirt.
fn local_socket(uri: &str, uuid: &str) -> Result<ConsoleSource, String> {
    // The socket outlives the connection, which closes when dropped.
    let conn = virt::connect::Connect::open(Some(uri)).map_err(|e| describe(&e))?;
    conn.lookup_domain_by_uuid_string(uuid)
        .and_then(|domain| open_graphics_fd(&domain, 0, true))
        .map(ConsoleSource::Socket)
        .map_err(|e| describe(&e))
}

/// The guest's VNC address on a remote host.
fn remote_address(
    host: String,
    graphics: Option<crate::libvirt::domain::Graphics>,
) -> Result<ConsoleSource, String> {
    let graphics = graphics.ok_or_else(|| gettext("The virtual machine has no VNC display"))?;
    let port = graphics
        .port
        .ok_or_else(|| gettext("The virtual machine's display has no port yet"))?;
    let listen = graphics
        .listen
        .filter(|l| !l.is_empty() && l != "0.0.0.0" && l != "::")
        .unwrap_or(host);
    Ok(ConsoleSource::Tcp { host: listen, port })
}

#[cfg(test)]
mod tests {
    use super::send_key_named;
    use crate::console::SendKey;

    #[test]
    fn send_key_targets_name_every_combination() {
        assert_eq!(
            send_key_named("ctrl-alt-delete"),
            Some(SendKey::CtrlAltDelete)
        );
        assert_eq!(send_key_named("ctrl-alt-f7"), Some(SendKey::CtrlAltF(7)));
        assert_eq!(send_key_named("ctrl-alt-f13"), None);
        assert_eq!(send_key_named("print"), Some(SendKey::PrintScreen));
    }
}
