//! The osinfo-db operating system database (the `osinfo-db` package's XML): detecting the
//! OS of an installer ISO, a searchable list of OSes, and what each OS recommends.
//!
//! The database is a few hundred files; [`OsDb::system`] reads it once, on first use, and
//! keeps it. The ISO patterns are compiled when a detection first needs them.

mod parse;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use tracing::debug;

use super::iso::{read_iso_ids, IsoIds};
use super::vm_spec::{DeviceModels, DiskBus, NicModel, OsChoice, VideoModel};

/// Where the `osinfo-db` package puts its files; `OSINFO_SYSTEM_DIR` overrides it, as for
/// libosinfo.
pub const SYSTEM_DIR: &str = "/usr/share/osinfo";

/// The id of the "Generic OS" fallback (libosinfo's "unknown").
pub const GENERIC_OS_ID: &str = "http://libosinfo.org/unknown";
/// The prefix of libosinfo's "Generic Linux <year>" entries.
const GENERIC_LINUX_PREFIX: &str = "http://libosinfo.org/linux/";
/// Used when the database has no generic Linux entry.
const GENERIC_LINUX_ID: &str = "http://libosinfo.org/linux/2022";

// PCI and USB ids of osinfo-db's `<device>` entries.
const VIRTIO_BLOCK: [&str; 2] = [
    "http://pcisig.com/pci/1af4/1001",
    "http://pcisig.com/pci/1af4/1042",
];
const VIRTIO_NET: [&str; 2] = [
    "http://pcisig.com/pci/1af4/1000",
    "http://pcisig.com/pci/1af4/1041",
];
const VIRTIO_GPU: &str = "http://pcisig.com/pci/1af4/1050";

/// Defaults when an OS recommends nothing.
const DEFAULT_MEMORY_MIB: u64 = 2048;
const DEFAULT_VCPUS: u32 = 2;
const DEFAULT_DISK_GIB: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum OsinfoError {
    #[error("The operating system database is not installed (install the osinfo-db package): {dir}: {source}")]
    Missing {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("The installation image “{path}” could not be read: {source}")]
    Iso {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Resource amounts of one level (`<minimum>` or `<recommended>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub ram_bytes: Option<u64>,
    pub n_cpus: Option<u32>,
    pub storage_bytes: Option<u64>,
}

impl Resources {
    /// Each amount from `self`, else from `other`.
    fn or(self, other: Resources) -> Resources {
        Resources {
            ram_bytes: self.ram_bytes.or(other.ram_bytes),
            n_cpus: self.n_cpus.or(other.n_cpus),
            storage_bytes: self.storage_bytes.or(other.storage_bytes),
        }
    }
}

/// The `<iso>` ids of one `<media>` entry: regular expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaIds {
    pub arch: String,
    pub volume_id: Option<String>,
    pub system_id: Option<String>,
    pub publisher_id: Option<String>,
    pub application_id: Option<String>,
}

impl MediaIds {
    fn patterns(&self) -> [Option<&String>; 4] {
        [
            self.volume_id.as_ref(),
            self.system_id.as_ref(),
            self.publisher_id.as_ref(),
            self.application_id.as_ref(),
        ]
    }

    /// How many ids this entry constrains.
    fn constraints(&self) -> usize {
        self.patterns().iter().flatten().count()
    }
}

/// One operating system of the database, with what it inherits resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    /// e.g. `http://debian.org/debian/12`.
    pub id: String,
    /// e.g. `debian12`.
    pub short_id: String,
    /// e.g. "Debian 12".
    pub name: String,
    pub version: Option<String>,
    pub vendor: Option<String>,
    /// e.g. `linux`, `winnt`.
    pub family: Option<String>,
    /// `YYYY-MM-DD`.
    pub release_date: Option<String>,
    pub eol_date: Option<String>,
    pub minimum: Resources,
    pub recommended: Resources,
    /// Device ids the OS drives (osinfo `<device id>`), inherited ones included.
    pub devices: BTreeSet<String>,
    pub media: Vec<MediaIds>,
}

/// What the wizard fills in for an OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    pub memory_mib: u64,
    pub vcpus: u32,
    pub disk_gib: u64,
    pub devices: DeviceModels,
}

impl OsInfo {
    /// Device models: virtio where the OS drives it, else SATA, e1000 and VGA.
    pub fn device_models(&self) -> DeviceModels {
        let has = |ids: &[&str]| ids.iter().any(|id| self.devices.contains(*id));
        DeviceModels {
            disk_bus: if has(&VIRTIO_BLOCK) {
                DiskBus::Virtio
            } else {
                DiskBus::Sata
            },
            nic: if has(&VIRTIO_NET) {
                NicModel::Virtio
            } else {
                NicModel::E1000
            },
            video: if has(&[VIRTIO_GPU]) {
                VideoModel::Virtio
            } else {
                VideoModel::Vga
            },
        }
    }

    /// Recommended memory, vCPUs, disk size and devices, with defaults where the
    /// database says nothing, and never below its minimum.
    pub fn recommendation(&self) -> Recommendation {
        let res = self.recommended.or(self.minimum);
        let mib = |bytes: u64| bytes.div_ceil(1 << 20);
        let gib = |bytes: u64| bytes.div_ceil(1 << 30);
        Recommendation {
            memory_mib: res.ram_bytes.map_or(DEFAULT_MEMORY_MIB, mib),
            vcpus: res.n_cpus.unwrap_or(DEFAULT_VCPUS).max(1),
            disk_gib: res.storage_bytes.map_or(DEFAULT_DISK_GIB, gib).max(1),
            devices: self.device_models(),
        }
    }

    /// The spec's OS part for this OS.
    pub fn choice(&self) -> OsChoice {
        OsChoice {
            id: self.id.clone(),
            name: self.name.clone(),
            devices: self.device_models(),
        }
    }
}

/// The loaded database.
#[derive(Debug, Default)]
pub struct OsDb {
    oses: Vec<OsInfo>,
    by_id: HashMap<String, usize>,
    /// (index into `oses`, volume / system / publisher / application id patterns).
    media: Vec<(usize, [Option<Pattern>; 4])>,
}

/// The OSes of one osinfo-db file; none (and a log line) when it cannot be read.
fn read_os_file(file: &PathBuf) -> Vec<parse::RawOs> {
    let parsed = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|text| parse::parse_file(&text).map_err(|e| e.to_string()));
    parsed.unwrap_or_else(|e| {
        debug!("skipping {}: {e}", file.display());
        Vec::new()
    })
}

/// An osinfo media pattern, compiled when a value first gets past its literal prefix:
/// compiling all two thousand up front would take a noticeable fraction of a second.
#[derive(Debug)]
struct Pattern {
    source: String,
    /// Text every match contains (the pattern's leading literal characters).
    literal: String,
    /// `None` inside when the pattern uses syntax the `regex` crate lacks (look-around,
    /// back-references): such a pattern matches nothing rather than something wrong.
    regex: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn new(source: &str) -> Pattern {
        Pattern {
            source: source.to_owned(),
            literal: literal_prefix(source),
            regex: OnceLock::new(),
        }
    }

    fn is_match(&self, value: &str) -> bool {
        if !value.contains(&self.literal) {
            return false;
        }
        self.regex
            .get_or_init(|| match Regex::new(&self.source) {
                Ok(regex) => Some(regex),
                Err(e) => {
                    debug!("unsupported osinfo pattern {:?}: {e}", self.source);
                    None
                }
            })
            .as_ref()
            .is_some_and(|r| r.is_match(value))
    }
}

/// The characters a match of `pattern` must contain: its leading literal run (after an
/// optional `^`), minus a last character that a quantifier makes optional. Empty when
/// the pattern has an alternation anywhere.
fn literal_prefix(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let end = body
        .find(|c: char| "\\.^$|?*+()[]{}".contains(c))
        .unwrap_or(body.len());
    let mut literal = body[..end].to_owned();
    if body[end..].starts_with(['?', '*', '{']) {
        literal.pop();
    }
    literal
}

impl OsDb {
    /// The system database, read on first use and kept for the life of the process.
    pub fn system() -> Result<&'static OsDb, &'static OsinfoError> {
        static DB: OnceLock<Result<OsDb, OsinfoError>> = OnceLock::new();
        DB.get_or_init(|| {
            let dir = std::env::var_os("OSINFO_SYSTEM_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(SYSTEM_DIR));
            OsDb::load(&dir)
        })
        .as_ref()
    }

    /// Reads every `os/**/*.xml` under `dir` (an osinfo-db root). Files that do not parse
    /// are skipped with a log line.
    pub fn load(dir: &Path) -> Result<OsDb, OsinfoError> {
        let started = std::time::Instant::now();
        let os_dir = dir.join("os");
        let files = parse::xml_files(&os_dir).map_err(|source| OsinfoError::Missing {
            dir: os_dir.clone(),
            source,
        })?;
        // Parsing is most of the time; spread the files over the cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let chunk = files.len().div_ceil(threads).max(1);
        let raw: Vec<parse::RawOs> = std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().flat_map(read_os_file).collect::<Vec<_>>())
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("parsing osinfo-db does not panic"))
                .collect()
        });
        let db = OsDb::from_oses(parse::resolve(raw));
        debug!(
            "read {} operating systems from {} files in {:?}",
            db.oses.len(),
            files.len(),
            started.elapsed()
        );
        Ok(db)
    }

    fn from_oses(oses: Vec<OsInfo>) -> OsDb {
        let by_id = oses
            .iter()
            .enumerate()
            .map(|(i, os)| (os.id.clone(), i))
            .collect();
        let media = oses
            .iter()
            .enumerate()
            .flat_map(|(i, os)| os.media.iter().map(move |m| (i, m)))
            .map(|(i, m)| (i, m.patterns().map(|p| p.map(|p| Pattern::new(p)))))
            .collect();
        OsDb { oses, by_id, media }
    }

    pub fn all(&self) -> &[OsInfo] {
        &self.oses
    }

    pub fn get(&self, id: &str) -> Option<&OsInfo> {
        self.by_id.get(id).map(|&i| &self.oses[i])
    }

    /// "Generic Linux": the newest of libosinfo's generic Linux entries (virtio devices),
    /// or a built-in one when the database has none.
    pub fn generic_linux(&self) -> OsInfo {
        let newest = self
            .oses
            .iter()
            .filter(|os| os.id.starts_with(GENERIC_LINUX_PREFIX))
            .max_by(|a, b| a.release_date.cmp(&b.release_date));
        let mut os = newest.cloned().unwrap_or_else(|| OsInfo {
            id: GENERIC_LINUX_ID.to_owned(),
            family: Some("linux".to_owned()),
            devices: VIRTIO_BLOCK
                .iter()
                .chain(&VIRTIO_NET)
                .chain(&[VIRTIO_GPU])
                .map(|d| d.to_string())
                .collect(),
            ..blank_os()
        });
        os.name = "Generic Linux".to_owned();
        os
    }

    /// "Generic OS": libosinfo's "unknown", with the most compatible devices.
    pub fn generic_os(&self) -> OsInfo {
        let mut os = self.get(GENERIC_OS_ID).cloned().unwrap_or_else(blank_os);
        os.name = "Generic OS".to_owned();
        os
    }

    /// OSes whose name, short id or version contains every word of `query` (case does
    /// not matter), newest release first; the generic fallbacks come first when they
    /// match. An empty query lists everything.
    pub fn search(&self, query: &str) -> Vec<OsInfo> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let matches = |os: &OsInfo| {
            let hay = format!(
                "{} {} {}",
                os.name,
                os.short_id,
                os.version.as_deref().unwrap_or("")
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        };
        let fallbacks = [self.generic_linux(), self.generic_os()];
        let fallback_ids: Vec<&str> = fallbacks.iter().map(|os| os.id.as_str()).collect();
        let mut found: Vec<&OsInfo> = self
            .oses
            .iter()
            .filter(|os| !fallback_ids.contains(&os.id.as_str()) && matches(os))
            .collect();
        found.sort_by(|a, b| {
            b.release_date
                .cmp(&a.release_date)
                .then_with(|| a.name.cmp(&b.name))
        });
        fallbacks
            .iter()
            .filter(|os| matches(os))
            .cloned()
            .chain(found.into_iter().cloned())
            .collect()
    }

    /// The OS whose installer media `ids` come from, if the database knows it. When
    /// several entries match, the one that constrains more ids wins, then the newest.
    pub fn detect(&self, ids: &IsoIds) -> Option<&OsInfo> {
        let values = [
            ids.volume_id.as_str(),
            ids.system_id.as_str(),
            ids.publisher_id.as_str(),
            ids.application_id.as_str(),
        ];
        let constraints = |patterns: &[Option<Pattern>; 4]| patterns.iter().flatten().count();
        self.media
            .iter()
            .filter(|(_, patterns)| {
                patterns
                    .iter()
                    .zip(values)
                    .all(|(pattern, value)| pattern.as_ref().is_none_or(|p| p.is_match(value)))
            })
            .max_by(|(a, pa), (b, pb)| {
                constraints(pa)
                    .cmp(&constraints(pb))
                    .then_with(|| self.oses[*a].release_date.cmp(&self.oses[*b].release_date))
            })
            .map(|(i, _)| &self.oses[*i])
    }

    /// [`OsDb::detect`] on the ISO image at `path`; `Ok(None)` for an unknown OS or a
    /// file that is no ISO 9660 image.
    pub fn detect_iso(&self, path: &Path) -> Result<Option<&OsInfo>, OsinfoError> {
        let ids = read_iso_ids(path).map_err(|source| OsinfoError::Iso {
            path: path.to_owned(),
            source,
        })?;
        Ok(ids.and_then(|ids| {
            debug!("{}: {ids:?}", path.display());
            self.detect(&ids)
        }))
    }
}

fn blank_os() -> OsInfo {
    OsInfo {
        id: GENERIC_OS_ID.to_owned(),
        short_id: String::new(),
        name: String::new(),
        version: None,
        vendor: None,
        family: None,
        release_date: None,
        eol_date: None,
        minimum: Resources::default(),
        recommended: Resources::default(),
        devices: BTreeSet::new(),
        media: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefixes_never_reject_a_match() {
        assert_eq!(literal_prefix("Debian 11.\\d+.\\d+ amd64 n"), "Debian 11");
        assert_eq!(literal_prefix("^Fedora-WS-Live-3"), "Fedora-WS-Live-3");
        assert_eq!(literal_prefix("CCSA_X64FRE?"), "CCSA_X64FR");
        assert_eq!(literal_prefix("ab{2}c"), "a");
        assert_eq!(literal_prefix("(CCSA|CCBA)_X64"), "");
        assert_eq!(literal_prefix("abc|xyz"), "");
        assert_eq!(literal_prefix("(?i)ubuntu"), "");
        let pattern = Pattern::new("CCSA_X64FRE?_EN");
        assert!(pattern.is_match("CCSA_X64FR_EN"));
        assert!(pattern.is_match("xx CCSA_X64FRE_EN"));
        assert!(!pattern.is_match("CCSA_X64"));
    }

    #[test]
    fn unsupported_patterns_match_nothing() {
        let lookahead = Pattern::new("Ubuntu(?! Server)");
        assert!(!lookahead.is_match("Ubuntu Desktop"));
    }
}
