//! The Hardware page's devices section: the video model, the devices a machine has one of
//! (sound, serial console, guest agent channel, RNG, watchdog, TPM 2.0) and the host's USB
//! and PCI devices to pass through, each added or removed at once through the page.

use super::cpu::device_choices;
use super::{device_row, install_edit, replace_rows, DeviceRow, HardwarePage};
use crate::i18n::{gettext, gettext_f};
use crate::spec::edit::{
    Device, DeviceChoices, DeviceKind, DomainEdit, Hardware, HostDevice, HostdevSource, SoundModel,
    VideoModel, WatchdogAction, WatchdogModel,
};
use crate::ui::backend::edit::EditRequest;
use crate::ui::backend::Request;
use crate::ui::Connection;
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/devices.ui")]
    pub struct DevicesSection {
        #[template_child]
        pub video: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub video_names: TemplateChild<gtk::StringList>,
        #[template_child]
        pub sound_model: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub watchdog_model: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub watchdog_action: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub devices: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub usb: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub pci: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub pci_dialog: TemplateChild<adw::MessageDialog>,
        /// The PCI device the dialog asks about.
        pub passing: RefCell<Option<HostdevSource>>,
        /// The video models of the drop-down, in its order.
        pub video_models: RefCell<Vec<String>>,
        /// What the hypervisor offers for the machine; `None` until known.
        pub choices: RefCell<Option<DeviceChoices>>,
        /// The host's USB and PCI devices (empty until known).
        pub host_devices: RefCell<Vec<HostDevice>>,
        /// The machine (UUID) the choices and host devices were read for.
        pub read_for: RefCell<String>,
        pub loaded: RefCell<Option<Hardware>>,
        pub filling: Cell<bool>,
        pub device_rows: gio::ListStore,
        pub usb_rows: gio::ListStore,
        pub pci_rows: gio::ListStore,
    }

    impl Default for DevicesSection {
        fn default() -> Self {
            let rows = || gio::ListStore::new::<glib::BoxedAnyObject>();
            Self {
                video: TemplateChild::default(),
                video_names: TemplateChild::default(),
                sound_model: TemplateChild::default(),
                watchdog_model: TemplateChild::default(),
                watchdog_action: TemplateChild::default(),
                devices: TemplateChild::default(),
                usb: TemplateChild::default(),
                pci: TemplateChild::default(),
                pci_dialog: TemplateChild::default(),
                passing: RefCell::default(),
                video_models: RefCell::default(),
                choices: RefCell::default(),
                host_devices: RefCell::default(),
                read_for: RefCell::default(),
                loaded: RefCell::default(),
                filling: Cell::default(),
                device_rows: rows(),
                usb_rows: rows(),
                pci_rows: rows(),
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DevicesSection {
        const NAME: &'static str = "VdHardwareDevices";
        type Type = super::DevicesSection;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for DevicesSection {
        fn dispose(&self) {
            // A window of its own: it goes with the section.
            self.pci_dialog.destroy();
        }

        fn constructed(&self) {
            self.parent_constructed();
            self.devices.bind_model(Some(&self.device_rows), device_row);
            self.usb.bind_model(Some(&self.usb_rows), device_row);
            self.pci.bind_model(Some(&self.pci_rows), device_row);
            self.usb
                .set_placeholder(Some(&placeholder(&gettext("No USB devices on this host"))));
            self.pci
                .set_placeholder(Some(&placeholder(&gettext("No PCI devices on this host"))));
        }
    }

    #[gtk::template_callbacks]
    impl DevicesSection {
        #[template_callback]
        fn on_pci_response(&self, response: &str) {
            let Some(source) = self.passing.take() else {
                return;
            };
            if response == "pass" {
                let obj = self.obj().clone();
                glib::spawn_future_local(async move {
                    obj.apply(DomainEdit::AddHostdev(source)).await;
                });
            }
        }

        /// Another video model: applied at once, like adding a device. (Checked here, not
        /// in a future: the drop-down changes while the section fills it.)
        #[template_callback]
        fn on_video_changed(&self) {
            if self.filling.get() {
                return;
            }
            let name = self
                .video_models
                .borrow()
                .get(self.video.selected() as usize)
                .cloned();
            let loaded = self
                .loaded
                .borrow()
                .as_ref()
                .and_then(|hw| hw.devices.video.clone());
            let Some(model) = name.as_deref().and_then(VideoModel::from_name) else {
                return;
            };
            if loaded != name {
                let obj = self.obj().clone();
                glib::spawn_future_local(async move {
                    obj.apply(DomainEdit::Video(model)).await;
                });
            }
        }
    }

    impl WidgetImpl for DevicesSection {}
    impl BoxImpl for DevicesSection {}
}

glib::wrapper! {
    pub struct DevicesSection(ObjectSubclass<imp::DevicesSection>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

/// Installs the page's actions that add and remove these devices; a device's key is the
/// parameter.
pub(super) fn install_actions(klass: &mut <super::imp::HardwarePage as ObjectSubclass>::Class) {
    let string = Some(glib::VariantTy::STRING);
    install_edit(klass, "hardware.add-device", string, |page, key| {
        let kind = device_kind(&key?.get::<String>()?)?;
        Some(DomainEdit::AddDevice(page.imp().devices.new_device(kind)))
    });
    install_edit(klass, "hardware.remove-device", string, |_, key| {
        device_kind(&key?.get::<String>()?).map(DomainEdit::RemoveDevice)
    });
    klass.install_action_async("hardware.add-hostdev", string, |page, _, key| async move {
        let devices = &page.imp().devices;
        let Some(source) = key
            .and_then(|k| k.get::<String>())
            .and_then(|k| devices.hostdev(&k))
        else {
            return;
        };
        let running = page.domain().is_some_and(|d| d.active());
        if running && matches!(source, HostdevSource::Pci { .. }) {
            devices.ask_pass_pci(source);
        } else {
            devices.apply(DomainEdit::AddHostdev(source)).await;
        }
    });
    install_edit(klass, "hardware.remove-hostdev", string, |page, key| {
        page.imp()
            .devices
            .hostdev(&key?.get::<String>()?)
            .map(DomainEdit::RemoveHostdev)
    });
}

/// The item of `list` a drop-down with the same items has selected.
fn pick<T: Copy>(list: &[T], dropdown: &gtk::DropDown) -> T {
    *list.get(dropdown.selected() as usize).unwrap_or(&list[0])
}

fn placeholder(text: &str) -> gtk::Label {
    let label = gtk::Label::builder()
        .label(text)
        .margin_top(12)
        .margin_bottom(12)
        .build();
    label.add_css_class("dim-label");
    label
}

/// The key of a device kind in the actions' parameter.
fn kind_key(kind: DeviceKind) -> String {
    format!("{kind:?}")
}

fn device_kind(key: &str) -> Option<DeviceKind> {
    DeviceKind::ALL.into_iter().find(|k| kind_key(*k) == key)
}

/// The key of a host device in the actions' parameter.
fn hostdev_key(source: &HostdevSource) -> String {
    format!("{}:{}", source.bus(), source.address())
}

fn kind_title(kind: DeviceKind) -> String {
    match kind {
        DeviceKind::Sound => gettext("Sound Card"),
        DeviceKind::SerialConsole => gettext("Serial Console"),
        DeviceKind::GuestAgent => gettext("Guest Agent Channel"),
        DeviceKind::Rng => gettext("Random Number Generator"),
        DeviceKind::Watchdog => gettext("Watchdog"),
        DeviceKind::Tpm => gettext("TPM 2.0"),
    }
}

fn video_label(name: &str) -> String {
    match name {
        "vga" => "VGA".into(),
        "virtio" => "Virtio".into(),
        "bochs" => "Bochs".into(),
        "ramfb" => "ramfb".into(),
        "none" => gettext("None"),
        other => other.to_owned(),
    }
}

/// An add or remove button of a row: `present` says which.
fn add_or_remove(
    present: bool,
    add: &'static str,
    remove: &'static str,
    key: String,
) -> (String, &'static str, glib::Variant, bool) {
    if present {
        (gettext("Remove"), remove, key.to_variant(), true)
    } else {
        (gettext("Add"), add, key.to_variant(), true)
    }
}

impl DevicesSection {
    fn page(&self) -> Option<HardwarePage> {
        self.ancestor(HardwarePage::static_type()).and_downcast()
    }

    async fn apply(&self, edit: DomainEdit) {
        if let Some(page) = self.page() {
            page.apply(vec![edit]).await;
        }
    }

    /// Asks before a running machine takes PCI device `source` from the host; the answer
    /// is `on_pci_response`'s.
    fn ask_pass_pci(&self, source: HostdevSource) {
        let imp = self.imp();
        let name = imp
            .host_devices
            .borrow()
            .iter()
            .find(|d| d.source == source)
            .map_or_else(|| source.address(), |d| d.name.clone());
        imp.pci_dialog.set_heading(Some(&gettext_f(
            // Translators: {device} names a host's PCI device, such as "Intel Corporation
            // 82540EM Gigabit Ethernet Controller".
            "Pass “{device}” Through?",
            &[("device", &name)],
        )));
        imp.pci_dialog.set_body(&gettext_f(
            // Translators: {address} is a PCI address such as 0000:00:1f.3.
            "The running virtual machine takes the device at {address} from the host: the host stops using it, and whatever the host does with it now stops.",
            &[("address", &source.address())],
        ));
        imp.passing.replace(Some(source));
        imp.pci_dialog
            .set_transient_for(self.root().and_downcast_ref::<gtk::Window>());
        imp.pci_dialog.present();
    }

    /// The device of `kind` the section's choices describe.
    fn new_device(&self, kind: DeviceKind) -> Device {
        let imp = self.imp();

        match kind {
            DeviceKind::Sound => Device::Sound(pick(&SoundModel::ALL, &imp.sound_model)),
            DeviceKind::SerialConsole => Device::SerialConsole,
            DeviceKind::GuestAgent => Device::GuestAgent,
            DeviceKind::Rng => Device::Rng,
            DeviceKind::Watchdog => Device::Watchdog(
                pick(&WatchdogModel::ALL, &imp.watchdog_model),
                pick(&WatchdogAction::ALL, &imp.watchdog_action),
            ),
            DeviceKind::Tpm => Device::Tpm,
        }
    }

    /// The host device (on the host or in the machine) of an action's key.
    fn hostdev(&self, key: &str) -> Option<HostdevSource> {
        let imp = self.imp();
        let on_host = imp
            .host_devices
            .borrow()
            .iter()
            .map(|d| d.source)
            .find(|s| hostdev_key(s) == key);
        on_host.or_else(|| {
            imp.loaded
                .borrow()
                .as_ref()?
                .devices
                .hostdevs
                .iter()
                .copied()
                .find(|s| hostdev_key(s) == key)
        })
    }

    /// Shows `hw`'s devices; reads the choices and the host's devices the first time it
    /// shows machine `uuid`.
    pub(super) fn fill(&self, hw: &Hardware, connection: Option<Connection>, uuid: String) {
        let imp = self.imp();
        imp.loaded.replace(Some(hw.clone()));
        self.show_rows();
        if *imp.read_for.borrow() == uuid {
            return;
        }
        imp.read_for.replace(uuid.clone());
        imp.choices.replace(None);
        imp.host_devices.replace(Vec::new());
        let Some(connection) = connection else {
            return;
        };
        let section = self.clone();
        glib::spawn_future_local(async move {
            let choices = device_choices(&connection, &uuid).await;
            let devices = connection
                .request(|reply| Request::Edit(EditRequest::HostDevices { reply }))
                .await;
            let imp = section.imp();
            if *imp.read_for.borrow() != uuid {
                return;
            }
            imp.choices.replace(choices);
            match devices {
                Ok(devices) => {
                    imp.host_devices.replace(devices);
                }
                Err(error) => tracing::info!(%error, "no host devices"),
            }
            section.show_rows();
        });
    }

    fn show_rows(&self) {
        let imp = self.imp();
        let Some(hw) = imp.loaded.borrow().clone() else {
            return;
        };
        self.show_video(hw.devices.video.as_deref());
        let rows = DeviceKind::ALL
            .into_iter()
            .map(|kind| {
                let detail = hw
                    .devices
                    .present
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, d)| d);
                let subtitle = match (kind, detail) {
                    (_, None) => gettext("None"),
                    (DeviceKind::Tpm, Some(_)) => gettext("Emulated (swtpm)"),
                    (_, Some(detail)) if !detail.is_empty() => detail.clone(),
                    (_, Some(_)) => gettext("Present"),
                };
                let mut button = add_or_remove(
                    detail.is_some(),
                    "hardware.add-device",
                    "hardware.remove-device",
                    kind_key(kind),
                );
                // libvirt offers an emulated TPM only where swtpm is installed.
                let no_tpm = imp
                    .choices
                    .borrow()
                    .as_ref()
                    .is_some_and(|c| !c.tpm_emulator);
                let subtitle = if kind == DeviceKind::Tpm && detail.is_none() && no_tpm {
                    button.3 = false;
                    gettext("This host cannot emulate a TPM: swtpm is not installed")
                } else {
                    subtitle
                };
                DeviceRow {
                    title: kind_title(kind),
                    subtitle,
                    key: kind_key(kind),
                    buttons: vec![button],
                }
            })
            .collect();
        replace_rows(&imp.device_rows, rows);
        let (usb, pci): (Vec<_>, Vec<_>) = self
            .hostdev_rows(&hw)
            .into_iter()
            .partition(|(source, _)| matches!(source, HostdevSource::Usb { .. }));
        let rows =
            |list: Vec<(HostdevSource, DeviceRow)>| list.into_iter().map(|(_, row)| row).collect();
        replace_rows(&imp.usb_rows, rows(usb));
        replace_rows(&imp.pci_rows, rows(pci));
    }

    /// A row for each host device, then for each device the machine has that the host has
    /// not (any more).
    fn hostdev_rows(&self, hw: &Hardware) -> Vec<(HostdevSource, DeviceRow)> {
        let host = self.imp().host_devices.borrow();
        let attached = &hw.devices.hostdevs;
        let row = |source: HostdevSource, title: String, subtitle: String| {
            let key = hostdev_key(&source);
            let button = add_or_remove(
                attached.contains(&source),
                "hardware.add-hostdev",
                "hardware.remove-hostdev",
                key.clone(),
            );
            (
                source,
                DeviceRow {
                    title,
                    subtitle,
                    key,
                    buttons: vec![button],
                },
            )
        };
        let mut rows: Vec<_> = host
            .iter()
            .map(|device| {
                let subtitle = match device.usb_port {
                    Some((bus, number)) => gettext_f(
                        // Translators: where a USB device is plugged in, and its ids.
                        "Bus {bus}, device {device} · {ids}",
                        &[
                            ("bus", &bus.to_string()),
                            ("device", &number.to_string()),
                            ("ids", &device.source.address()),
                        ],
                    ),
                    None => device.source.address(),
                };
                row(device.source, device.name.clone(), subtitle)
            })
            .collect();
        for source in attached {
            if !host.iter().any(|d| d.source == *source) {
                rows.push(row(*source, source.address(), gettext("Not on this host")));
            }
        }
        rows
    }

    /// The drop-down offers the hypervisor's models (all it knows of, until it is known)
    /// and the machine's own, which is selected.
    fn show_video(&self, current: Option<&str>) {
        let imp = self.imp();
        let offered = imp
            .choices
            .borrow()
            .as_ref()
            .map(|c| c.video_models.clone())
            .unwrap_or_default();
        let mut models: Vec<String> = VideoModel::ALL
            .into_iter()
            .map(|m| m.as_str().to_owned())
            .filter(|m| offered.is_empty() || offered.contains(m))
            .collect();
        let current = current.unwrap_or("none").to_owned();
        if !models.contains(&current) {
            models.insert(0, current.clone());
        }
        let labels: Vec<String> = models.iter().map(|m| video_label(m)).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        imp.filling.set(true);
        imp.video_names
            .splice(0, imp.video_names.n_items(), &labels);
        let position = models.iter().position(|m| *m == current).unwrap_or(0);
        imp.video.set_selected(position as u32);
        imp.video_models.replace(models);
        imp.filling.set(false);
    }
}
