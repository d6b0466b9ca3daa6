//! Golden XML of every edit: the element it changes, as written afterwards.

use super::*;

/// A machine as `virsh dumpxml --inactive` shows one the wizard made.
pub(super) const BASE: &str = r#"<domain type='qemu'>
  <name>vm</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-10.0'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='custom' match='exact'>
    <topology sockets='1' dies='1' clusters='1' cores='2' threads='1'/>
  </cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:aa:bb:cc'/>
      <model type='virtio'/>
    </interface>
    <input type='mouse' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' passwd='secret'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video>
      <model type='vga'/>
    </video>
  </devices>
</domain>"#;

pub(super) fn limits() -> Limits {
    Limits {
        host_memory_mib: Some(8192),
        macs_in_use: vec!["52:54:00:aa:bb:cc".into(), "52:54:00:00:00:01".into()],
    }
}

/// `edit` applied to the domain XML `base`: the tree and what it touched.
pub(super) fn edited_from(base: &str, edit: DomainEdit) -> (Element, Touched) {
    let mut root = Element::parse(base).unwrap();
    let touched = apply(&mut root, &edit, &limits()).unwrap_or_else(|e| panic!("{e}"));
    (root, touched)
}

/// Why `edit` is refused on `base`, checking that the tree is unchanged.
pub(super) fn refused_on(base: &str, edit: DomainEdit) -> EditError {
    let mut root = Element::parse(base).unwrap();
    let error = apply(&mut root, &edit, &limits()).unwrap_err();
    assert_eq!(
        root,
        Element::parse(base).unwrap(),
        "a refused edit changed the XML"
    );
    error
}

pub(super) fn edited(edit: DomainEdit) -> (Element, Touched) {
    edited_from(BASE, edit)
}

pub(super) fn refused(edit: DomainEdit) -> EditError {
    refused_on(BASE, edit)
}

fn xml(element: &Element) -> String {
    element.to_xml()
}

fn devices(root: &Element) -> Vec<&Element> {
    root.child("devices").unwrap().elements().collect()
}

#[test]
fn memory() {
    let (root, touched) = edited(DomainEdit::Memory {
        current_mib: 512,
        max_mib: 1024,
    });
    assert_eq!(touched, Touched::Values);
    assert_eq!(
        xml(root.child("memory").unwrap()),
        "<memory unit=\"KiB\">1048576</memory>\n"
    );
    assert_eq!(
        xml(root.child("currentMemory").unwrap()),
        "<currentMemory unit=\"KiB\">524288</currentMemory>\n"
    );
    let over = |current_mib, max_mib| {
        refused(DomainEdit::Memory {
            current_mib,
            max_mib,
        })
    };
    assert_eq!(
        over(2048, 1024),
        EditError::MemoryOverMax {
            current: 2048,
            max: 1024
        }
    );
    assert_eq!(
        over(512, 16384),
        EditError::MemoryOverHost {
            requested: 16384,
            total: 8192
        }
    );
    assert_eq!(over(0, 512), EditError::MemoryZero);
}

#[test]
fn vcpus() {
    let (root, _) = edited(DomainEdit::Vcpus { current: 2, max: 4 });
    assert_eq!(
        xml(root.child("vcpu").unwrap()),
        "<vcpu placement=\"static\" current=\"2\">4</vcpu>\n"
    );
    assert_eq!(
        xml(root.child("cpu").unwrap().child("topology").unwrap()),
        "<topology sockets=\"2\" dies=\"1\" clusters=\"1\" cores=\"2\" threads=\"1\"/>\n"
    );
    let (root, _) = edited(DomainEdit::Vcpus { current: 3, max: 3 });
    assert_eq!(
        xml(root.child("vcpu").unwrap()),
        "<vcpu placement=\"static\">3</vcpu>\n"
    );
    assert_eq!(
        xml(root.child("cpu").unwrap().child("topology").unwrap()),
        "<topology sockets=\"3\" dies=\"1\" clusters=\"1\" cores=\"1\" threads=\"1\"/>\n"
    );
    assert_eq!(
        refused(DomainEdit::Vcpus { current: 5, max: 4 }),
        EditError::VcpusOverMax { current: 5, max: 4 }
    );
    assert_eq!(
        refused(DomainEdit::Vcpus { current: 0, max: 4 }),
        EditError::VcpusZero
    );
}

#[test]
fn insert_and_eject_media() {
    let (root, touched) = edited(DomainEdit::InsertMedia {
        target: "sda".into(),
        path: "/isos/a & b.iso".into(),
    });
    let cdrom = "<disk type=\"file\" device=\"cdrom\">\n  <driver name=\"qemu\" type=\"raw\"/>\n  \
                 <source file=\"/isos/a &amp; b.iso\"/>\n  <target dev=\"sda\" bus=\"sata\"/>\n  \
                 <readonly/>\n</disk>\n";
    assert_eq!(xml(devices(&root)[1]), cdrom);
    assert_eq!(touched, Touched::Updated(devices(&root)[1].clone()));

    let mut again = root.clone();
    let eject = DomainEdit::EjectMedia {
        target: "sda".into(),
    };
    let touched = apply(&mut again, &eject, &limits()).unwrap();
    assert_eq!(again, Element::parse(BASE).unwrap());
    assert!(matches!(touched, Touched::Updated(disk) if disk.child("source").is_none()));

    assert_eq!(
        refused(DomainEdit::InsertMedia {
            target: "sdz".into(),
            path: "/a.iso".into()
        }),
        EditError::NoCdrom("sdz".into())
    );
    assert_eq!(
        refused(DomainEdit::InsertMedia {
            target: "sda".into(),
            path: " ".into()
        }),
        EditError::NoImage
    );
}

#[test]
fn add_remove_and_unplug_a_nic() {
    let (root, touched) = edited(DomainEdit::AddNic {
        network: Network::Bridge { name: "br0".into() },
        model: NicModel::E1000,
        mac: "52:54:00:12:34:56".into(),
    });
    let nic = "<interface type=\"bridge\">\n  <mac address=\"52:54:00:12:34:56\"/>\n  \
               <source bridge=\"br0\"/>\n  <model type=\"e1000\"/>\n</interface>\n";
    assert_eq!(xml(devices(&root)[3]), nic);
    assert_eq!(touched, Touched::Added(devices(&root)[3].clone()));

    let (root, touched) = edited(DomainEdit::LinkState {
        mac: "52:54:00:AA:BB:CC".into(),
        up: false,
    });
    let down = "<interface type=\"user\">\n  <mac address=\"52:54:00:aa:bb:cc\"/>\n  \
                <model type=\"virtio\"/>\n  <link state=\"down\"/>\n</interface>\n";
    assert_eq!(xml(devices(&root)[2]), down);
    assert!(matches!(touched, Touched::Updated(_)));

    let (root, touched) = edited(DomainEdit::RemoveNic {
        mac: "52:54:00:aa:bb:cc".into(),
    });
    assert!(!devices(&root).iter().any(|e| e.name == "interface"));
    assert!(matches!(touched, Touched::Removed(nic) if nic.name == "interface"));

    let add = |mac: &str| DomainEdit::AddNic {
        network: Network::User,
        model: NicModel::Virtio,
        mac: mac.into(),
    };
    assert_eq!(
        refused(add("52:54:00:00:00:01")),
        EditError::MacInUse("52:54:00:00:00:01".into())
    );
    assert_eq!(
        refused(add("nonsense")),
        EditError::BadMac("nonsense".into())
    );
    assert_eq!(
        refused(add("01:54:00:00:00:02")),
        EditError::BadMac("01:54:00:00:00:02".into())
    );
    assert_eq!(
        refused(DomainEdit::RemoveNic {
            mac: "52:54:00:99:99:99".into()
        }),
        EditError::NoNic("52:54:00:99:99:99".into())
    );
}

#[test]
fn display_keeps_the_password() {
    let (root, _) = edited(DomainEdit::Display {
        kind: DisplayKind::Spice,
        listen: "0.0.0.0".into(),
    });
    let graphics: Vec<_> = devices(&root)
        .into_iter()
        .filter(|e| e.name == "graphics")
        .collect();
    assert_eq!(graphics.len(), 1);
    assert_eq!(
        xml(graphics[0]),
        "<graphics type=\"spice\" port=\"-1\" autoport=\"yes\" passwd=\"secret\">\n  \
         <listen type=\"address\" address=\"0.0.0.0\"/>\n</graphics>\n"
    );
    assert_eq!(
        refused(DomainEdit::Display {
            kind: DisplayKind::Vnc,
            listen: "".into()
        }),
        EditError::ListenEmpty
    );
}

#[test]
fn display_password_is_set_or_taken_away() {
    let graphics = |root: &Element| {
        devices(root)
            .into_iter()
            .find(|e| e.name == "graphics")
            .cloned()
            .unwrap()
    };
    let (root, touched) = edited(DomainEdit::DisplayPassword(Some("n3w&<ok>".into())));
    assert_eq!(
        xml(&graphics(&root)),
        "<graphics type=\"vnc\" port=\"-1\" autoport=\"yes\" passwd=\"n3w&amp;&lt;ok&gt;\">\n  \
         <listen type=\"address\" address=\"127.0.0.1\"/>\n</graphics>\n"
    );
    // The running display is updated in place.
    assert_eq!(touched, Touched::Updated(graphics(&root)));
    let (root, _) = edited(DomainEdit::DisplayPassword(None));
    assert_eq!(graphics(&root).attr("passwd"), None);
    assert!(!Hardware::from_xml(&root.to_xml()).unwrap().display_password);
    assert!(Hardware::from_xml(BASE).unwrap().display_password);
    assert_eq!(
        refused(DomainEdit::DisplayPassword(Some(String::new()))),
        EditError::PasswordEmpty
    );
    assert_eq!(
        refused(DomainEdit::DisplayPassword(Some("123456789".into()))),
        EditError::VncPasswordLong
    );
    let headless = "<domain><name>h</name><devices/></domain>";
    assert_eq!(
        refused_on(headless, DomainEdit::DisplayPassword(None)),
        EditError::NoDisplay
    );
}

#[test]
fn display_to_vnc_silences_spice_audio() {
    let spice = BASE
        .replace("type='vnc' port", "type='spice' port")
        .replace("</video>", "</video>\n    <audio id='1' type='spice'/>")
        .replace(
            "<video>",
            "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>\n    \
             <redirdev bus='usb' type='spicevmc'/>\n    \
             <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n    <video>",
        );
    // SPICE's channels go with it; the guest agent's stays.
    let (root, _) = edited_from(
        &spice,
        DomainEdit::Display {
            kind: DisplayKind::Vnc,
            listen: "127.0.0.1".into(),
        },
    );
    let left: Vec<_> = devices(&root)
        .into_iter()
        .filter(|e| matches!(e.name.as_str(), "channel" | "redirdev"))
        .map(|e| e.attr("type").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(left, ["unix"]);
    // Back to SPICE leaves the audio as it is.
    for (kind, audio) in [(DisplayKind::Vnc, "none"), (DisplayKind::Spice, "spice")] {
        let listen = "127.0.0.1".into();
        let (root, _) = edited_from(&spice, DomainEdit::Display { kind, listen });
        let element = devices(&root)
            .into_iter()
            .find(|e| e.name == "audio")
            .unwrap();
        assert_eq!(
            xml(element),
            format!("<audio id=\"1\" type=\"{audio}\"/>\n")
        );
    }
}

#[test]
fn inputs() {
    let (root, touched) = edited(DomainEdit::AddInput(InputKind::Tablet));
    let names: Vec<_> = devices(&root).iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "emulator",
            "disk",
            "interface",
            "input",
            "input",
            "graphics",
            "video"
        ]
    );
    assert_eq!(
        xml(devices(&root)[4]),
        "<input type=\"tablet\" bus=\"usb\"/>\n"
    );
    assert_eq!(touched, Touched::Added(devices(&root)[4].clone()));

    let mut twice = root.clone();
    let again = apply(
        &mut twice,
        &DomainEdit::AddInput(InputKind::Tablet),
        &limits(),
    );
    assert_eq!(again, Err(EditError::InputExists("tablet")));
    let removed = apply(
        &mut twice,
        &DomainEdit::RemoveInput(InputKind::Tablet),
        &limits(),
    );
    assert!(matches!(removed, Ok(Touched::Removed(_))));
    assert_eq!(twice, Element::parse(BASE).unwrap());
    assert_eq!(
        refused(DomainEdit::RemoveInput(InputKind::Mouse)),
        EditError::NoInput("mouse")
    );
}

#[test]
fn boot_order() {
    let (root, _) = edited(DomainEdit::BootOrder(vec![
        BootDevice::Cdrom,
        BootDevice::Hd,
        BootDevice::Network,
    ]));
    assert_eq!(
        xml(root.child("os").unwrap()),
        "<os>\n  <type arch=\"x86_64\" machine=\"pc-q35-10.0\">hvm</type>\n  \
         <boot dev=\"cdrom\"/>\n  <boot dev=\"hd\"/>\n  <boot dev=\"network\"/>\n</os>\n"
    );
    assert_eq!(refused(DomainEdit::BootOrder(vec![])), EditError::BootEmpty);
}

#[test]
fn title_and_description() {
    let (root, _) = edited(DomainEdit::Title("Web <server>".into()));
    let names: Vec<_> = root.elements().map(|e| e.name.as_str()).take(3).collect();
    assert_eq!(names, ["name", "uuid", "title"]);
    assert_eq!(
        xml(root.child("title").unwrap()),
        "<title>Web &lt;server&gt;</title>\n"
    );
    let mut root = root;
    apply(
        &mut root,
        &DomainEdit::Description("two\nlines".into()),
        &limits(),
    )
    .unwrap();
    assert_eq!(root.child("description").unwrap().text(), "two\nlines");
    apply(&mut root, &DomainEdit::Title(String::new()), &limits()).unwrap();
    assert!(root.child("title").is_none());
    assert_eq!(
        refused(DomainEdit::Title("a\nb".into())),
        EditError::TitleLines
    );
}

#[test]
fn macs_and_new_macs() {
    assert_eq!(macs(BASE), ["52:54:00:aa:bb:cc"]);
    let counter = std::cell::Cell::new(0u64);
    let random = || {
        counter.set(counter.get() + 1);
        counter.get()
    };
    let in_use = vec!["52:54:00:01:00:00".to_owned()];
    assert_eq!(new_mac(random, &in_use), "52:54:00:02:00:00");
    assert!(is_mac("52:54:00:02:00:00"));
}
