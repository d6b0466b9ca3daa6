//! A domain's display: a socket to it from libvirt, for a console on this computer, and
//! the VNC password, which libvirt shows only in the secure XML (`VIR_DOMAIN_XML_SECURE`,
//! refused to read-only connections). The password is never logged.

use std::os::fd::OwnedFd;

use roxmltree::Document;
use virt::connect::Connect;
use virt::sys::VIR_DOMAIN_XML_SECURE;

use super::events::open_graphics_fd;

/// The `passwd` of the first `<graphics type='vnc'>` in a domain XML, if it has one.
pub fn vnc_password(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).ok()?;
    let devices = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("devices"))?;
    devices
        .children()
        .find(|n| n.has_tag_name("graphics") && n.attribute("type") == Some("vnc"))
        .and_then(|g| g.attribute("passwd"))
        .map(str::to_owned)
}

/// Reads the VNC password of the domain `uuid` on `conn`; blocks on libvirt. `Ok(None)`
/// when the display has no password.
pub fn read_vnc_password(conn: &Connect, uuid: &str) -> Result<Option<String>, virt::error::Error> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let xml = domain.xml_desc(VIR_DOMAIN_XML_SECURE)?;
    Ok(vnc_password(&xml))
}

/// A socket connected to the first graphics device (the VNC server) of the running domain
/// `uuid` on `conn`, past its password: the local user may already manage the domain.
pub fn open_socket(conn: &Connect, uuid: &str) -> Result<OwnedFd, virt::error::Error> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    open_graphics_fd(&domain, 0, true)
}

#[cfg(test)]
mod tests {
    use super::vnc_password;

    #[test]
    fn finds_the_vnc_password_only() {
        let xml = "<domain><devices>\
            <graphics type='spice' passwd='other'/>\
            <graphics type='vnc' port='5900' passwd='s3cret'><listen type='address'/></graphics>\
            </devices></domain>";
        assert_eq!(vnc_password(xml).as_deref(), Some("s3cret"));
        let none = "<domain><devices><graphics type='vnc' port='-1'/></devices></domain>";
        assert_eq!(vnc_password(none), None);
        assert_eq!(vnc_password("<domain>"), None);
    }
}
