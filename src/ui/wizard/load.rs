//! Reading the host of the chosen connection (resources, pools, networks, bridges) without
//! blocking the main loop, for the pages to offer what it has: libvirt's part from the
//! connection's worker, this computer's KVM check and links off the main thread.

use super::choices::{network_options, NetworkOption};
use super::Wizard;
use crate::host::net::{self, Networks, Runner};
use crate::i18n::gettext;
use crate::spec::create::DEFAULT_POOL;
use crate::spec::facts::is_local_uri;
use crate::spec::{DomainType, HostFacts};
use crate::ui::backend::Request;
use crate::ui::util::run_blocking;
use crate::ui::util::{show_error, Failure};
use crate::ui::Connection;
use crate::ui::InWords;
use adw::subclass::prelude::*;
use gtk::glib;

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
        run_blocking(move || (domain_type_for(&uri), local_networks(&uri))).await?;
    let facts = connection
        .request(|reply| Request::HostFacts { domain_type, reply })
        .await
        .map_err(|e| e.in_words());
    Some(HostReading {
        domain_type,
        facts,
        networks,
    })
}

/// The bridges of a remote host and the virtual networks libvirt knows, from `facts`: a
/// local host's bridges come with their members and addresses in [`HostReading::networks`].
fn libvirt_networks(facts: &HostFacts) -> (Vec<String>, Vec<String>) {
    let remote_bridges = if facts.paths_are_local {
        Vec::new()
    } else {
        facts.bridges.iter().cloned().collect()
    };
    (remote_bridges, facts.networks.iter().cloned().collect())
}

/// What a network card of a machine on `connection` can be on, read as the wizard reads
/// it; empty when the host could not be read.
pub(crate) async fn read_network_options(connection: &Connection) -> Vec<NetworkOption> {
    let Some(reading) = read_host(connection).await else {
        return Vec::new();
    };
    let (remote_bridges, networks) = reading
        .facts
        .as_ref()
        .map(libvirt_networks)
        .unwrap_or_default();
    network_options(reading.networks.as_ref(), &remote_bridges, &networks)
}

/// Makes sure the default storage pool exists and runs, creating it when missing as
/// virt-manager does, so that new disks have a place and its free space is known.
async fn ensure_default_pool(connection: &Connection) -> Result<(), Failure> {
    connection
        .request(|reply| Request::EnsurePool {
            name: DEFAULT_POOL.to_owned(),
            reply,
        })
        .await
        .map_err(|e| {
            Failure::with_detail(
                gettext("The default storage pool could not be prepared"),
                e.in_words(),
            )
        })
}

impl Wizard {
    /// Makes sure the default pool exists (a deliberate change, the one the wizard makes
    /// before it is finished), then reads the chosen connection's host again; the pages
    /// wait meanwhile.
    pub(super) fn load_host(&self) {
        let imp = self.imp();
        let Some(connection) = imp.source_page.connection() else {
            return;
        };
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        imp.facts.replace(None);
        self.show_review();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                if let Err(failure) = ensure_default_pool(&connection).await {
                    // The pages still offer what there is; new disks need another pool.
                    show_error(&wizard, &failure);
                }
                let Some(reading) = read_host(&connection).await else {
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
            let (remote_bridges, networks) = libvirt_networks(facts);
            imp.network_page
                .set_networks(reading.networks.as_ref(), &remote_bridges, &networks);
            imp.summary_page.set_uefi_available(facts.ovmf_present);
            imp.source_page.set_uploads(!facts.paths_are_local);
            imp.source_page
                .set_upload_pools(&pools, facts.default_upload_pool());
            imp.source_page.set_volumes(
                facts.iso_volumes().cloned().collect(),
                !facts.paths_are_local,
            );
        }
        imp.facts.replace(Some(reading.facts));
        self.show_review();
    }
}
