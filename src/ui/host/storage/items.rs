//! What the Storage page's rows show: a pool or a volume as a GObject whose properties
//! the rows bind, and the words for storage errors.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{Field, PoolInfo, PoolKind, RequestError, StorageError, VolumeInfo};
use crate::ui::InWords;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::StoragePool)]
    pub struct StoragePool {
        #[property(get, set)]
        name: RefCell<String>,
        /// Its type, target and state in one line.
        #[property(get, set)]
        facts: RefCell<String>,
        /// "12 GB free of 50 GB", or why there is nothing to say.
        #[property(get, set)]
        usage: RefCell<String>,
        /// The used share of its capacity, 0…1.
        #[property(get, set)]
        used: Cell<f64>,
        #[property(get, set)]
        active: Cell<bool>,
        #[property(get, set)]
        autostart: Cell<bool>,
        #[property(get, set)]
        persistent: Cell<bool>,
        /// Deleting its data removes its volumes (a directory, a volume group).
        #[property(get, set)]
        data_goes: Cell<bool>,
        /// Where its data is, for the delete question ("nas:/export", "/dev/sdb1").
        #[property(get, set)]
        source: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StoragePool {
        const NAME: &'static str = "VdStoragePool";
        type Type = super::StoragePool;
    }

    #[glib::derived_properties]
    impl ObjectImpl for StoragePool {}
}

mod volume_imp {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::StorageVolume)]
    pub struct StorageVolume {
        #[property(get, set)]
        name: RefCell<String>,
        /// Format, capacity and allocation in one line, and who uses it.
        #[property(get, set)]
        facts: RefCell<String>,
        /// Where it is on the connection's host.
        #[property(get, set)]
        path: RefCell<String>,
        #[property(get, set)]
        capacity: Cell<u64>,
        /// The machines that use it, comma-separated; empty when none does.
        #[property(get, set)]
        used_by: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StorageVolume {
        const NAME: &'static str = "VdStorageVolume";
        type Type = super::StorageVolume;
    }

    #[glib::derived_properties]
    impl ObjectImpl for StorageVolume {}
}

glib::wrapper! {
    /// A storage pool as its row shows it.
    pub struct StoragePool(ObjectSubclass<imp::StoragePool>);
}

glib::wrapper! {
    /// A volume of a pool as its row shows it.
    pub struct StorageVolume(ObjectSubclass<volume_imp::StorageVolume>);
}

/// A pool's type in words.
pub fn kind_name(pool: &PoolInfo) -> String {
    match pool.kind {
        PoolKind::Dir => gettext("Directory"),
        PoolKind::Fs => gettext("Disk or partition"),
        PoolKind::Netfs => gettext("NFS share"),
        PoolKind::Logical => gettext("LVM volume group"),
        PoolKind::Iscsi => gettext("iSCSI target"),
        PoolKind::Other => pool.type_name.clone(),
    }
}

fn size(bytes: u64) -> String {
    glib::format_size(bytes).to_string()
}

impl StoragePool {
    pub fn new(pool: &PoolInfo) -> Self {
        let mut facts = vec![kind_name(pool)];
        facts.extend(pool.source.clone());
        facts.extend(pool.target.clone());
        facts.push(if pool.active {
            gettext("Active")
        } else {
            gettext("Inactive")
        });
        let (usage, used) = if pool.active && pool.capacity > 0 {
            (
                gettext_f(
                    // Translators: {free} and {capacity} are sizes such as "12.0 GB".
                    "{free} free of {capacity}",
                    &[
                        ("free", &size(pool.available)),
                        ("capacity", &size(pool.capacity)),
                    ],
                ),
                pool.allocation as f64 / pool.capacity as f64,
            )
        } else {
            (gettext("Size known while it runs"), 0.0)
        };
        glib::Object::builder()
            .property("name", &pool.name)
            .property("facts", facts.join(" · "))
            .property("usage", usage)
            .property("used", used.clamp(0.0, 1.0))
            .property("active", pool.active)
            .property("autostart", pool.autostart)
            .property("persistent", pool.persistent)
            .property("data-goes", pool.kind.data_goes_with_it())
            .property(
                "source",
                pool.source
                    .clone()
                    .or(pool.target.clone())
                    .unwrap_or_default(),
            )
            .build()
    }
}

impl StorageVolume {
    pub fn new(volume: &VolumeInfo) -> Self {
        let mut facts = Vec::new();
        if !volume.format.is_empty() {
            facts.push(volume.format.clone());
        }
        facts.push(size(volume.capacity));
        facts.push(gettext_f(
            // Translators: {size} is a size such as "1.2 GB": how much of the disk is used.
            "{size} allocated",
            &[("size", &size(volume.allocation))],
        ));
        let used_by = volume.used_by.join(", ");
        if !used_by.is_empty() {
            facts.push(gettext_f(
                // Translators: {names} lists virtual machines.
                "Used by {names}",
                &[("names", &used_by)],
            ));
        }
        glib::Object::builder()
            .property("name", &volume.name)
            .property("facts", facts.join(" · "))
            .property("path", &volume.path)
            .property("capacity", volume.capacity)
            .property("used-by", used_by)
            .build()
    }
}

/// A storage error in words.
pub fn storage_words(error: &StorageError) -> String {
    match error {
        StorageError::Libvirt(text) => text.clone(),
        StorageError::Empty(field) => match field {
            Field::Name => gettext("Enter a name."),
            Field::Directory => gettext("Enter a directory."),
            Field::Device => gettext("Enter a device."),
            Field::MountPoint => gettext("Enter a mount point."),
            Field::Server => gettext("Enter the server."),
            Field::Export => gettext("Enter the exported directory."),
            Field::Group => gettext("Enter a volume group."),
            Field::Iqn => gettext("Enter the target's IQN."),
            Field::File => gettext("Enter a file."),
        },
        StorageError::BadName => gettext("A name cannot contain “/” or start with “.”."),
        StorageError::Relative => gettext("The directory must be an absolute path."),
        StorageError::PoolExists(name) => gettext_f(
            // Translators: {name} is a storage pool.
            "There is already a pool called “{name}”.",
            &[("name", name)],
        ),
        StorageError::VolumeExists(name) => gettext_f(
            // Translators: {name} is a storage volume.
            "There is already a volume called “{name}” in this pool.",
            &[("name", name)],
        ),
        StorageError::PathMissing(path) => gettext_f(
            // Translators: {path} is a file or device.
            "“{path}” does not exist.",
            &[("path", path)],
        ),
        StorageError::VolumeInUse { volume, vms } => gettext_f(
            // Translators: {volume} is a storage volume, {vms} lists virtual machines.
            "Volume “{volume}” is used by {vms}.",
            &[("volume", volume), ("vms", &vms.join(", "))],
        ),
        StorageError::Shrink => gettext("A volume cannot shrink here: its data would be cut off."),
        StorageError::File { path, reason } => gettext_f(
            // Translators: {path} is a file, {reason} what the system said.
            "Could not read “{path}”: {reason}.",
            &[("path", path), ("reason", reason)],
        ),
        StorageError::Cancelled => gettext("The upload was cancelled."),
    }
}

/// A request's failure in words, storage errors translated.
pub fn request_words(error: &RequestError) -> String {
    match error {
        RequestError::Storage(error) => storage_words(error),
        other => other.in_words(),
    }
}
