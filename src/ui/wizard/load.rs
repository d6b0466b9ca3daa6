//! Reading the host of the chosen connection (resources, pools, networks, bridges) off
//! the main thread, for the pages to offer what it has.

use super::Wizard;
use crate::host::net::{self, Networks, Runner};
use crate::libvirt::error::describe;
use crate::spec::create::{ensure_pool, DEFAULT_POOL};
use crate::spec::facts::{gather, is_local_uri};
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
    /// Reads the chosen connection's host again; the pages wait meanwhile.
    pub(super) fn load_host(&self) {
        let imp = self.imp();
        let Some(connection) = imp.source_page.connection() else {
            return;
        };
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        imp.facts.replace(None);
        self.show_review();
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

    /// Offers what the host has: pools, networks, ISO volumes, UEFI when it has OVMF.
    fn apply_host(&self, reading: HostReading) {
        let imp = self.imp();
        imp.domain_type.set(Some(reading.domain_type));
        if let Ok(facts) = &reading.facts {
            let pools: Vec<String> = facts.pool_free_bytes.keys().cloned().collect();
            imp.storage_page.set_pools(&pools);
            let networks: Vec<String> = facts.networks.iter().cloned().collect();
            imp.network_page
                .set_networks(reading.networks.as_ref(), &networks);
            imp.summary_page.set_uefi_available(facts.ovmf_present);
            imp.source_page
                .set_volumes(facts.iso_volumes().cloned().collect());
        }
        imp.facts.replace(Some(reading.facts));
        self.show_review();
    }
}
