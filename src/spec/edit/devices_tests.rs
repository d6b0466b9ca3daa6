//! Golden XML of adding and removing single devices and of the video model.

use crate::spec::edit::tests::{edited, refused, BASE};
use crate::spec::edit::tree::Element;
use crate::spec::edit::{apply, DomainEdit, EditError, Limits, Touched};

use super::*;

fn names(root: &Element) -> Vec<String> {
    root.child("devices")
        .unwrap()
        .elements()
        .map(|e| e.name.clone())
        .collect()
}

/// The device XML after adding `device` (and checks it is where libvirt puts it and that
/// a second one is refused), then checks removing it leaves the machine as it was.
fn add_and_remove(device: Device) -> String {
    let (root, touched) = edited(DomainEdit::AddDevice(device));
    let Touched::Added(first) = touched else {
        panic!("{touched:?}")
    };
    let kind = device.kind();
    let added: Vec<String> = root
        .child("devices")
        .unwrap()
        .elements()
        .filter(|e| kind.matches(e))
        .map(Element::to_xml)
        .collect();
    assert_eq!(added[0], first.to_xml());
    assert!(Devices::read(&root).has(kind));

    let mut again = root.clone();
    let error = apply(
        &mut again,
        &DomainEdit::AddDevice(device),
        &Limits::default(),
    );
    assert_eq!(error, Err(EditError::DeviceExists(kind.describe())));
    assert_eq!(again, root);

    let mut removed = root.clone();
    let touched = apply(
        &mut removed,
        &DomainEdit::RemoveDevice(kind),
        &Limits::default(),
    );
    assert_eq!(touched, Ok(Touched::Removed(first)));
    assert_eq!(removed, Element::parse(BASE).unwrap());
    assert_eq!(
        refused(DomainEdit::RemoveDevice(kind)),
        EditError::NoDevice(kind.describe())
    );
    added.concat()
}

#[test]
fn sound() {
    assert_eq!(
        add_and_remove(Device::Sound(SoundModel::Ich9)),
        "<sound model=\"ich9\"/>\n"
    );
    let (root, _) = edited(DomainEdit::AddDevice(Device::Sound(SoundModel::Ac97)));
    assert_eq!(
        names(&root).join(" "),
        "emulator disk interface input graphics sound video"
    );
}

#[test]
fn serial_console() {
    assert_eq!(
        add_and_remove(Device::SerialConsole),
        "<serial type=\"pty\">\n  <target port=\"0\"/>\n</serial>\n\
         <console type=\"pty\">\n  <target type=\"serial\" port=\"0\"/>\n</console>\n"
    );
    let (root, _) = edited(DomainEdit::AddDevice(Device::SerialConsole));
    assert_eq!(
        names(&root).join(" "),
        "emulator disk interface serial console input graphics video"
    );
}

#[test]
fn guest_agent_channel() {
    assert_eq!(
        add_and_remove(Device::GuestAgent),
        "<channel type=\"unix\">\n  \
         <target type=\"virtio\" name=\"org.qemu.guest_agent.0\"/>\n</channel>\n"
    );
    // Another channel (SPICE's) is not the agent's.
    let mut root = Element::parse(BASE).unwrap();
    let devices = root.child_mut("devices").unwrap();
    insert_device(
        devices,
        Element::parse(
            "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>",
        )
        .unwrap(),
    );
    assert!(!Devices::read(&root).has(DeviceKind::GuestAgent));
}

#[test]
fn rng() {
    assert_eq!(
        add_and_remove(Device::Rng),
        "<rng model=\"virtio\">\n  <backend model=\"random\">/dev/urandom</backend>\n</rng>\n"
    );
}

#[test]
fn watchdog() {
    assert_eq!(
        add_and_remove(Device::Watchdog(
            WatchdogModel::I6300esb,
            WatchdogAction::Reset
        )),
        "<watchdog model=\"i6300esb\" action=\"reset\"/>\n"
    );
    assert_eq!(
        add_and_remove(Device::Watchdog(
            WatchdogModel::Itco,
            WatchdogAction::Poweroff
        )),
        "<watchdog model=\"itco\" action=\"poweroff\"/>\n"
    );
}

#[test]
fn tpm_2_emulated() {
    assert_eq!(
        add_and_remove(Device::Tpm),
        "<tpm>\n  <backend type=\"emulator\" version=\"2.0\"/>\n</tpm>\n"
    );
    let (root, _) = edited(DomainEdit::AddDevice(Device::Tpm));
    assert_eq!(
        names(&root).join(" "),
        "emulator disk interface input tpm graphics video"
    );
    assert_eq!(
        Devices::read(&root).present,
        [(DeviceKind::Tpm, "2.0".to_owned())]
    );
}

#[test]
fn video_model_replaces_the_card() {
    let (root, touched) = edited(DomainEdit::Video(VideoModel::Virtio));
    assert_eq!(touched, Touched::Values);
    let video: Vec<String> = root
        .child("devices")
        .unwrap()
        .elements()
        .filter(|e| e.name == "video")
        .map(Element::to_xml)
        .collect();
    assert_eq!(video, ["<video>\n  <model type=\"virtio\"/>\n</video>\n"]);
    assert_eq!(Devices::read(&root).video.as_deref(), Some("virtio"));
    let (root, _) = edited(DomainEdit::Video(VideoModel::None));
    assert_eq!(Devices::read(&root).video.as_deref(), Some("none"));
    assert_eq!(
        Devices::read(&Element::parse(BASE).unwrap())
            .video
            .as_deref(),
        Some("vga")
    );
}
