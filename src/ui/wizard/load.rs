//! Reading what the pages need, off the main thread: the OS database, the host of the
//! chosen connection (resources, pools, networks, bridges) and the OS of an ISO image.

use super::build::set_text;
use super::Wizard;
use crate::host::net::{self, Networks, Runner};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::error::describe;
use crate::spec::create::{ensure_pool, DEFAULT_POOL};
use crate::spec::facts::{gather, is_local_uri};
use crate::spec::osinfo::OsDb;
use crate::spec::{DomainType, HostFacts};
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

/// Reads the host of `uri`. Blocking. Creates and starts the default storage pool when
/// it is missing, as virt-manager does, so that its free space is known.
pub(super) fn read_host(uri: &str) -> HostReading {
    let domain_type = domain_type_for(uri);
    virt::error::clear_error_callback();
    let facts = virt::connect::Connect::open(Some(uri))
        .map_err(|e| describe(&e))
        .and_then(|conn| {
            if let Err(e) = ensure_pool(&conn, DEFAULT_POOL) {
                tracing::warn!("the default storage pool is not available: {e}");
            }
            gather(&conn, domain_type).map_err(|e| describe(&e))
        });
    let networks = is_local_uri(uri)
        .then(|| net::list(&Runner::local()))
        .and_then(|listed| {
            listed
                .map_err(|e| tracing::warn!("cannot list the host's networks: {e}"))
                .ok()
        });
    HostReading {
        domain_type,
        facts,
        networks,
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

    /// Reads the chosen connection's host again; the pages wait meanwhile.
    pub(super) fn load_host(&self) {
        let Some(connection) = self.connection() else {
            return;
        };
        let imp = self.imp();
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        imp.facts.replace(None);
        self.check_page();
        let uri = connection.uri();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                let Ok(reading) = gio::spawn_blocking(move || read_host(&uri)).await else {
                    tracing::error!("reading the host panicked");
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
