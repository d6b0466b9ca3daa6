//! GUI-free: facts about the host this program runs on, and the setup steps of a new
//! virtualization host (KVM check, libvirt daemon, bridges).

pub mod daemon;
pub mod kvm;
pub mod libvirtd;
pub mod net;

/// The processor's marketing name from `/proc/cpuinfo`.
pub fn processor_name() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}
