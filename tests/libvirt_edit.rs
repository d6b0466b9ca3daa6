//! Editing existing machines through the connection worker on the real `qemu:///session`
//! daemon: live on the running test guest where libvirt allows (seen by `virsh
//! domblklist`, `domiflist`, `domif-getlink`), offline on a shut-off one, and refusals
//! that change nothing.

mod common;

use std::time::Duration;

use virtdeck::libvirt::edit::{Applied, EditFailure, EditRequest};
use virtdeck::libvirt::{Request, RequestError};
use virtdeck::spec::edit::hardware::Hardware;
use virtdeck::spec::edit::tree::Element;
use virtdeck::spec::edit::{BootDevice, DisplayKind, DomainEdit, EditError, InputKind};
use virtdeck::spec::{Network, NicModel};

use common::edit::{apply, blk_source, inactive, read, uuid, worker};
use common::guest::{guest_domain_xml, guest_iso, GuestOptions, TestGuest};
use common::{virsh_ok, DomainGuard, SESSION_URI};

#[test]
fn live_edits_on_the_running_guest() {
    let guest = TestGuest::start(SESSION_URI, "edit-live", &GuestOptions::default());
    let handle = worker();
    let uuid = uuid(&guest.name);
    guest.wait_ready(Duration::from_secs(120));
    let config = read(&handle, &uuid);
    assert!(config.active);

    // The CD-ROM: eject, then insert another image, live and in the configuration.
    let applied = apply(
        &handle,
        &uuid,
        vec![DomainEdit::EjectMedia {
            target: "hdc".into(),
        }],
    )
    .unwrap_or_else(|e| panic!("eject: {e}"));
    assert_eq!(applied, Applied::default());
    assert_eq!(blk_source(&guest.name, "hdc"), "-");
    let other = std::env::temp_dir().join(format!("{}other.iso", common::prefix()));
    std::fs::copy(guest_iso(), &other).unwrap();
    let path = other.to_string_lossy().into_owned();
    let applied = apply(
        &handle,
        &uuid,
        vec![DomainEdit::InsertMedia {
            target: "hdc".into(),
            path: path.clone(),
        }],
    )
    .unwrap_or_else(|e| panic!("insert: {e}"));
    assert_eq!(applied, Applied::default());
    assert_eq!(blk_source(&guest.name, "hdc"), path);
    let config_xml = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", &guest.name]);
    assert!(config_xml.contains(&path), "{config_xml}");

    // A NIC plugged in, its cable pulled, live.
    let mac = config.free_mac.clone();
    let add_nic = DomainEdit::AddNic {
        network: Network::User,
        model: NicModel::E1000,
        mac: mac.clone(),
    };
    let applied =
        apply(&handle, &uuid, vec![add_nic.clone()]).unwrap_or_else(|e| panic!("add NIC: {e}"));
    assert_eq!(applied, Applied::default());
    let nics = virsh_ok(SESSION_URI, &["domiflist", &guest.name]);
    assert!(nics.contains(&mac), "{nics}");
    apply(
        &handle,
        &uuid,
        vec![DomainEdit::LinkState {
            mac: mac.clone(),
            up: false,
        }],
    )
    .unwrap_or_else(|e| panic!("link down: {e}"));
    let link = virsh_ok(SESSION_URI, &["domif-getlink", &guest.name, &mac]);
    assert!(link.contains("down"), "{link}");

    // A second NIC with the same MAC is refused, and nothing changes.
    let before = inactive(&guest.name);
    let refused = apply(&handle, &uuid, vec![add_nic]);
    assert!(
        matches!(
            refused,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::MacInUse(_)
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(inactive(&guest.name), before);

    // The display's password. QEMU sets one only on a display it started with one, so on
    // this guest it waits for the next start, in the configuration. The page learns that
    // there is one, not what it is; one VNC ignores in part is refused, and nothing
    // changes.
    let secret = DomainEdit::DisplayPassword(Some("s3cret".into()));
    let applied =
        apply(&handle, &uuid, vec![secret.clone()]).unwrap_or_else(|e| panic!("password: {e}"));
    assert_eq!(applied.next_shutdown, [secret]);
    let secure = |live: bool| {
        let mut args = vec!["dumpxml", "--security-info"];
        if !live {
            args.push("--inactive");
        }
        args.push(&guest.name);
        virsh_ok(SESSION_URI, &args)
    };
    assert!(
        secure(false).contains("passwd='s3cret'"),
        "{}",
        secure(false)
    );
    assert!(!secure(true).contains("passwd="), "{}", secure(true));
    let hw = Hardware::from_xml(&read(&handle, &uuid).xml).unwrap();
    assert!(hw.display_password);
    let before = inactive(&guest.name);
    let long = apply(
        &handle,
        &uuid,
        vec![DomainEdit::DisplayPassword(Some("123456789".into()))],
    );
    assert!(
        matches!(
            long,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::VncPasswordLong
            )))
        ),
        "{long:?}"
    );
    assert_eq!(inactive(&guest.name), before);
    apply(&handle, &uuid, vec![DomainEdit::DisplayPassword(None)])
        .unwrap_or_else(|e| panic!("clear password: {e}"));
    for live in [true, false] {
        let xml = secure(live);
        assert!(!xml.contains("passwd="), "live {live}: {xml}");
    }

    // What cannot change on a running machine waits for the next shutdown; what can is
    // done now.
    let display = DomainEdit::Display {
        kind: DisplayKind::Vnc,
        listen: "127.0.0.1".into(),
    };
    let boot = DomainEdit::BootOrder(vec![BootDevice::Hd, BootDevice::Cdrom]);
    let title = DomainEdit::Title("Edited live".into());
    let applied = apply(&handle, &uuid, vec![display.clone(), boot.clone(), title])
        .unwrap_or_else(|e| panic!("display: {e}"));
    assert_eq!(applied.next_shutdown, [display, boot]);
    let title = virsh_ok(SESSION_URI, &["desc", "--live", "--title", &guest.name]);
    assert_eq!(title.trim(), "Edited live");
    let config = inactive(&guest.name);
    let os = config.child("os").unwrap();
    let boots: Vec<_> = os
        .elements()
        .filter(|e| e.name == "boot")
        .filter_map(|e| e.attr("dev"))
        .collect();
    assert_eq!(boots, ["hd", "cdrom"]);

    handle.quit_and_join();
    let _ = std::fs::remove_file(other);
}

#[test]
fn offline_edits_and_refusals_on_a_shut_off_machine() {
    let guard = DomainGuard::session("edit-off");
    let log = std::env::temp_dir().join(format!("{}.log", guard.name));
    let xml = common::fixture::temp_xml(
        "edit-off",
        &guest_domain_xml(&guard.name, &log, &GuestOptions::default()),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    let handle = worker();
    let uuid = uuid(&guard.name);
    let config = read(&handle, &uuid);
    assert!(!config.active);
    assert!(!config.autostart);

    let edits = vec![
        DomainEdit::Memory {
            current_mib: 192,
            max_mib: 384,
        },
        DomainEdit::Vcpus { current: 1, max: 2 },
        DomainEdit::Display {
            kind: DisplayKind::Vnc,
            listen: "0.0.0.0".into(),
        },
        DomainEdit::RemoveInput(InputKind::Keyboard),
        DomainEdit::AddInput(InputKind::Mouse),
        DomainEdit::EjectMedia {
            target: "hdc".into(),
        },
        DomainEdit::Description("Two\nlines".into()),
    ];
    let applied = apply(&handle, &uuid, edits).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, Applied::default());
    let info = virsh_ok(SESSION_URI, &["dominfo", &guard.name]);
    assert!(info.contains("393216 KiB"), "max memory: {info}");
    assert!(info.contains("196608 KiB"), "used memory: {info}");
    let vcpus = |which| virsh_ok(SESSION_URI, &["vcpucount", "--config", which, &guard.name]);
    assert_eq!(vcpus("--maximum").trim(), "2");
    assert_eq!(vcpus("--current").trim(), "1");
    let xml = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", &guard.name]);
    assert!(
        xml.contains("<listen type='address' address='0.0.0.0'/>"),
        "{xml}"
    );
    let root = Element::parse(&xml).unwrap();
    let usb_inputs: Vec<_> = root
        .child("devices")
        .unwrap()
        .elements()
        .filter(|e| e.name == "input" && e.attr("bus") == Some("usb"))
        .filter_map(|e| e.attr("type"))
        .collect();
    assert_eq!(usb_inputs, ["tablet", "mouse"], "{xml}");
    assert_eq!(blk_source(&guard.name, "hdc"), "-");
    let desc = virsh_ok(SESSION_URI, &["desc", "--config", &guard.name]);
    assert_eq!(desc.trim_end(), "Two\nlines");

    // Refusals change nothing, whatever came before them in the same request.
    let before = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", &guard.name]);
    let refusals = [
        vec![
            DomainEdit::Title("fine".into()),
            DomainEdit::Memory {
                current_mib: 1,
                max_mib: 1 << 30,
            },
        ],
        vec![DomainEdit::Vcpus { current: 3, max: 2 }],
        vec![DomainEdit::InsertMedia {
            target: "hdc".into(),
            path: "/nonexistent/image.iso".into(),
        }],
    ];
    for edits in refusals {
        let result = apply(&handle, &uuid, edits.clone());
        assert!(
            matches!(result, Err(RequestError::Edit(_))),
            "{edits:?}: {result:?}"
        );
        let after = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", &guard.name]);
        assert_eq!(after, before, "{edits:?} changed the machine");
    }

    // Rename (refused onto an existing name), autostart.
    let other = DomainGuard::session("edit-off-taken");
    other.virsh_tiny("define");
    let rename = |name: &str| {
        let (uuid, name) = (uuid.clone(), name.to_owned());
        handle
            .ask(|reply| Request::Edit(EditRequest::Rename { uuid, name, reply }))
            .recv_blocking()
    };
    let taken = rename(&other.name);
    assert!(
        matches!(taken, Err(RequestError::Edit(EditFailure::NameTaken(_)))),
        "{taken:?}"
    );
    let renamed = format!("{}edit-renamed", common::prefix());
    let renamed_guard = DomainGuard::session("edit-renamed");
    rename(&renamed).unwrap_or_else(|e| panic!("rename: {e}"));
    assert_eq!(
        virsh_ok(SESSION_URI, &["domname", &uuid]).trim(),
        renamed_guard.name
    );
    let autostart = |on: bool| {
        let uuid = uuid.clone();
        handle
            .ask(|reply| {
                Request::Edit(EditRequest::SetAutostart {
                    uuid,
                    autostart: on,
                    reply,
                })
            })
            .recv_blocking()
            .unwrap_or_else(|e| panic!("autostart: {e}"))
    };
    autostart(true);
    assert!(read(&handle, &uuid).autostart);
    autostart(false);
    assert!(!read(&handle, &uuid).autostart);
    handle.quit_and_join();
    let _ = std::fs::remove_file(log);
}
