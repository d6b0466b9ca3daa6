//! VmSpec validation: every problem at once, in words, against plain host facts.

mod common;

use virtdeck::spec::validate::{name_problems, upload_volume_name, NAME_MAX_CHARS, UPLOAD_POOL};
use virtdeck::spec::{
    Firmware, HostFacts, InstallMethod, Network, PoolVolume, SpecField, SpecProblem, SpecWarning,
    Storage, VmSpec,
};

const GIB: u64 = 1 << 30;

/// A host with room for the example specs and the ISO of [`spec`] on disk.
fn host() -> HostFacts {
    HostFacts {
        total_memory_mib: 8192,
        free_memory_mib: 3000,
        cpus: 4,
        pool_free_bytes: [("default".to_owned(), 50 * GIB)].into(),
        existing_names: ["taken".to_owned()].into(),
        ovmf_present: true,
        bridges: ["br0".to_owned()].into(),
        networks: ["default".to_owned()].into(),
        paths_are_local: true,
        volumes: vec![PoolVolume {
            pool: "default".into(),
            name: "install.iso".into(),
            path: "/var/lib/libvirt/images/install.iso".into(),
        }],
        dir_pools: ["default".to_owned()].into(),
    }
}

/// An ISO that exists: this test file itself stands in for it.
fn iso_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/spec_validate.rs").to_owned()
}

fn spec() -> VmSpec {
    VmSpec {
        install: InstallMethod::LocalIso {
            path: iso_path(),
            upload_pool: None,
        },
        ..common::specs::linux_iso_bridge()
    }
}

fn problems(spec: &VmSpec, host: &HostFacts) -> Vec<SpecProblem> {
    spec.validate(host).err().unwrap_or_default()
}

#[test]
fn a_sound_spec_passes() {
    assert_eq!(spec().validate(&host()), Ok(()));
    assert_eq!(spec().warnings(&host()), []);
}

#[test]
fn names_follow_the_documented_rules() {
    assert_eq!(name_problems(""), [SpecProblem::NameEmpty]);
    assert_eq!(name_problems(&"x".repeat(NAME_MAX_CHARS)), []);
    assert_eq!(
        name_problems(&"é".repeat(NAME_MAX_CHARS + 1)),
        [SpecProblem::NameTooLong {
            chars: NAME_MAX_CHARS + 1
        }]
    );
    assert_eq!(name_problems(" vm"), [SpecProblem::NameSurroundingSpace]);
    assert_eq!(
        name_problems("vm\u{a0}"),
        [SpecProblem::NameSurroundingSpace]
    );
    assert_eq!(name_problems("a/b"), [SpecProblem::NameSlash]);
    assert_eq!(name_problems("a\tb"), [SpecProblem::NameControlCharacter]);
    assert_eq!(
        name_problems("a\u{7f}b"),
        [SpecProblem::NameControlCharacter]
    );
    assert_eq!(
        name_problems("/x\n "),
        [
            SpecProblem::NameSurroundingSpace,
            SpecProblem::NameSlash,
            SpecProblem::NameControlCharacter
        ]
    );
    // Everything else is allowed; the XML layer escapes it.
    for ok in ["vm 1", "a<b>&c\"d'e", "名前", "debian-12.x_64", "1234"] {
        assert_eq!(name_problems(ok), [], "{ok:?}");
    }
}

#[test]
fn a_taken_name_is_refused() {
    let spec = VmSpec {
        name: "taken".into(),
        ..spec()
    };
    let problems = problems(&spec, &host());
    assert_eq!(problems, [SpecProblem::NameTaken("taken".into())]);
    assert_eq!(
        problems[0].to_string(),
        "A virtual machine called “taken” already exists on this connection."
    );
    // Names are case-sensitive in libvirt.
    let spec = VmSpec {
        name: "Taken".into(),
        ..spec
    };
    assert_eq!(spec.validate(&host()), Ok(()));
}

#[test]
fn every_problem_is_reported_at_once_with_its_field() {
    let spec = VmSpec {
        name: String::new(),
        install: InstallMethod::LocalIso {
            path: "/nonexistent/vdtest.iso".into(),
            upload_pool: None,
        },
        memory_mib: 0,
        vcpus: 0,
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 0,
        },
        network: Network::Bridge {
            name: "vdtest-nobr".into(),
        },
        firmware: Firmware::Uefi,
        ..spec()
    };
    let host = HostFacts {
        ovmf_present: false,
        ..host()
    };
    let problems = problems(&spec, &host);
    let fields: Vec<SpecField> = problems.iter().map(SpecProblem::field).collect();
    assert_eq!(
        fields,
        [
            SpecField::Name,
            SpecField::InstallMedia,
            SpecField::Memory,
            SpecField::Vcpus,
            SpecField::Storage,
            SpecField::Network,
            SpecField::Firmware,
        ],
        "{problems:#?}"
    );
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "The name is empty.",
            "The file “/nonexistent/vdtest.iso” does not exist.",
            "The memory must be more than 0 MiB.",
            "The machine needs at least one virtual CPU.",
            "The disk must be at least 1 GiB.",
            "The host has no bridge called “vdtest-nobr”.",
            "UEFI firmware was chosen, but OVMF (the UEFI firmware for virtual machines) is not installed on the host.",
        ]
    );
}

#[test]
fn memory_over_total_is_refused_and_over_free_is_a_warning() {
    let absurd = VmSpec {
        memory_mib: 1 << 40,
        ..spec()
    };
    let problems = problems(&absurd, &host());
    assert_eq!(
        problems,
        [SpecProblem::MemoryOverTotal {
            requested: 1 << 40,
            total: 8192
        }]
    );
    assert!(problems[0]
        .to_string()
        .contains("more than the host has in total (8192 MiB)"));
    // Not a warning as well: it is an error already.
    assert_eq!(absurd.warnings(&host()), []);

    let tight = VmSpec {
        memory_mib: 4096,
        ..spec()
    };
    assert_eq!(tight.validate(&host()), Ok(()));
    let warnings = tight.warnings(&host());
    assert_eq!(
        warnings,
        [SpecWarning::MemoryOverFree {
            requested: 4096,
            free: 3000
        }]
    );
    assert!(warnings[0]
        .to_string()
        .starts_with("4096 MiB of memory is more than the host has free now (3000 MiB)"));
}

#[test]
fn more_vcpus_than_the_host_is_refused() {
    let spec = VmSpec { vcpus: 5, ..spec() };
    let problems = problems(&spec, &host());
    assert_eq!(
        problems,
        [SpecProblem::VcpusOverHost {
            requested: 5,
            cpus: 4
        }]
    );
    assert_eq!(
        problems[0].to_string(),
        "5 virtual CPUs are more than the host's 4."
    );
}

#[test]
fn a_disk_larger_than_the_pool_is_refused_unless_the_pool_is_unknown() {
    let big = VmSpec {
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 51,
        },
        ..spec()
    };
    let problems = problems(&big, &host());
    assert_eq!(
        problems[0].to_string(),
        "A 51 GiB disk does not fit in the storage pool “default”, which has 50 GiB free."
    );
    let fits = VmSpec {
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 50,
        },
        ..spec()
    };
    assert_eq!(fits.validate(&host()), Ok(()));
    // The default pool may not exist yet; creation makes it.
    let no_pools = HostFacts {
        pool_free_bytes: Default::default(),
        ..host()
    };
    assert_eq!(big.validate(&no_pools), Ok(()));
    let unchosen = VmSpec {
        storage: Storage::NewVolume {
            pool: String::new(),
            size_gib: 5,
        },
        ..spec()
    };
    assert_eq!(
        unchosen.validate(&host()),
        Err(vec![SpecProblem::PoolNotChosen])
    );
}

#[test]
fn install_media_must_be_chosen_and_exist() {
    let cases = [
        (
            InstallMethod::LocalIso {
                path: String::new(),
                upload_pool: None,
            },
            "No installation image was chosen.",
        ),
        (
            InstallMethod::LocalIso {
                path: env!("CARGO_MANIFEST_DIR").to_owned(),
                upload_pool: None,
            },
            "is a folder, not a file.",
        ),
        (
            InstallMethod::StorageVolume {
                pool: "default".into(),
                volume: String::new(),
            },
            "No storage pool and volume were chosen for the installation media.",
        ),
        (
            InstallMethod::StorageVolume {
                pool: "default".into(),
                volume: "gone.iso".into(),
            },
            "The storage pool “default” has no volume called “gone.iso”.",
        ),
        (
            InstallMethod::ImportDisk {
                path: String::new(),
                format: virtdeck::spec::DiskFormat::Qcow2,
            },
            "No disk image was chosen to import.",
        ),
    ];
    for (install, expected) in cases {
        let spec = VmSpec { install, ..spec() };
        let problems = problems(&spec, &host());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field(), SpecField::InstallMedia);
        assert!(
            problems[0].to_string().ends_with(expected),
            "{}",
            problems[0]
        );
    }
    // On a remote host a local image is this computer's file, to be uploaded: it is
    // checked here, and its name must be free in the pool it goes into.
    let remote = HostFacts {
        paths_are_local: false,
        ..host()
    };
    let missing = VmSpec {
        install: InstallMethod::LocalIso {
            path: "/not/on/this/computer.iso".into(),
            upload_pool: None,
        },
        ..spec()
    };
    assert_eq!(
        problems(&missing, &remote),
        [SpecProblem::FileMissing {
            path: "/not/on/this/computer.iso".into(),
            field: SpecField::InstallMedia,
        }]
    );
    assert_eq!(spec().validate(&remote), Ok(()));
    let clashing = HostFacts {
        volumes: vec![PoolVolume {
            pool: UPLOAD_POOL.into(),
            name: "spec_validate.rs".into(),
            path: "/var/lib/libvirt/images/spec_validate.rs".into(),
        }],
        ..remote.clone()
    };
    let clash = problems(&spec(), &clashing);
    assert_eq!(
        clash,
        [SpecProblem::UploadNameTaken {
            pool: UPLOAD_POOL.into(),
            volume: "spec_validate.rs".into(),
        }]
    );
    assert_eq!(clash[0].field(), SpecField::InstallMedia);
    // Into another pool chosen for the upload: its own volumes count.
    let elsewhere = |pool: &str| VmSpec {
        install: InstallMethod::LocalIso {
            path: iso_path(),
            upload_pool: Some(pool.into()),
        },
        ..spec()
    };
    assert_eq!(elsewhere("isos").validate(&clashing), Ok(()));
    assert_eq!(
        problems(&elsewhere(UPLOAD_POOL), &clashing),
        clash.as_slice()
    );
    // On this computer the file is used where it is: no upload, no clash.
    let local_clash = HostFacts {
        paths_are_local: true,
        ..clashing
    };
    assert_eq!(spec().validate(&local_clash), Ok(()));
    assert_eq!(upload_volume_name(" /isos/debian 12.iso "), "debian 12.iso");
    // A volume that is there passes; one in a pool that is not active is left to creation.
    for pool in ["default", "inactive"] {
        let from_volume = VmSpec {
            install: InstallMethod::StorageVolume {
                pool: pool.into(),
                volume: "install.iso".into(),
            },
            ..self::spec()
        };
        assert_eq!(from_volume.validate(&host()), Ok(()));
    }
    assert_eq!(host().iso_volumes().count(), 1);
}

#[test]
fn an_existing_disk_that_is_missing_is_a_storage_problem() {
    let spec = VmSpec {
        storage: Storage::Existing {
            path: "/nonexistent/vdtest.qcow2".into(),
            format: virtdeck::spec::DiskFormat::Qcow2,
        },
        ..spec()
    };
    let problems = problems(&spec, &host());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field(), SpecField::Storage);
}

#[test]
fn networks_must_exist() {
    let check = |network: Network| problems(&VmSpec { network, ..spec() }, &host());
    assert_eq!(
        check(Network::VirtualNetwork {
            name: "isolated".into()
        }),
        [SpecProblem::VirtualNetworkMissing("isolated".into())]
    );
    assert_eq!(
        check(Network::Bridge {
            name: String::new()
        }),
        [SpecProblem::NetworkNotChosen]
    );
    assert_eq!(
        check(Network::VirtualNetwork {
            name: "default".into()
        }),
        []
    );
    assert_eq!(check(Network::User), []);
    assert_eq!(check(Network::Macvtap { dev: "eno1".into() }), []);
}

#[test]
fn the_spec_survives_serde() {
    // The wizard may keep a draft as JSON.
    for (stem, spec) in common::specs::golden() {
        let text = serde_json::to_string(&spec).unwrap();
        let back: VmSpec = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(back, spec, "{stem}");
    }
    let text = serde_json::to_value(common::specs::import_macvtap()).unwrap();
    assert_eq!(text["install"]["kind"], "import-disk");
    assert_eq!(
        text["network"],
        serde_json::json!({"kind": "macvtap", "dev": "enp1s0"})
    );
}

#[test]
fn an_upload_goes_into_default_else_the_first_folder_pool() {
    let pools = |names: &[&str], dirs: &[&str]| HostFacts {
        pool_free_bytes: names.iter().map(|n| (n.to_string(), GIB)).collect(),
        dir_pools: dirs.iter().map(|n| n.to_string()).collect(),
        ..host()
    };
    let pick = |facts: HostFacts| facts.default_upload_pool().map(str::to_owned);
    assert_eq!(
        pick(pools(&["a-lvm", "default", "isos"], &["isos"])).as_deref(),
        Some("default")
    );
    assert_eq!(
        pick(pools(&["a-lvm", "isos", "z"], &["isos", "z"])).as_deref(),
        Some("isos")
    );
    // A folder pool that is not active is not offered.
    assert_eq!(pick(pools(&["a-lvm"], &["gone"])).as_deref(), Some("a-lvm"));
    assert_eq!(pick(pools(&[], &[])), None);
}
