//! Structs that mirror the libvirt XML elements written here. Field order is element
//! order; `@name` fields are attributes, `$text` is element text.

use serde::Serialize;

use crate::spec::vm_spec::DiskFormat;

#[derive(Serialize)]
#[serde(rename = "domain")]
pub struct Domain<'a> {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub name: &'a str,
    pub metadata: Metadata<'a>,
    pub memory: Sized,
    #[serde(rename = "currentMemory")]
    pub current_memory: Sized,
    pub vcpu: u32,
    pub os: Os,
    pub features: Features,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    pub clock: Clock,
    pub on_poweroff: &'static str,
    pub on_reboot: &'static str,
    pub on_crash: &'static str,
    pub devices: Devices<'a>,
}

#[derive(Serialize)]
pub struct Metadata<'a> {
    #[serde(rename = "libosinfo:libosinfo")]
    pub libosinfo: LibOsInfo<'a>,
    /// The install step still to do ([`crate::spec::install`]).
    #[serde(rename = "virtdeck:install", skip_serializing_if = "Option::is_none")]
    pub install: Option<InstallMark>,
}

/// `<virtdeck:install xmlns:virtdeck='…' step='finish'/>`.
#[derive(Serialize)]
pub struct InstallMark {
    #[serde(rename = "@xmlns:virtdeck")]
    pub xmlns: &'static str,
    #[serde(rename = "@step")]
    pub step: &'static str,
}

#[derive(Serialize)]
pub struct LibOsInfo<'a> {
    #[serde(rename = "@xmlns:libosinfo")]
    pub xmlns: &'static str,
    #[serde(rename = "libosinfo:os")]
    pub os: OsId<'a>,
}

#[derive(Serialize)]
pub struct OsId<'a> {
    #[serde(rename = "@id")]
    pub id: &'a str,
}

/// A quantity with a unit: `<memory unit='MiB'>256</memory>`.
#[derive(Serialize, Clone, Copy)]
pub struct Sized {
    #[serde(rename = "@unit")]
    pub unit: &'static str,
    #[serde(rename = "$text")]
    pub value: u64,
}

#[derive(Serialize)]
pub struct Os {
    #[serde(rename = "@firmware", skip_serializing_if = "Option::is_none")]
    pub firmware: Option<&'static str>,
    #[serde(rename = "type")]
    pub os_type: OsType,
    pub boot: Vec<Boot>,
}

#[derive(Serialize)]
pub struct OsType {
    #[serde(rename = "@arch")]
    pub arch: &'static str,
    #[serde(rename = "@machine")]
    pub machine: &'static str,
    #[serde(rename = "$text")]
    pub value: &'static str,
}

#[derive(Serialize)]
pub struct Boot {
    #[serde(rename = "@dev")]
    pub dev: &'static str,
}

#[derive(Serialize)]
pub struct Features {
    pub acpi: (),
    pub apic: (),
}

#[derive(Serialize)]
pub struct Cpu {
    #[serde(rename = "@mode")]
    pub mode: &'static str,
    #[serde(rename = "@check")]
    pub check: &'static str,
}

#[derive(Serialize)]
pub struct Clock {
    #[serde(rename = "@offset")]
    pub offset: &'static str,
}

#[derive(Serialize)]
pub struct Devices<'a> {
    pub disk: Vec<Disk<'a>>,
    pub interface: Vec<Interface<'a>>,
    pub serial: Serial,
    pub console: Console,
    pub channel: Vec<Channel>,
    pub input: Input,
    pub graphics: Graphics,
    pub video: Video,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rng: Option<Rng>,
}

#[derive(Serialize)]
pub struct Disk<'a> {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "@device")]
    pub device: &'static str,
    pub driver: Driver,
    pub source: DiskSource<'a>,
    pub target: Target,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<()>,
}

#[derive(Serialize)]
pub struct Driver {
    #[serde(rename = "@name")]
    pub name: &'static str,
    #[serde(rename = "@type")]
    pub format: &'static str,
}

impl Driver {
    pub fn qemu(format: DiskFormat) -> Driver {
        Driver {
            name: "qemu",
            format: format.as_str(),
        }
    }
}

/// `<source file='…'/>` or `<source pool='…' volume='…'/>`.
#[derive(Serialize)]
pub struct DiskSource<'a> {
    #[serde(rename = "@file", skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
    #[serde(rename = "@pool", skip_serializing_if = "Option::is_none")]
    pub pool: Option<&'a str>,
    #[serde(rename = "@volume", skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
}

impl<'a> DiskSource<'a> {
    pub fn file(path: &'a str) -> Self {
        DiskSource {
            file: Some(path),
            pool: None,
            volume: None,
        }
    }

    pub fn volume(pool: &'a str, volume: String) -> Self {
        DiskSource {
            file: None,
            pool: Some(pool),
            volume: Some(volume),
        }
    }

    /// The `<disk type='…'>` this source needs.
    pub fn kind(&self) -> &'static str {
        if self.file.is_some() {
            "file"
        } else {
            "volume"
        }
    }
}

#[derive(Serialize)]
pub struct Target {
    #[serde(rename = "@dev")]
    pub dev: String,
    #[serde(rename = "@bus")]
    pub bus: &'static str,
}

#[derive(Serialize)]
#[serde(rename = "interface")]
pub struct Interface<'a> {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<InterfaceSource<'a>>,
    pub model: Model,
}

#[derive(Serialize)]
pub struct Mac<'a> {
    #[serde(rename = "@address")]
    pub address: &'a str,
}

#[derive(Serialize, Default, Clone, Copy)]
pub struct InterfaceSource<'a> {
    #[serde(rename = "@bridge", skip_serializing_if = "Option::is_none")]
    pub bridge: Option<&'a str>,
    #[serde(rename = "@network", skip_serializing_if = "Option::is_none")]
    pub network: Option<&'a str>,
    #[serde(rename = "@dev", skip_serializing_if = "Option::is_none")]
    pub dev: Option<&'a str>,
    #[serde(rename = "@mode", skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
}

/// `<model type='…'/>` of a NIC or video card.
#[derive(Serialize)]
pub struct Model {
    #[serde(rename = "@type")]
    pub kind: &'static str,
}

#[derive(Serialize)]
pub struct Serial {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub target: SerialTarget,
}

#[derive(Serialize)]
pub struct SerialTarget {
    #[serde(rename = "@port")]
    pub port: u32,
}

#[derive(Serialize)]
pub struct Console {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub target: ConsoleTarget,
}

#[derive(Serialize)]
pub struct ConsoleTarget {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "@port")]
    pub port: u32,
}

#[derive(Serialize)]
pub struct Channel {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ChannelSource>,
    pub target: ChannelTarget,
}

/// What QEMU's own guest agent peer (`qemu-vdagent`) shares: the clipboard.
#[derive(Serialize)]
pub struct ChannelSource {
    pub clipboard: Clipboard,
}

#[derive(Serialize)]
pub struct Clipboard {
    #[serde(rename = "@copypaste")]
    pub copypaste: &'static str,
}

#[derive(Serialize)]
pub struct ChannelTarget {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "@name")]
    pub name: &'static str,
}

#[derive(Serialize)]
pub struct Input {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "@bus")]
    pub bus: &'static str,
}

#[derive(Serialize)]
pub struct Graphics {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "@port")]
    pub port: i32,
    #[serde(rename = "@autoport")]
    pub autoport: &'static str,
    pub listen: Listen,
}

#[derive(Serialize)]
pub struct Listen {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "@address")]
    pub address: &'static str,
}

#[derive(Serialize)]
pub struct Video {
    pub model: Model,
}

#[derive(Serialize)]
pub struct Rng {
    #[serde(rename = "@model")]
    pub model: &'static str,
    pub backend: RngBackend,
}

#[derive(Serialize)]
pub struct RngBackend {
    #[serde(rename = "@model")]
    pub model: &'static str,
    #[serde(rename = "$text")]
    pub value: &'static str,
}

#[derive(Serialize)]
#[serde(rename = "volume")]
pub struct Volume<'a> {
    pub name: &'a str,
    pub capacity: Sized,
    pub target: VolumeTarget,
}

#[derive(Serialize)]
pub struct VolumeTarget {
    pub format: Format,
}

#[derive(Serialize)]
pub struct Format {
    #[serde(rename = "@type")]
    pub kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename = "pool")]
pub struct Pool<'a> {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub name: &'a str,
    pub target: PoolTarget<'a>,
}

#[derive(Serialize)]
pub struct PoolTarget<'a> {
    pub path: &'a str,
}
