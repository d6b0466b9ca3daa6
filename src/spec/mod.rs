//! GUI-free: what a new virtual machine should be, and making it.
//!
//! - [`vm_spec`]: [`VmSpec`], the plain data the new-VM wizard fills in.
//! - [`validate`]: [`VmSpec::validate`] against [`HostFacts`], every problem in words.
//! - [`domain_xml`]: [`VmSpec`] → libvirt domain XML through serde and quick-xml.
//! - [`osinfo`]: the osinfo-db: OS detection from an ISO ([`iso`] reads its ids), the OS
//!   list, recommendations.
//! - [`facts`]: [`HostFacts`] read from a libvirt connection and the host; [`bridges`]
//!   tells a remote host's bridges from libvirt's interface and node device XML.
//! - [`create`]: defining (and starting) the machine, leaving nothing half-made.
//! - [`install`]: the install phase: the mark in the domain's metadata and the final
//!   configuration once the installer's first run has ended.
//! - [`edit`]: typed edits of an existing machine's XML, on a parsed tree.

pub mod bridges;
pub mod create;
pub mod domain_xml;
pub mod edit;
pub mod facts;
pub mod install;
pub mod iso;
pub mod osinfo;
pub mod validate;
pub mod vm_spec;

pub use validate::{is_iso_name, HostFacts, PoolVolume, SpecField, SpecProblem, SpecWarning};
pub use vm_spec::{
    DeviceModels, DiskBus, DiskFormat, DomainType, Firmware, InstallMethod, Network, NicModel,
    OsChoice, Storage, VideoModel, VmSpec,
};
