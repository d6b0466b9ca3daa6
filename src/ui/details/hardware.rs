//! The Hardware page of the details: the machine's memory and processors as a form with
//! Apply and Revert, its CD-ROM drives (insert an image, eject) and network interfaces
//! (add, remove, cable in or out), changed through the connection's worker
//! ([`EditRequest`]). What waits for the next shutdown is said so; a change made elsewhere
//! while the form has unapplied edits is offered as "Reload" instead of overwriting them.

mod boot;
mod disks;
mod nic_dialog;

use crate::i18n::{gettext, gettext_f};
use crate::spec::edit::{BootDevice, DisplayKind, DomainEdit, Hardware, InputKind};
use crate::ui::backend::edit::{DomainConfig, EditRequest};
use crate::ui::backend::Request;
use crate::ui::util::{show_error, BoundObject, ChangedElsewhereBanner, Failure, ShowsDomain};
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod cpu;
mod devices;
mod overview;
mod row_button;

/// A device row's data: title, subtitle and the key its buttons act on, with the button
/// words and actions.
struct DeviceRow {
    title: String,
    subtitle: String,
    key: String,
    buttons: Vec<(String, &'static str, glib::Variant, bool)>,
}

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::HardwarePage)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware.ui")]
    pub struct HardwarePage {
        #[template_child]
        pub cdroms: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub nics: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub memory: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub max_memory: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub vcpus: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub max_vcpus: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub title_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub description_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub display_kind: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub boot_first: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub listen_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub listen_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub password_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub password_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub inputs: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub cpu: TemplateChild<cpu::CpuSection>,
        #[template_child]
        pub devices: TemplateChild<devices::DevicesSection>,
        #[template_child]
        pub disks_section: TemplateChild<disks::HardwareDisks>,
        #[template_child]
        pub boot_section: TemplateChild<boot::HardwareBoot>,
        /// Start the machine when the host boots; follows the switch, applied at once.
        #[property(get, set = Self::set_autostart)]
        pub autostart: Cell<bool>,
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// The form differs from the machine's configuration.
        #[property(get)]
        pub dirty: Cell<bool>,
        /// Applied edits wait for the next shutdown, in words; empty when none does.
        #[property(get)]
        pub pending_note: RefCell<String>,
        /// The path typed for the CD-ROM's next image.
        #[property(get, set)]
        pub image_path: RefCell<String>,
        /// The persistent XML the page was filled from, for the Machine group.
        #[property(get)]
        pub config_xml: RefCell<String>,
        /// The configuration the form was filled from.
        pub loaded: RefCell<Option<Hardware>>,
        pub cdrom_rows: gio::ListStore,
        pub nic_rows: gio::ListStore,
        pub input_rows: gio::ListStore,
        /// A free MAC address for the next NIC.
        pub free_mac: RefCell<String>,
        /// The page is being filled from the machine: changes are not edits.
        pub filling: Cell<bool>,
    }

    impl Default for HardwarePage {
        fn default() -> Self {
            let rows = || gio::ListStore::new::<glib::BoxedAnyObject>();
            Self {
                cdroms: TemplateChild::default(),
                nics: TemplateChild::default(),
                memory: TemplateChild::default(),
                max_memory: TemplateChild::default(),
                vcpus: TemplateChild::default(),
                max_vcpus: TemplateChild::default(),
                title_entry: TemplateChild::default(),
                description_entry: TemplateChild::default(),
                display_kind: TemplateChild::default(),
                boot_first: TemplateChild::default(),
                listen_entry: TemplateChild::default(),
                listen_row: TemplateChild::default(),
                password_row: TemplateChild::default(),
                password_entry: TemplateChild::default(),
                inputs: TemplateChild::default(),
                cpu: TemplateChild::default(),
                devices: TemplateChild::default(),
                disks_section: TemplateChild::default(),
                boot_section: TemplateChild::default(),
                autostart: Cell::default(),
                input_rows: rows(),
                domain: BoundObject::default(),
                connection: RefCell::default(),
                dirty: Cell::default(),
                pending_note: RefCell::default(),
                image_path: RefCell::default(),
                config_xml: RefCell::default(),
                loaded: RefCell::default(),
                cdrom_rows: rows(),
                nic_rows: rows(),
                free_mac: RefCell::default(),
                filling: Cell::default(),
            }
        }
    }

    impl HardwarePage {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            if domain.as_ref() == self.domain.get().as_ref() {
                return;
            }
            let obj = self.obj();
            self.loaded.replace(None);
            // A new NIC needs a free MAC address, which comes with the configuration.
            obj.action_set_enabled("hardware.add-nic", false);
            obj.set_pending(String::new());
            match &domain {
                Some(domain) => {
                    // Its changes come through the banner (`on_reload`).
                    self.domain.set(domain.clone(), Vec::new());
                    obj.reload();
                }
                None => self.domain.clear(),
            }
        }

        /// The switch moved: tell the worker, unless the value came from the machine.
        fn set_autostart(&self, autostart: bool) {
            if self.autostart.replace(autostart) == autostart {
                return;
            }
            self.obj().notify_autostart();
            let obj = self.obj().clone();
            if self.loaded.borrow().is_none() || obj.imp().filling.get() {
                return;
            }
            glib::spawn_future_local(async move { obj.send_autostart(autostart).await });
        }

        pub(super) fn set_flag(&self, cell: &Cell<bool>, name: &str, value: bool) {
            if cell.replace(value) != value {
                self.obj().notify(name);
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HardwarePage {
        const NAME: &'static str = "VdHardwarePage";
        type Type = super::HardwarePage;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            cpu::CpuSection::ensure_type();
            devices::DevicesSection::ensure_type();
            overview::OverviewGroup::ensure_type();
            ChangedElsewhereBanner::ensure_type();
            disks::HardwareDisks::ensure_type();
            boot::HardwareBoot::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
            let string = Some(glib::VariantTy::STRING);
            install_edit(klass, "hardware.eject", string, |_, target| {
                Some(DomainEdit::EjectMedia {
                    target: target?.get()?,
                })
            });
            install_edit(klass, "hardware.insert", string, |page, target| {
                Some(DomainEdit::InsertMedia {
                    target: target?.get()?,
                    path: page.image_path().trim().to_owned(),
                })
            });
            klass.install_action("hardware.change-cdrom", string, |page, _, target| {
                if let Some(target) = target.and_then(|t| t.get::<String>()) {
                    page.imp().disks_section.open_dialog(Some(target), true);
                }
            });
            klass.install_action_async("hardware.edit-nic", string, |page, _, mac| async move {
                if let Some(mac) = mac.and_then(|m| m.get::<String>()) {
                    nic_dialog::edit(&page, mac).await;
                }
            });
            install_edit(klass, "hardware.remove-nic", string, |_, mac| {
                Some(DomainEdit::RemoveNic { mac: mac?.get()? })
            });
            let mac_and_state = glib::VariantTy::new("(sb)").ok();
            install_edit(klass, "hardware.link", mac_and_state, |_, target| {
                let (mac, up) = target?.get::<(String, bool)>()?;
                Some(DomainEdit::LinkState { mac, up })
            });
            install_edit(klass, "hardware.add-input", string, |_, kind| {
                input_kind(&kind?.get::<String>()?).map(DomainEdit::AddInput)
            });
            install_edit(klass, "hardware.remove-input", string, |_, kind| {
                input_kind(&kind?.get::<String>()?).map(DomainEdit::RemoveInput)
            });
            devices::install_actions(klass);
            install_edit(klass, "hardware.clear-display-password", None, |_, _| {
                Some(DomainEdit::DisplayPassword(None))
            });
            klass.install_action_async("hardware.add-nic", None, |page, _, _| async move {
                nic_dialog::add(&page).await;
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for HardwarePage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.action_set_enabled("hardware.add-nic", false);
            self.cdroms.bind_model(Some(&self.cdrom_rows), device_row);
            self.nics.bind_model(Some(&self.nic_rows), device_row);
            self.inputs.bind_model(Some(&self.input_rows), device_row);
        }
    }

    #[gtk::template_callbacks]
    impl HardwarePage {
        #[template_callback]
        fn on_apply(&self) {
            let obj = self.obj().clone();
            glib::spawn_future_local(async move {
                let edits = obj.form_edits();
                if !edits.is_empty() {
                    obj.apply(edits).await;
                }
            });
        }

        /// The path of a volume chosen in the connection's pools becomes the image to
        /// insert.
        #[template_callback]
        async fn on_choose_volume(&self) {
            let obj = self.obj().clone();
            let Some(connection) = obj.connection() else {
                return;
            };
            let window = obj.root().and_downcast::<gtk::Window>();
            if let Some(volume) =
                crate::ui::host::choose_volume(window.as_ref(), &connection, true).await
            {
                obj.set_image_path(volume.path);
            }
        }

        #[template_callback]
        fn on_revert(&self) {
            self.obj().fill_form();
        }

        #[template_callback]
        fn on_reload(&self) {
            self.obj().reload();
        }

        #[template_callback(function)]
        fn not_empty(text: Option<String>) -> bool {
            text.is_some_and(|t| !t.is_empty())
        }

        #[template_callback]
        fn on_form_changed(&self) {
            if !self.filling.get() {
                self.obj().form_changed();
            }
        }
    }

    impl WidgetImpl for HardwarePage {}
    impl BoxImpl for HardwarePage {}
}

/// Installs the page action `name`, which applies the edit `edit` makes of its parameter.
fn install_edit(
    klass: &mut <imp::HardwarePage as ObjectSubclass>::Class,
    name: &str,
    parameter: Option<&glib::VariantTy>,
    edit: fn(&HardwarePage, Option<&glib::Variant>) -> Option<DomainEdit>,
) {
    klass.install_action_async(name, parameter, move |page, _, target| async move {
        if let Some(edit) = edit(&page, target.as_ref()) {
            page.apply(vec![edit]).await;
        }
    });
}

glib::wrapper! {
    pub struct HardwarePage(ObjectSubclass<imp::HardwarePage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl ShowsDomain for HardwarePage {
    fn shown(&self) -> (Option<Domain>, Option<Connection>) {
        (self.domain(), self.connection())
    }
}

impl HardwarePage {
    fn set_pending(&self, note: String) {
        if *self.imp().pending_note.borrow() != note {
            self.imp().pending_note.replace(note);
            self.notify_pending_note();
        }
    }

    /// Reads the machine's configuration and fills the page from it.
    fn reload(&self) {
        self.ask_about_shown(
            |uuid, reply| Request::Edit(EditRequest::Read { uuid, reply }),
            |page, answer| match answer {
                Ok(config) => page.show_config(&config),
                Err(error) => show_error(
                    page,
                    &Failure::with_detail(
                        gettext("Could not read the virtual machine’s hardware"),
                        error.to_string(),
                    ),
                ),
            },
        );
    }

    fn show_config(&self, config: &DomainConfig) {
        let imp = self.imp();
        let hardware = match Hardware::from_xml(&config.xml) {
            Ok(hardware) => hardware,
            Err(error) => {
                let title = gettext("Could not read the virtual machine’s hardware");
                show_error(self, &Failure::with_detail(title, error.to_string()));
                return;
            }
        };
        imp.free_mac.replace(config.free_mac.clone());
        imp.config_xml.replace(config.xml.clone());
        self.notify_config_xml();
        self.action_set_enabled("hardware.add-nic", true);
        replace_rows(&imp.cdrom_rows, cdrom_rows(&hardware));
        replace_rows(&imp.nic_rows, nic_rows(&hardware));
        replace_rows(&imp.input_rows, input_rows(&hardware));
        imp.disks_section.show(&hardware, config.active);
        imp.boot_section.show(hardware.boot_options.clone());
        imp.filling.set(true);
        self.set_autostart(config.autostart);
        imp.filling.set(false);
        imp.loaded.replace(Some(hardware));
        if !config.active {
            // A shut-off machine has nothing waiting.
            self.set_pending(String::new());
        }
        self.fill_form();
    }

    /// Sets the form to the loaded configuration.
    fn fill_form(&self) {
        let imp = self.imp();
        let Some(hw) = imp.loaded.borrow().clone() else {
            return;
        };
        // The maximums first, so that the current values fit.
        imp.filling.set(true);
        imp.max_memory.set_value(hw.max_memory_mib as f64);
        imp.memory.set_value(hw.memory_mib as f64);
        imp.max_vcpus.set_value(f64::from(hw.max_vcpus));
        imp.vcpus.set_value(f64::from(hw.vcpus));
        imp.title_entry.set_text(&hw.title);
        imp.description_entry.set_text(&hw.description);
        let spice = hw.displays.first() == Some(&DisplayKind::Spice);
        imp.display_kind.set_selected(u32::from(spice));
        imp.listen_entry.set_text(&hw.listen);
        imp.password_entry.set_text("");
        imp.password_row.set_subtitle(&if hw.display_password {
            gettext("Set: the viewer asks for it")
        } else {
            gettext("None")
        });
        self.action_set_enabled("hardware.clear-display-password", hw.display_password);
        imp.boot_first.set_selected(boot_index(hw.boot.first()));
        let uuid = self.domain().map(|d| d.uuid()).unwrap_or_default();
        imp.cpu.fill(&hw, self.connection(), uuid.clone());
        imp.devices.fill(&hw, self.connection(), uuid);
        imp.filling.set(false);
        self.form_changed();
    }

    /// The edits the form holds against the loaded configuration.
    fn form_edits(&self) -> Vec<DomainEdit> {
        let imp = self.imp();
        let Some(hw) = imp.loaded.borrow().clone() else {
            return Vec::new();
        };
        let value = |a: &gtk::Adjustment| a.value().round() as u64;
        let (memory, max_memory) = (value(&imp.memory), value(&imp.max_memory));
        let (vcpus, max_vcpus) = (value(&imp.vcpus) as u32, value(&imp.max_vcpus) as u32);
        let mut edits = Vec::new();
        if (memory, max_memory) != (hw.memory_mib, hw.max_memory_mib) {
            edits.push(DomainEdit::Memory {
                current_mib: memory,
                max_mib: max_memory,
            });
        }
        if (vcpus, max_vcpus) != (hw.vcpus, hw.max_vcpus) {
            edits.push(DomainEdit::Vcpus {
                current: vcpus,
                max: max_vcpus,
            });
        }
        let title = imp.title_entry.text().to_string();
        if title != hw.title {
            edits.push(DomainEdit::Title(title));
        }
        let description = imp.description_entry.text().to_string();
        if description != hw.description {
            edits.push(DomainEdit::Description(description));
        }
        let kind = if imp.display_kind.selected() == 1 {
            DisplayKind::Spice
        } else {
            DisplayKind::Vnc
        };
        let first = BOOT_DEVICES
            .get(imp.boot_first.selected() as usize)
            .copied()
            .unwrap_or(BootDevice::Hd);
        if boot_index(Some(&first)) != boot_index(hw.boot.first()) {
            let mut order = vec![first];
            order.extend(BOOT_DEVICES.into_iter().filter(|d| *d != first));
            edits.push(DomainEdit::BootOrder(order));
        }
        let listen = imp.listen_entry.text().trim().to_owned();
        // What the form showed: a machine without a display shows VNC.
        let shown = hw.displays.first().copied().unwrap_or(DisplayKind::Vnc);
        if kind != shown || listen != hw.listen {
            edits.push(DomainEdit::Display { kind, listen });
        }
        let password = imp.password_entry.text();
        if !password.is_empty() {
            edits.push(DomainEdit::DisplayPassword(Some(password.into())));
        }
        edits.extend(imp.cpu.edits(&hw));
        edits
    }

    fn form_changed(&self) {
        let imp = self.imp();
        let dirty = !self.form_edits().is_empty();
        imp.set_flag(&imp.dirty, "dirty", dirty);
        // A display every network reaches, with no password (none set, none typed): say so.
        let protected = imp
            .loaded
            .borrow()
            .as_ref()
            .is_some_and(|hw| hw.display_password)
            || !imp.password_entry.text().is_empty();
        let warning = if !protected && listens_beyond_this_host(imp.listen_entry.text().trim()) {
            gettext("Anyone who can reach this address can see and use the display: set a password")
        } else {
            String::new()
        };
        imp.listen_row.set_subtitle(&warning);
    }

    /// Sends `edits` to the worker; tells what failed, or what waits for the shutdown,
    /// then shows the configuration as it is now. Answers the edits that wait.
    async fn apply(&self, edits: Vec<DomainEdit>) -> Vec<DomainEdit> {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return Vec::new();
        };
        let uuid = domain.uuid();
        let answer = connection
            .request(|reply| Request::Edit(EditRequest::Apply { uuid, edits, reply }))
            .await;
        let waiting = match answer {
            Ok(applied) if applied.next_shutdown.is_empty() => Vec::new(),
            Ok(applied) => {
                self.set_pending(gettext("Takes effect after the next shutdown"));
                applied.next_shutdown
            }
            Err(error) => {
                let title = gettext_f("Could not change “{name}”", &[("name", &domain.name())]);
                show_error(self, &Failure::with_detail(title, error.to_string()));
                Vec::new()
            }
        };
        self.reload();
        waiting
    }
}

impl HardwarePage {
    async fn send_autostart(&self, autostart: bool) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        let uuid = domain.uuid();
        let answer = connection
            .request(|reply| {
                Request::Edit(EditRequest::SetAutostart {
                    uuid,
                    autostart,
                    reply,
                })
            })
            .await;
        if let Err(error) = answer {
            let title = gettext_f("Could not change “{name}”", &[("name", &domain.name())]);
            show_error(self, &Failure::with_detail(title, error.to_string()));
            self.reload();
        }
    }
}

/// The devices of the "Boot From" choice, in its order.
const BOOT_DEVICES: [BootDevice; 3] = [BootDevice::Hd, BootDevice::Cdrom, BootDevice::Network];

/// The "Boot From" index of a first boot device (none boots the disk).
fn boot_index(first: Option<&BootDevice>) -> u32 {
    let first = first.copied().unwrap_or(BootDevice::Hd);
    BOOT_DEVICES.iter().position(|d| *d == first).unwrap_or(0) as u32
}

fn input_kind(name: &str) -> Option<InputKind> {
    [InputKind::Tablet, InputKind::Keyboard, InputKind::Mouse]
        .into_iter()
        .find(|k| k.as_str() == name)
}

fn input_rows(hw: &Hardware) -> Vec<DeviceRow> {
    [
        (InputKind::Tablet, gettext("USB Tablet")),
        (InputKind::Keyboard, gettext("USB Keyboard")),
        (InputKind::Mouse, gettext("USB Mouse")),
    ]
    .into_iter()
    .map(|(kind, title)| {
        let present = hw.usb_inputs.contains(&kind);
        let target = kind.as_str().to_variant();
        let button = if present {
            (gettext("Remove"), "hardware.remove-input", target, true)
        } else {
            (gettext("Add"), "hardware.add-input", target, true)
        };
        DeviceRow {
            title,
            subtitle: if present {
                gettext("Present")
            } else {
                gettext("None")
            },
            key: kind.as_str().to_owned(),
            buttons: vec![button],
        }
    })
    .collect()
}

fn replace_rows(store: &gio::ListStore, rows: Vec<DeviceRow>) {
    let objects: Vec<glib::Object> = rows
        .into_iter()
        .map(|r| glib::BoxedAnyObject::new(r).upcast())
        .collect();
    store.splice(0, store.n_items(), &objects);
}

fn cdrom_rows(hw: &Hardware) -> Vec<DeviceRow> {
    hw.cdroms
        .iter()
        .map(|cdrom| {
            let key = cdrom.target.clone();
            let target = key.to_variant();
            DeviceRow {
                // Translators: {target} is the drive's name in the guest, such as sda.
                title: gettext_f("CD-ROM {target}", &[("target", &cdrom.target)]),
                subtitle: {
                    let source = cdrom.source.clone().unwrap_or_else(|| gettext("Empty"));
                    let bus = hw
                        .cdrom_drives
                        .iter()
                        .find(|d| d.target == cdrom.target)
                        .and_then(|d| d.bus);
                    match bus {
                        Some(bus) => format!("{source} · {}", disks::bus_name(bus)),
                        None => source,
                    }
                },
                buttons: vec![
                    (gettext("Insert"), "hardware.insert", target.clone(), true),
                    (
                        gettext("Eject"),
                        "hardware.eject",
                        target.clone(),
                        cdrom.source.is_some(),
                    ),
                    (gettext("Change…"), "hardware.change-cdrom", target, true),
                ],
                key,
            }
        })
        .collect()
}

fn nic_rows(hw: &Hardware) -> Vec<DeviceRow> {
    hw.nics
        .iter()
        .map(|nic| {
            let source = match nic.kind.as_str() {
                "user" => gettext("Usermode networking"),
                "network" => gettext_f("Virtual network “{name}”", &[("name", &nic.source)]),
                "bridge" => gettext_f("Bridge {name}", &[("name", &nic.source)]),
                "direct" => gettext_f("Macvtap on {name}", &[("name", &nic.source)]),
                other => other.to_owned(),
            };
            let link = if nic.link_up {
                gettext("Connected")
            } else {
                gettext("Disconnected")
            };
            let (toggle, up) = if nic.link_up {
                (gettext("Disconnect"), false)
            } else {
                (gettext("Connect"), true)
            };
            DeviceRow {
                // Translators: {mac} is a MAC address such as 52:54:00:12:34:56.
                title: gettext_f("Network Interface {mac}", &[("mac", &nic.mac)]),
                subtitle: format!("{source} · {} · {link}", nic.model),
                buttons: vec![
                    (
                        gettext("Change…"),
                        "hardware.edit-nic",
                        nic.mac.to_variant(),
                        true,
                    ),
                    (
                        toggle,
                        "hardware.link",
                        (nic.mac.clone(), up).to_variant(),
                        true,
                    ),
                    (
                        gettext("Remove"),
                        "hardware.remove-nic",
                        nic.mac.to_variant(),
                        true,
                    ),
                ],
                key: nic.mac.clone(),
            }
        })
        .collect()
}

/// A list row for a [`DeviceRow`]: its words and buttons that name the page's actions.
fn device_row(item: &glib::Object) -> gtk::Widget {
    let row = adw::ActionRow::new();
    let Some(boxed) = item.downcast_ref::<glib::BoxedAnyObject>() else {
        return row.upcast();
    };
    let data = boxed.borrow::<DeviceRow>();
    row.set_title(&glib::markup_escape_text(&data.title));
    row.set_subtitle(&glib::markup_escape_text(&data.subtitle));
    row.set_widget_name(&data.key);
    for (label, action, target, sensitive) in &data.buttons {
        // Said whole, for a screen reader: "Add USB Tablet", not "Add".
        let button = row_button::RowButton::for_row(label, &data.title);
        button.set_valign(gtk::Align::Center);
        button.set_action_name(Some(action));
        button.set_action_target_value(Some(target));
        button.set_sensitive(*sensitive);
        row.add_suffix(&button);
    }
    row.upcast()
}

/// Whether a display listening on `listen` can be reached from other computers: anything
/// but a loopback address or a UNIX socket.
fn listens_beyond_this_host(listen: &str) -> bool {
    let loopback = listen.is_empty()
        || listen.starts_with('/')
        || listen == "localhost"
        || listen
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

#[cfg(test)]
mod listen_tests {
    use super::listens_beyond_this_host;

    #[test]
    fn only_loopback_and_sockets_stay_on_this_host() {
        for here in [
            "",
            "127.0.0.1",
            "127.0.1.1",
            "::1",
            "localhost",
            "/run/vnc.sock",
        ] {
            assert!(!listens_beyond_this_host(here), "{here}");
        }
        for beyond in ["0.0.0.0", "::", "192.0.2.7", "host.example.org"] {
            assert!(listens_beyond_this_host(beyond), "{beyond}");
        }
    }
}
