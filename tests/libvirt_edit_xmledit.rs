//! The XML editor and the Overview section through the connection worker on the real
//! `qemu:///session` daemon: a valid domain XML is defined, an invalid one (malformed,
//! refused by libvirt's schema, another machine's UUID, a changed name) leaves
//! `virsh dumpxml --inactive` byte-identical; a shut-off machine is renamed, a taken or
//! invalid name is refused.

mod common;

use std::time::Duration;

use virtdeck::libvirt::edit::{error_line, EditFailure, EditRequest};
use virtdeck::libvirt::{spawn, ConnectionHandle, ConnectionState, Event, Request, RequestError};
use virtdeck::spec::edit::overview::{Firmware, Overview};
use virtdeck::spec::edit::tree::Element;
use virtdeck::spec::edit::EditError;

use common::guest::{guest_domain_xml, GuestOptions};
use common::{virsh, virsh_ok, DomainGuard, SESSION_URI};

const TIMEOUT: Duration = Duration::from_secs(60);

fn worker() -> ConnectionHandle {
    common::ensure_libvirtd();
    let handle = spawn(SESSION_URI.into(), common::quiet_options());
    common::expect_event(&handle.events, TIMEOUT, "connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    handle
}

/// The test guest's machine, defined and shut off.
fn define_guest(tag: &str) -> (DomainGuard, std::path::PathBuf) {
    let guard = DomainGuard::session(tag);
    let log = std::env::temp_dir().join(format!("{}.log", guard.name));
    let xml = common::fixture::temp_xml(
        tag,
        &guest_domain_xml(&guard.name, &log, &GuestOptions::default()),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    (guard, log)
}

fn uuid(name: &str) -> String {
    virsh_ok(SESSION_URI, &["domuuid", name]).trim().to_owned()
}

fn dumpxml(name: &str) -> String {
    virsh_ok(SESSION_URI, &["dumpxml", "--inactive", name])
}

/// Defines `xml` as the machine's XML, made from what `virsh dumpxml --inactive` says now.
fn define(handle: &ConnectionHandle, uuid: &str, xml: &str) -> Result<(), RequestError> {
    let name = virsh_ok(SESSION_URI, &["domname", uuid]);
    define_from(handle, uuid, xml, &dumpxml(name.trim()))
}

fn define_from(
    handle: &ConnectionHandle,
    uuid: &str,
    xml: &str,
    base: &str,
) -> Result<(), RequestError> {
    let (uuid, xml, base) = (uuid.to_owned(), xml.to_owned(), base.to_owned());
    handle
        .ask(|reply| {
            Request::Edit(EditRequest::DefineXml {
                uuid,
                xml,
                base,
                reply,
            })
        })
        .recv_blocking()
}

#[test]
fn xml_editor_defines_valid_xml_and_nothing_else() {
    let (guard, log) = define_guest("xmledit-xml");
    let handle = worker();
    let uuid = uuid(&guard.name);
    let xml = {
        let uuid = uuid.clone();
        handle
            .ask(|reply| Request::Edit(EditRequest::ReadXml { uuid, reply }))
            .recv_blocking()
            .unwrap_or_else(|e| panic!("ReadXml: {e}"))
    };
    assert_eq!(xml, dumpxml(&guard.name));

    // The Overview reads the same XML: libvirt filled in the machine type.
    let overview = Overview::from_xml(&xml).unwrap();
    assert_eq!(overview.uuid, uuid);
    assert_eq!(overview.firmware, Firmware::Bios);
    assert!(overview.machine.starts_with("pc"), "{}", overview.machine);

    let before = dumpxml(&guard.name);
    // Not well-formed: the line is named, libvirt is not asked.
    let malformed = xml.replacen("</devices>", "</device>", 1);
    let line = malformed
        .lines()
        .position(|l| l.contains("</device>"))
        .unwrap() as u32
        + 1;
    let refused = define(&handle, &uuid, &malformed).unwrap_err();
    assert!(
        matches!(
            refused,
            RequestError::Edit(EditFailure::Invalid(EditError::XmlMalformed { .. }))
        ),
        "{refused:?}"
    );
    assert_eq!(error_line(&refused), Some(line), "{refused}");
    assert_eq!(dumpxml(&guard.name), before);

    // Well-formed, but libvirt's schema refuses it: its message is passed on.
    let mut root = Element::parse(&xml).unwrap();
    root.child_mut("memory").unwrap().set_text("lots");
    let refused = define(&handle, &uuid, &root.to_xml()).unwrap_err();
    match &refused {
        RequestError::Libvirt(message) => assert!(message.contains("lots"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(dumpxml(&guard.name), before);

    // An unknown element is refused by the validation too (without it, libvirt drops it).
    let mut root = Element::parse(&xml).unwrap();
    root.child_or_insert("bogus");
    let refused = define(&handle, &uuid, &root.to_xml()).unwrap_err();
    assert!(matches!(refused, RequestError::Libvirt(_)), "{refused:?}");
    assert_eq!(dumpxml(&guard.name), before);

    // Another machine's UUID, or none: refused before libvirt would make a new machine.
    let other_uuid = "0badc0de-0000-4000-8000-000000000001";
    for other in [
        xml.replace(&uuid, other_uuid),
        xml.replace(&format!("<uuid>{uuid}</uuid>"), ""),
    ] {
        let refused = define(&handle, &uuid, &other).unwrap_err();
        assert!(
            matches!(
                refused,
                RequestError::Edit(EditFailure::Invalid(EditError::XmlUuid(_)))
            ),
            "{refused:?}"
        );
    }
    assert!(!virsh(SESSION_URI, &["domname", other_uuid])
        .status
        .success());
    assert_eq!(dumpxml(&guard.name), before);

    // A new name with the same UUID: libvirt refuses it (renaming is the Overview's).
    let renamed = xml.replace(
        &format!("<name>{}</name>", guard.name),
        &format!("<name>{}xmledit-other</name>", common::prefix()),
    );
    assert_ne!(renamed, xml);
    let refused = define(&handle, &uuid, &renamed).unwrap_err();
    assert!(matches!(refused, RequestError::Libvirt(_)), "{refused:?}");
    assert_eq!(dumpxml(&guard.name), before);

    // Made from an older configuration: it changed elsewhere since, and stays as it is.
    let stale = xml.replace("<on_crash>", "<!-- older -->\n  <on_crash>");
    assert_ne!(stale, xml);
    let refused = define_from(&handle, &uuid, &xml, &stale).unwrap_err();
    assert!(
        matches!(refused, RequestError::Edit(EditFailure::ChangedElsewhere)),
        "{refused:?}"
    );
    assert_eq!(dumpxml(&guard.name), before);

    // A valid edit is defined as typed.
    let mut root = Element::parse(&xml).unwrap();
    root.insert_after(
        &["name", "uuid"],
        Element::new("title").with_text("Edited as XML"),
    );
    root.child_mut("currentMemory").unwrap().set_text("131072");
    define(&handle, &uuid, &root.to_xml()).unwrap_or_else(|e| panic!("define: {e}"));
    let after = dumpxml(&guard.name);
    assert!(after.contains("<title>Edited as XML</title>"), "{after}");
    let info = virsh_ok(SESSION_URI, &["dominfo", &guard.name]);
    assert!(info.contains("131072 KiB"), "{info}");

    handle.quit_and_join();
    let _ = std::fs::remove_file(log);
}

#[test]
fn rename_a_shut_off_machine() {
    let (guard, log) = define_guest("xmledit-rename");
    let taken = DomainGuard::session("xmledit-taken");
    taken.virsh_tiny("define");
    let handle = worker();
    let uuid = uuid(&guard.name);
    let rename = |name: &str| {
        let (uuid, name) = (uuid.clone(), name.to_owned());
        handle
            .ask(|reply| Request::Edit(EditRequest::Rename { uuid, name, reply }))
            .recv_blocking()
    };
    let before = dumpxml(&guard.name);
    for (name, refusal) in [
        (taken.name.as_str(), "taken"),
        ("has/slash", "bad"),
        ("", "bad"),
    ] {
        let result = rename(name);
        match (refusal, &result) {
            ("taken", Err(RequestError::Edit(EditFailure::NameTaken(_))))
            | ("bad", Err(RequestError::Edit(EditFailure::BadName(_)))) => {}
            _ => panic!("{name:?}: {result:?}"),
        }
        assert_eq!(dumpxml(&guard.name), before);
    }

    let new_name = DomainGuard::session("xmledit-renamed");
    rename(&new_name.name).unwrap_or_else(|e| panic!("rename: {e}"));
    assert_eq!(
        virsh_ok(SESSION_URI, &["domname", &uuid]).trim(),
        new_name.name
    );
    assert!(!virsh(SESSION_URI, &["dominfo", &guard.name])
        .status
        .success());

    // Running, it cannot be renamed.
    virsh_ok(SESSION_URI, &["start", &new_name.name]);
    let running = rename(&guard.name);
    assert!(
        matches!(running, Err(RequestError::Edit(EditFailure::RenameRunning))),
        "{running:?}"
    );
    virsh_ok(SESSION_URI, &["destroy", &new_name.name]);
    handle.quit_and_join();
    let _ = std::fs::remove_file(log);
}
