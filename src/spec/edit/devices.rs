//! The devices a machine has at most one of, added and removed whole ([`Device`]): sound,
//! a serial console, the guest agent's channel, a random number generator, a watchdog and
//! an emulated TPM 2.0; and the model of its video card ([`VideoModel`]).

use serde::{Deserialize, Serialize};

use super::hostdev::HostdevSource;
use super::tree::Element;
use super::{EditError, Touched};

/// The name of the guest agent's virtio-serial port.
pub const GUEST_AGENT: &str = "org.qemu.guest_agent.0";

/// libvirt's order of the elements in `<devices>`; a new device goes after the devices of
/// its own kind and those before it.
const ORDER: &[&str] = &[
    "emulator",
    "disk",
    "controller",
    "lease",
    "filesystem",
    "interface",
    "smartcard",
    "serial",
    "parallel",
    "console",
    "channel",
    "input",
    "tpm",
    "graphics",
    "sound",
    "audio",
    "video",
    "hostdev",
    "redirdev",
    "redirfilter",
    "hub",
    "watchdog",
    "memballoon",
    "rng",
    "panic",
];

/// Inserts `device` into `<devices>` where libvirt writes it.
pub(super) fn insert_device(devices: &mut Element, device: Element) {
    let position = ORDER
        .iter()
        .position(|name| *name == device.name)
        .unwrap_or(ORDER.len() - 1);
    devices.insert_after(&ORDER[..=position], device);
}

/// The model of the video card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoModel {
    Vga,
    Virtio,
    Bochs,
    Ramfb,
    None,
}

impl VideoModel {
    pub const ALL: [VideoModel; 5] = [
        Self::Vga,
        Self::Virtio,
        Self::Bochs,
        Self::Ramfb,
        Self::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vga => "vga",
            Self::Virtio => "virtio",
            Self::Bochs => "bochs",
            Self::Ramfb => "ramfb",
            Self::None => "none",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// A sound card's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SoundModel {
    Ich9,
    Ich6,
    Ac97,
}

impl SoundModel {
    pub const ALL: [SoundModel; 3] = [Self::Ich9, Self::Ich6, Self::Ac97];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ich9 => "ich9",
            Self::Ich6 => "ich6",
            Self::Ac97 => "ac97",
        }
    }
}

/// A watchdog's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchdogModel {
    /// A PCI card, on any machine type.
    I6300esb,
    /// The chipset's own; Q35 machines only.
    Itco,
}

impl WatchdogModel {
    pub const ALL: [WatchdogModel; 2] = [Self::I6300esb, Self::Itco];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::I6300esb => "i6300esb",
            Self::Itco => "itco",
        }
    }
}

/// What a watchdog does when the guest stops feeding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchdogAction {
    Reset,
    Poweroff,
    Pause,
    None,
}

impl WatchdogAction {
    pub const ALL: [WatchdogAction; 4] = [Self::Reset, Self::Poweroff, Self::Pause, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Poweroff => "poweroff",
            Self::Pause => "pause",
            Self::None => "none",
        }
    }
}

/// A device a machine has one of at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Device {
    Sound(SoundModel),
    /// A serial port on a pseudo terminal and the console on it.
    SerialConsole,
    /// The virtio-serial channel the QEMU guest agent talks on.
    GuestAgent,
    /// virtio-rng fed by the host's `/dev/urandom`.
    Rng,
    Watchdog(WatchdogModel, WatchdogAction),
    /// TPM 2.0 emulated by swtpm (what Windows 11 asks for).
    Tpm,
}

/// The kind of a [`Device`], what removing one names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceKind {
    Sound,
    SerialConsole,
    GuestAgent,
    Rng,
    Watchdog,
    Tpm,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 6] = [
        Self::Sound,
        Self::SerialConsole,
        Self::GuestAgent,
        Self::Rng,
        Self::Watchdog,
        Self::Tpm,
    ];

    /// Its name in an error message.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Sound => "sound card",
            Self::SerialConsole => "serial console",
            Self::GuestAgent => "guest agent channel",
            Self::Rng => "random number generator",
            Self::Watchdog => "watchdog",
            Self::Tpm => "TPM",
        }
    }

    /// Whether `e`, a child of `<devices>`, is (part of) a device of this kind.
    pub fn matches(self, e: &Element) -> bool {
        match self {
            Self::Sound => e.name == "sound",
            Self::SerialConsole => e.name == "serial" || e.name == "console",
            Self::GuestAgent => {
                e.name == "channel"
                    && e.child("target").and_then(|t| t.attr("name")) == Some(GUEST_AGENT)
            }
            Self::Rng => e.name == "rng",
            Self::Watchdog => e.name == "watchdog",
            Self::Tpm => e.name == "tpm",
        }
    }
}

impl Device {
    pub fn kind(&self) -> DeviceKind {
        match self {
            Self::Sound(_) => DeviceKind::Sound,
            Self::SerialConsole => DeviceKind::SerialConsole,
            Self::GuestAgent => DeviceKind::GuestAgent,
            Self::Rng => DeviceKind::Rng,
            Self::Watchdog(..) => DeviceKind::Watchdog,
            Self::Tpm => DeviceKind::Tpm,
        }
    }

    /// Its elements in `<devices>`; the first is the one to plug in live.
    fn elements(&self) -> Vec<Element> {
        match self {
            Self::Sound(model) => vec![Element::new("sound").with_attr("model", model.as_str())],
            Self::SerialConsole => vec![
                Element::new("serial")
                    .with_attr("type", "pty")
                    .with_child(Element::new("target").with_attr("port", "0")),
                Element::new("console").with_attr("type", "pty").with_child(
                    Element::new("target")
                        .with_attr("type", "serial")
                        .with_attr("port", "0"),
                ),
            ],
            Self::GuestAgent => vec![Element::new("channel")
                .with_attr("type", "unix")
                .with_child(
                    Element::new("target")
                        .with_attr("type", "virtio")
                        .with_attr("name", GUEST_AGENT),
                )],
            Self::Rng => vec![Element::new("rng").with_attr("model", "virtio").with_child(
                Element::new("backend")
                    .with_attr("model", "random")
                    .with_text("/dev/urandom"),
            )],
            Self::Watchdog(model, action) => vec![Element::new("watchdog")
                .with_attr("model", model.as_str())
                .with_attr("action", action.as_str())],
            // The model is left to libvirt: TIS or CRB, whichever the machine type takes.
            Self::Tpm => vec![Element::new("tpm").with_child(
                Element::new("backend")
                    .with_attr("type", "emulator")
                    .with_attr("version", "2.0"),
            )],
        }
    }
}

/// What the hardware page shows of these devices and the host devices passed through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devices {
    /// The first video card's model; `None` without one.
    pub video: Option<String>,
    /// The kinds present, each with its model (or type) where it has one.
    pub present: Vec<(DeviceKind, String)>,
    /// Host devices passed through, in order.
    pub hostdevs: Vec<HostdevSource>,
}

impl Devices {
    pub fn read(root: &Element) -> Devices {
        let Some(devices) = root.child("devices") else {
            return Devices::default();
        };
        let video = devices.child("video").map(|v| {
            v.child("model")
                .and_then(|m| m.attr("type"))
                .unwrap_or("")
                .to_owned()
        });
        let present = DeviceKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let element = devices.elements().find(|e| kind.matches(e))?;
                let detail = match kind {
                    DeviceKind::Tpm => element
                        .child("backend")
                        .and_then(|b| b.attr("version"))
                        .unwrap_or_default(),
                    _ => element
                        .attr("model")
                        .or(element.attr("type"))
                        .unwrap_or_default(),
                };
                Some((kind, detail.to_owned()))
            })
            .collect();
        let hostdevs = devices.elements().filter_map(HostdevSource::read).collect();
        Devices {
            video,
            present,
            hostdevs,
        }
    }

    pub fn has(&self, kind: DeviceKind) -> bool {
        self.present.iter().any(|(k, _)| *k == kind)
    }
}

fn devices(root: &Element) -> Result<&Element, EditError> {
    root.child("devices").ok_or(EditError::Missing("devices"))
}

fn devices_mut(root: &mut Element) -> Result<&mut Element, EditError> {
    root.child_mut("devices")
        .ok_or(EditError::Missing("devices"))
}

pub(super) fn check_add(root: &Element, device: &Device) -> Result<(), EditError> {
    let kind = device.kind();
    if devices(root)?.elements().any(|e| kind.matches(e)) {
        return Err(EditError::DeviceExists(kind.describe()));
    }
    Ok(())
}

pub(super) fn check_remove(root: &Element, kind: DeviceKind) -> Result<(), EditError> {
    if !devices(root)?.elements().any(|e| kind.matches(e)) {
        return Err(EditError::NoDevice(kind.describe()));
    }
    Ok(())
}

pub(super) fn add(root: &mut Element, device: &Device) -> Result<Touched, EditError> {
    let devices = devices_mut(root)?;
    let elements = device.elements();
    let first = elements[0].clone();
    for element in elements {
        insert_device(devices, element);
    }
    Ok(Touched::Added(first))
}

pub(super) fn remove(root: &mut Element, kind: DeviceKind) -> Result<Touched, EditError> {
    let devices = devices_mut(root)?;
    let first = devices
        .elements()
        .find(|e| kind.matches(e))
        .cloned()
        .ok_or(EditError::NoDevice(kind.describe()))?;
    devices.remove_children(|e| kind.matches(e));
    Ok(Touched::Removed(first))
}

/// The machine's one video card is a `model`.
pub(super) fn set_video(root: &mut Element, model: VideoModel) -> Result<Touched, EditError> {
    let devices = devices_mut(root)?;
    devices.remove_children(|e| e.name == "video");
    let video =
        Element::new("video").with_child(Element::new("model").with_attr("type", model.as_str()));
    insert_device(devices, video);
    Ok(Touched::Values)
}

#[cfg(test)]
#[path = "devices_tests.rs"]
mod tests;
