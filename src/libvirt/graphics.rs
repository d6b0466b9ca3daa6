//! The VNC password of a domain's display, which libvirt shows only in the secure XML
//! (`VIR_DOMAIN_XML_SECURE`, refused to read-only connections). Never logged.

use roxmltree::Document;
use virt::connect::Connect;
use virt::sys::VIR_DOMAIN_XML_SECURE;

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

/// Reads the VNC password of the domain `uuid` on `uri`; blocks on libvirt. `Ok(None)`
/// when the display has no password.
pub fn read_vnc_password(uri: &str, uuid: &str) -> Result<Option<String>, virt::error::Error> {
    let conn = Connect::open(Some(uri))?;
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let xml = domain.xml_desc(VIR_DOMAIN_XML_SECURE)?;
    Ok(vnc_password(&xml))
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
