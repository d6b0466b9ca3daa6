//! VmSpec → domain XML: golden files, escaping, and round-trips through libvirt.
//!
//! `VIRTDECK_UPDATE_GOLDEN=1 cargo test --test spec_xml` rewrites tests/golden/*.xml.

mod common;

use std::path::PathBuf;

use virtdeck::spec::domain_xml::domain_xml;

fn golden_path(stem: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{stem}.xml"))
}

#[test]
fn specs_match_their_golden_files() {
    let update = std::env::var_os("VIRTDECK_UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for (stem, spec) in common::specs::golden() {
        let xml = domain_xml(&spec).unwrap();
        let path = golden_path(stem);
        if update {
            std::fs::write(&path, &xml).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with VIRTDECK_UPDATE_GOLDEN=1 to write it",
                path.display()
            )
        });
        if xml != expected {
            mismatches.push(format!("{stem}:\n--- expected\n{expected}\n--- got\n{xml}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A name and paths full of characters that XML must escape.
fn hostile_spec() -> virtdeck::spec::VmSpec {
    let mut spec = common::specs::linux_iso_bridge();
    spec.name = r#"a<b>&c"d'e ünï 名前"#.into();
    spec.install = virtdeck::spec::InstallMethod::LocalIso {
        path: r#"/tmp/x<&"'ü]]>.iso"#.into(),
        upload_pool: None,
    };
    spec.network = virtdeck::spec::Network::Bridge {
        name: "br&<0".into(),
    };
    spec.os.id = r#"http://example.org/os?a=1&b="2""#.into();
    spec
}

fn attr_of<'a>(doc: &'a roxmltree::Document, element: &str, attr: &str) -> Vec<&'a str> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == element)
        .filter_map(|n| n.attribute(attr))
        .collect()
}

fn name_of<'a>(doc: &'a roxmltree::Document) -> &'a str {
    doc.root_element()
        .children()
        .find(|n| n.has_tag_name("name"))
        .and_then(|n| n.text())
        .expect("a <name>")
}

#[test]
fn special_characters_are_escaped_and_parse_back_identically() {
    let spec = hostile_spec();
    let xml = domain_xml(&spec).unwrap();
    assert!(!xml.contains("a<b>"), "unescaped name in {xml}");
    assert!(!xml.contains("x<&"), "unescaped path in {xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    assert_eq!(name_of(&doc), spec.name);
    assert_eq!(attr_of(&doc, "source", "file"), [r#"/tmp/x<&"'ü]]>.iso"#]);
    assert_eq!(attr_of(&doc, "source", "bridge"), ["br&<0"]);
    assert_eq!(attr_of(&doc, "os", "id"), [spec.os.id.as_str()]);
    // The name obeys the naming rules, so it is a valid spec as far as the name goes.
    assert!(virtdeck::spec::validate::name_problems(&spec.name).is_empty());
}

/// What `dumpxml` of a domain defined from `spec` must show.
fn assert_key_parts(spec: &virtdeck::spec::VmSpec, dumped: &str) {
    let doc = roxmltree::Document::parse(dumped).unwrap();
    assert_eq!(name_of(&doc), spec.name, "{dumped}");
    let graphics = doc
        .descendants()
        .find(|n| n.has_tag_name("graphics"))
        .unwrap_or_else(|| panic!("no <graphics> in {dumped}"));
    assert_eq!(graphics.attribute("type"), Some("vnc"));
    assert_eq!(graphics.attribute("autoport"), Some("yes"));
    assert_eq!(
        attr_of(&doc, "listen", "address"),
        ["127.0.0.1"],
        "{dumped}"
    );
    assert!(
        doc.descendants().any(|n| n.has_tag_name("input")
            && n.attribute("type") == Some("tablet")
            && n.attribute("bus") == Some("usb")),
        "no USB tablet in {dumped}"
    );
    assert!(
        attr_of(&doc, "target", "name").contains(&"org.qemu.guest_agent.0"),
        "no guest agent channel in {dumped}"
    );
    assert!(
        doc.descendants().any(|n| n.has_tag_name("channel")
            && n.attribute("type") == Some("qemu-vdagent")
            && attr_of(&doc, "clipboard", "copypaste") == ["yes"]
            && n.children()
                .any(|t| t.has_tag_name("target")
                    && t.attribute("name") == Some("com.redhat.spice.0"))),
        "no clipboard channel (qemu-vdagent) in {dumped}"
    );
    assert_eq!(attr_of(&doc, "serial", "type"), ["pty"], "{dumped}");
    if let virtdeck::spec::Network::Bridge { name } = &spec.network {
        assert_eq!(
            attr_of(&doc, "source", "bridge"),
            [name.as_str()],
            "{dumped}"
        );
    }
    let os_ids = doc
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some(virtdeck::spec::domain_xml::LIBOSINFO_NS))
        .filter_map(|n| n.attribute("id"))
        .collect::<Vec<_>>();
    assert_eq!(os_ids, [spec.os.id.as_str()], "{dumped}");
}

/// Defines every golden spec (renamed with `prefix`) on `uri`, checks `dumpxml`, undefines.
fn round_trip(uri: &str, prefix: &str, extra: Vec<virtdeck::spec::VmSpec>) {
    let conn = virt::connect::Connect::open(Some(uri)).unwrap();
    let specs = common::specs::golden()
        .into_iter()
        .map(|(_, s)| s)
        .chain(extra);
    for mut spec in specs {
        spec.name = format!("{prefix}{}", spec.name);
        let _guard = common::DomainGuard {
            uri: uri.to_owned(),
            name: spec.name.clone(),
        };
        let xml = domain_xml(&spec).unwrap();
        let domain = conn
            .define_domain_xml(&xml)
            .unwrap_or_else(|e| panic!("{uri} refused {}: {e}\n{xml}", spec.name));
        let dumped = domain.xml_desc(0).unwrap();
        assert_key_parts(&spec, &dumped);
        virtdeck::spec::create::undefine(&domain).unwrap();
    }
}

#[test]
fn golden_specs_define_on_the_test_driver() {
    round_trip("test:///default", "", vec![hostile_spec()]);
}

#[test]
fn golden_specs_define_on_qemu_session() {
    common::ensure_libvirtd();
    let mut hostile = hostile_spec();
    // Names are file names for the QEMU driver; keep the escaping-worthy part.
    hostile.name = "q<&'\"ü".into();
    round_trip(common::SESSION_URI, &common::prefix(), vec![hostile]);
}
