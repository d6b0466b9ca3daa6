//! GUI-free: everything that talks to libvirt.
