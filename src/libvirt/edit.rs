//! Changing an existing machine on the worker's connection: [`EditRequest`]s.
//!
//! [`DomainEdit`]s are applied to the domain's current persistent XML as a tree
//! ([`crate::spec::edit`]) and the result is defined (validated by libvirt) first, so a
//! refused edit changes nothing. Then, when the machine runs, each edit is made live where
//! libvirt accepts it (`UpdateDeviceFlags` for a CD-ROM or a NIC's link,
//! `Attach`/`DetachDeviceFlags` for NICs and input devices, `SetVcpusFlags`,
//! `SetMemoryFlags`, the title and description); the answer lists the edits that wait for
//! the next shutdown.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use virt::connect::Connect;
use virt::domain::Domain;
use virt_sys as sys;

use super::requests::{Reply, RequestError};

mod disks;
use crate::spec::edit::tree::Element;
use crate::spec::edit::{self, DomainEdit, EditError, Limits, Touched};
use crate::spec::validate::name_problems;

/// What the hardware page asks of a connection.
#[derive(Debug)]
pub enum EditRequest {
    /// The machine as it is now: its persistent XML, whether it runs, its autostart, and a
    /// free MAC address for a new NIC.
    Read {
        uuid: String,
        reply: Reply<DomainConfig>,
    },
    /// Apply `edits` in order, all or none (see the module).
    Apply {
        uuid: String,
        edits: Vec<DomainEdit>,
        reply: Reply<Applied>,
    },
    /// Start the machine when the host boots, or not.
    SetAutostart {
        uuid: String,
        autostart: bool,
        reply: Reply<()>,
    },
    /// A new name; only while the machine is shut off.
    Rename {
        uuid: String,
        name: String,
        reply: Reply<()>,
    },
}

impl EditRequest {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Read { .. } => "Edit::Read",
            Self::Apply { .. } => "Edit::Apply",
            Self::SetAutostart { .. } => "Edit::SetAutostart",
            Self::Rename { .. } => "Edit::Rename",
        }
    }
}

/// [`EditRequest::Read`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainConfig {
    /// `virsh dumpxml --inactive`.
    pub xml: String,
    pub active: bool,
    pub autostart: bool,
    /// Not used by any NIC on the connection.
    pub free_mac: String,
    /// The MAC addresses of every NIC on the connection, lower case.
    pub macs_in_use: Vec<String>,
}

/// [`EditRequest::Apply`]'s answer: the edits that take effect after the next shutdown
/// (all of them when the machine is shut off: none is pending then, so the list is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub next_shutdown: Vec<DomainEdit>,
}

/// Why an edit was refused. Each message is a sentence.
#[derive(Debug, thiserror::Error)]
pub enum EditFailure {
    #[error(transparent)]
    Invalid(#[from] EditError),
    #[error("A virtual machine called “{0}” already exists on this connection.")]
    NameTaken(String),
    #[error("{0}")]
    BadName(String),
    #[error("A virtual machine can only be renamed while it is shut off.")]
    RenameRunning,
    #[error("The file “{0}” does not exist.")]
    FileMissing(String),
    // ----- disks -----
    #[error("“{0}” is not a volume of a storage pool, so it cannot be deleted here.")]
    NotAVolume(String),
    #[error("The disk was removed, but its volume could not be deleted: {0}")]
    VolumeKept(String),
}

/// Answers `request` on `conn`. Blocks.
pub fn serve(conn: Option<&Connect>, local: bool, request: EditRequest) {
    match request {
        EditRequest::Read { uuid, reply } => reply.answer(conn, |c| read(c, &uuid)),
        EditRequest::Apply { uuid, edits, reply } => {
            reply.answer(conn, |c| apply(c, &uuid, &edits, local))
        }
        EditRequest::SetAutostart {
            uuid,
            autostart,
            reply,
        } => reply.answer(conn, |c| {
            Ok(c.lookup_domain_by_uuid_string(&uuid)?
                .set_autostart(autostart)?)
        }),
        EditRequest::Rename { uuid, name, reply } => {
            reply.answer(conn, |c| rename(c, &uuid, &name))
        }
    }
}

fn read(conn: &Connect, uuid: &str) -> Result<DomainConfig, RequestError> {
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    let xml = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?;
    let in_use = macs_in_use(conn)?;
    Ok(DomainConfig {
        xml,
        active: dom.is_active()?,
        autostart: dom.autostart()?,
        free_mac: edit::new_mac(random, &in_use),
        macs_in_use: in_use,
    })
}

fn random() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    hasher.finish()
}

/// The MAC addresses of every NIC of every machine, running or persistent.
fn macs_in_use(conn: &Connect) -> Result<Vec<String>, virt::error::Error> {
    let mut macs = Vec::new();
    for dom in conn.list_all_domains(0)? {
        let xml = match dom.xml_desc(0) {
            Ok(xml) => xml,
            // Gone since the listing.
            Err(_) => continue,
        };
        macs.extend(edit::macs(&xml));
        if dom.is_active().unwrap_or(false) && dom.is_persistent().unwrap_or(false) {
            if let Ok(inactive) = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE) {
                macs.extend(edit::macs(&inactive));
            }
        }
    }
    Ok(macs)
}

fn apply(
    conn: &Connect,
    uuid: &str,
    edits: &[DomainEdit],
    local: bool,
) -> Result<Applied, RequestError> {
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    // Secure: a VNC password in the configuration is written back as it was.
    let xml = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_SECURE)?;
    let mut root = Element::parse(&xml).map_err(EditError::from)?;
    let needs_macs = edits.iter().any(|e| {
        matches!(
            e,
            DomainEdit::AddNic { .. } | DomainEdit::NicSettings { .. }
        )
    });
    let limits = Limits {
        host_memory_mib: conn.node_info().ok().map(|n| n.memory / 1024),
        macs_in_use: if needs_macs {
            macs_in_use(conn)?
        } else {
            Vec::new()
        },
    };
    let mut touched = Vec::with_capacity(edits.len());
    let edits = edits
        .iter()
        .map(|edit| disks::resolve(edit, local))
        .collect::<Result<Vec<_>, _>>()?;
    let edits = edits.as_slice();
    for edit in edits {
        if let DomainEdit::InsertMedia { path, .. } = edit {
            // Only a file on this computer can be checked; libvirt checks the rest when
            // the machine runs.
            if local && !std::path::Path::new(path).is_file() {
                return Err(EditFailure::FileMissing(path.clone()).into());
            }
        }
        touched.push(edit::apply(&mut root, edit, &limits)?);
    }
    let doomed = disks::volumes_to_delete(conn, edits, &touched)?;
    let made = disks::make_volumes(conn, edits)?;
    let active = dom.is_active()?;
    if dom.is_persistent()? {
        if let Err(error) =
            conn.define_domain_xml_flags(&root.to_xml(), sys::VIR_DOMAIN_DEFINE_VALIDATE)
        {
            disks::unmake_volumes(made);
            return Err(error.into());
        }
    }
    let mut applied = Applied::default();
    if active {
        for (edit, touched) in edits.iter().zip(&touched) {
            if let Err(reason) = apply_live(&dom, edit, touched) {
                tracing::info!(?edit, %reason, "not changed on the running machine");
                applied.next_shutdown.push(edit.clone());
            }
        }
    }
    disks::delete_volumes(doomed, &applied.next_shutdown)?;
    Ok(applied)
}

/// Why an edit waits for the next shutdown.
#[derive(Debug, thiserror::Error)]
enum NotLive {
    #[error("libvirt cannot change this on a running machine")]
    Never,
    #[error(transparent)]
    Refused(#[from] virt::error::Error),
}

fn apply_live(dom: &Domain, edit: &DomainEdit, touched: &Touched) -> Result<(), NotLive> {
    let live = sys::VIR_DOMAIN_AFFECT_LIVE;
    match (edit, touched) {
        (
            DomainEdit::Memory {
                current_mib,
                max_mib,
            },
            _,
        ) => {
            if dom.max_memory()? != max_mib * 1024 {
                return Err(NotLive::Never);
            }
            dom.set_memory_flags(current_mib * 1024, sys::VIR_DOMAIN_MEM_LIVE)?;
        }
        (DomainEdit::Vcpus { current, max }, _) => {
            if dom.max_vcpus()? != u64::from(*max) {
                return Err(NotLive::Never);
            }
            dom.set_vcpus_flags(*current, sys::VIR_DOMAIN_VCPU_LIVE)?;
        }
        (DomainEdit::Title(text), _) => set_metadata(dom, sys::VIR_DOMAIN_METADATA_TITLE, text)?,
        (DomainEdit::Description(text), _) => {
            set_metadata(dom, sys::VIR_DOMAIN_METADATA_DESCRIPTION, text)?
        }
        (_, Touched::Added(device)) => dom.attach_device_flags(&device.to_xml(), live)?,
        (_, Touched::Updated(device)) => dom.update_device_flags(&device.to_xml(), live)?,
        (_, Touched::Removed(device)) => {
            // The running machine may have put it at another guest address than the
            // configuration: it is found by its MAC address or target alone.
            let mut device = device.clone();
            device.remove_children(|e| e.name == "address");
            dom.detach_device_flags(&device.to_xml(), live)?
        }
        (_, Touched::AddedAll(devices)) => {
            for device in devices {
                dom.attach_device_flags(&device.to_xml(), live)?;
            }
        }
        (_, Touched::Values) => return Err(NotLive::Never),
    }
    Ok(())
}

fn set_metadata(dom: &Domain, kind: u32, text: &str) -> Result<(), virt::error::Error> {
    let text = (!text.is_empty()).then_some(text);
    dom.set_metadata(kind as i32, text, None, None, sys::VIR_DOMAIN_AFFECT_LIVE)
}

fn rename(conn: &Connect, uuid: &str, name: &str) -> Result<(), RequestError> {
    if let Some(problem) = name_problems(name).into_iter().next() {
        return Err(EditFailure::BadName(problem.to_string()).into());
    }
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    if dom.name()? == name {
        return Ok(());
    }
    if conn.lookup_domain_by_name(name).is_ok() {
        return Err(EditFailure::NameTaken(name.to_owned()).into());
    }
    if dom.is_active()? {
        return Err(EditFailure::RenameRunning.into());
    }
    dom.rename(name, 0)?;
    Ok(())
}
