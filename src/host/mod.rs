//! GUI-free: facts about the host this program runs on.

pub mod libvirtd;
