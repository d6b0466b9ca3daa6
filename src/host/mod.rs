//! GUI-free: facts about the host this program runs on, and the setup steps of a new
//! virtualization host (KVM check, libvirt daemon, bridges).

pub mod daemon;
pub mod kvm;
pub mod libvirtd;
pub mod net;
