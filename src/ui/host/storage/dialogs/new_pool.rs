//! "Add a Storage Pool": its name and type, and what that type needs (a directory, a
//! formatted disk and a mount point, an NFS server and export, an LVM volume group, an
//! iSCSI target), each checked as it is typed, the wrong field marked.

use super::mark_fields;
use crate::i18n::gettext;
use crate::ui::backend::storage::{check_name, check_source};
use crate::ui::backend::{Field, PoolInfo, PoolSource, PoolSpec, StorageError};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, RefCell};

/// The default directory of a new directory pool.
const DEFAULT_DIR: &str = "/var/lib/libvirt/images/";

/// `kind_in`, for the rows' `<closure>`s.
struct KindClosures;

#[gtk::template_callbacks(functions)]
impl KindClosures {
    /// Whether type number `selected` is among `kinds` (digits).
    #[template_callback]
    fn kind_in(selected: u32, kinds: &str) -> bool {
        char::from_digit(selected, 10).is_some_and(|c| kinds.contains(c))
    }
}

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/new_pool.ui")]
    #[properties(wrapper_type = super::NewPoolDialog)]
    pub struct NewPoolDialog {
        /// What is wrong with what was typed; empty when nothing is.
        #[property(get)]
        pub problem: RefCell<String>,
        /// What the chosen type does.
        #[property(get)]
        pub hint: RefCell<String>,
        /// The host is this computer: devices are looked for.
        pub local: Cell<bool>,
        pub pools: RefCell<Vec<PoolInfo>>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub kind_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub path_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub host_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub export_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub iqn_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub group_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub device_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub target_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub autostart: TemplateChild<gtk::Switch>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NewPoolDialog {
        const NAME: &'static str = "VdNewPoolDialog";
        type Type = super::NewPoolDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            crate::ui::util::Closures::bind_template_callbacks(klass);
            KindClosures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl NewPoolDialog {
        #[template_callback]
        pub(super) fn kind_changed(&self) {
            self.hint.replace(match self.kind_row.selected() {
                0 => gettext("A directory on the host; it is made when missing."),
                1 => gettext("A disk or partition that already has a file system: it is mounted at the mount point, never formatted."),
                2 => gettext("An NFS export, mounted at the mount point."),
                3 => gettext("An LVM volume group. With a device, a new group is made on it and the device's data is lost; without one, the group must exist."),
                _ => gettext("The LUNs of an iSCSI target become the pool's volumes."),
            });
            self.obj().notify_hint();
            self.check();
        }

        /// What cannot be used says why, marks its field and disables Create Pool.
        #[template_callback]
        fn check(&self) {
            let obj = self.obj();
            let spec = obj.spec();
            let result = check_name(
                &spec.name,
                self.pools.borrow().iter().map(|p| p.name.as_str()),
                StorageError::PoolExists,
            )
            .and_then(|()| check_source(&spec.source, self.local.get()));
            let rows: [(Field, &gtk::Widget); 8] = [
                (Field::Name, self.name_row.upcast_ref()),
                (Field::Directory, self.path_row.upcast_ref()),
                (Field::Server, self.host_row.upcast_ref()),
                (Field::Export, self.export_row.upcast_ref()),
                (Field::Iqn, self.iqn_row.upcast_ref()),
                (Field::Group, self.group_row.upcast_ref()),
                (Field::Device, self.device_row.upcast_ref()),
                (Field::MountPoint, self.target_row.upcast_ref()),
            ];
            let problem = mark_fields(&rows, result.as_ref().err());
            obj.set_response_enabled("create", result.is_ok());
            self.problem.replace(problem);
            obj.notify_problem();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for NewPoolDialog {}
    impl WidgetImpl for NewPoolDialog {}
    impl WindowImpl for NewPoolDialog {}
    impl MessageDialogImpl for NewPoolDialog {}
}

glib::wrapper! {
    pub struct NewPoolDialog(ObjectSubclass<imp::NewPoolDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl NewPoolDialog {
    /// Asks over `parent` for a new pool whose name differs from `pools`'; `local` says
    /// the host is this computer.
    pub fn new(parent: &impl IsA<gtk::Window>, pools: Vec<PoolInfo>, local: bool) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        let imp = dialog.imp();
        imp.local.set(local);
        imp.pools.replace(pools);
        imp.path_row.set_text(DEFAULT_DIR);
        imp.target_row.set_text("/mnt/");
        imp.kind_changed();
        dialog
    }

    /// The pool as the dialog describes it.
    pub fn spec(&self) -> PoolSpec {
        let imp = self.imp();
        let text = |row: &adw::EntryRow| row.text().trim().to_owned();
        let source = match imp.kind_row.selected() {
            0 => PoolSource::Dir {
                path: text(&imp.path_row),
            },
            1 => PoolSource::Fs {
                device: text(&imp.device_row),
                target: text(&imp.target_row),
            },
            2 => PoolSource::Netfs {
                host: text(&imp.host_row),
                export: text(&imp.export_row),
                target: text(&imp.target_row),
            },
            3 => PoolSource::Logical {
                group: text(&imp.group_row),
                device: Some(text(&imp.device_row)).filter(|d| !d.is_empty()),
            },
            _ => PoolSource::Iscsi {
                host: text(&imp.host_row),
                iqn: text(&imp.iqn_row),
            },
        };
        PoolSpec {
            name: text(&imp.name_row),
            source,
            autostart: imp.autostart.is_active(),
        }
    }
}
