//! The processor a machine sees: its model ([`CpuModel`]: the host's own, a model like
//! the host's, or a named one) and its topology ([`Topology`]), which must add up to the
//! maximum number of virtual CPUs.

use serde::{Deserialize, Serialize};

use super::tree::Element;
use super::{EditError, Touched};

/// `<cpu mode>` and, for a named model, its `<model>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CpuModel {
    /// The host's processor, as it is (`host-passthrough`).
    HostPassthrough,
    /// A model close to the host's, with its features (`host-model`).
    HostModel,
    /// A model QEMU knows by name, such as `Skylake-Client` (`custom`).
    Named(String),
}

impl CpuModel {
    /// The model a `<cpu>` element asks for; `None` for the hypervisor's default.
    pub fn read(cpu: &Element) -> Option<CpuModel> {
        match cpu.attr("mode") {
            Some("host-passthrough") => Some(Self::HostPassthrough),
            Some("host-model") => Some(Self::HostModel),
            Some("custom") | None => cpu
                .child("model")
                .map(|m| m.text().trim().to_owned())
                .filter(|name| !name.is_empty())
                .map(Self::Named),
            Some(_) => None,
        }
    }
}

/// Sockets × cores × threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
}

impl Topology {
    /// The number of virtual CPUs it describes.
    pub fn vcpus(&self) -> u64 {
        u64::from(self.sockets) * u64::from(self.cores) * u64::from(self.threads)
    }

    /// The topology a machine with `topology` (or none) has after its maximum became `max`
    /// by [`DomainEdit::Vcpus`](super::DomainEdit::Vcpus) alone: the cores and threads per
    /// socket kept where they divide it, else one socket per virtual CPU.
    pub fn for_vcpus(topology: Option<Topology>, max: u32) -> Topology {
        let single = Topology {
            sockets: max,
            cores: 1,
            threads: 1,
        };
        match topology {
            Some(t) if t.cores > 0 && t.threads > 0 && max % (t.cores * t.threads) == 0 => {
                Topology {
                    sockets: max / (t.cores * t.threads),
                    ..t
                }
            }
            _ => single,
        }
    }

    /// Refuses a topology that is not `max` virtual CPUs.
    pub fn check(&self, max: u32) -> Result<(), EditError> {
        if self.sockets == 0 || self.cores == 0 || self.threads == 0 {
            return Err(EditError::TopologyZero);
        }
        if self.vcpus() != u64::from(max) {
            return Err(EditError::TopologyMismatch {
                sockets: self.sockets,
                cores: self.cores,
                threads: self.threads,
                max,
            });
        }
        Ok(())
    }
}

/// What the hardware page shows of `<cpu>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuConfig {
    /// `None`: the hypervisor's default model.
    pub model: Option<CpuModel>,
    /// `None`: one socket per virtual CPU, as libvirt does without one.
    pub topology: Option<Topology>,
}

impl CpuConfig {
    pub fn read(root: &Element) -> CpuConfig {
        let Some(cpu) = root.child("cpu") else {
            return CpuConfig::default();
        };
        let topology = cpu.child("topology").map(|t| {
            let number = |name| t.attr(name).and_then(|v| v.parse().ok()).unwrap_or(1);
            Topology {
                sockets: number("sockets"),
                cores: number("cores"),
                threads: number("threads"),
            }
        });
        CpuConfig {
            model: CpuModel::read(cpu),
            topology,
        }
    }
}

/// The maximum number of virtual CPUs in `<vcpu>`.
fn max_vcpus(root: &Element) -> u32 {
    root.child("vcpu")
        .and_then(|v| v.text().trim().parse().ok())
        .unwrap_or(1)
}

pub(super) fn check_model(model: &CpuModel) -> Result<(), EditError> {
    match model {
        CpuModel::Named(name) if name.trim().is_empty() => Err(EditError::CpuModelEmpty),
        _ => Ok(()),
    }
}

pub(super) fn check_topology(root: &Element, topology: &Topology) -> Result<(), EditError> {
    topology.check(max_vcpus(root))
}

/// `<cpu>` asks for `model`; its topology stays.
pub(super) fn set_model(root: &mut Element, model: &CpuModel) -> Touched {
    let cpu = cpu_mut(root);
    cpu.remove_children(|e| matches!(e.name.as_str(), "model" | "vendor" | "feature"));
    for name in ["match", "check", "migratable"] {
        cpu.remove_attr(name);
    }
    match model {
        CpuModel::HostPassthrough => cpu.set_attr("mode", "host-passthrough"),
        CpuModel::HostModel => cpu.set_attr("mode", "host-model"),
        CpuModel::Named(name) => {
            cpu.set_attr("mode", "custom");
            cpu.set_attr("match", "exact");
            let model = Element::new("model")
                .with_attr("fallback", "allow")
                .with_text(name.trim());
            cpu.children.insert(0, super::tree::Node::Element(model));
        }
    }
    Touched::Values
}

/// `<cpu><topology>` is `topology`; dies and clusters, where given, become one.
pub(super) fn set_topology(root: &mut Element, topology: &Topology) -> Touched {
    let cpu = cpu_mut(root);
    if cpu.child("topology").is_none() {
        cpu.insert_after(&["model", "vendor"], Element::new("topology"));
    }
    let element = cpu.child_mut("topology").expect("just inserted");
    element.set_attr("sockets", &topology.sockets.to_string());
    for name in ["dies", "clusters"] {
        if element.attr(name).is_some() {
            element.set_attr(name, "1");
        }
    }
    element.set_attr("cores", &topology.cores.to_string());
    element.set_attr("threads", &topology.threads.to_string());
    // libvirt's order: sockets, dies, clusters, cores, threads.
    let order = ["sockets", "dies", "clusters", "cores", "threads"];
    element
        .attributes
        .sort_by_key(|(name, _)| order.iter().position(|o| o == name).unwrap_or(order.len()));
    Touched::Values
}

fn cpu_mut(root: &mut Element) -> &mut Element {
    if root.child("cpu").is_none() {
        root.insert_after(
            &[
                "name",
                "uuid",
                "genid",
                "title",
                "description",
                "metadata",
                "maxMemory",
                "memory",
                "currentMemory",
                "blkiotune",
                "memtune",
                "memoryBacking",
                "vcpu",
                "vcpus",
                "iothreads",
                "cputune",
                "numatune",
                "resource",
                "sysinfo",
                "bootloader",
                "bootloader_args",
                "os",
                "idmap",
                "features",
            ],
            Element::new("cpu"),
        );
    }
    root.child_mut("cpu").expect("just inserted")
}

/// The choices the domain capabilities (`virConnectGetDomainCapabilities`) offer for a
/// machine of this emulator, architecture, machine type and domain type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChoices {
    /// The CPU modes this hypervisor supports, then the named models usable on this host.
    pub cpu_models: Vec<CpuModel>,
    /// `<video><model type>` values.
    pub video_models: Vec<String>,
    /// An emulated TPM 2.0 (swtpm) can be added.
    pub tpm_emulator: bool,
}

impl DeviceChoices {
    pub fn from_xml(xml: &str) -> Result<DeviceChoices, super::tree::TreeError> {
        let root = Element::parse(xml)?;
        let mut choices = DeviceChoices::default();
        if let Some(cpu) = root.child("cpu") {
            for mode in cpu.elements().filter(|e| e.name == "mode") {
                if mode.attr("supported") != Some("yes") {
                    continue;
                }
                match mode.attr("name") {
                    Some("host-passthrough") => choices.cpu_models.push(CpuModel::HostPassthrough),
                    Some("host-model") => choices.cpu_models.push(CpuModel::HostModel),
                    Some("custom") => choices.cpu_models.extend(
                        mode.elements()
                            .filter(|m| m.name == "model" && m.attr("usable") != Some("no"))
                            .map(|m| CpuModel::Named(m.text().trim().to_owned())),
                    ),
                    _ => {}
                }
            }
        }
        let enum_values = |device: &Element, name: &str| -> Vec<String> {
            device
                .elements()
                .filter(|e| e.name == "enum" && e.attr("name") == Some(name))
                .flat_map(|e| e.elements().map(|v| v.text().trim().to_owned()))
                .collect()
        };
        if let Some(devices) = root.child("devices") {
            if let Some(video) = devices.child("video") {
                choices.video_models = enum_values(video, "modelType");
            }
            if let Some(tpm) = devices
                .child("tpm")
                .filter(|t| t.attr("supported") == Some("yes"))
            {
                let versions = enum_values(tpm, "backendVersion");
                choices.tpm_emulator = enum_values(tpm, "backendModel")
                    .iter()
                    .any(|m| m == "emulator")
                    && (versions.is_empty() || versions.iter().any(|v| v == "2.0"));
            }
        }
        Ok(choices)
    }
}

#[cfg(test)]
#[path = "cpu_tests.rs"]
mod tests;
