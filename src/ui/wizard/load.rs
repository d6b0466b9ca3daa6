//! Reading what the pages need without blocking the main loop: the OS database, the host
//! of the chosen connection (resources, pools, networks, bridges; libvirt's part from the
//! connection's worker) and the OS of an ISO image.

use super::build::set_text;
use super::Wizard;
use crate::host::net::{self, Networks, Runner};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::Request;
use crate::spec::create::DEFAULT_POOL;
use crate::spec::facts::is_local_uri;
use crate::spec::osinfo::OsDb;
use crate::spec::{DomainType, HostFacts};
use crate::ui::host::off_main;
use crate::ui::Connection;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

/// Set to 1 to create machines with QEMU emulation even where KVM looks usable (a
/// nested KVM that cannot boot a guest, say).
pub const FORCE_EMULATION_ENV: &str = "VIRTDECK_FORCE_EMULATION";

/// What [`read_host`] found.
pub(super) struct HostReading {
    pub domain_type: DomainType,
    pub facts: Result<HostFacts, String>,
    pub networks: Option<Networks>,
}

/// The domain type new machines get: KVM when this host can use it, else emulation.
/// For a remote connection, KVM (its host is not checked from here).
pub fn domain_type_for(uri: &str) -> DomainType {
    let forced = std::env::var(FORCE_EMULATION_ENV).is_ok_and(|v| v == "1");
    if forced {
        return DomainType::Qemu;
    }
    if !is_local_uri(uri) {
        return DomainType::Kvm;
    }
    match crate::host::kvm::check().acceleration {
        crate::host::kvm::Acceleration::Kvm { .. } => DomainType::Kvm,
        crate::host::kvm::Acceleration::Emulation => DomainType::Qemu,
    }
}

/// The network cards and bridges of this computer, for a local connection. Blocks.
fn local_networks(uri: &str) -> Option<Networks> {
    if !is_local_uri(uri) {
        return None;
    }
    net::list(&Runner::local())
        .map_err(|e| tracing::warn!("cannot list the host's networks: {e}"))
        .ok()
}

/// Reads the host of `connection`: this computer's KVM check and links off the main
/// thread, libvirt's facts from the connection's worker. Only reads. `None` when the
/// local part panicked (logged).
pub(super) async fn read_host(connection: &Connection) -> Option<HostReading> {
    let uri = connection.uri();
    let (domain_type, networks) =
        off_main(move || (domain_type_for(&uri), local_networks(&uri))).await?;
    let facts = connection
        .request(|reply| Request::HostFacts { domain_type, reply })
        .await
        .map_err(|e| e.to_string());
    Some(HostReading {
        domain_type,
        facts,
        networks,
    })
}

/// Makes sure the default storage pool exists and runs, creating it when missing as
/// virt-manager does, so that new disks have a place and its free space is known.
async fn ensure_default_pool(connection: &Connection) {
    let ensured = connection
        .request(|reply| Request::EnsurePool {
            name: DEFAULT_POOL.to_owned(),
            reply,
        })
        .await;
    if let Err(e) = ensured {
        tracing::warn!("the default storage pool is not available: {e}");
    }
}

impl Wizard {
    pub(super) fn load_osdb(&self) {
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                let loaded =
                    gio::spawn_blocking(|| OsDb::system().map_err(|e| e.to_string())).await;
                match loaded {
                    Ok(Ok(db)) => {
                        wizard.imp().osdb.set(Some(db));
                        if wizard.imp().os.borrow().is_none() {
                            wizard.choose_os(db.generic_os());
                        }
                        wizard.fill_os_list();
                    }
                    Ok(Err(e)) => set_text(&wizard.imp().os_problems, &e),
                    Err(_) => tracing::error!("reading the OS database panicked"),
                }
                wizard.check_page();
            }
        ));
        self.imp().os_search.connect_search_changed(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| wizard.fill_os_list()
        ));
    }

    /// Makes sure the default pool exists (a deliberate change, the one the wizard makes
    /// before it is finished), then reads the chosen connection's host again; the pages
    /// wait meanwhile.
    pub(super) fn load_host(&self) {
        let Some(connection) = self.connection() else {
            return;
        };
        let imp = self.imp();
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        imp.facts.replace(None);
        self.check_page();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                ensure_default_pool(&connection).await;
                let Some(reading) = read_host(&connection).await else {
                    return;
                };
                if wizard.imp().generation.get() == generation {
                    wizard.apply_host(reading);
                }
            }
        ));
    }

    fn apply_host(&self, reading: HostReading) {
        let imp = self.imp();
        imp.domain_type.set(Some(reading.domain_type));
        if let Ok(facts) = &reading.facts {
            let pools: Vec<String> = facts.pool_free_bytes.keys().cloned().collect();
            self.fill_pools(&pools);
            let networks: Vec<String> = facts.networks.iter().cloned().collect();
            self.fill_networks(reading.networks.as_ref(), &networks);
            self.set_uefi_available(facts.ovmf_present);
            self.fill_volumes(facts);
        }
        imp.networks.replace(reading.networks);
        imp.facts.replace(Some(reading.facts));
        self.check_page();
    }

    /// Detects the OS of the chosen ISO image when it changed since last time.
    pub(super) fn enter_os_page(&self) {
        let imp = self.imp();
        let path = self.local_image_path();
        if *imp.detected_path.borrow() == path && path.is_some() {
            return;
        }
        imp.detected_path.replace(path.clone());
        let (Some(path), Some(db)) = (path, imp.osdb.get()) else {
            self.show_detected(None, None);
            return;
        };
        set_text(&imp.os_detected, &gettext("Looking at the image…"));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                let detected = gio::spawn_blocking(move || {
                    db.detect_iso(std::path::Path::new(&path))
                        .map(|os| os.cloned())
                        .map_err(|e| e.to_string())
                })
                .await;
                match detected {
                    Ok(Ok(Some(os))) => {
                        wizard.show_detected(Some(&os), None);
                        wizard.choose_os(os);
                        wizard.fill_os_list();
                    }
                    Ok(Ok(None)) => wizard.show_detected(None, None),
                    Ok(Err(e)) => wizard.show_detected(
                        None,
                        Some(&gettext_f(
                            // Translators: {reason} says why the image could not be read.
                            "The image could not be examined: {reason}",
                            &[("reason", &e)],
                        )),
                    ),
                    Err(_) => tracing::error!("detecting the OS panicked"),
                }
            }
        ));
    }
}
