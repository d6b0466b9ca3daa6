//! The processor, single devices and host devices of a machine, edited through the
//! connection worker on the real `qemu:///session` daemon: offline on a shut-off machine
//! (defined and read back), and on the booted TCG guest a TPM 2.0 emulated by a running
//! swtpm, an RNG plugged in live and a PCI device that waits for the next shutdown.

mod common;

use std::time::Duration;

use virtdeck::libvirt::edit::{Applied, EditFailure, EditRequest};
use virtdeck::libvirt::{ConnectionHandle, Request, RequestError};
use virtdeck::spec::edit::tree::Element;
use virtdeck::spec::edit::{
    CpuModel, Device, DeviceChoices, DeviceKind, DomainEdit, EditError, Hardware, HostDevice,
    HostdevSource, SoundModel, Topology, VideoModel, WatchdogAction, WatchdogModel,
};

use common::edit::{apply, uuid, worker};
use common::guest::{guest_domain_xml, GuestOptions, TestGuest};
use common::{virsh_ok, DomainGuard, SESSION_URI};

fn choices(handle: &ConnectionHandle, uuid: &str) -> DeviceChoices {
    let uuid = uuid.to_owned();
    handle
        .ask(|reply| Request::Edit(EditRequest::DeviceChoices { uuid, reply }))
        .recv_blocking()
        .unwrap_or_else(|e| panic!("DeviceChoices: {e}"))
}

fn host_devices(handle: &ConnectionHandle) -> Vec<HostDevice> {
    handle
        .ask(|reply| Request::Edit(EditRequest::HostDevices { reply }))
        .recv_blocking()
        .unwrap_or_else(|e| panic!("HostDevices: {e}"))
}

fn inactive_xml(name: &str) -> String {
    virsh_ok(SESSION_URI, &["dumpxml", "--inactive", name])
}

fn define_guest(guard: &DomainGuard) -> std::path::PathBuf {
    let log = std::env::temp_dir().join(format!("{}.log", guard.name));
    let tag = guard.name.trim_start_matches(&common::prefix()).to_owned();
    let xml = common::fixture::temp_xml(
        &tag,
        &guest_domain_xml(&guard.name, &log, &GuestOptions::default()),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    log
}

/// The first PCI device of the host, as `virsh nodedev-list` has it.
fn first_pci(devices: &[HostDevice]) -> HostdevSource {
    devices
        .iter()
        .map(|d| d.source)
        .find(|s| matches!(s, HostdevSource::Pci { .. }))
        .expect("this host has PCI devices")
}

#[test]
fn host_devices_are_this_hosts_with_their_names() {
    let handle = worker();
    let devices = host_devices(&handle);
    let listed = |cap| {
        virsh_ok(SESSION_URI, &["nodedev-list", "--cap", cap])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
    };
    let usb = devices.iter().filter(|d| d.usb_port.is_some()).count();
    assert_eq!(usb, listed("usb_device"), "{devices:#?}");
    assert_eq!(devices.len() - usb, listed("pci"), "{devices:#?}");
    for device in devices.iter().filter(|d| d.usb_port.is_none()) {
        // pci_0000_00_03_0
        let name = format!("pci_{}", device.source.address().replace([':', '.'], "_"));
        let xml = Element::parse(&virsh_ok(SESSION_URI, &["nodedev-dumpxml", &name])).unwrap();
        let capability = xml.child("capability").unwrap();
        let vendor = capability.child("vendor").unwrap().text();
        let product = capability.child("product").unwrap().text();
        if !vendor.is_empty() && !product.is_empty() {
            assert_eq!(device.name, format!("{vendor} {product}"));
        }
    }
    handle.quit_and_join();
}

#[test]
fn offline_cpu_and_device_edits_are_defined_and_read_back() {
    let guard = DomainGuard::session("dev-off");
    let log = define_guest(&guard);
    let handle = worker();
    let uuid = uuid(&guard.name);

    let choices = choices(&handle, &uuid);
    assert!(
        choices.video_models.iter().any(|m| m == "vga"),
        "{choices:?}"
    );
    assert!(choices.tpm_emulator, "{choices:?}");
    let named = choices
        .cpu_models
        .iter()
        .find(|m| matches!(m, CpuModel::Named(_)))
        .cloned()
        .unwrap_or_else(|| panic!("no usable named CPU model: {choices:?}"));
    let pci = first_pci(&host_devices(&handle));
    let usb = HostdevSource::Usb {
        vendor: 0x046d,
        product: 0xc52b,
    };
    let edits = vec![
        DomainEdit::CpuModel(named.clone()),
        DomainEdit::Vcpus { current: 4, max: 4 },
        DomainEdit::CpuTopology(Topology {
            sockets: 1,
            cores: 2,
            threads: 2,
        }),
        DomainEdit::Video(VideoModel::Virtio),
        DomainEdit::AddDevice(Device::Sound(SoundModel::Ich9)),
        // The guest's serial port writes a file: a console on a pseudo terminal instead.
        DomainEdit::RemoveDevice(DeviceKind::SerialConsole),
        DomainEdit::AddDevice(Device::SerialConsole),
        DomainEdit::AddDevice(Device::GuestAgent),
        DomainEdit::AddDevice(Device::Rng),
        DomainEdit::AddDevice(Device::Watchdog(
            WatchdogModel::I6300esb,
            WatchdogAction::Poweroff,
        )),
        DomainEdit::AddDevice(Device::Tpm),
        DomainEdit::AddHostdev(pci),
        DomainEdit::AddHostdev(usb),
    ];
    let applied = apply(&handle, &uuid, edits).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, Applied::default());

    let xml = inactive_xml(&guard.name);
    let hw = Hardware::from_xml(&xml).unwrap();
    assert_eq!(hw.cpu.model, Some(named), "{xml}");
    assert_eq!(
        hw.cpu.topology,
        Some(Topology {
            sockets: 1,
            cores: 2,
            threads: 2
        }),
        "{xml}"
    );
    assert_eq!(hw.max_vcpus, 4);
    assert_eq!(hw.devices.video.as_deref(), Some("virtio"), "{xml}");
    let present: Vec<DeviceKind> = hw.devices.present.iter().map(|(k, _)| *k).collect();
    assert_eq!(present, DeviceKind::ALL, "{xml}");
    assert_eq!(hw.devices.hostdevs, [pci, usb], "{xml}");
    for needle in [
        "<sound model='ich9'>",
        "<serial type='pty'>",
        "<target type='virtio' name='org.qemu.guest_agent.0'/>",
        "<backend model='random'>/dev/urandom</backend>",
        "<watchdog model='i6300esb' action='poweroff'>",
        "<backend type='emulator' version='2.0'",
        "<vendor id='0x046d'/>",
    ] {
        assert!(xml.contains(needle), "{needle} not in {xml}");
    }

    // A topology that is not the maximum is refused, and nothing changes.
    let before = inactive_xml(&guard.name);
    let refused = apply(
        &handle,
        &uuid,
        vec![
            DomainEdit::Video(VideoModel::Bochs),
            DomainEdit::CpuTopology(Topology {
                sockets: 2,
                cores: 2,
                threads: 2,
            }),
        ],
    );
    assert!(
        matches!(
            refused,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::TopologyMismatch { max: 4, .. }
            )))
        ),
        "{refused:?}"
    );
    let again = apply(&handle, &uuid, vec![DomainEdit::AddDevice(Device::Tpm)]);
    assert!(
        matches!(
            again,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::DeviceExists(_)
            )))
        ),
        "{again:?}"
    );
    assert_eq!(inactive_xml(&guard.name), before);

    // Everything removed again.
    let mut removals: Vec<DomainEdit> = DeviceKind::ALL
        .into_iter()
        .map(DomainEdit::RemoveDevice)
        .collect();
    removals.extend([
        DomainEdit::RemoveHostdev(pci),
        DomainEdit::RemoveHostdev(usb),
    ]);
    removals.push(DomainEdit::CpuModel(CpuModel::HostModel));
    apply(&handle, &uuid, removals).unwrap_or_else(|e| panic!("{e}"));
    let hw = Hardware::from_xml(&inactive_xml(&guard.name)).unwrap();
    assert!(hw.devices.present.is_empty(), "{:?}", hw.devices);
    assert!(hw.devices.hostdevs.is_empty());
    assert_eq!(hw.cpu.model, Some(CpuModel::HostModel));
    handle.quit_and_join();
    let _ = std::fs::remove_file(log);
}

#[test]
fn tpm_runs_in_swtpm_and_an_rng_plugs_in_live() {
    let guest = TestGuest::start(SESSION_URI, "dev-live", &GuestOptions::default());
    let handle = worker();
    let uuid = uuid(&guest.name);

    // A TPM cannot be plugged into a running machine: it is there from the next boot.
    let tpm = DomainEdit::AddDevice(Device::Tpm);
    let applied = apply(&handle, &uuid, vec![tpm.clone()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied.next_shutdown, [tpm]);
    virsh_ok(SESSION_URI, &["destroy", &guest.name]);
    virsh_ok(SESSION_URI, &["start", &guest.name]);
    let live = virsh_ok(SESSION_URI, &["dumpxml", &guest.name]);
    assert!(
        live.contains("<backend type='emulator' version='2.0'"),
        "{live}"
    );
    // swtpm keeps the machine's TPM state under a directory named after its UUID.
    let swtpm = common::pids_of("swtpm").into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&uuid))
    });
    assert!(swtpm.is_some(), "no swtpm runs for {uuid}");
    guest.wait_ready(Duration::from_secs(120));

    // An RNG is plugged in live and kept in the configuration.
    let applied = apply(&handle, &uuid, vec![DomainEdit::AddDevice(Device::Rng)])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, Applied::default());
    let live = virsh_ok(SESSION_URI, &["dumpxml", &guest.name]);
    assert!(live.contains("<rng model='virtio'>"), "{live}");
    assert!(inactive_xml(&guest.name).contains("<rng model='virtio'>"));

    // A USB device that is not on this host cannot be passed through now; it waits for the
    // next boot in the configuration. (A PCI device is never tried live here: libvirt would
    // take it from the host.)
    let usb = DomainEdit::AddHostdev(HostdevSource::Usb {
        vendor: 0x1234,
        product: 0x5678,
    });
    let applied = apply(&handle, &uuid, vec![usb.clone()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied.next_shutdown, [usb]);
    assert!(inactive_xml(&guest.name).contains("<vendor id='0x1234'/>"));
    handle.quit_and_join();
}
