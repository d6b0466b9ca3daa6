//! The virtualization check against this very host, compared with what the kernel says
//! when asked directly.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use virtdeck::host::kvm::{self, Acceleration, Access, Item, Outcome};

fn cpu_flags() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").expect("/proc/cpuinfo is readable");
    let line = text
        .lines()
        .find(|l| l.starts_with("flags"))
        .expect("cpuinfo has a flags line");
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_check_agrees_with_the_kernel() {
    let report = kvm::check();
    println!("{report:#?}\n{}", report.summary());
    let flags = cpu_flags();
    let has_flag = flags.iter().any(|f| f == "vmx" || f == "svm");
    // Opening /dev/kvm read-write is the real test of "KVM is usable".
    let opens = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    let expected = if opens {
        Acceleration::Kvm {
            nested: flags.iter().any(|f| f == "hypervisor"),
        }
    } else {
        Acceleration::Emulation
    };
    assert_eq!(report.acceleration, expected);
    assert_eq!(report.outcome(Item::DevKvm).passed(), opens);
    assert_eq!(report.outcome(Item::CpuFlag).passed(), has_flag || opens);
    assert_eq!(
        report.outcome(Item::Module).passed(),
        Path::new("/sys/module/kvm").exists()
            && std::fs::read_dir("/sys/module")
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("kvm_"))
    );
    for (item, outcome) in &report.items {
        if let Outcome::Fail { problem, fix } = outcome {
            assert!(
                !problem.is_empty() && !fix.is_empty(),
                "{item:?} lacks words"
            );
        }
    }
}

#[test]
fn an_outsider_without_the_group_gets_the_group_fix_on_the_real_dev_kvm() {
    let meta = std::fs::metadata("/dev/kvm").expect(
        "this test host has /dev/kvm (see TESTING.md); without it the check cannot be compared",
    );
    let nobody = Access::Ids {
        uid: 65534,
        gids: vec![65534],
    };
    let report = kvm::check_as(Path::new("/"), &nobody);
    let others_rw = meta.permissions().mode() & 0o006 == 0o006;
    match report.outcome(Item::DevKvm) {
        Outcome::Pass { .. } => assert!(others_rw, "mode {:o}", meta.permissions().mode()),
        Outcome::Fail { fix, .. } => {
            assert!(!others_rw);
            assert!(fix.contains("usermod -aG"), "{fix}");
            println!("gid {} → {fix}", meta.gid());
        }
    }
    if !others_rw {
        assert_eq!(report.acceleration, Acceleration::Emulation);
        assert_eq!(report.summary(), "VMs will use QEMU emulation and be slow.");
    }
}
