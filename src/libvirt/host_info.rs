//! What Host Details shows about the host of a connection: hypervisor, libvirt, processors
//! and memory, read from libvirt (and, for a local connection, the processor's name from
//! this computer).

use virt::connect::Connect;
use virt::error::Error;

use super::worker::format_version;

/// The host of a connection as libvirt describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    pub hostname: String,
    /// The driver and its version, e.g. "QEMU 7.2.0".
    pub hypervisor: String,
    /// The version of the libvirt library the connection goes through.
    pub libvirt: String,
    /// The processor's name: its marketing name for a local connection, else vendor and
    /// model from libvirt's capabilities, else `virNodeInfo`'s model.
    pub cpu_model: String,
    pub cpus: u32,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
    pub memory_kib: u64,
    /// Memory not in use by programs on the host (free, buffers and page cache), when
    /// libvirt could tell.
    pub free_memory_kib: Option<u64>,
    /// Memory the running machines have now, summed, and how many run.
    pub committed_kib: u64,
    pub running: u32,
    /// Every storage pool, sorted by name.
    pub pools: Vec<PoolUse>,
}

/// How full a storage pool is. Sizes are known only while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    pub name: String,
    pub active: bool,
    pub capacity_bytes: u64,
    pub allocation_bytes: u64,
    pub available_bytes: u64,
}

/// Reads the host of `conn`; `local` says it is this computer. Blocks.
pub fn read(conn: &Connect, local: bool) -> Result<HostInfo, Error> {
    let info = conn.node_info()?;
    let driver = conn.driver_type().unwrap_or_default();
    let hyp = conn.hyp_version().map(format_version).unwrap_or_default();
    let caps = conn.capabilities().unwrap_or_default();
    let cpu_model = local
        .then(crate::host::processor_name)
        .flatten()
        .or_else(|| capabilities_cpu(&caps))
        .unwrap_or_else(|| info.model.clone());
    let committed = committed_memory(conn).unwrap_or_default();
    Ok(HostInfo {
        hostname: conn.hostname().unwrap_or_default(),
        hypervisor: format!("{driver} {hyp}").trim().to_owned(),
        libvirt: conn.lib_version().map(format_version).unwrap_or_default(),
        cpu_model,
        cpus: info.cpus,
        sockets: info.sockets * info.nodes.max(1),
        cores: info.cores,
        threads: info.threads,
        memory_kib: info.memory,
        // Free, buffers and cache, as the graph of Host Details counts it; the free pages
        // alone where the driver does not tell more.
        free_memory_kib: super::host_load::read_memory(conn)
            .map(|m| m.total_kib - m.used_kib)
            .or_else(|| conn.free_memory().ok().map(|bytes| bytes / 1024)),
        committed_kib: committed.iter().sum(),
        running: u32::try_from(committed.len()).unwrap_or(u32::MAX),
        pools: pools(conn),
    })
}

/// The current memory of each running domain, in KiB.
fn committed_memory(conn: &Connect) -> Result<Vec<u64>, Error> {
    let running = conn.list_all_domains(virt::sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)?;
    Ok(running
        .iter()
        .filter_map(|d| d.info().ok())
        .map(|i| i.memory)
        .collect())
}

/// Every storage pool and its use; a pool that vanished meanwhile is passed over.
fn pools(conn: &Connect) -> Vec<PoolUse> {
    let mut pools: Vec<PoolUse> = conn
        .list_all_storage_pools(0)
        .unwrap_or_default()
        .iter()
        .filter_map(|pool| {
            let info = pool.info().ok()?;
            Some(PoolUse {
                name: pool.name().ok()?,
                active: info.state == virt::sys::VIR_STORAGE_POOL_RUNNING,
                capacity_bytes: info.capacity,
                allocation_bytes: info.allocation,
                available_bytes: info.available,
            })
        })
        .collect();
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    pools
}

/// "AMD kvm64-v1" from the host CPU of libvirt's capabilities.
fn capabilities_cpu(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let cpu = doc
        .descendants()
        .find(|n| n.has_tag_name("cpu") && n.parent().is_some_and(|p| p.has_tag_name("host")))?;
    let child = |name: &str| {
        cpu.children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
    };
    let words: Vec<&str> = [child("vendor"), child("model")]
        .into_iter()
        .flatten()
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::capabilities_cpu;

    #[test]
    fn the_host_cpu_comes_from_the_capabilities() {
        let xml = "<capabilities><host><cpu><arch>x86_64</arch><model>kvm64-v1</model><vendor>AMD</vendor></cpu></host><guest><cpu><model>no</model></cpu></guest></capabilities>";
        assert_eq!(capabilities_cpu(xml).as_deref(), Some("AMD kvm64-v1"));
        assert_eq!(capabilities_cpu("<capabilities/>"), None);
    }
}
