//! The first page: the connection, how the operating system is installed, and the image
//! file or the ISO volume of a storage pool it is installed from. On a remote host an
//! image file is uploaded: into the pool chosen here.

use super::choices::{choose_file, clear, radio_row};
use super::page::{WizardPage, WizardPageImpl};
use crate::i18n::{gettext, gettext_f};
use crate::spec::{DiskFormat, InstallMethod, PoolVolume};
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

/// How the operating system is installed: the radio buttons of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, glib::Enum)]
#[enum_type(name = "VdInstallKind")]
pub enum InstallKind {
    /// From an ISO image: a file, or a volume of a storage pool.
    #[default]
    Iso,
    /// The image is the machine's disk.
    Import,
    NetworkBoot,
    Manual,
}

/// An ISO volume chosen instead of an image file.
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VdWizardVolume", nullable)]
pub struct VolumeChoice(pub PoolVolume);

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard/source.ui")]
    #[properties(wrapper_type = super::SourcePage)]
    pub struct SourcePage {
        #[template_child]
        pub connection_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub import_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub pxe_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub manual_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub volume_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub volume_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub upload_pool_list: TemplateChild<gtk::ListBox>,

        /// The chosen connection.
        #[property(get, nullable)]
        pub connection: RefCell<Option<Connection>>,
        #[property(get, builder(InstallKind::Iso))]
        pub install_kind: Cell<InstallKind>,
        /// The image file field.
        #[property(get, set)]
        pub media_path: RefCell<String>,
        /// The ISO volume chosen instead of the image file.
        #[property(get, nullable)]
        pub volume: RefCell<Option<VolumeChoice>>,
        /// The host cannot see this computer's files (a remote host): an ISO file is
        /// uploaded into its pool when the machine is made.
        #[property(get, set)]
        pub uploads: Cell<bool>,
        /// The pool on the host an image file is uploaded into.
        #[property(get)]
        pub upload_pool: RefCell<String>,
        /// The volumes offered in the list.
        pub offered: RefCell<Vec<PoolVolume>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SourcePage {
        const NAME: &'static str = "VdWizardSourcePage";
        type Type = super::SourcePage;
        type ParentType = WizardPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SourcePage {}
    impl WidgetImpl for SourcePage {}
    impl BoxImpl for SourcePage {}
    impl WizardPageImpl for SourcePage {}

    #[gtk::template_callbacks]
    impl SourcePage {
        #[template_callback]
        fn on_install_toggled(&self) {
            let kind = if self.import_radio.is_active() {
                InstallKind::Import
            } else if self.pxe_radio.is_active() {
                InstallKind::NetworkBoot
            } else if self.manual_radio.is_active() {
                InstallKind::Manual
            } else {
                InstallKind::Iso
            };
            if self.install_kind.replace(kind) != kind {
                self.obj().notify_install_kind();
            }
        }

        #[template_callback]
        async fn on_browse(&self) {
            let obj = self.obj().clone();
            if let Some(path) = choose_file(&obj).await {
                obj.set_media_path(path);
            }
        }

        /// The image file field is shown for the methods that take a file.
        /// A volume of the connection's pools, chosen in the volume chooser, is offered
        /// with the others and chosen.
        #[template_callback]
        async fn on_choose_volume(&self) {
            let obj = self.obj().clone();
            let Some(connection) = obj.imp().connection.borrow().clone() else {
                return;
            };
            let window = obj.root().and_downcast::<gtk::Window>();
            let Some(volume) =
                crate::ui::host::choose_volume(window.as_ref(), &connection, true).await
            else {
                return;
            };
            let mut volumes = obj.imp().offered.borrow().clone();
            if !volumes.contains(&volume) {
                volumes.push(volume.clone());
            }
            obj.offer_volumes(volumes, Some(&volume));
        }

        #[template_callback(function)]
        fn takes_file(kind: InstallKind) -> bool {
            matches!(kind, InstallKind::Iso | InstallKind::Import)
        }

        #[template_callback(function)]
        fn file_title(kind: InstallKind) -> String {
            if kind == InstallKind::Import {
                gettext("Disk image file")
            } else {
                gettext("Installation image (ISO)")
            }
        }

        #[template_callback(function)]
        fn file_description(kind: InstallKind, uploads: bool, pool: &str) -> Option<String> {
            (kind == InstallKind::Iso && uploads).then(|| {
                gettext_f(
                    // Translators: {pool} is a storage pool on the remote host.
                    "The host cannot read this computer's files: the image is uploaded into its pool “{pool}” when the machine is created.",
                    &[("pool", pool)],
                )
            })
        }

        /// Whether an image file would be uploaded: an ISO install on a remote host.
        #[template_callback(function)]
        fn uploads_iso(kind: InstallKind, uploads: bool) -> bool {
            kind == InstallKind::Iso && uploads
        }

        #[template_callback(function)]
        fn is_none(volume: Option<VolumeChoice>) -> bool {
            volume.is_none()
        }
    }
}

glib::wrapper! {
    pub struct SourcePage(ObjectSubclass<imp::SourcePage>)
        @extends WizardPage, gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl SourcePage {
    fn set_connection(&self, connection: &Connection) {
        if self
            .imp()
            .connection
            .replace(Some(connection.clone()))
            .as_ref()
            != Some(connection)
        {
            self.notify_connection();
        }
    }

    fn set_volume(&self, volume: Option<PoolVolume>) {
        let volume = volume.map(VolumeChoice);
        if *self.imp().volume.borrow() != volume {
            self.imp().volume.replace(volume);
            self.notify_volume();
        }
    }

    /// Offers the connections of the application, `selected` (else the first) chosen.
    pub fn set_connections(&self, connections: &gio::ListStore, selected: Option<&Connection>) {
        let imp = self.imp();
        clear(&imp.connection_list);
        let mut first: Option<gtk::CheckButton> = None;
        let mut chosen = None;
        for connection in connections.iter::<Connection>().filter_map(Result::ok) {
            let radio = radio_row(
                &imp.connection_list,
                &connection.distinct_title(),
                Some(&connection.uri()),
                first.as_ref(),
            );
            if selected == Some(&connection) || (selected.is_none() && first.is_none()) {
                radio.set_active(true);
                chosen = Some(connection.clone());
            }
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |radio| {
                    if radio.is_active() {
                        page.set_connection(&connection);
                    }
                }
            ));
            first.get_or_insert(radio);
        }
        // The selected connection may be gone: the first one then.
        if chosen.is_none() {
            if let Some(first) = &first {
                first.set_active(true);
            }
            chosen = connections.item(0).and_downcast();
        }
        if let Some(connection) = chosen {
            self.set_connection(&connection);
        }
    }

    /// Offers the ISO volumes of the active pools, after "the image file above".
    /// The volume chosen stays chosen when it is still offered. On a remote host
    /// (`prefer_volume`), where an image file has to be uploaded first, the first volume
    /// is chosen while no file is given.
    pub fn set_volumes(&self, volumes: Vec<PoolVolume>, prefer_volume: bool) {
        let chosen = self.imp().volume.borrow().clone().map(|c| c.0);
        let chosen = chosen.filter(|v| volumes.contains(v)).or_else(|| {
            (prefer_volume && self.media_path().trim().is_empty())
                .then(|| volumes.first().cloned())
                .flatten()
        });
        self.offer_volumes(volumes, chosen.as_ref());
    }

    /// Offers the active `pools` of the host for an image file to be uploaded into; the one
    /// chosen stays chosen while it is offered, else `preferred` is.
    pub fn set_upload_pools(&self, pools: &[String], preferred: Option<&str>) {
        let imp = self.imp();
        clear(&imp.upload_pool_list);
        let current = imp.upload_pool.borrow().clone();
        let chosen = if pools.contains(&current) {
            current
        } else {
            preferred.unwrap_or_default().to_owned()
        };
        let mut first: Option<gtk::CheckButton> = None;
        for pool in pools {
            let radio = radio_row(&imp.upload_pool_list, pool, None, first.as_ref());
            radio.set_active(*pool == chosen);
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = page)]
                self,
                #[strong]
                pool,
                move |radio| {
                    if radio.is_active() {
                        page.set_upload_pool(&pool);
                    }
                }
            ));
            first.get_or_insert(radio);
        }
        self.set_upload_pool(&chosen);
    }

    fn set_upload_pool(&self, pool: &str) {
        if *self.imp().upload_pool.borrow() != pool {
            self.imp().upload_pool.replace(pool.to_owned());
            self.notify_upload_pool();
        }
    }

    /// Offers `volumes`, `chosen` (one of them) chosen, else the image file.
    fn offer_volumes(&self, volumes: Vec<PoolVolume>, chosen: Option<&PoolVolume>) {
        let imp = self.imp();
        imp.offered.replace(volumes.clone());
        clear(&imp.volume_list);
        imp.volume_list.set_visible(!volumes.is_empty());
        imp.volume_group.set_description(
            volumes
                .is_empty()
                .then(|| gettext("The active storage pools hold no ISO volumes."))
                .as_deref(),
        );
        self.set_volume(None);
        if volumes.is_empty() {
            return;
        }
        let file = radio_row(
            &imp.volume_list,
            &gettext("None: use the image file above"),
            None,
            None,
        );
        file.set_active(true);
        file.connect_toggled(glib::clone!(
            #[weak(rename_to = page)]
            self,
            move |radio| {
                if radio.is_active() {
                    page.set_volume(None);
                }
            }
        ));
        for volume in volumes {
            let label = gettext_f(
                // Translators: {volume} is an ISO volume in the storage pool {pool}.
                "{volume} in pool {pool}",
                &[("volume", &volume.name), ("pool", &volume.pool)],
            );
            let radio = radio_row(&imp.volume_list, &label, Some(&volume.path), Some(&file));
            let is_chosen = chosen == Some(&volume);
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |radio| {
                    if radio.is_active() {
                        page.set_volume(Some(volume.clone()));
                    }
                }
            ));
            radio.set_active(is_chosen);
        }
    }

    /// How the operating system is installed, as the spec says it.
    pub fn install_method(&self) -> InstallMethod {
        let path = self.media_path().trim().to_owned();
        match self.install_kind() {
            InstallKind::Iso => match self.volume() {
                Some(VolumeChoice(volume)) => InstallMethod::StorageVolume {
                    pool: volume.pool,
                    volume: volume.name,
                },
                None => InstallMethod::LocalIso {
                    path,
                    upload_pool: Some(self.upload_pool())
                        .filter(|p| self.uploads() && !p.is_empty()),
                },
            },
            InstallKind::Import => {
                let format =
                    DiskFormat::probe(std::path::Path::new(&path)).unwrap_or(DiskFormat::Raw);
                InstallMethod::ImportDisk { path, format }
            }
            InstallKind::NetworkBoot => InstallMethod::NetworkBoot,
            InstallKind::Manual => InstallMethod::Manual,
        }
    }

    /// The path of the installation image on this machine, for OS detection: the chosen
    /// volume's path when the host's paths are this machine's (`paths_are_local`), else
    /// the image file field. `None` when the install method takes no image or the image
    /// is on another host.
    pub fn local_image_path(&self, paths_are_local: bool) -> Option<String> {
        if self.install_kind() != InstallKind::Iso {
            return None;
        }
        match self.volume() {
            Some(VolumeChoice(volume)) => paths_are_local.then_some(volume.path),
            None => Some(self.media_path().trim().to_owned()),
        }
    }
}
