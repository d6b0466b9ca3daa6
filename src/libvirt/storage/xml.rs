//! Pool and volume XML: written from structs that mirror libvirt's elements (quick-xml
//! escapes every name and path), read with roxmltree.

use quick_xml::se::Serializer;
use serde::Serialize;

use super::{PoolSource, PoolSpec};

#[derive(Debug, thiserror::Error)]
#[error("Could not write the storage description: {0}")]
pub struct XmlError(#[from] quick_xml::SeError);

#[derive(Serialize)]
#[serde(rename = "pool")]
struct Pool<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source<'a>>,
    target: Target<'a>,
}

#[derive(Serialize, Default)]
struct Source<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<Named<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<PathAttr<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<PathAttr<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<Format>,
}

#[derive(Serialize)]
struct Named<'a> {
    #[serde(rename = "@name")]
    name: &'a str,
}

#[derive(Serialize)]
struct PathAttr<'a> {
    #[serde(rename = "@path")]
    path: &'a str,
}

#[derive(Serialize)]
struct Format {
    #[serde(rename = "@type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Target<'a> {
    path: &'a str,
}

#[derive(Serialize)]
#[serde(rename = "volume")]
struct Volume<'a> {
    name: &'a str,
    capacity: Capacity,
    target: VolumeTarget,
}

#[derive(Serialize)]
struct Capacity {
    #[serde(rename = "@unit")]
    unit: &'static str,
    #[serde(rename = "$value")]
    value: u64,
}

#[derive(Serialize)]
struct VolumeTarget {
    format: Format,
}

fn serialize(value: &impl Serialize) -> Result<String, XmlError> {
    let mut out = String::new();
    let mut ser = Serializer::new(&mut out);
    ser.indent(' ', 2);
    value.serialize(ser)?;
    out.push('\n');
    Ok(out)
}

/// Where a logical pool's volumes appear.
fn group_dir(group: &str) -> String {
    format!("/dev/{group}")
}

/// The XML that defines the pool of `spec`.
pub fn pool_xml(spec: &PoolSpec) -> Result<String, XmlError> {
    let group_target;
    let (source, target) = match &spec.source {
        PoolSource::Dir { path } => (None, path.as_str()),
        PoolSource::Fs { device, target } => (
            Some(Source {
                device: Some(PathAttr { path: device }),
                format: Some(Format { kind: "auto" }),
                ..Source::default()
            }),
            target.as_str(),
        ),
        PoolSource::Netfs {
            host,
            export,
            target,
        } => (
            Some(Source {
                host: Some(Named { name: host }),
                dir: Some(PathAttr { path: export }),
                format: Some(Format { kind: "nfs" }),
                ..Source::default()
            }),
            target.as_str(),
        ),
        PoolSource::Logical { group, device } => {
            group_target = group_dir(group);
            (
                Some(Source {
                    device: device.as_deref().map(|path| PathAttr { path }),
                    name: Some(group),
                    format: Some(Format { kind: "lvm2" }),
                    ..Source::default()
                }),
                group_target.as_str(),
            )
        }
        PoolSource::Iscsi { host, iqn } => (
            Some(Source {
                host: Some(Named { name: host }),
                device: Some(PathAttr { path: iqn }),
                ..Source::default()
            }),
            "/dev/disk/by-path",
        ),
    };
    serialize(&Pool {
        kind: spec.source.kind().xml_type(),
        name: spec.name.trim(),
        source,
        target: Target { path: target },
    })
}

/// The XML of a new volume `name` of `bytes` bytes in `format`.
pub fn volume_xml(name: &str, format: &'static str, bytes: u64) -> Result<String, XmlError> {
    serialize(&Volume {
        name: name.trim(),
        capacity: Capacity {
            unit: "bytes",
            value: bytes,
        },
        target: VolumeTarget {
            format: Format { kind: format },
        },
    })
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(name))
}

/// What a pool's XML says about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PoolDesc {
    pub type_name: String,
    pub target: Option<String>,
    pub source: Option<String>,
}

/// Reads a pool's type, target path and source ("host:/export", the device, the volume
/// group) from its XML; unreadable XML gives an empty description.
pub fn read_pool(desc: &str) -> PoolDesc {
    let Ok(doc) = roxmltree::Document::parse(desc) else {
        return PoolDesc::default();
    };
    let root = doc.root_element();
    let target = child(root, "target")
        .and_then(|t| child(t, "path"))
        .and_then(|p| p.text())
        .map(str::to_owned);
    let source = child(root, "source").and_then(|s| {
        let attr = |name: &str, attr: &str| child(s, name).and_then(|n| n.attribute(attr));
        let host = attr("host", "name");
        let dir = attr("dir", "path");
        let device = attr("device", "path");
        let group = child(s, "name").and_then(|n| n.text());
        match (host, dir, device, group) {
            (Some(host), Some(dir), _, _) => Some(format!("{host}:{dir}")),
            (Some(host), None, Some(device), _) => Some(format!("{host} {device}")),
            (_, _, _, Some(group)) => Some(group.to_owned()),
            (_, _, Some(device), _) => Some(device.to_owned()),
            _ => None,
        }
    });
    PoolDesc {
        type_name: root.attribute("type").unwrap_or_default().to_owned(),
        target,
        source,
    }
}

/// The format a volume's XML names (`target/format/@type`), or "".
pub fn read_volume_format(desc: &str) -> String {
    roxmltree::Document::parse(desc)
        .ok()
        .and_then(|doc| {
            doc.descendants()
                .find(|n| {
                    n.has_tag_name("format") && n.parent().is_some_and(|p| p.has_tag_name("target"))
                })
                .and_then(|n| n.attribute("type"))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Where a machine's disk is.
#[derive(Debug, PartialEq, Eq)]
pub enum DiskSource {
    Path(String),
    Volume { pool: String, volume: String },
}

/// The sources of the disks (and CD-ROMs) in a domain's XML.
pub fn read_disk_sources(desc: &str) -> Vec<DiskSource> {
    let Ok(doc) = roxmltree::Document::parse(desc) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("disk") && n.parent().is_some_and(|p| p.has_tag_name("devices")))
        .filter_map(|disk| disk.children().find(|n| n.has_tag_name("source")))
        .filter_map(|source| {
            if let Some(path) = source.attribute("file").or(source.attribute("dev")) {
                return Some(DiskSource::Path(path.to_owned()));
            }
            Some(DiskSource::Volume {
                pool: source.attribute("pool")?.to_owned(),
                volume: source.attribute("volume")?.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(source: PoolSource) -> PoolSpec {
        PoolSpec {
            name: "lab".into(),
            source,
            autostart: false,
        }
    }

    #[test]
    fn pool_xml_of_each_kind() {
        assert_eq!(
            pool_xml(&spec(PoolSource::Dir {
                path: "/srv/a&b".into()
            }))
            .unwrap(),
            "<pool type=\"dir\">\n  <name>lab</name>\n  <target>\n    <path>/srv/a&amp;b</path>\n  </target>\n</pool>\n"
        );
        let netfs = pool_xml(&spec(PoolSource::Netfs {
            host: "nas".into(),
            export: "/export/vm".into(),
            target: "/mnt/nas".into(),
        }))
        .unwrap();
        assert!(netfs.contains("<host name=\"nas\"/>"), "{netfs}");
        assert!(netfs.contains("<dir path=\"/export/vm\"/>"), "{netfs}");
        assert!(netfs.contains("<format type=\"nfs\"/>"), "{netfs}");
        let logical = pool_xml(&spec(PoolSource::Logical {
            group: "vg0".into(),
            device: Some("/dev/loop3".into()),
        }))
        .unwrap();
        assert!(
            logical.contains("<device path=\"/dev/loop3\"/>"),
            "{logical}"
        );
        assert!(logical.contains("<name>vg0</name>"), "{logical}");
        assert!(logical.contains("<path>/dev/vg0</path>"), "{logical}");
        let iscsi = pool_xml(&spec(PoolSource::Iscsi {
            host: "san".into(),
            iqn: "iqn.2026-01.org.example:disk".into(),
        }))
        .unwrap();
        assert!(
            iscsi.contains("<device path=\"iqn.2026-01.org.example:disk\"/>"),
            "{iscsi}"
        );
        assert_eq!(read_pool(&netfs).source.as_deref(), Some("nas:/export/vm"));
        assert_eq!(read_pool(&logical).source.as_deref(), Some("vg0"));
        assert_eq!(read_pool(&logical).type_name, "logical");
        assert_eq!(read_pool(&netfs).target.as_deref(), Some("/mnt/nas"));
    }

    #[test]
    fn volume_xml_in_bytes() {
        assert_eq!(
            volume_xml("a.qcow2", "qcow2", 1 << 30).unwrap(),
            "<volume>\n  <name>a.qcow2</name>\n  <capacity unit=\"bytes\">1073741824</capacity>\n  <target>\n    <format type=\"qcow2\"/>\n  </target>\n</volume>\n"
        );
        assert_eq!(
            read_volume_format("<volume><target><format type='raw'/></target></volume>"),
            "raw"
        );
    }

    #[test]
    fn disk_sources_by_path_and_by_volume() {
        let xml = "<domain><devices>\
            <disk type='file'><source file='/a.qcow2'/></disk>\
            <disk type='volume'><source pool='p' volume='v'/></disk>\
            <disk type='file' device='cdrom'/>\
            <interface><source network='default'/></interface>\
            </devices></domain>";
        assert_eq!(
            read_disk_sources(xml),
            vec![
                DiskSource::Path("/a.qcow2".into()),
                DiskSource::Volume {
                    pool: "p".into(),
                    volume: "v".into()
                }
            ]
        );
    }
}
