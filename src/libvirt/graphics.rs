//! A domain's display: its serial console ([`super::text_console`]), which of its graphics devices the console uses (the VNC one, also
//! when a SPICE display comes first), a socket to it from libvirt for a console on this
//! computer, where it listens on its own host for a console elsewhere, and the VNC
//! password, which libvirt shows only in the secure XML (`VIR_DOMAIN_XML_SECURE`, refused
//! to read-only connections). The password is never logged.

use std::os::fd::OwnedFd;

use roxmltree::{Document, Node};
use virt::connect::Connect;
use virt::sys::VIR_DOMAIN_XML_SECURE;

use super::events::open_graphics_fd;
use super::requests::{Reply, RequestError};
use super::text_console;

/// Why a domain's display cannot be reached. Each message is a sentence; the UI words
/// them in the user's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayError {
    /// Its graphics devices are all SPICE, which the console does not speak.
    #[error("The display of this machine is SPICE, which this console cannot show.")]
    SpiceOnly,
    /// No graphics device at all (a headless machine).
    #[error("This machine has no graphical display.")]
    NoDisplay,
    /// Its VNC display takes no connections from outside libvirt
    /// (`<listen type='none'/>`), or has no port yet.
    #[error("The display of this machine cannot be reached from another computer.")]
    NotListening,
}

/// Where a running domain's VNC server listens, as its own host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address on the domain's host: `host` as libvirt reports it (`0.0.0.0`, `::`,
    /// `127.0.0.1`, a name or an address of that host).
    Address { host: String, port: u16 },
    /// A UNIX socket on the domain's host.
    Socket(String),
}

/// The display questions a worker answers ([`super::Request::Display`]).
#[derive(Debug)]
pub enum DisplayRequest {
    /// Where the running domain's VNC server listens on its host (live XML).
    Listen { uuid: String, reply: Reply<Listen> },
    /// The running domain's serial console as a stream on this connection.
    TextConsole {
        uuid: String,
        reply: Reply<text_console::TextConsole>,
    },
}

impl DisplayRequest {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Listen { .. } => "Display::Listen",
            Self::TextConsole { .. } => "Display::TextConsole",
        }
    }
}

/// Answers `request` on the worker's connection. Blocks.
pub(super) fn serve(conn: Option<&Connect>, request: DisplayRequest) {
    match request {
        DisplayRequest::Listen { uuid, reply } => reply.answer(conn, |c| {
            let domain = c.lookup_domain_by_uuid_string(&uuid)?;
            Ok(vnc_listen(&domain.xml_desc(0)?)?)
        }),
        DisplayRequest::TextConsole { uuid, reply } => {
            reply.answer(conn, |c| text_console::open(c, &uuid));
        }
    }
}

/// The `<graphics>` elements of a domain XML, in order.
fn graphics_devices<'a, 'i>(doc: &'a Document<'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name("devices"))
        .flat_map(|d| d.children())
        .filter(|n| n.has_tag_name("graphics"))
}

/// The position of the first VNC display among the domain's graphics devices (what
/// `virDomainOpenGraphicsFD` counts), or why it has none.
pub fn vnc_index(xml: &str) -> Result<u32, DisplayError> {
    let doc = Document::parse(xml).map_err(|_| DisplayError::NoDisplay)?;
    vnc_position(graphics_devices(&doc).map(|g| g.attribute("type").unwrap_or_default()))
}

/// The position of the first VNC display among graphics devices of these types (`vnc`,
/// `spice`, …), or why there is none: the one place that decides "SPICE only", for the
/// console connection and for the page that explains it.
pub fn vnc_position<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Result<u32, DisplayError> {
    let kinds: Vec<_> = kinds.into_iter().collect();
    match kinds.iter().position(|k| *k == "vnc") {
        Some(i) => Ok(u32::try_from(i).map_err(|_| DisplayError::NoDisplay)?),
        None if kinds.contains(&"spice") => Err(DisplayError::SpiceOnly),
        None => Err(DisplayError::NoDisplay),
    }
}

/// Where the first VNC display of a running domain's live XML listens.
pub fn vnc_listen(xml: &str) -> Result<Listen, DisplayError> {
    let index = vnc_index(xml)?;
    let doc = Document::parse(xml).map_err(|_| DisplayError::NoDisplay)?;
    let vnc = graphics_devices(&doc)
        .nth(index as usize)
        .ok_or(DisplayError::NoDisplay)?;
    let listen = vnc.children().find(|n| n.has_tag_name("listen"));
    let socket = listen
        .filter(|l| l.attribute("type") == Some("socket"))
        .and_then(|l| l.attribute("socket"))
        .or_else(|| vnc.attribute("socket"));
    if let Some(path) = socket {
        return Ok(Listen::Socket(path.to_owned()));
    }
    if listen.is_some_and(|l| l.attribute("type") == Some("none")) {
        return Err(DisplayError::NotListening);
    }
    let port = vnc
        .attribute("port")
        .and_then(|p| p.parse::<i32>().ok())
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or(DisplayError::NotListening)?;
    let host = listen
        .and_then(|l| l.attribute("address"))
        .or_else(|| vnc.attribute("listen"))
        .filter(|h| !h.is_empty())
        // QEMU's own default when libvirt names no address (qemu.conf vnc_listen).
        .unwrap_or("127.0.0.1");
    Ok(Listen::Address {
        host: host.to_owned(),
        port,
    })
}

/// The `passwd` of the first `<graphics type='vnc'>` in a domain XML, if it has one.
pub fn vnc_password(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).ok()?;
    let password = graphics_devices(&doc)
        .find(|g| g.attribute("type") == Some("vnc"))
        .and_then(|g| g.attribute("passwd"))
        .map(str::to_owned);
    password
}

/// Reads the VNC password of the domain `uuid` on `conn`; blocks on libvirt. `Ok(None)`
/// when the display has no password.
pub fn read_vnc_password(conn: &Connect, uuid: &str) -> Result<Option<String>, virt::error::Error> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let xml = domain.xml_desc(VIR_DOMAIN_XML_SECURE)?;
    Ok(vnc_password(&xml))
}

/// A socket connected to the VNC display of the running domain `uuid` on `conn`, past its
/// password: the local user may already manage the domain.
pub fn open_socket(conn: &Connect, uuid: &str) -> Result<OwnedFd, RequestError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let index = vnc_index(&domain.xml_desc(0)?)?;
    Ok(open_graphics_fd(&domain, index, true)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(devices: &str) -> String {
        format!("<domain><devices>{devices}</devices></domain>")
    }

    #[test]
    fn finds_the_vnc_password_only() {
        let xml = domain(
            "<graphics type='spice' passwd='other'/>\
             <graphics type='vnc' port='5900' passwd='s3cret'><listen type='address'/></graphics>",
        );
        assert_eq!(vnc_password(&xml).as_deref(), Some("s3cret"));
        let none = domain("<graphics type='vnc' port='-1'/>");
        assert_eq!(vnc_password(&none), None);
        assert_eq!(vnc_password("<domain>"), None);
    }

    #[test]
    fn the_vnc_display_is_picked_among_several() {
        let both = domain("<graphics type='spice' port='5901'/><graphics type='vnc' port='5900'/>");
        assert_eq!(vnc_index(&both), Ok(1));
        assert_eq!(
            vnc_listen(&both),
            Ok(Listen::Address {
                host: "127.0.0.1".into(),
                port: 5900
            })
        );
        let first = domain("<graphics type='vnc' port='5900'/><graphics type='spice'/>");
        assert_eq!(vnc_index(&first), Ok(0));
    }

    #[test]
    fn spice_only_and_headless_are_told_apart() {
        let spice = domain("<graphics type='spice' autoport='yes'/>");
        assert_eq!(vnc_index(&spice), Err(DisplayError::SpiceOnly));
        assert_eq!(vnc_listen(&spice), Err(DisplayError::SpiceOnly));
        assert_eq!(vnc_index(&domain("")), Err(DisplayError::NoDisplay));
        assert_eq!(
            vnc_index(&domain("<graphics type='sdl'/>")),
            Err(DisplayError::NoDisplay)
        );
        assert!(DisplayError::SpiceOnly.to_string().contains("SPICE"));
    }

    #[test]
    fn listen_addresses_sockets_and_none() {
        let any = domain(
            "<graphics type='vnc' port='5905' listen='0.0.0.0'>\
             <listen type='address' address='0.0.0.0'/></graphics>",
        );
        assert_eq!(
            vnc_listen(&any),
            Ok(Listen::Address {
                host: "0.0.0.0".into(),
                port: 5905
            })
        );
        let socket = domain(
            "<graphics type='vnc' socket='/run/vnc.sock'>\
             <listen type='socket' socket='/run/vnc.sock'/></graphics>",
        );
        assert_eq!(
            vnc_listen(&socket),
            Ok(Listen::Socket("/run/vnc.sock".into()))
        );
        let none = domain("<graphics type='vnc'><listen type='none'/></graphics>");
        assert_eq!(vnc_listen(&none), Err(DisplayError::NotListening));
        let no_port = domain("<graphics type='vnc' port='-1' autoport='yes'/>");
        assert_eq!(vnc_listen(&no_port), Err(DisplayError::NotListening));
    }
}
