//! The Hardware page's Disks section: each hard disk with its source, bus and cache mode;
//! Add Disk… (a new qcow2 volume in a pool, or an existing volume or image file), Change…
//! (bus, cache mode, read-only, shareable) and Remove (the volume is kept unless "Delete
//! the volume too" is ticked). A change that waits for the next shutdown says so on its
//! row. The same dialog changes a CD-ROM's bus (SATA, SCSI, USB; IDE where the machine
//! type has it), cache mode and shareable flag; the page's CD-ROM rows open it.

use super::HardwarePage;
use crate::i18n::{gettext, gettext_f};
use crate::spec::edit::disks::{Disk, DiskBus, DiskCache, DiskSettings, DiskSource};
use crate::spec::edit::{DomainEdit, EditError, Hardware};
use crate::ui::backend::{Request, StorageRequest};
use crate::ui::util::{show_error, Failure};
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

/// The source kind of an empty CD-ROM drive, in the dialog's order.
const NEW_CDROM: u32 = 2;

/// Bytes in a GiB, the unit of the size field.
const GIB: f64 = (1u64 << 30) as f64;

mod imp {
    use super::*;

    #[derive(CompositeTemplate, Default)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/disks.ui")]
    pub struct HardwareDisks {
        #[template_child]
        pub list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub dialog: TemplateChild<adw::MessageDialog>,
        #[template_child]
        pub source_kind: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub new_volume: TemplateChild<gtk::Box>,
        #[template_child]
        pub existing: TemplateChild<gtk::Box>,
        #[template_child]
        pub pool: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub pools: TemplateChild<gtk::StringList>,
        #[template_child]
        pub volume_name: TemplateChild<gtk::Entry>,
        #[template_child]
        pub size: TemplateChild<gtk::Adjustment>,
        #[template_child]
        pub path: TemplateChild<gtk::Entry>,
        #[template_child]
        pub bus: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub buses: TemplateChild<gtk::StringList>,
        /// The buses the dialog offers, in the order of `bus`.
        pub offered: RefCell<Vec<DiskBus>>,
        /// The CD-ROM drives, which the dialog changes too.
        pub cdroms: RefCell<Vec<Disk>>,
        /// The machine type has an IDE bus.
        pub ide: Cell<bool>,
        /// The dialog changes a CD-ROM.
        pub changing_cdrom: Cell<bool>,
        #[template_child]
        pub cache: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub readonly: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub shareable: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub remove_dialog: TemplateChild<adw::MessageDialog>,
        #[template_child]
        pub delete_volume: TemplateChild<gtk::CheckButton>,
        /// The disk the remove dialog asks about.
        pub removing: RefCell<Option<String>>,
        pub disks: RefCell<Vec<Disk>>,
        /// Targets whose change waits for the next shutdown.
        pub pending: RefCell<BTreeSet<String>>,
        /// The disk the dialog changes; `None` when it adds one.
        pub changing: RefCell<Option<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HardwareDisks {
        const NAME: &'static str = "VdHardwareDisks";
        type Type = super::HardwareDisks;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            let string = Some(glib::VariantTy::STRING);
            klass.install_action("disks.remove", string, |obj, _, target| {
                if let Some(target) = target.and_then(|t| t.get::<String>()) {
                    obj.ask_remove(target);
                }
            });
            klass.install_action("disks.change", string, |obj, _, target| {
                if let Some(target) = target.and_then(|t| t.get::<String>()) {
                    obj.open_dialog(Some(target), false);
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HardwareDisks {
        fn dispose(&self) {
            // Windows of their own: they go with the section.
            self.dialog.destroy();
            self.remove_dialog.destroy();
        }
    }
    impl WidgetImpl for HardwareDisks {}
    impl BoxImpl for HardwareDisks {}

    #[gtk::template_callbacks]
    impl HardwareDisks {
        #[template_callback]
        fn on_add(&self) {
            self.obj().open_dialog(None, false);
        }

        #[template_callback]
        fn on_dialog_changed(&self) {
            self.obj().check_dialog();
        }

        /// A new disk or a new CD-ROM drive: the buses for it.
        #[template_callback]
        fn on_kind_changed(&self) {
            let obj = self.obj();
            if self.changing.borrow().is_none() {
                let cdrom = self.source_kind.selected() == NEW_CDROM;
                let bus = obj.settings().bus;
                obj.offer_buses(cdrom, bus);
                if !cdrom {
                    self.readonly.set_active(false);
                }
            }
            obj.check_dialog();
        }

        #[template_callback]
        async fn on_choose_volume(&self) {
            let obj = self.obj().clone();
            let Some(connection) = obj.page().and_then(|p| p.connection()) else {
                return;
            };
            let window = self.dialog.upcast_ref::<gtk::Window>().clone();
            if let Some(volume) =
                crate::ui::host::choose_volume(Some(&window), &connection, false).await
            {
                self.path.set_text(&volume.path);
            }
        }

        #[template_callback]
        fn on_remove_response(&self, response: &str) {
            let Some(target) = self.removing.take() else {
                return;
            };
            if response != "remove" {
                return;
            }
            let edit = DomainEdit::RemoveDisk {
                target,
                delete_volume: self.delete_volume.is_active(),
            };
            let obj = self.obj().clone();
            glib::spawn_future_local(async move { obj.send(edit).await });
        }

        #[template_callback]
        fn on_response(&self, response: &str) {
            if response != "apply" {
                return;
            }
            let obj = self.obj().clone();
            if let Some(edit) = obj.dialog_edit() {
                glib::spawn_future_local(async move { obj.send(edit).await });
            }
        }
    }
}

glib::wrapper! {
    pub struct HardwareDisks(ObjectSubclass<imp::HardwareDisks>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl HardwareDisks {
    fn page(&self) -> Option<HardwarePage> {
        self.ancestor(HardwarePage::static_type()).and_downcast()
    }

    /// Shows the disks of the machine `hw`; `active` is whether it runs (a shut-off machine
    /// has nothing waiting).
    pub fn show(&self, hw: &Hardware, active: bool) {
        let imp = self.imp();
        let disks = hw.disks.clone();
        imp.cdroms.replace(hw.cdrom_drives.clone());
        imp.ide.set(hw.ide_bus);
        if !active {
            imp.pending.borrow_mut().clear();
        }
        let list = &imp.list;
        while let Some(row) = list.first_child() {
            list.remove(&row);
        }
        for disk in &disks {
            list.append(&self.row(disk));
        }
        if disks.is_empty() {
            let row = adw::ActionRow::builder().title(gettext("No disks")).build();
            list.append(&row);
        }
        imp.disks.replace(disks);
    }

    fn row(&self, disk: &Disk) -> adw::ActionRow {
        let bus = disk
            .bus
            .map_or_else(|| gettext("Other bus"), |b| bus_name(b).to_owned());
        let mut subtitle = format!(
            "{} · {bus} · {}",
            if disk.source.is_empty() {
                gettext("No source")
            } else {
                disk.source.clone()
            },
            cache_name(disk.cache)
        );
        if disk.readonly {
            subtitle += &format!(" · {}", gettext("Read-only"));
        }
        if disk.shareable {
            subtitle += &format!(" · {}", gettext("Shareable"));
        }
        if self.imp().pending.borrow().contains(&disk.target) {
            subtitle += &format!(" · {}", gettext("Takes effect after the next shutdown"));
        }
        // Translators: {target} is the disk's name in the guest, such as vda.
        let title = gettext_f("Disk {target}", &[("target", &disk.target)]);
        let row = adw::ActionRow::builder()
            .title(glib::markup_escape_text(&title))
            .subtitle(glib::markup_escape_text(&subtitle))
            .build();
        row.set_widget_name(&disk.target);
        for (label, action) in [
            (gettext("Change…"), "disks.change"),
            (gettext("Remove"), "disks.remove"),
        ] {
            let button = super::row_button::RowButton::for_row(&label, &title);
            button.set_valign(gtk::Align::Center);
            button.set_action_name(Some(action));
            button.set_action_target_value(Some(&disk.target.to_variant()));
            row.add_suffix(&button);
        }
        row
    }

    /// Opens the dialog to add a disk, or to change disk (or, with `cdrom`, CD-ROM)
    /// `target`.
    pub(super) fn open_dialog(&self, target: Option<String>, cdrom: bool) {
        let imp = self.imp();
        let drives = if cdrom { &imp.cdroms } else { &imp.disks };
        let disk = target
            .as_ref()
            .and_then(|t| drives.borrow().iter().find(|d| &d.target == t).cloned());
        let mut settings = disk.as_ref().map(Disk::settings).unwrap_or_default();
        if cdrom {
            // A CD-ROM on a bus this page does not know shows the first one offered.
            settings.bus = disk
                .and_then(|d| d.bus)
                .unwrap_or(DiskBus::offered(true, false)[0]);
        }
        imp.changing_cdrom.set(cdrom);
        // The kind first: its change offers the buses of a new disk.
        imp.changing.replace(target.clone());
        imp.source_kind.set_selected(0);
        self.offer_buses(cdrom, settings.bus);
        imp.cache
            .set_selected(index_of(&DiskCache::ALL, settings.cache));
        imp.readonly.set_active(settings.readonly);
        imp.shareable.set_active(settings.shareable);
        let adding = target.is_none();
        imp.source_kind.set_visible(adding);
        imp.dialog.set_heading(Some(&match &target {
            // Translators: {target} is the drive's name in the guest, such as sda.
            Some(t) if cdrom => gettext_f("Change CD-ROM {target}", &[("target", t)]),
            // Translators: {target} is the disk's name in the guest, such as vda.
            Some(t) => gettext_f("Change Disk {target}", &[("target", t)]),
            None => gettext("Add Disk"),
        }));
        imp.dialog.set_response_label(
            "apply",
            &if adding {
                gettext("_Add")
            } else {
                gettext("_Apply")
            },
        );
        if adding {
            let page = self.page();
            let vm = page
                .and_then(|p| p.domain())
                .map(|d| d.name())
                .unwrap_or_default();
            let n = imp.disks.borrow().len() + 1;
            imp.volume_name.set_text(&format!("{vm}-disk{n}.qcow2"));
            imp.path.set_text("");
            self.load_pools();
        }
        self.check_dialog();
        imp.dialog
            .set_transient_for(self.root().and_downcast_ref::<gtk::Window>());
        imp.dialog.present();
    }

    /// Offers the buses of a disk or, with `cdrom`, a CD-ROM drive (not USB while it is
    /// empty), with `bus` selected (the first when it is not offered). A CD-ROM is
    /// read-only.
    fn offer_buses(&self, cdrom: bool, bus: DiskBus) {
        let imp = self.imp();
        let mut offered = DiskBus::offered(cdrom, imp.ide.get());
        // A new drive is empty, and QEMU's USB storage needs a medium.
        let empty = imp.changing.borrow().as_ref().is_none_or(|target| {
            imp.cdroms
                .borrow()
                .iter()
                .any(|d| d.target == *target && d.source.is_empty())
        });
        if cdrom && empty {
            offered.retain(|b| *b != DiskBus::Usb);
        }
        let names: Vec<&str> = offered.iter().map(|b| bus_name(*b)).collect();
        let selected = index_of(&offered, bus);
        // The list first (a selection notifies, and reads it), then its names.
        imp.offered.replace(offered);
        imp.buses.splice(0, imp.buses.n_items(), &names);
        imp.bus.set_selected(selected);
        imp.readonly.set_sensitive(!cdrom);
        if cdrom {
            imp.readonly.set_active(true);
        }
    }

    /// Fills the pool choice from the connection.
    fn load_pools(&self) {
        let Some(connection) = self.page().and_then(|p| p.connection()) else {
            return;
        };
        let obj = self.clone();
        glib::spawn_future_local(async move {
            let pools = connection
                .request(|reply| Request::Storage(StorageRequest::Pools(reply)))
                .await
                .unwrap_or_default();
            let names: Vec<&str> = pools
                .iter()
                .filter(|p| p.active)
                .map(|p| p.name.as_str())
                .collect();
            let imp = obj.imp();
            imp.pools.splice(0, imp.pools.n_items(), &names);
            let default = names.iter().position(|n| *n == "default").unwrap_or(0);
            imp.pool.set_selected(default as u32);
            obj.check_dialog();
        });
    }

    fn settings(&self) -> DiskSettings {
        let imp = self.imp();
        let offered = imp.offered.borrow();
        DiskSettings {
            bus: offered
                .get(imp.bus.selected() as usize)
                .or(offered.first())
                .copied()
                .unwrap_or(DiskBus::Virtio),
            cache: DiskCache::ALL[(imp.cache.selected() as usize).min(DiskCache::ALL.len() - 1)],
            readonly: imp.readonly.is_active(),
            shareable: imp.shareable.is_active(),
        }
    }

    /// The edit the dialog holds, checked: the problem is shown under the fields and the
    /// dialog's button is only enabled without one.
    fn checked_edit(&self) -> Result<DomainEdit, EditError> {
        let imp = self.imp();
        let settings = self.settings();
        if let Some(target) = imp.changing.borrow().clone() {
            if imp.changing_cdrom.get() {
                return Ok(DomainEdit::CdromSettings { target, settings });
            }
            return Ok(DomainEdit::DiskSettings { target, settings });
        }
        let kind = imp.source_kind.selected();
        let new_volume = kind == 0;
        imp.new_volume.set_visible(new_volume);
        imp.existing.set_visible(kind == 1);
        if kind == NEW_CDROM {
            return Ok(DomainEdit::AddCdrom(settings));
        }
        let source = if new_volume {
            DiskSource::NewVolume {
                pool: imp
                    .pool
                    .selected_item()
                    .and_downcast::<gtk::StringObject>()
                    .map(|s| s.string().to_string())
                    .unwrap_or_default(),
                name: imp.volume_name.text().trim().to_owned(),
                capacity: (imp.size.value() * GIB) as u64,
            }
        } else {
            DiskSource::File {
                path: imp.path.text().trim().to_owned(),
                format: None,
            }
        };
        crate::spec::edit::disks::check_add(&source)?;
        Ok(DomainEdit::AddDisk { source, settings })
    }

    fn check_dialog(&self) {
        let imp = self.imp();
        let problem = self.checked_edit().err().map(|e| e.to_string());
        imp.problem.set_label(problem.as_deref().unwrap_or(""));
        imp.problem.set_visible(problem.is_some());
        imp.dialog.set_response_enabled("apply", problem.is_none());
    }

    fn dialog_edit(&self) -> Option<DomainEdit> {
        self.checked_edit().ok()
    }

    /// Applies `edit` through the page and marks its row when it waits for the shutdown.
    async fn send(&self, edit: DomainEdit) {
        let Some(page) = self.page() else {
            return;
        };
        let target = match &edit {
            DomainEdit::DiskSettings { target, .. }
            | DomainEdit::CdromSettings { target, .. }
            | DomainEdit::RemoveDisk { target, .. } => Some(target.clone()),
            _ => None,
        };
        // The volume a removal deletes, read before the page shows the disk gone.
        let volume = match &edit {
            DomainEdit::RemoveDisk {
                target,
                delete_volume: true,
            } => self
                .imp()
                .disks
                .borrow()
                .iter()
                .find(|d| d.target == *target)
                .map(|d| d.source.clone()),
            _ => None,
        };
        let waiting = page.apply(vec![edit]).await;
        if let (Some(target), false) = (target, waiting.is_empty()) {
            if let Some(volume) = volume {
                // The running guest still uses the disk: its volume was not deleted.
                let notice = gettext_f(
                    // Translators: {target} is the disk's name in the guest, such as vda;
                    // {volume} its volume, such as default/web-disk1.qcow2.
                    "Disk {target} is removed after the next shutdown; its volume {volume} is kept — delete it from Storage then.",
                    &[("target", &target), ("volume", &volume)],
                );
                show_error(self, &Failure::new(notice));
            }
            self.imp().pending.borrow_mut().insert(target);
        }
    }

    /// Asks whether to remove disk `target` (and its volume); the answer is
    /// `on_remove_response`'s.
    fn ask_remove(&self, target: String) {
        let imp = self.imp();
        let heading = gettext_f(
            // Translators: {target} is the disk's name in the guest, such as vda.
            "Remove Disk {target}?",
            &[("target", &target)],
        );
        imp.remove_dialog.set_heading(Some(&heading));
        // The window is named too, for the window list and assistive technologies.
        imp.remove_dialog.set_title(Some(&heading));
        imp.delete_volume.set_active(false);
        imp.removing.replace(Some(target));
        imp.remove_dialog
            .set_transient_for(self.root().and_downcast_ref::<gtk::Window>());
        imp.remove_dialog.present();
    }
}

fn index_of<T: PartialEq>(all: &[T], value: T) -> u32 {
    all.iter().position(|v| *v == value).unwrap_or(0) as u32
}

/// The name of a bus as people know it.
pub(super) fn bus_name(bus: DiskBus) -> &'static str {
    match bus {
        DiskBus::Virtio => "VirtIO",
        DiskBus::Sata => "SATA",
        DiskBus::Scsi => "SCSI",
        DiskBus::Usb => "USB",
        DiskBus::Ide => "IDE",
    }
}

fn cache_name(cache: DiskCache) -> String {
    match cache {
        DiskCache::Default => gettext("Default cache"),
        // Translators: a disk cache mode; the words after "cache=" are libvirt's names.
        other => gettext_f("Cache {mode}", &[("mode", other.as_str())]),
    }
}
