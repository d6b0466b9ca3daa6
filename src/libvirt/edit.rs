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
use crate::spec::edit::{self, DeviceChoices, DomainEdit, EditError, HostDevice, Limits, Touched};
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
    /// The CPU models and video cards the hypervisor offers for this machine (its domain
    /// capabilities).
    DeviceChoices {
        uuid: String,
        reply: Reply<DeviceChoices>,
    },
    /// The host's USB devices and PCI functions, to pass through.
    HostDevices { reply: Reply<Vec<HostDevice>> },
    /// The persistent XML as `virsh edit` shows it, secrets included so that applying it
    /// keeps them.
    ReadXml { uuid: String, reply: Reply<String> },
    /// Replace the persistent configuration with `xml`, validated by libvirt
    /// (`VIR_DOMAIN_DEFINE_VALIDATE`); refused XML changes nothing ([`define_xml`]).
    /// `base` is the XML the text was made from ([`EditRequest::ReadXml`]'s answer): when
    /// the configuration is no longer that, it changed elsewhere and is not overwritten.
    DefineXml {
        uuid: String,
        xml: String,
        base: String,
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
            Self::DeviceChoices { .. } => "Edit::DeviceChoices",
            Self::HostDevices { .. } => "Edit::HostDevices",
            Self::ReadXml { .. } => "Edit::ReadXml",
            Self::DefineXml { .. } => "Edit::DefineXml",
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
    // XML editor (xmledit).
    #[error("The virtual machine was changed elsewhere since its XML was read. Reload it and make the change again.")]
    ChangedElsewhere,
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
        EditRequest::DeviceChoices { uuid, reply } => {
            reply.answer(conn, |c| device_choices(c, &uuid))
        }
        EditRequest::HostDevices { reply } => reply.answer(conn, |c| Ok(host_devices(c)?)),
        EditRequest::ReadXml { uuid, reply } => reply.answer(conn, |c| {
            Ok(editable_xml(&c.lookup_domain_by_uuid_string(&uuid)?)?)
        }),
        EditRequest::DefineXml {
            uuid,
            xml,
            base,
            reply,
        } => reply.answer(conn, |c| define_xml(c, &uuid, &xml, &base)),
    }
}

fn read(conn: &Connect, uuid: &str) -> Result<DomainConfig, RequestError> {
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    // Secure: the page says whether the display has a password (never what it is).
    let xml = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_SECURE)?;
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
            } else if disks::unplug_only_requested(&dom, edit) {
                tracing::info!(?edit, "the guest has not let the disk go yet");
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
        (DomainEdit::DisplayPassword(password), _) => {
            // The running display as it runs (its port, its listen address), with the new
            // password: libvirt refuses an update that changes anything else. QEMU changes
            // or clears the password of a display that started with one.
            let xml = dom.xml_desc(sys::VIR_DOMAIN_XML_SECURE)?;
            let root = Element::parse(&xml).map_err(|_| NotLive::Never)?;
            let mut graphics = root
                .child("devices")
                .and_then(|d| d.elements().find(|e| e.name == "graphics"))
                .cloned()
                .ok_or(NotLive::Never)?;
            match (password, graphics.attr("passwd").is_some()) {
                // QEMU sets a password only on a display it started with one.
                (Some(_), false) => return Err(NotLive::Never),
                (None, false) => return Ok(()),
                (Some(password), true) => graphics.set_attr("passwd", password),
                (None, true) => graphics.remove_attr("passwd"),
            }
            dom.update_device_flags(&graphics.to_xml(), live)?;
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

/// The domain capabilities for the machine's own emulator, architecture, machine type and
/// domain type.
fn device_choices(conn: &Connect, uuid: &str) -> Result<DeviceChoices, RequestError> {
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    let xml = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?;
    let root = Element::parse(&xml).map_err(EditError::from)?;
    let os_type = root.child("os").and_then(|os| os.child("type"));
    let emulator = root
        .child("devices")
        .and_then(|d| d.child("emulator"))
        .map(Element::text);
    let caps = conn.domain_capabilities(
        emulator.as_deref(),
        os_type.and_then(|t| t.attr("arch")),
        os_type.and_then(|t| t.attr("machine")),
        root.attr("type"),
        0,
    )?;
    Ok(DeviceChoices::from_xml(&caps).map_err(EditError::from)?)
}

/// Every USB device and PCI function of the host, PCI first, each in address order.
fn host_devices(conn: &Connect) -> Result<Vec<HostDevice>, virt::error::Error> {
    let flags = sys::VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV
        | sys::VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV;
    let mut found: Vec<HostDevice> = conn
        .list_all_node_devices(flags)?
        .iter()
        // A device unplugged since the listing has no XML.
        .filter_map(|device| device.xml_desc(0).ok())
        .filter_map(|xml| HostDevice::from_nodedev_xml(&xml))
        .collect();
    found.sort_by_key(|d| (d.usb_port.is_some(), d.usb_port, d.source.address()));
    Ok(found)
}

/// Defines the whole domain XML `xml` typed for the machine `uuid`, after checking that its
/// configuration still is `base`, and that `xml` is well-formed and keeps the machine's
/// UUID; libvirt validates the rest against its schema and refuses it without changing
/// anything.
fn define_xml(conn: &Connect, uuid: &str, xml: &str, base: &str) -> Result<(), RequestError> {
    // The machine must still exist: defining it anew would bring it back.
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    if editable_xml(&dom)? != base {
        return Err(EditFailure::ChangedElsewhere.into());
    }
    edit::overview::check_domain_xml(xml, uuid)?;
    conn.define_domain_xml_flags(xml, sys::VIR_DOMAIN_DEFINE_VALIDATE)?;
    Ok(())
}

/// The persistent XML as `virsh edit` shows it: secrets included, so that defining it again
/// keeps them.
fn editable_xml(dom: &Domain) -> Result<String, virt::error::Error> {
    dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_SECURE)
}

/// The line of the XML an error names: a malformed XML's, or the one libvirt's parser
/// reports ("at line 6: Opening and ending tag mismatch …").
pub fn error_line(error: &RequestError) -> Option<u32> {
    match error {
        RequestError::Edit(EditFailure::Invalid(EditError::XmlMalformed { line, .. })) => {
            Some(*line)
        }
        RequestError::Libvirt(message) => {
            // Made readable, the message may start with "At line".
            let message = message.to_ascii_lowercase();
            let at = message.find("at line ")? + "at line ".len();
            let digits: String = message[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_named_by_errors() {
        let libvirt = RequestError::Libvirt(
            "At line 6: Opening and ending tag mismatch: devices line 5 and device.".into(),
        );
        assert_eq!(error_line(&libvirt), Some(6));
        let malformed = RequestError::from(EditError::XmlMalformed {
            message: "unexpected end".into(),
            line: 3,
        });
        assert_eq!(error_line(&malformed), Some(3));
        let schema = RequestError::Libvirt(
            "XML document failed to validate against schema: Extra element memory".into(),
        );
        assert_eq!(error_line(&schema), None);
    }
}
