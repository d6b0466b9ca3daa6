//! Filling [`HostFacts`] from a libvirt connection (and, for a local connection, from
//! `/sys/class/net`; for a remote one, from libvirt's interfaces or node devices).
//! Blocking: call it from a worker thread.

use std::collections::BTreeSet;
use std::path::Path;

use virt::connect::Connect;
use virt::error::Error as VirtError;
use virt_sys as sys;

use super::bridges;
use super::validate::{HostFacts, PoolVolume};
use super::vm_spec::DomainType;

const MIB: u64 = 1 << 20;

/// Reads what [`crate::spec::VmSpec::validate`] needs from `conn`. `domain_type` is the
/// type the machine would get (UEFI firmware availability depends on it).
pub fn gather(conn: &Connect, domain_type: DomainType) -> Result<HostFacts, VirtError> {
    let node = conn.node_info()?;
    let uri = conn.uri()?;
    let paths_are_local = is_local_uri(&uri);
    let mut facts = HostFacts {
        total_memory_mib: node.memory / 1024,
        free_memory_mib: conn.free_memory()? / MIB,
        cpus: node.cpus,
        paths_are_local,
        ..HostFacts::default()
    };
    for pool in conn.list_all_storage_pools(sys::VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)? {
        let name = pool.name()?;
        facts
            .pool_free_bytes
            .insert(name.clone(), pool.info()?.available);
        if pool.xml_desc(0).is_ok_and(|xml| is_dir_pool(&xml)) {
            facts.dir_pools.insert(name.clone());
        }
        for volume in pool.list_all_volumes(0)? {
            facts.volumes.push(PoolVolume {
                pool: name.clone(),
                name: volume.name()?,
                path: volume.path()?,
            });
        }
    }
    for domain in conn.list_all_domains(0)? {
        facts.existing_names.insert(domain.name()?);
    }
    for network in conn.list_all_networks(0)? {
        facts.networks.insert(network.name()?);
    }
    facts.ovmf_present = supports_efi(conn, domain_type);
    facts.bridges = if paths_are_local {
        local_bridges(Path::new("/sys/class/net"))
    } else {
        remote_bridges(conn)
    };
    Ok(facts)
}

/// Whether a storage pool's XML says it is a folder (`<pool type='dir'>`).
fn is_dir_pool(xml: &str) -> bool {
    roxmltree::Document::parse(xml)
        .is_ok_and(|doc| doc.root_element().attribute("type") == Some("dir"))
}

/// Whether the URI names no remote host (`qemu:///system`, `test:///default`).
pub fn is_local_uri(uri: &str) -> bool {
    uri.split_once("://")
        .is_some_and(|(_, rest)| rest.starts_with('/') || rest.is_empty())
}

/// Whether libvirt can pick UEFI firmware for a q35 machine of this type.
fn supports_efi(conn: &Connect, domain_type: DomainType) -> bool {
    let virt_type = match domain_type {
        DomainType::Kvm => "kvm",
        DomainType::Qemu => "qemu",
    };
    let Ok(xml) = conn.domain_capabilities(None, Some("x86_64"), Some("q35"), Some(virt_type), 0)
    else {
        return false;
    };
    let Ok(doc) = roxmltree::Document::parse(&xml) else {
        return false;
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("enum") && n.attribute("name") == Some("firmware"))
        .filter(|n| n.parent().is_some_and(|p| p.has_tag_name("os")))
        .flat_map(|n| n.children().filter(|c| c.has_tag_name("value")))
        .any(|v| v.text() == Some("efi"))
}

/// The bridges of the connection's host: from libvirt's interface driver when the host
/// has one, else from its node devices of class net (see [`super::bridges`]). Empty when
/// neither answers: a machine can still use a virtual network there.
pub fn remote_bridges(conn: &Connect) -> BTreeSet<String> {
    match conn.list_all_interfaces(0) {
        Ok(interfaces) => {
            return interfaces
                .iter()
                .filter_map(|i| i.xml_desc(0).ok())
                .filter_map(|xml| bridges::bridge_of_interface_xml(&xml))
                .collect()
        }
        Err(e) => tracing::debug!("no interface list, trying node devices: {e}"),
    }
    match conn.list_all_node_devices(sys::VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET) {
        Ok(devices) => devices
            .iter()
            .filter_map(|d| d.xml_desc(0).ok())
            .filter_map(|xml| bridges::bridge_of_node_device_xml(&xml))
            .collect(),
        Err(e) => {
            tracing::warn!("cannot list the host's bridges: {e}");
            BTreeSet::new()
        }
    }
}

/// Interfaces under `sys_class_net` that are bridges (have a `bridge/` directory).
pub fn local_bridges(sys_class_net: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(sys_class_net) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().join("bridge").is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}
