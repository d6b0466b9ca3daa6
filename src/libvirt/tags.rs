//! A machine's tags, kept in its own domain XML under Virtdeck's metadata namespace, so
//! they travel with the machine (a migration, a copy of its XML) and every Virtdeck that
//! connects to its host sees them:
//!
//! ```xml
//! <metadata>
//!   <virtdeck-tags:tags xmlns:virtdeck-tags="https://github.com/virtdeck/virtdeck/xmlns/tags/1.0">
//!     <tag>web</tag><tag>production</tag>
//!   </virtdeck-tags:tags>
//! </metadata>
//! ```
//!
//! [`HostsRequest`] is what the UI asks the worker about them.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event as XmlEvent};
use quick_xml::Writer;
use virt::connect::Connect;
use virt_sys as sys;

use super::requests::{Reply, RequestError};

/// The namespace of the tags element.
pub const NAMESPACE: &str = "https://github.com/virtdeck/virtdeck/xmlns/tags/1.0";
/// The prefix libvirt writes for [`NAMESPACE`].
const PREFIX: &str = "virtdeck-tags";

/// Questions about the machines of a host, answered by the worker on its connection.
#[derive(Debug)]
pub enum HostsRequest {
    /// The tags of the domain `uuid`, as its persistent configuration (a transient one: its
    /// live XML) has them, sorted.
    Tags {
        uuid: String,
        reply: Reply<Vec<String>>,
    },
    /// Replaces the tags of `uuid` (in its configuration, and in the running machine's
    /// live XML when it runs); answers with the tags as stored: trimmed, without empty
    /// ones or repeats, sorted.
    SetTags {
        uuid: String,
        tags: Vec<String>,
        reply: Reply<Vec<String>>,
    },
}

impl HostsRequest {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Tags { .. } => "Tags",
            Self::SetTags { .. } => "SetTags",
        }
    }
}

/// Answers `request` on `conn`. Blocks.
pub(super) fn serve(conn: Option<&Connect>, request: HostsRequest) {
    match request {
        HostsRequest::Tags { uuid, reply } => reply.answer(conn, |c| Ok(read(c, &uuid)?)),
        HostsRequest::SetTags { uuid, tags, reply } => {
            reply.answer(conn, |c| write(c, &uuid, &tags))
        }
    }
}

/// The tags in the persistent configuration of `uuid`.
pub fn read(conn: &Connect, uuid: &str) -> Result<Vec<String>, virt::error::Error> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let xml = domain.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?;
    Ok(parse(&xml))
}

fn write(conn: &Connect, uuid: &str, tags: &[String]) -> Result<Vec<String>, RequestError> {
    let tags = normalise(tags);
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    // A transient machine has no configuration, only its live XML.
    let mut flags = 0;
    if domain.is_persistent()? {
        flags |= sys::VIR_DOMAIN_AFFECT_CONFIG;
    }
    if domain.is_active()? {
        flags |= sys::VIR_DOMAIN_AFFECT_LIVE;
    }
    let element = (!tags.is_empty()).then(|| element(&tags));
    domain.set_metadata(
        sys::VIR_DOMAIN_METADATA_ELEMENT as i32,
        element.as_deref(),
        element.as_ref().map(|_| PREFIX),
        Some(NAMESPACE),
        flags,
    )?;
    Ok(tags)
}

/// Trimmed, without empty ones or repeats, sorted.
pub fn normalise(tags: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort_by(|a, b| (a.to_lowercase(), a).cmp(&(b.to_lowercase(), b)));
    tags.dedup();
    tags
}

/// The tags element of domain XML `xml`; none when it has no tags.
pub fn parse(xml: &str) -> Vec<String> {
    roxmltree::Document::parse(xml)
        .map(|doc| from_metadata(doc.root_element()))
        .unwrap_or_default()
}

/// The tags below `node` (a domain's `<metadata>`, or the whole domain).
pub fn from_metadata(node: roxmltree::Node) -> Vec<String> {
    let Some(tags) = node
        .descendants()
        .find(|n| n.has_tag_name((NAMESPACE, "tags")))
    else {
        return Vec::new();
    };
    let found: Vec<String> = tags
        .children()
        .filter(|n| n.has_tag_name((NAMESPACE, "tag")))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    normalise(&found)
}

/// `<tags><tag>…</tag>…</tags>` (libvirt puts it into the namespace).
fn element(tags: &[String]) -> String {
    let mut w = Writer::new(Vec::new());
    let write = |w: &mut Writer<Vec<u8>>| -> std::io::Result<()> {
        w.write_event(XmlEvent::Start(BytesStart::new("tags")))?;
        for tag in tags {
            w.write_event(XmlEvent::Start(BytesStart::new("tag")))?;
            w.write_event(XmlEvent::Text(BytesText::new(tag)))?;
            w.write_event(XmlEvent::End(BytesEnd::new("tag")))?;
        }
        w.write_event(XmlEvent::End(BytesEnd::new("tags")))
    };
    // Writing into memory cannot fail.
    let _ = write(&mut w);
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

/// The tags in a machine's tags as the list shows them ("db, web").
pub fn split_shown(shown: &str) -> impl Iterator<Item = &str> {
    shown.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// The tags in use among machines whose tags read `shown` ("db, web"), each once, sorted
/// as [`normalise`] sorts: what the list offers to filter by.
pub fn in_use<'a>(shown: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let all: Vec<String> = shown
        .into_iter()
        .flat_map(split_shown)
        .map(str::to_owned)
        .collect();
    normalise(&all)
}

/// Whether tags shown as `shown` include `tag`.
pub fn has(shown: &str, tag: &str) -> bool {
    split_shown(shown).any(|t| t == tag)
}

/// The order of machines grouped by tag: by their first tag (case aside), the untagged
/// last.
pub fn group_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |shown: &str| {
        split_shown(shown)
            .next()
            .map(|t| (t.to_lowercase(), t.to_owned()))
    };
    match (key(a), key(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_in_use_are_offered_once_and_found() {
        assert_eq!(in_use(["db, web", "", "Web", "db"]), ["db", "Web", "web"]);
        assert!(in_use(["", " "]).is_empty());
        assert!(has("db, web", "web"));
        assert!(!has("db, webserver", "web"));
        assert!(!has("", "web"));
    }

    #[test]
    fn groups_follow_the_first_tag_and_the_untagged_come_last() {
        use std::cmp::Ordering::*;
        assert_eq!(group_order("db, web", "web"), Less);
        assert_eq!(group_order("Web", "db"), Greater);
        assert_eq!(group_order("db", "db, x"), Equal);
        assert_eq!(group_order("", "zz"), Greater);
        assert_eq!(group_order("", ""), Equal);
    }

    #[test]
    fn tags_are_written_escaped_and_read_back() {
        let tags = normalise(&[
            " web ".into(),
            "a<b&c".into(),
            "".into(),
            "Web".into(),
            "web".into(),
        ]);
        assert_eq!(tags, ["a<b&c", "Web", "web"]);
        let inner = element(&tags);
        assert_eq!(
            inner,
            "<tags><tag>a&lt;b&amp;c</tag><tag>Web</tag><tag>web</tag></tags>"
        );
        let xml = format!(
            "<domain><metadata><virtdeck-tags:tags xmlns:virtdeck-tags='{NAMESPACE}'>\
             <virtdeck-tags:tag>web</virtdeck-tags:tag>\
             <virtdeck-tags:tag>a&lt;b&amp;c</virtdeck-tags:tag>\
             </virtdeck-tags:tags></metadata></domain>"
        );
        assert_eq!(parse(&xml), ["a<b&c", "web"]);
        assert!(parse("<domain><metadata/></domain>").is_empty());
    }
}
