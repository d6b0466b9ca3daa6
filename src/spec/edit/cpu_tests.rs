//! Golden XML of the processor edits, and the choices read from domain capabilities.

use crate::spec::edit::tests::{edited, refused, BASE};
use crate::spec::edit::tree::Element;
use crate::spec::edit::{apply, DomainEdit, EditError, Limits, Touched};

use super::*;

fn cpu_xml(root: &Element) -> String {
    root.child("cpu").unwrap().to_xml()
}

#[test]
fn model_named_passthrough_and_host_model_keep_the_topology() {
    let (root, touched) = edited(DomainEdit::CpuModel(CpuModel::Named(
        "Skylake-Client".into(),
    )));
    assert_eq!(touched, Touched::Values);
    assert_eq!(
        cpu_xml(&root),
        "<cpu mode=\"custom\" match=\"exact\">\n  \
         <model fallback=\"allow\">Skylake-Client</model>\n  \
         <topology sockets=\"1\" dies=\"1\" clusters=\"1\" cores=\"2\" threads=\"1\"/>\n</cpu>\n"
    );
    assert_eq!(
        CpuConfig::read(&root).model,
        Some(CpuModel::Named("Skylake-Client".into()))
    );

    let mut passthrough = root.clone();
    let limits = Limits::default();
    let edit = DomainEdit::CpuModel(CpuModel::HostPassthrough);
    apply(&mut passthrough, &edit, &limits).unwrap();
    assert_eq!(
        cpu_xml(&passthrough),
        "<cpu mode=\"host-passthrough\">\n  \
         <topology sockets=\"1\" dies=\"1\" clusters=\"1\" cores=\"2\" threads=\"1\"/>\n</cpu>\n"
    );
    let (root, _) = edited(DomainEdit::CpuModel(CpuModel::HostModel));
    assert_eq!(CpuConfig::read(&root).model, Some(CpuModel::HostModel));
    assert_eq!(
        refused(DomainEdit::CpuModel(CpuModel::Named(" ".into()))),
        EditError::CpuModelEmpty
    );
}

#[test]
fn model_on_a_machine_without_cpu_element() {
    let mut root = Element::parse(
        "<domain><name>a</name><vcpu>1</vcpu><os><type>hvm</type></os><devices/></domain>",
    )
    .unwrap();
    assert_eq!(CpuConfig::read(&root), CpuConfig::default());
    apply(
        &mut root,
        &DomainEdit::CpuModel(CpuModel::HostModel),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        root.to_xml(),
        "<domain>\n  <name>a</name>\n  <vcpu>1</vcpu>\n  <os>\n    <type>hvm</type>\n  </os>\n  \
         <cpu mode=\"host-model\"/>\n  <devices/>\n</domain>\n"
    );
}

#[test]
fn topology_must_make_the_maximum() {
    let (root, touched) = edited(DomainEdit::CpuTopology(Topology {
        sockets: 1,
        cores: 1,
        threads: 2,
    }));
    assert_eq!(touched, Touched::Values);
    assert_eq!(
        cpu_xml(&root),
        "<cpu mode=\"custom\" match=\"exact\">\n  \
         <topology sockets=\"1\" dies=\"1\" clusters=\"1\" cores=\"1\" threads=\"2\"/>\n</cpu>\n"
    );
    assert_eq!(
        refused(DomainEdit::CpuTopology(Topology {
            sockets: 2,
            cores: 2,
            threads: 1
        })),
        EditError::TopologyMismatch {
            sockets: 2,
            cores: 2,
            threads: 1,
            max: 2
        }
    );
    assert_eq!(
        refused(DomainEdit::CpuTopology(Topology {
            sockets: 0,
            cores: 2,
            threads: 1
        })),
        EditError::TopologyZero
    );
    // A new maximum first, then the topology for it.
    let mut root = Element::parse(BASE).unwrap();
    for edit in [
        DomainEdit::Vcpus { current: 4, max: 4 },
        DomainEdit::CpuTopology(Topology {
            sockets: 1,
            cores: 2,
            threads: 2,
        }),
    ] {
        apply(&mut root, &edit, &Limits::default()).unwrap();
    }
    assert_eq!(
        CpuConfig::read(&root).topology,
        Some(Topology {
            sockets: 1,
            cores: 2,
            threads: 2
        })
    );
}

#[test]
fn topology_on_a_machine_without_one() {
    let mut root =
        Element::parse("<domain><vcpu>4</vcpu><cpu mode='host-model'/><devices/></domain>")
            .unwrap();
    let edit = DomainEdit::CpuTopology(Topology {
        sockets: 2,
        cores: 2,
        threads: 1,
    });
    apply(&mut root, &edit, &Limits::default()).unwrap();
    assert_eq!(
        cpu_xml(&root),
        "<cpu mode=\"host-model\">\n  \
         <topology sockets=\"2\" cores=\"2\" threads=\"1\"/>\n</cpu>\n"
    );
}

#[test]
fn choices_from_domain_capabilities() {
    let xml = "<domainCapabilities><cpu>\
        <mode name='host-passthrough' supported='no'/>\
        <mode name='maximum' supported='yes'/>\
        <mode name='host-model' supported='yes'><model fallback='forbid'>EPYC</model></mode>\
        <mode name='custom' supported='yes'>\
          <model usable='yes' vendor='unknown'>qemu64</model>\
          <model usable='no' vendor='Intel'>Broadwell</model>\
          <blockers model='Broadwell'><feature name='hle'/></blockers>\
          <model usable='unknown' vendor='AMD'>EPYC</model>\
        </mode></cpu><devices>\
        <video supported='yes'><enum name='modelType'><value>vga</value><value>virtio</value>\
        <value>none</value></enum></video>\
        <tpm supported='yes'><enum name='model'><value>tpm-tis</value></enum>\
        <enum name='backendModel'><value>passthrough</value><value>emulator</value></enum>\
        <enum name='backendVersion'><value>1.2</value><value>2.0</value></enum></tpm>\
        </devices></domainCapabilities>";
    let choices = DeviceChoices::from_xml(xml).unwrap();
    assert_eq!(
        choices.cpu_models,
        [
            CpuModel::HostModel,
            CpuModel::Named("qemu64".into()),
            CpuModel::Named("EPYC".into())
        ]
    );
    assert_eq!(choices.video_models, ["vga", "virtio", "none"]);
    assert!(choices.tpm_emulator);
    let none = DeviceChoices::from_xml("<domainCapabilities/>").unwrap();
    assert_eq!(none, DeviceChoices::default());
}
