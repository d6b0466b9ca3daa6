//! Reading the osinfo-db `os/**/*.xml` files and resolving what an OS inherits from the
//! one it derives from (devices, resources).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use roxmltree::Node;

use super::{MediaIds, OsInfo, Resources};

/// Every `*.xml` below `dir`, sorted so that loading is deterministic.
pub fn xml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// An OS as written in its file, before inheritance.
pub struct RawOs {
    pub info: OsInfo,
    /// Devices marked `supported="false"`: removed from what is inherited.
    pub unsupported: BTreeSet<String>,
    /// `derives-from` then `clones` ids.
    pub parents: Vec<String>,
    pub inherit_resources: bool,
}

/// The `<os>` elements of one osinfo-db file.
pub fn parse_file(text: &str) -> Result<Vec<RawOs>, roxmltree::Error> {
    let doc = roxmltree::Document::parse(text)?;
    Ok(doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("os"))
        .filter_map(parse_os)
        .collect())
}

/// The text of the first child `name` without `xml:lang` (the untranslated one).
fn child_text(node: Node, name: &str) -> Option<String> {
    node.children()
        .filter(|c| c.has_tag_name(name))
        .find(|c| !c.attributes().any(|a| a.name() == "lang"))
        .and_then(|c| c.text())
        .map(|t| t.trim().to_owned())
}

fn parse_os(node: Node) -> Option<RawOs> {
    let id = node.attribute("id")?.to_owned();
    let mut devices = BTreeSet::new();
    let mut unsupported = BTreeSet::new();
    for device in node
        .children()
        .filter(|c| c.has_tag_name("devices"))
        .flat_map(|d| d.children().filter(|c| c.has_tag_name("device")))
    {
        let Some(dev_id) = device.attribute("id") else {
            continue;
        };
        if device.attribute("supported") == Some("false") {
            unsupported.insert(dev_id.to_owned());
        } else {
            devices.insert(dev_id.to_owned());
        }
    }
    let parents = ["derives-from", "clones"]
        .iter()
        .flat_map(|rel| node.children().filter(move |c| c.has_tag_name(*rel)))
        .filter_map(|c| c.attribute("id").map(str::to_owned))
        .collect();
    let (minimum, recommended, inherit_resources) = resources(node);
    let info = OsInfo {
        name: child_text(node, "name").unwrap_or_else(|| id.clone()),
        short_id: child_text(node, "short-id").unwrap_or_default(),
        version: child_text(node, "version"),
        vendor: child_text(node, "vendor"),
        family: child_text(node, "family"),
        release_date: child_text(node, "release-date"),
        eol_date: child_text(node, "eol-date"),
        minimum,
        recommended,
        devices,
        media: node
            .children()
            .filter(|c| c.has_tag_name("media"))
            .filter_map(media_ids)
            .collect(),
        id,
    };
    Some(RawOs {
        info,
        unsupported,
        parents,
        inherit_resources,
    })
}

/// Minimum and recommended resources for x86_64 (or "all" architectures), and whether the
/// file asks to inherit them.
fn resources(os: Node) -> (Resources, Resources, bool) {
    let all: Vec<Node> = os
        .children()
        .filter(|c| c.has_tag_name("resources"))
        .collect();
    let pick = all
        .iter()
        .find(|r| r.attribute("arch") == Some("x86_64"))
        .or_else(|| all.iter().find(|r| r.attribute("arch") == Some("all")));
    let Some(res) = pick else {
        return (Resources::default(), Resources::default(), true);
    };
    let read = |name: &str| {
        res.children()
            .find(|c| c.has_tag_name(name))
            .map(|level| Resources {
                ram_bytes: child_text(level, "ram").and_then(|t| t.parse().ok()),
                n_cpus: child_text(level, "n-cpus").and_then(|t| t.parse().ok()),
                storage_bytes: child_text(level, "storage").and_then(|t| t.parse().ok()),
            })
            .unwrap_or_default()
    };
    let inherit = res.attribute("inherit") == Some("true");
    (read("minimum"), read("recommended"), inherit)
}

fn media_ids(media: Node) -> Option<MediaIds> {
    let iso = media.children().find(|c| c.has_tag_name("iso"))?;
    let ids = MediaIds {
        arch: media.attribute("arch").unwrap_or("all").to_owned(),
        volume_id: child_text(iso, "volume-id"),
        system_id: child_text(iso, "system-id"),
        publisher_id: child_text(iso, "publisher-id"),
        application_id: child_text(iso, "application-id"),
    };
    ids.constraints().gt(&0).then_some(ids)
}

/// Resolves inheritance: an OS gets the devices of its parents (minus those it marks
/// unsupported) and, when it has none of its own or asks to inherit them, their resources.
pub fn resolve(raw: Vec<RawOs>) -> Vec<OsInfo> {
    let index: HashMap<String, usize> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| (r.info.id.clone(), i))
        .collect();
    let mut resolved: Vec<Option<OsInfo>> = vec![None; raw.len()];
    for i in 0..raw.len() {
        resolve_one(i, &raw, &index, &mut resolved, 0);
    }
    resolved.into_iter().flatten().collect()
}

/// Chains in osinfo-db are a few dozen long at most; this guards against cycles.
const MAX_DEPTH: usize = 64;

fn resolve_one(
    i: usize,
    raw: &[RawOs],
    index: &HashMap<String, usize>,
    resolved: &mut Vec<Option<OsInfo>>,
    depth: usize,
) -> OsInfo {
    if let Some(done) = &resolved[i] {
        return done.clone();
    }
    let own = &raw[i];
    let mut info = own.info.clone();
    if depth < MAX_DEPTH {
        for parent_id in &own.parents {
            let Some(&p) = index.get(parent_id) else {
                continue;
            };
            let parent = resolve_one(p, raw, index, resolved, depth + 1);
            info.devices.extend(
                parent
                    .devices
                    .into_iter()
                    .filter(|d| !own.unsupported.contains(d)),
            );
            if own.inherit_resources || info.recommended == Resources::default() {
                info.recommended = info.recommended.or(parent.recommended);
                info.minimum = info.minimum.or(parent.minimum);
            }
        }
    }
    resolved[i] = Some(info.clone());
    info
}
