//! Plain data about domains: [`DomainInfo`] from the domain XML, [`DomainStats`] from two
//! consecutive bulk statistics samples.

use std::collections::HashMap;
use std::time::Duration;

use roxmltree::{Document, Node};

use super::events::TypedValue;

/// `virDomainState`, every value (ordered as libvirt numbers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DomainState {
    NoState,
    Running,
    /// Blocked on a resource ("idle" in virsh).
    Blocked,
    Paused,
    ShuttingDown,
    Shutoff,
    Crashed,
    /// Suspended by guest power management.
    PmSuspended,
}

impl DomainState {
    pub const ALL: [DomainState; 8] = [
        Self::NoState,
        Self::Running,
        Self::Blocked,
        Self::Paused,
        Self::ShuttingDown,
        Self::Shutoff,
        Self::Crashed,
        Self::PmSuspended,
    ];

    /// From the `virDomainState` number; unknown values count as no state.
    pub fn from_raw(state: u32) -> Self {
        match state {
            1 => Self::Running,
            2 => Self::Blocked,
            3 => Self::Paused,
            4 => Self::ShuttingDown,
            5 => Self::Shutoff,
            6 => Self::Crashed,
            7 => Self::PmSuspended,
            _ => Self::NoState,
        }
    }

    /// The `virDomainState` number.
    pub fn to_raw(self) -> u32 {
        match self {
            Self::NoState => 0,
            Self::Running => 1,
            Self::Blocked => 2,
            Self::Paused => 3,
            Self::ShuttingDown => 4,
            Self::Shutoff => 5,
            Self::Crashed => 6,
            Self::PmSuspended => 7,
        }
    }

    /// Whether the domain has a running hypervisor process (anything but shut off).
    pub fn is_active(self) -> bool {
        self != Self::Shutoff
    }

    /// English label; the UI has its own translated ones.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoState => "No state",
            Self::Running => "Running",
            Self::Blocked => "Blocked",
            Self::Paused => "Paused",
            Self::ShuttingDown => "Shutting down",
            Self::Shutoff => "Shut off",
            Self::Crashed => "Crashed",
            Self::PmSuspended => "Suspended",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DiskDevice {
    Disk,
    Cdrom,
    Floppy,
    Lun,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Disk {
    /// Guest device name, e.g. `vda`.
    pub target: String,
    pub bus: Option<String>,
    pub device: DiskDevice,
    /// File or block device path, `pool/volume`, or a network disk's name.
    pub source: Option<String>,
    pub read_only: bool,
    /// Marked `<shareable/>`: meant to be used by several machines at once.
    pub shareable: bool,
    /// Capacity in bytes, when the hypervisor could tell.
    pub size_bytes: Option<u64>,
}

impl Disk {
    /// A local path the host can look up as a storage volume.
    pub fn source_path(&self) -> Option<&str> {
        self.source.as_deref().filter(|s| s.starts_with('/'))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nic {
    /// Interface type: `network`, `bridge`, `direct`, `user`, …
    pub kind: String,
    /// The network, bridge or host device it is attached to.
    pub source: Option<String>,
    pub mac: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Graphics {
    /// `vnc`, `spice`, …
    pub kind: String,
    /// The TCP port, once allocated (`None` while autoport has not picked one).
    pub port: Option<u16>,
    /// Listen address or UNIX socket path.
    pub listen: Option<String>,
}

/// What the domain list shows of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainInfo {
    pub name: String,
    pub uuid: String,
    pub title: Option<String>,
    /// Hypervisor id, only while active.
    pub id: Option<u32>,
    pub state: DomainState,
    pub persistent: bool,
    pub vcpus: u32,
    /// Current memory in KiB.
    pub memory_kib: u64,
    /// Maximum memory in KiB.
    pub max_memory_kib: u64,
    /// libosinfo OS id from the metadata, e.g. `http://debian.org/debian/12`.
    pub os_id: Option<String>,
    pub disks: Vec<Disk>,
    pub nics: Vec<Nic>,
    pub graphics: Vec<Graphics>,
    /// Whether the guest has a USB tablet, which gives it absolute pointer positions.
    pub tablet: Tablet,
    /// The file that keeps the UEFI variables (boot entries, Secure Boot keys), if any.
    pub nvram: Option<String>,
    /// Whether the machine has an emulated TPM, whose state libvirt keeps on the host.
    pub tpm_state: bool,
    /// Shut off with its memory saved by libvirt (managed save): the next start resumes
    /// it. Read by the worker; never true for a running machine.
    pub saved: bool,
    /// Marked as the template of linked clones ([`super::clone`]): not to be started.
    pub template: bool,
    /// The user's tags, from the metadata ([`super::tags`]), sorted.
    pub tags: Vec<String>,
    /// Read from the XML. False in the first look at a long list
    /// ([`DomainInfo::listed`]): then only the name, UUID, id, state, persistence and
    /// managed save are known.
    pub detailed: bool,
}

/// A USB tablet lets the console place the guest's pointer exactly; without one the guest
/// gets relative motion (a PS/2 mouse) and its pointer may lag behind or drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tablet {
    Present,
    /// Not in the running guest, but in its configuration: there at the next start.
    AtNextStart,
    Missing,
}

/// The device XML of the USB tablet [`crate::libvirt::Command::AddTablet`] adds.
pub const USB_TABLET_XML: &str = "<input type='tablet' bus='usb'/>";

#[derive(Debug, thiserror::Error)]
pub enum DomainXmlError {
    #[error("the domain XML is not well-formed: {0}")]
    Parse(#[from] roxmltree::Error),
    #[error("the document is not a <domain>")]
    NotADomain,
    #[error("the domain XML has no <{0}>")]
    Missing(&'static str),
}

const LIBOSINFO_NS: &str = "http://libosinfo.org/xmlns/libvirt/domain/1.0";

impl DomainInfo {
    /// Parses the domain XML (`virDomainGetXMLDesc`). State and persistence are not in the
    /// XML and come from the caller.
    pub fn from_xml(
        xml: &str,
        state: DomainState,
        persistent: bool,
    ) -> Result<Self, DomainXmlError> {
        let doc = Document::parse(xml)?;
        let root = doc.root_element();
        if !root.has_tag_name("domain") {
            return Err(DomainXmlError::NotADomain);
        }
        let name = child_text(root, "name").ok_or(DomainXmlError::Missing("name"))?;
        let uuid = child_text(root, "uuid").ok_or(DomainXmlError::Missing("uuid"))?;
        let id = root
            .attribute("id")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|v| u32::try_from(v).ok());

        let max_memory_kib = child(root, "memory").map(memory_kib).unwrap_or(0);
        let memory_kib = child(root, "currentMemory")
            .map(memory_kib)
            .unwrap_or(max_memory_kib);
        let vcpus = child(root, "vcpu")
            .and_then(|v| {
                v.attribute("current")
                    .or_else(|| v.text())
                    .and_then(|t| t.trim().parse().ok())
            })
            .unwrap_or(1);

        let os_id = child(root, "metadata").and_then(|meta| {
            meta.descendants()
                .find(|n| n.has_tag_name((LIBOSINFO_NS, "os")))
                .and_then(|os| os.attribute("id"))
                .map(str::to_owned)
        });

        let devices = child(root, "devices");
        let each = |tag: &'static str| {
            devices
                .into_iter()
                .flat_map(|d| d.children())
                .filter(move |n| n.has_tag_name(tag))
        };
        let mut tags = child(root, "metadata")
            .map(super::tags::from_metadata)
            .unwrap_or_default();
        tags.shrink_to_fit();
        Ok(Self {
            tags,
            name,
            uuid,
            title: child_text(root, "title"),
            id,
            state,
            persistent,
            vcpus,
            memory_kib,
            max_memory_kib,
            os_id,
            disks: exact(each("disk").map(parse_disk)),
            nics: exact(each("interface").map(parse_nic)),
            graphics: exact(each("graphics").map(parse_graphics)),
            tablet: if each("input").any(|n| n.attribute("type") == Some("tablet")) {
                Tablet::Present
            } else {
                Tablet::Missing
            },
            nvram: child(root, "os")
                .and_then(|os| child(os, "nvram"))
                .and_then(nvram_path),
            tpm_state: each("tpm")
                .any(|tpm| child_attr(tpm, "backend", "type") == Some("emulator")),
            saved: false,
            template: super::clone::is_template(child(root, "metadata")),
            detailed: true,
        })
    }
}

/// The items in a vector without spare room. Collected from a filter, a vector starts
/// with room for four: the UI keeps a description of every machine, and with thousands
/// the room for disks, NICs and displays that are not there added up to megabytes.
fn exact<T>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.shrink_to_fit();
    items
}

fn child<'a, 'i>(node: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(tag))
}

fn child_text(node: Node, tag: &str) -> Option<String> {
    child(node, tag)
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn child_attr<'a>(node: Node<'a, '_>, tag: &str, attr: &str) -> Option<&'a str> {
    child(node, tag).and_then(|n| n.attribute(attr))
}

/// A `<memory unit='…'>N</memory>` value in KiB (libvirt's default unit).
fn memory_kib(node: Node) -> u64 {
    let value: u64 = node.text().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
    let bytes_per_unit: u64 = match node.attribute("unit").unwrap_or("KiB") {
        "b" | "bytes" => 1,
        "KB" => 1000,
        "k" | "K" | "KiB" => 1 << 10,
        "MB" => 1000 * 1000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1000 * 1000 * 1000,
        "G" | "GiB" => 1 << 30,
        "TB" => 1000 * 1000 * 1000 * 1000,
        "T" | "TiB" => 1 << 40,
        _ => 1 << 10,
    };
    u64::try_from(u128::from(value) * u128::from(bytes_per_unit) / 1024).unwrap_or(u64::MAX)
}

fn parse_disk(node: Node) -> Disk {
    let device = match node.attribute("device").unwrap_or("disk") {
        "disk" => DiskDevice::Disk,
        "cdrom" => DiskDevice::Cdrom,
        "floppy" => DiskDevice::Floppy,
        "lun" => DiskDevice::Lun,
        other => DiskDevice::Other(other.to_owned()),
    };
    let source = child(node, "source").and_then(|s| {
        if let (Some(pool), Some(volume)) = (s.attribute("pool"), s.attribute("volume")) {
            return Some(format!("{pool}/{volume}"));
        }
        ["file", "dev", "dir", "name"]
            .iter()
            .find_map(|a| s.attribute(*a))
            .map(str::to_owned)
    });
    Disk {
        target: child_attr(node, "target", "dev")
            .unwrap_or_default()
            .to_owned(),
        bus: child_attr(node, "target", "bus").map(str::to_owned),
        device,
        source,
        read_only: child(node, "readonly").is_some(),
        shareable: child(node, "shareable").is_some(),
        size_bytes: None,
    }
}

/// `<nvram>/path</nvram>`, or (libvirt 8.5 and later) `<nvram type='file'><source
/// file='/path'/></nvram>`.
fn nvram_path(node: Node) -> Option<String> {
    node.text()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| child_attr(node, "source", "file"))
        .map(str::to_owned)
}

fn parse_nic(node: Node) -> Nic {
    let source = child(node, "source").and_then(|s| {
        ["network", "bridge", "dev", "name", "path"]
            .iter()
            .find_map(|a| s.attribute(*a))
            .map(str::to_owned)
    });
    Nic {
        kind: node.attribute("type").unwrap_or_default().to_owned(),
        source,
        mac: child_attr(node, "mac", "address").map(str::to_owned),
        model: child_attr(node, "model", "type").map(str::to_owned),
    }
}

fn parse_graphics(node: Node) -> Graphics {
    let port = node
        .attribute("port")
        .and_then(|p| p.parse::<i32>().ok())
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0);
    let listen = node
        .attribute("listen")
        .or_else(|| {
            child(node, "listen").and_then(|l| l.attribute("address").or(l.attribute("socket")))
        })
        .or_else(|| node.attribute("socket"))
        .map(str::to_owned);
    Graphics {
        kind: node.attribute("type").unwrap_or_default().to_owned(),
        port,
        listen,
    }
}

/// Resource use of a running domain over the last sampling interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DomainStats {
    /// Share of the domain's vCPUs in use, 0–100.
    pub cpu_percent: f64,
    /// Memory the guest uses, in KiB (see [`StatsSample::memory_used_kib`]).
    pub memory_used_kib: Option<u64>,
    /// Memory the guest currently has, in KiB.
    pub memory_total_kib: Option<u64>,
    pub disk_read_bytes_per_sec: f64,
    pub disk_write_bytes_per_sec: f64,
    pub net_rx_bytes_per_sec: f64,
    pub net_tx_bytes_per_sec: f64,
}

/// The counters of one domain at one moment, from one bulk statistics record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSample {
    /// `cpu.time`, nanoseconds.
    pub cpu_time_ns: u64,
    /// `vcpu.current`, when that group was asked for.
    pub vcpus: Option<u32>,
    /// `balloon.current`, KiB.
    pub memory_total_kib: Option<u64>,
    /// What the guest uses: `balloon.available - balloon.unused` when the guest reports
    /// them, else the host's resident size `balloon.rss`.
    pub memory_used_kib: Option<u64>,
    /// Sums over every disk (`block.N.rd.bytes`, `block.N.wr.bytes`).
    pub disk_read_bytes: u64,
    pub disk_write_bytes: u64,
    /// Sums over every interface (`net.N.rx.bytes`, `net.N.tx.bytes`).
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
}

impl StatsSample {
    /// Reads the counters out of a record's typed parameters; missing ones stay zero/None.
    pub fn from_params(params: &[(String, TypedValue)]) -> Self {
        let mut sample = Self::default();
        let (mut available, mut unused, mut rss) = (None, None, None);
        for (key, value) in params {
            let Some(v) = value.as_u64() else { continue };
            match key.as_str() {
                "cpu.time" => sample.cpu_time_ns = v,
                "vcpu.current" => sample.vcpus = u32::try_from(v).ok(),
                "balloon.current" => sample.memory_total_kib = Some(v),
                "balloon.available" => available = Some(v),
                "balloon.unused" => unused = Some(v),
                "balloon.rss" => rss = Some(v),
                _ => {
                    let total = match indexed_counter(key) {
                        Some(("block", "rd.bytes")) => &mut sample.disk_read_bytes,
                        Some(("block", "wr.bytes")) => &mut sample.disk_write_bytes,
                        Some(("net", "rx.bytes")) => &mut sample.net_rx_bytes,
                        Some(("net", "tx.bytes")) => &mut sample.net_tx_bytes,
                        _ => continue,
                    };
                    *total = total.saturating_add(v);
                }
            }
        }
        sample.memory_used_kib = match (available, unused) {
            (Some(a), Some(u)) if a >= u => Some(a - u),
            _ => rss,
        };
        sample
    }
}

/// What one record of a bulk `STATE | BLOCK` statistics call tells about a domain besides
/// its XML: its run state and its disks' capacities, so that listing many domains needs
/// no per-domain call for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedFacts {
    pub state: Option<DomainState>,
    /// Capacity in bytes by target device (`vda`), for the disks the driver reported.
    pub capacities: HashMap<String, u64>,
}

impl ListedFacts {
    pub fn from_params(params: &[(String, TypedValue)]) -> Self {
        let mut state = None;
        let mut names = HashMap::new();
        let mut capacities = HashMap::new();
        for (key, value) in params {
            match (key.as_str(), value) {
                ("state.state", v) => {
                    state = v
                        .as_u64()
                        .and_then(|v| u32::try_from(v).ok())
                        .map(DomainState::from_raw);
                }
                (_, TypedValue::String(name)) => {
                    if let Some((index, "name")) = block_field(key) {
                        names.insert(index, name.clone());
                    }
                }
                (_, v) => {
                    if let (Some((index, "capacity")), Some(bytes)) = (block_field(key), v.as_u64())
                    {
                        capacities.insert(index, bytes);
                    }
                }
            }
        }
        let capacities = names
            .into_iter()
            .filter_map(|(index, name)| capacities.get(index).map(|&bytes| (name, bytes)))
            .collect();
        Self { state, capacities }
    }
}

impl DomainInfo {
    /// A first look at a listed domain, before its XML is read: what the listing and the
    /// bulk statistics tell (name, UUID and id come with the handle). Memory and vCPUs
    /// are 0 and texts empty until [`DomainInfo::from_xml`] replaces it: their statistics
    /// groups would cost QEMU a monitor command per running machine.
    pub fn listed(
        name: String,
        uuid: String,
        id: Option<u32>,
        state: DomainState,
        persistent: bool,
    ) -> Self {
        Self {
            name,
            uuid,
            title: None,
            id,
            state,
            persistent,
            vcpus: 0,
            memory_kib: 0,
            max_memory_kib: 0,
            os_id: None,
            disks: Vec::new(),
            nics: Vec::new(),
            graphics: Vec::new(),
            tablet: Tablet::Missing,
            nvram: None,
            tpm_state: false,
            saved: false,
            template: false,
            tags: Vec::new(),
            detailed: false,
        }
    }
}

/// `block.3.capacity` → `("3", "capacity")`.
fn block_field(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("block.")?;
    let (index, field) = rest.split_once('.')?;
    (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some((index, field))
}

/// `block.3.rd.bytes` → `("block", "rd.bytes")`; `None` unless the middle part is an index.
fn indexed_counter(key: &str) -> Option<(&str, &str)> {
    let (group, rest) = key.split_once('.')?;
    let (index, counter) = rest.split_once('.')?;
    (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some((group, counter))
}

/// The rates between two samples of the same domain taken `elapsed` apart.
///
/// `vcpus` is the domain's vCPU count, used when the samples do not carry one. Counters that
/// went backwards (the domain restarted in between) count as no activity.
pub fn compute_stats(
    prev: &StatsSample,
    cur: &StatsSample,
    elapsed: Duration,
    vcpus: u32,
) -> DomainStats {
    let secs = elapsed.as_secs_f64();
    let rate = |before: u64, after: u64| {
        if secs > 0.0 {
            after.saturating_sub(before) as f64 / secs
        } else {
            0.0
        }
    };
    let vcpus = cur.vcpus.unwrap_or(vcpus).max(1);
    let cpu_ns_per_sec = rate(prev.cpu_time_ns, cur.cpu_time_ns);
    let cpu_percent = (cpu_ns_per_sec / 1e9 / f64::from(vcpus) * 100.0).clamp(0.0, 100.0);
    DomainStats {
        cpu_percent,
        memory_used_kib: cur.memory_used_kib,
        memory_total_kib: cur.memory_total_kib,
        disk_read_bytes_per_sec: rate(prev.disk_read_bytes, cur.disk_read_bytes),
        disk_write_bytes_per_sec: rate(prev.disk_write_bytes, cur.disk_write_bytes),
        net_rx_bytes_per_sec: rate(prev.net_rx_bytes, cur.net_rx_bytes),
        net_tx_bytes_per_sec: rate(prev.net_tx_bytes, cur.net_tx_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_facts_read_state_and_capacities_by_target() {
        let params = vec![
            ("state.state".to_owned(), TypedValue::Int(3)),
            ("state.reason".to_owned(), TypedValue::Int(0)),
            ("block.count".to_owned(), TypedValue::UInt(2)),
            ("block.0.name".to_owned(), TypedValue::String("vda".into())),
            ("block.0.capacity".to_owned(), TypedValue::ULLong(1 << 20)),
            ("block.1.name".to_owned(), TypedValue::String("sda".into())),
        ];
        let facts = ListedFacts::from_params(&params);
        assert_eq!(facts.state, Some(DomainState::Paused));
        assert_eq!(facts.capacities.get("vda"), Some(&(1 << 20)));
        assert_eq!(facts.capacities.len(), 1, "no capacity reported for sda");
        assert_eq!(ListedFacts::from_params(&[]), ListedFacts::default());
    }

    #[test]
    fn a_first_look_knows_identity_and_state_only() {
        let uuid = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
        let info = DomainInfo::listed(
            "web".into(),
            uuid.into(),
            Some(7),
            DomainState::Running,
            false,
        );
        assert_eq!((info.name.as_str(), info.uuid.as_str()), ("web", uuid));
        assert_eq!(
            (info.id, info.state, info.persistent),
            (Some(7), DomainState::Running, false)
        );
        assert_eq!(
            (info.vcpus, info.memory_kib, info.max_memory_kib),
            (0, 0, 0)
        );
        assert!(!info.detailed, "only a first look");
        assert!(info.tags.is_empty() && info.os_id.is_none() && info.disks.is_empty());
        let full = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        assert!(full.detailed);
    }

    const FULL: &str = r#"
<domain type='kvm' id='7' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>deb &amp; co</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <title>  Build box </title>
  <metadata>
    <osi:libosinfo xmlns:osi="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <osi:os id="http://debian.org/debian/12"/>
    </osi:libosinfo>
    <other:os xmlns:other="http://example.org/not-osinfo" id="wrong"/>
  </metadata>
  <memory unit='GiB'>4</memory>
  <currentMemory unit='MiB'>2048</currentMemory>
  <vcpu placement='static' current='2'>8</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/deb.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='block' device='lun'>
      <source dev='/dev/sdb'/>
      <target dev='sdb' bus='scsi'/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='default' volume='data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='rbd' name='pool/image'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:ab:cd:ef'/>
      <source bridge='br0'/>
      <model type='e1000e'/>
    </interface>
    <interface type='direct'>
      <source dev='eth0' mode='bridge'/>
    </interface>
    <interface type='user'/>
    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <graphics type='spice' port='-1' autoport='yes'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
    <graphics type='vnc'>
      <listen type='socket' socket='/run/vnc.sock'/>
    </graphics>
  </devices>
</domain>"#;

    #[test]
    fn parses_identity_memory_vcpus_and_os() {
        let info = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        assert_eq!(info.name, "deb & co");
        assert_eq!(info.uuid, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
        assert_eq!(info.title.as_deref(), Some("Build box"));
        assert_eq!(info.id, Some(7));
        assert_eq!(info.state, DomainState::Running);
        assert!(info.persistent);
        assert_eq!(info.vcpus, 2);
        assert_eq!(info.max_memory_kib, 4 * 1024 * 1024);
        assert_eq!(info.memory_kib, 2048 * 1024);
        assert_eq!(info.os_id.as_deref(), Some("http://debian.org/debian/12"));
    }

    #[test]
    fn device_lists_keep_no_spare_room() {
        let info = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        assert_eq!(info.disks.capacity(), info.disks.len());
        assert_eq!(info.nics.capacity(), info.nics.len());
        assert_eq!(info.graphics.capacity(), info.graphics.len());
        assert_eq!(info.tags.capacity(), info.tags.len());
        assert!(!info.disks.is_empty() && !info.nics.is_empty() && !info.graphics.is_empty());
    }

    #[test]
    fn parses_disks() {
        let info = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        let d = &info.disks;
        assert_eq!(d.len(), 5);
        assert_eq!(d[0].target, "vda");
        assert_eq!(d[0].bus.as_deref(), Some("virtio"));
        assert_eq!(d[0].device, DiskDevice::Disk);
        assert_eq!(
            d[0].source_path(),
            Some("/var/lib/libvirt/images/deb.qcow2")
        );
        assert!(!d[0].read_only);
        assert_eq!(
            (d[1].device.clone(), d[1].source.clone(), d[1].read_only),
            (DiskDevice::Cdrom, None, true)
        );
        assert_eq!(d[2].device, DiskDevice::Lun);
        assert_eq!(d[2].source.as_deref(), Some("/dev/sdb"));
        assert_eq!(d[3].source.as_deref(), Some("default/data.img"));
        assert_eq!(d[3].source_path(), None);
        assert_eq!(d[4].source.as_deref(), Some("pool/image"));
        assert!(d.iter().all(|d| d.size_bytes.is_none()));
    }

    #[test]
    fn parses_nics() {
        let info = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        let n = &info.nics;
        assert_eq!(n.len(), 4);
        assert_eq!(
            n[0],
            Nic {
                kind: "network".into(),
                source: Some("default".into()),
                mac: Some("52:54:00:12:34:56".into()),
                model: Some("virtio".into()),
            }
        );
        assert_eq!(
            (n[1].kind.as_str(), n[1].source.as_deref()),
            ("bridge", Some("br0"))
        );
        assert_eq!(n[1].model.as_deref(), Some("e1000e"));
        assert_eq!(
            (n[2].kind.as_str(), n[2].source.as_deref()),
            ("direct", Some("eth0"))
        );
        assert_eq!(
            (n[3].kind.as_str(), n[3].source.clone(), n[3].mac.clone()),
            ("user", None, None)
        );
    }

    #[test]
    fn parses_graphics() {
        let info = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        let g = &info.graphics;
        assert_eq!(g.len(), 3);
        assert_eq!(
            g[0],
            Graphics {
                kind: "vnc".into(),
                port: Some(5901),
                listen: Some("127.0.0.1".into())
            }
        );
        assert_eq!(
            g[1],
            Graphics {
                kind: "spice".into(),
                port: None,
                listen: Some("0.0.0.0".into())
            }
        );
        assert_eq!(g[2].listen.as_deref(), Some("/run/vnc.sock"));
    }

    #[test]
    fn finds_the_usb_tablet() {
        let with = "<domain><name>t</name><uuid>u</uuid><devices>\
            <input type='mouse' bus='ps2'/><input type='tablet' bus='usb'/></devices></domain>";
        let without = "<domain><name>t</name><uuid>u</uuid><devices>\
            <input type='mouse' bus='ps2'/><input type='keyboard' bus='usb'/></devices></domain>";
        let parse = |xml| DomainInfo::from_xml(xml, DomainState::Running, true).unwrap();
        assert_eq!(parse(with).tablet, Tablet::Present);
        assert_eq!(parse(without).tablet, Tablet::Missing);
    }

    #[test]
    fn finds_uefi_variables_tpm_state_and_shareable_disks() {
        let uefi = "<domain><name>u</name><uuid>u</uuid>\
            <os><type>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\
            <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'> /var/lib/libvirt/qemu/nvram/u_VARS.fd </nvram></os>\
            <devices><disk type='file' device='disk'><source file='/s.img'/><target dev='vdb'/><shareable/></disk>\
            <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices></domain>";
        let info = DomainInfo::from_xml(uefi, DomainState::Shutoff, true).unwrap();
        assert_eq!(
            info.nvram.as_deref(),
            Some("/var/lib/libvirt/qemu/nvram/u_VARS.fd")
        );
        assert!(info.tpm_state);
        assert!(info.disks[0].shareable && !info.disks[0].read_only);

        let newer = "<domain><name>n</name><uuid>n</uuid><os><nvram type='file'>\
            <source file='/nv/n_VARS.fd'/></nvram></os><devices>\
            <tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>\
            </devices></domain>";
        let info = DomainInfo::from_xml(newer, DomainState::Shutoff, true).unwrap();
        assert_eq!(info.nvram.as_deref(), Some("/nv/n_VARS.fd"));
        assert!(!info.tpm_state, "a host TPM keeps no state on the host");

        let bios = DomainInfo::from_xml(FULL, DomainState::Running, true).unwrap();
        assert_eq!((bios.nvram, bios.tpm_state), (None, false));
        assert!(bios.disks.iter().all(|d| !d.shareable));
    }

    #[test]
    fn minimal_domain_has_defaults() {
        let xml = "<domain type='test'><name>m</name><uuid>u</uuid><memory>1024</memory></domain>";
        let info = DomainInfo::from_xml(xml, DomainState::Shutoff, false).unwrap();
        assert_eq!(
            (info.vcpus, info.memory_kib, info.max_memory_kib),
            (1, 1024, 1024)
        );
        assert_eq!(info.id, None);
        assert!(info.os_id.is_none() && info.title.is_none());
        assert!(info.disks.is_empty() && info.nics.is_empty() && info.graphics.is_empty());
    }

    #[test]
    fn rejects_broken_or_foreign_xml() {
        assert!(matches!(
            DomainInfo::from_xml("<domain><name>x</name>", DomainState::Running, true),
            Err(DomainXmlError::Parse(_))
        ));
        assert!(matches!(
            DomainInfo::from_xml(
                "<network><name>x</name></network>",
                DomainState::Running,
                true
            ),
            Err(DomainXmlError::NotADomain)
        ));
        assert!(matches!(
            DomainInfo::from_xml(
                "<domain><uuid>u</uuid></domain>",
                DomainState::Running,
                true
            ),
            Err(DomainXmlError::Missing("name"))
        ));
    }

    #[test]
    fn memory_units() {
        let kib = |xml: &str| memory_kib(Document::parse(xml).unwrap().root_element());
        assert_eq!(kib("<memory>512</memory>"), 512);
        assert_eq!(kib("<memory unit='b'>4096</memory>"), 4);
        assert_eq!(kib("<memory unit='MB'>1</memory>"), 976);
        assert_eq!(kib("<memory unit='M'>1</memory>"), 1024);
        assert_eq!(kib("<memory unit='TiB'>1</memory>"), 1 << 30);
        assert_eq!(kib("<memory unit='KiB'>junk</memory>"), 0);
    }

    #[test]
    fn states_round_trip() {
        for state in DomainState::ALL {
            assert_eq!(DomainState::from_raw(state.to_raw()), state);
        }
        assert_eq!(DomainState::from_raw(42), DomainState::NoState);
        assert!(!DomainState::Shutoff.is_active());
        assert!(DomainState::Paused.is_active());
    }

    fn params(list: &[(&str, TypedValue)]) -> Vec<(String, TypedValue)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn sample_sums_devices_and_picks_memory() {
        use TypedValue::*;
        let s = StatsSample::from_params(&params(&[
            ("state.state", Int(1)),
            ("cpu.time", ULLong(5_000_000_000)),
            ("balloon.current", ULLong(2048)),
            ("balloon.rss", ULLong(1500)),
            ("block.count", UInt(2)),
            ("block.0.name", String("vda".into())),
            ("block.0.rd.bytes", ULLong(100)),
            ("block.0.wr.bytes", ULLong(10)),
            ("block.1.rd.bytes", ULLong(50)),
            ("block.1.wr.reqs", ULLong(999)),
            ("net.count", UInt(1)),
            ("net.0.rx.bytes", ULLong(7)),
            ("net.0.tx.bytes", ULLong(3)),
        ]));
        assert_eq!(s.cpu_time_ns, 5_000_000_000);
        assert_eq!((s.disk_read_bytes, s.disk_write_bytes), (150, 10));
        assert_eq!((s.net_rx_bytes, s.net_tx_bytes), (7, 3));
        assert_eq!(s.memory_total_kib, Some(2048));
        assert_eq!(s.memory_used_kib, Some(1500), "rss without guest figures");

        let s = StatsSample::from_params(&params(&[
            ("balloon.rss", ULLong(1500)),
            ("balloon.available", ULLong(2000)),
            ("balloon.unused", ULLong(800)),
            ("vcpu.current", UInt(4)),
        ]));
        assert_eq!(s.memory_used_kib, Some(1200), "guest view when reported");
        assert_eq!(s.vcpus, Some(4));
        assert_eq!(StatsSample::from_params(&[]), StatsSample::default());
    }

    #[test]
    fn rates_over_an_interval() {
        let prev = StatsSample {
            cpu_time_ns: 1_000_000_000,
            disk_read_bytes: 1000,
            disk_write_bytes: 0,
            net_rx_bytes: 500,
            net_tx_bytes: 100,
            ..Default::default()
        };
        let cur = StatsSample {
            cpu_time_ns: 2_000_000_000,
            disk_read_bytes: 5000,
            disk_write_bytes: 2000,
            net_rx_bytes: 1500,
            net_tx_bytes: 100,
            memory_used_kib: Some(1024),
            memory_total_kib: Some(2048),
            ..Default::default()
        };
        // 1 s of CPU time over 2 s on 2 vCPUs: a quarter of the capacity.
        let st = compute_stats(&prev, &cur, Duration::from_secs(2), 2);
        assert!((st.cpu_percent - 25.0).abs() < 1e-9);
        assert_eq!(st.disk_read_bytes_per_sec, 2000.0);
        assert_eq!(st.disk_write_bytes_per_sec, 1000.0);
        assert_eq!(st.net_rx_bytes_per_sec, 500.0);
        assert_eq!(st.net_tx_bytes_per_sec, 0.0);
        assert_eq!(
            (st.memory_used_kib, st.memory_total_kib),
            (Some(1024), Some(2048))
        );
    }

    #[test]
    fn rates_survive_resets_zero_time_and_overload() {
        let high = StatsSample {
            cpu_time_ns: 10_000_000_000,
            net_rx_bytes: 10_000,
            ..Default::default()
        };
        let low = StatsSample::default();
        let st = compute_stats(&high, &low, Duration::from_secs(1), 1);
        assert_eq!((st.cpu_percent, st.net_rx_bytes_per_sec), (0.0, 0.0));
        let st = compute_stats(&low, &high, Duration::ZERO, 1);
        assert_eq!(st.cpu_percent, 0.0);
        // Emulator threads can push the total past the vCPUs: clamp, and 0 vCPUs counts as 1.
        let st = compute_stats(&low, &high, Duration::from_secs(1), 0);
        assert_eq!(st.cpu_percent, 100.0);
        // A sample's own vCPU count wins over the fallback.
        let cur = StatsSample {
            vcpus: Some(4),
            cpu_time_ns: 1_000_000_000,
            ..Default::default()
        };
        let st = compute_stats(&low, &cur, Duration::from_secs(1), 1);
        assert!((st.cpu_percent - 25.0).abs() < 1e-9);
    }

    #[test]
    fn indexed_counter_names() {
        assert_eq!(
            indexed_counter("block.12.rd.bytes"),
            Some(("block", "rd.bytes"))
        );
        assert_eq!(indexed_counter("block.count"), None);
        assert_eq!(indexed_counter("net.x.rx.bytes"), None);
        assert_eq!(indexed_counter("cpu.time"), None);
    }
}
