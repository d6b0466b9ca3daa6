//! The words for what `crate::host` finds, translated. The host modules say things in
//! English; the fixed sentences are translated here, by what they stand for.

use crate::host::daemon::{Diagnosis, Status};
use crate::host::kvm::{Acceleration, Item};
use crate::i18n::gettext;

/// What is wrong with the libvirt daemon, in one sentence.
pub fn daemon_problem(status: &Status) -> String {
    match status {
        Status::NotInstalled => gettext("The libvirt daemon is not installed."),
        Status::NotRunning => gettext("The libvirt daemon is installed but not running."),
        Status::Refused => gettext("The libvirt daemon is running but does not let you in."),
        Status::Ok { .. } => gettext("The libvirt daemon is running."),
    }
}

/// The fix of a diagnosis: its commands, one per line (without `sudo` for root), then
/// the note.
pub fn daemon_fix(diagnosis: &Diagnosis) -> String {
    let root = nix::unistd::geteuid().is_root();
    let mut lines: Vec<String> = diagnosis.fix_for(root).into_iter().map(known).collect();
    if let Some(note) = &diagnosis.note {
        lines.push(known(note));
    }
    lines.join("\n")
}

/// The sentences among the fix lines (the rest are commands, which stay as they are).
fn known(line: &str) -> String {
    match line {
        "Install libvirt's daemon and QEMU with your package manager" => {
            gettext("Install libvirt's daemon and QEMU with your package manager")
        }
        "Then log out and back in so that the new group applies." => {
            gettext("Then log out and back in so that the new group applies.")
        }
        other => other.to_owned(),
    }
}

/// The name of an item of the virtualization check.
pub fn kvm_item(item: Item) -> String {
    match item {
        Item::CpuFlag => gettext("Hardware virtualization in the processor"),
        Item::Module => gettext("KVM kernel modules"),
        Item::DevKvm => gettext("Access to /dev/kvm"),
    }
}

/// How virtual machines will run, in one sentence.
pub fn acceleration(acceleration: Acceleration) -> String {
    match acceleration {
        Acceleration::Kvm { nested: false } => gettext("VMs will use KVM hardware virtualization."),
        Acceleration::Kvm { nested: true } => gettext(
            "VMs will use KVM; this host is itself a virtual machine, so they run nested and may be slower.",
        ),
        Acceleration::Emulation => gettext(
            "Without KVM, VMs are created with QEMU emulation and will be slow.",
        ),
    }
}
