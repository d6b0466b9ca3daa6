//! Can this host run virtual machines with KVM? The tutorial's `grep vmx /proc/cpuinfo`,
//! `lsmod | grep kvm` and `ls -l /dev/kvm`, said in words, each failing item with its fix.
//!
//! Everything is read below a root directory, so that tests can point the check at a
//! fixture tree: `<root>/proc/cpuinfo`, `<root>/sys/module/kvm*`, `<root>/dev/kvm`,
//! `<root>/etc/group`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Who wants to open `/dev/kvm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// This process: asks the kernel (`access(2)`), so ACLs such as systemd's `uaccess`
    /// count.
    Process,
    /// A given user, judged by the file's owner, group and mode bits alone.
    Ids { uid: u32, gids: Vec<u32> },
}

/// One item of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// The CPU advertises hardware virtualization (`vmx` Intel VT-x, `svm` AMD-V).
    CpuFlag,
    /// The `kvm` module and a vendor module (`kvm_intel`, `kvm_amd`, …) are loaded.
    Module,
    /// `/dev/kvm` exists and this user may read and write it.
    DevKvm,
}

/// How one item turned out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Fine; `detail` says what was found.
    Pass { detail: String },
    /// Not fine: what is wrong, and what to do about it.
    Fail { problem: String, fix: String },
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Pass { .. })
    }
}

/// How new virtual machines will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceleration {
    /// With KVM; `nested` when this host is itself a virtual machine.
    Kvm { nested: bool },
    /// Without KVM: QEMU emulates the CPU (TCG).
    Emulation,
}

/// The result of the virtualization check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub items: Vec<(Item, Outcome)>,
    pub acceleration: Acceleration,
}

impl Report {
    pub fn outcome(&self, item: Item) -> &Outcome {
        &self
            .items
            .iter()
            .find(|(i, _)| *i == item)
            .expect("every item is checked")
            .1
    }

    /// One sentence on how VMs will run, for the top of the host page.
    pub fn summary(&self) -> &'static str {
        match self.acceleration {
            Acceleration::Kvm { nested: false } => "VMs will use KVM hardware virtualization.",
            Acceleration::Kvm { nested: true } => {
                "VMs will use KVM; this host is itself a virtual machine, so they run nested and may be slower."
            }
            Acceleration::Emulation => "VMs will use QEMU emulation and be slow.",
        }
    }
}

/// The check on this host, for this process.
pub fn check() -> Report {
    check_at(Path::new("/"))
}

/// The check against the files below `root`, for this process.
pub fn check_at(root: &Path) -> Report {
    check_as(root, &Access::Process)
}

/// The check against the files below `root`, for `who`.
pub fn check_as(root: &Path, who: &Access) -> Report {
    let flags = cpu_flags(&std::fs::read_to_string(root.join("proc/cpuinfo")).unwrap_or_default());
    let modules = kvm_modules(root);
    let dev = dev_kvm(root, who);
    let vendor = if flags.iter().any(|f| f == "svm") {
        "kvm_amd"
    } else {
        "kvm_intel"
    };
    let usable = dev.passed();

    let cpu = if let Some(flag) = flags.iter().find(|f| *f == "vmx" || *f == "svm") {
        let name = if flag == "vmx" { "Intel VT-x" } else { "AMD-V" };
        Outcome::Pass {
            detail: format!("The processor supports {name} (flag “{flag}”)."),
        }
    } else if usable {
        Outcome::Pass {
            detail: "The processor does not list vmx or svm, but the kernel provides KVM anyway."
                .to_owned(),
        }
    } else {
        Outcome::Fail {
            problem: "The processor does not offer hardware virtualization (no vmx or svm flag)."
                .to_owned(),
            fix: "Enable Intel VT-x or AMD-V (often called “SVM Mode” or “Virtualization Technology”) in the firmware setup, then restart the computer. In a virtual machine, enable nested virtualization on its host.".to_owned(),
        }
    };

    let has_kvm = modules.iter().any(|m| m == "kvm");
    let vendor_loaded: Vec<&String> = modules.iter().filter(|m| *m != "kvm").collect();
    let module = match (has_kvm, vendor_loaded.first()) {
        (true, Some(v)) => Outcome::Pass {
            detail: format!("The kvm and {v} kernel modules are loaded."),
        },
        (true, None) => Outcome::Fail {
            problem: format!("The kvm module is loaded but {vendor} is not."),
            fix: format!("Run “sudo modprobe {vendor}”; if it fails, virtualization is disabled in the firmware."),
        },
        (false, _) => Outcome::Fail {
            problem: "The kvm kernel module is not loaded.".to_owned(),
            fix: format!("Run “sudo modprobe {vendor}” (it loads kvm too); if it fails, virtualization is disabled in the firmware."),
        },
    };

    let acceleration = if usable {
        Acceleration::Kvm {
            nested: flags.iter().any(|f| f == "hypervisor"),
        }
    } else {
        Acceleration::Emulation
    };
    Report {
        items: vec![
            (Item::CpuFlag, cpu),
            (Item::Module, module),
            (Item::DevKvm, dev),
        ],
        acceleration,
    }
}

/// The CPU flags of the first processor in a `/proc/cpuinfo` text.
fn cpu_flags(cpuinfo: &str) -> Vec<String> {
    cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "flags").then(|| value.split_whitespace().map(str::to_owned).collect())
        })
        .unwrap_or_default()
}

/// Loaded modules named `kvm` or `kvm_*`, `kvm` first.
fn kvm_modules(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("sys/module"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n == "kvm" || n.starts_with("kvm_"))
        .collect();
    names.sort();
    names
}

fn dev_kvm(root: &Path, who: &Access) -> Outcome {
    let path = root.join("dev/kvm");
    let Ok(meta) = std::fs::metadata(&path) else {
        return Outcome::Fail {
            problem: "/dev/kvm does not exist.".to_owned(),
            fix: "Load the KVM module (“sudo modprobe kvm_intel” or “sudo modprobe kvm_amd”); if it fails, enable virtualization in the firmware setup.".to_owned(),
        };
    };
    let allowed = match who {
        Access::Process => nix::unistd::access(
            &path,
            nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK,
        )
        .is_ok(),
        Access::Ids { uid, gids } => {
            let mode = meta.permissions().mode();
            let bits = if *uid == 0 {
                0o6
            } else if meta.uid() == *uid {
                (mode >> 6) & 0o7
            } else if gids.contains(&meta.gid()) {
                (mode >> 3) & 0o7
            } else {
                mode & 0o7
            };
            bits & 0o6 == 0o6
        }
    };
    if allowed {
        return Outcome::Pass {
            detail: "/dev/kvm exists and you may use it.".to_owned(),
        };
    }
    let group = group_name(root, meta.gid()).unwrap_or_else(|| "kvm".to_owned());
    Outcome::Fail {
        problem: "You may not use /dev/kvm.".to_owned(),
        fix: format!(
            "Add yourself to the “{group}” group (“sudo usermod -aG {group} $USER”), then log out and back in."
        ),
    }
}

/// The name of group `gid` in `<root>/etc/group`.
fn group_name(root: &Path, gid: u32) -> Option<String> {
    let text = std::fs::read_to_string(root.join("etc/group")).ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == gid).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    /// A fixture root removed when dropped.
    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str) -> Tree {
            let dir =
                std::env::temp_dir().join(format!("vdtest-{}-kvm-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("proc")).unwrap();
            fs::create_dir_all(dir.join("sys/module")).unwrap();
            fs::create_dir_all(dir.join("dev")).unwrap();
            fs::create_dir_all(dir.join("etc")).unwrap();
            Tree(dir)
        }
        fn cpu(self, flags: &str) -> Tree {
            let text = format!("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu {flags} sse2\n\nprocessor\t: 1\nflags\t\t: fpu\n");
            fs::write(self.0.join("proc/cpuinfo"), text).unwrap();
            self
        }
        fn modules(self, names: &[&str]) -> Tree {
            for n in names {
                fs::create_dir_all(self.0.join("sys/module").join(n)).unwrap();
            }
            self
        }
        /// `/dev/kvm` as a regular file owned by root:gid 36 with `mode`, group 36 = "kvm".
        fn dev(self, mode: u32) -> Tree {
            let path = self.0.join("dev/kvm");
            fs::write(&path, "").unwrap();
            std::os::unix::fs::chown(&path, Some(0), Some(36)).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            fs::write(self.0.join("etc/group"), "root:x:0:\nkvm:x:36:alice\n").unwrap();
            self
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// An Intel host with both modules loaded and `/dev/kvm` in `mode`.
    fn intel(name: &str, mode: u32) -> Tree {
        Tree::new(name)
            .cpu("vmx")
            .modules(&["kvm", "kvm_intel"])
            .dev(mode)
    }

    const USER: fn() -> Access = || Access::Ids {
        uid: 1000,
        gids: vec![1000],
    };

    fn fix(report: &Report, item: Item) -> String {
        match report.outcome(item) {
            Outcome::Fail { fix, .. } => fix.clone(),
            Outcome::Pass { detail } => panic!("{item:?} passed: {detail}"),
        }
    }

    #[test]
    fn a_ready_intel_host_passes_everything() {
        let tree = intel("ready", 0o660);
        let report = check_as(
            &tree.0,
            &Access::Ids {
                uid: 1000,
                gids: vec![1000, 36],
            },
        );
        assert!(report.items.iter().all(|(_, o)| o.passed()), "{report:#?}");
        assert_eq!(report.acceleration, Acceleration::Kvm { nested: false });
        assert_eq!(
            report.summary(),
            "VMs will use KVM hardware virtualization."
        );
    }

    #[test]
    fn no_cpu_flag_says_to_enable_it_in_firmware_and_falls_back_to_emulation() {
        let tree = Tree::new("noflag").cpu("hypervisor").modules(&["kvm"]);
        let report = check_as(&tree.0, &USER());
        assert!(fix(&report, Item::CpuFlag).contains("firmware"));
        assert!(fix(&report, Item::Module).contains("modprobe kvm_intel"));
        assert!(fix(&report, Item::DevKvm).contains("modprobe"));
        assert_eq!(report.acceleration, Acceleration::Emulation);
        assert_eq!(report.summary(), "VMs will use QEMU emulation and be slow.");
    }

    #[test]
    fn missing_modules_name_the_vendor_module() {
        let tree = Tree::new("nomod").cpu("svm");
        let report = check_as(&tree.0, &USER());
        assert!(report.outcome(Item::CpuFlag).passed());
        assert!(fix(&report, Item::Module).contains("sudo modprobe kvm_amd"));
        assert_eq!(report.acceleration, Acceleration::Emulation);
    }

    #[test]
    fn no_permission_on_dev_kvm_says_which_group_to_join() {
        let tree = intel("noperm", 0o000);
        let report = check_as(&tree.0, &USER());
        assert!(report.outcome(Item::Module).passed());
        assert_eq!(
            fix(&report, Item::DevKvm),
            "Add yourself to the “kvm” group (“sudo usermod -aG kvm $USER”), then log out and back in."
        );
        assert_eq!(report.acceleration, Acceleration::Emulation);
        // Group read/write without membership is still no access; with it, access.
        let tree = intel("groupperm", 0o660);
        assert!(!check_as(&tree.0, &USER()).outcome(Item::DevKvm).passed());
        let member = Access::Ids {
            uid: 1000,
            gids: vec![36],
        };
        assert!(check_as(&tree.0, &member).outcome(Item::DevKvm).passed());
    }

    #[test]
    fn kvm_without_cpu_flag_in_a_guest_is_nested_kvm() {
        let tree = Tree::new("nested")
            .cpu("hypervisor")
            .modules(&["kvm", "kvm_pvm"])
            .dev(0o666);
        let report = check_as(&tree.0, &USER());
        assert!(report.items.iter().all(|(_, o)| o.passed()), "{report:#?}");
        assert_eq!(report.acceleration, Acceleration::Kvm { nested: true });
    }

    #[test]
    fn cpu_flags_come_from_the_first_processor() {
        let flags = cpu_flags("processor : 0\nflags : a vmx b\n\nflags : c\n");
        assert_eq!(flags, ["a", "vmx", "b"]);
        assert!(cpu_flags("").is_empty());
    }
}
