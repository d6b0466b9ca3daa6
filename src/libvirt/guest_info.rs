//! What the QEMU guest agent tells of a running guest (`virDomainGetGuestInfo`): its
//! hostname, operating system, time zone, logged-in users and filesystems with their use.
//! [`parse`] turns libvirt's flat typed parameters (`fs.0.mountpoint`, `user.1.name`, …)
//! into [`GuestInfo`]; [`read`] asks the domain.

use virt::connect::Connect;

use super::events::TypedValue;
use super::ffi;

/// The guest's operating system as its `/etc/os-release` (or Windows) names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestOs {
    /// "Debian GNU/Linux 12 (bookworm)", when the guest has a pretty name.
    pub pretty_name: Option<String>,
    /// "Debian GNU/Linux".
    pub name: Option<String>,
    /// "12 (bookworm)".
    pub version: Option<String>,
    /// The kernel release, "6.1.0-28-amd64".
    pub kernel_release: Option<String>,
}

impl GuestOs {
    /// The operating system in a few words: the pretty name, else name and version.
    pub fn title(&self) -> Option<String> {
        if let Some(pretty) = &self.pretty_name {
            return Some(pretty.clone());
        }
        match (&self.name, &self.version) {
            (Some(name), Some(version)) => Some(format!("{name} {version}")),
            (Some(name), None) => Some(name.clone()),
            (None, Some(version)) => Some(version.clone()),
            (None, None) => None,
        }
    }
}

/// The guest's time zone: its name ("CET") and offset from UTC in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestTimeZone {
    pub name: Option<String>,
    pub offset_seconds: Option<i64>,
}

/// A user logged in to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestUser {
    pub name: String,
    /// The Windows domain, if any.
    pub domain: Option<String>,
    /// When the user logged in, milliseconds since the epoch.
    pub login_time_ms: Option<u64>,
}

/// A mounted filesystem of the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFilesystem {
    pub mountpoint: String,
    /// The guest's device name, "sda1".
    pub name: Option<String>,
    /// "ext4", "xfs", "NTFS", …
    pub fstype: Option<String>,
    pub total_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
}

impl GuestFilesystem {
    /// The free bytes, when both the size and the use are known.
    pub fn free_bytes(&self) -> Option<u64> {
        Some(self.total_bytes?.saturating_sub(self.used_bytes?))
    }
}

/// Everything the agent told; a part it did not answer is `None` or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestInfo {
    pub hostname: Option<String>,
    pub os: GuestOs,
    pub timezone: GuestTimeZone,
    pub users: Vec<GuestUser>,
    pub filesystems: Vec<GuestFilesystem>,
}

/// Why a running guest has no facts to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestFacts {
    /// The agent answered.
    Known(GuestInfo),
    /// No agent answered: none configured, not running in the guest, or not responding.
    /// Holds what libvirt said.
    NoAgent(String),
    /// The machine is not running.
    NotRunning,
}

/// The parameters of `prefix.N.` entries, for `N` in `0..prefix.count`.
fn numbered<'a>(
    params: &'a [(String, TypedValue)],
    prefix: &str,
) -> Vec<Vec<(&'a str, &'a TypedValue)>> {
    let count = params
        .iter()
        .find(|(k, _)| k.strip_prefix(prefix) == Some(".count"))
        .and_then(|(_, v)| v.as_u64())
        .unwrap_or(0)
        .min(1024);
    (0..count)
        .map(|i| {
            let start = format!("{prefix}.{i}.");
            params
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&start)?, v)))
                .collect()
        })
        .collect()
}

fn string(value: &TypedValue) -> Option<String> {
    match value {
        TypedValue::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn signed(value: &TypedValue) -> Option<i64> {
    match *value {
        TypedValue::Int(v) => Some(i64::from(v)),
        TypedValue::LLong(v) => Some(v),
        ref other => other.as_u64().and_then(|v| i64::try_from(v).ok()),
    }
}

/// Finds `key` among `fields` and reads it with `read`.
fn field<T>(
    fields: &[(&str, &TypedValue)],
    key: &str,
    read: impl Fn(&TypedValue) -> Option<T>,
) -> Option<T> {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| read(v))
}

/// Reads [`GuestInfo`] out of `virDomainGetGuestInfo`'s parameters; unknown ones are
/// passed over, numbered entries without their name are left out.
pub fn parse(params: &[(String, TypedValue)]) -> GuestInfo {
    let top: Vec<(&str, &TypedValue)> = params.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let text = |key: &str| field(&top, key, string);
    GuestInfo {
        hostname: text("hostname"),
        os: GuestOs {
            pretty_name: text("os.pretty-name"),
            name: text("os.name"),
            version: text("os.version"),
            kernel_release: text("os.kernel-release"),
        },
        timezone: GuestTimeZone {
            name: text("timezone.name"),
            offset_seconds: field(&top, "timezone.offset", signed),
        },
        users: numbered(params, "user")
            .iter()
            .filter_map(|f| {
                Some(GuestUser {
                    name: field(f, "name", string)?,
                    domain: field(f, "domain", string),
                    login_time_ms: field(f, "login-time", TypedValue::as_u64),
                })
            })
            .collect(),
        filesystems: numbered(params, "fs")
            .iter()
            .filter_map(|f| {
                Some(GuestFilesystem {
                    mountpoint: field(f, "mountpoint", string)?,
                    name: field(f, "name", string),
                    fstype: field(f, "fstype", string),
                    total_bytes: field(f, "total-bytes", TypedValue::as_u64),
                    used_bytes: field(f, "used-bytes", TypedValue::as_u64),
                })
            })
            .collect(),
    }
}

/// Asks the agent of domain `uuid` on `conn`; blocks (up to libvirt's agent timeout). Only a
/// missing domain is an error: a guest without an answering agent is [`GuestFacts::NoAgent`].
pub fn read(conn: &Connect, uuid: &str) -> Result<GuestFacts, virt::error::Error> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    if !domain.is_active()? {
        return Ok(GuestFacts::NotRunning);
    }
    Ok(match ffi::guest_info(&domain) {
        Ok(params) => GuestFacts::Known(parse(&params)),
        Err(error) => GuestFacts::NoAgent(super::error::describe(&error)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(key: &str, value: &str) -> (String, TypedValue) {
        (key.to_owned(), TypedValue::String(value.to_owned()))
    }

    fn u(key: &str, value: u64) -> (String, TypedValue) {
        (key.to_owned(), TypedValue::ULLong(value))
    }

    fn n(key: &str, value: u32) -> (String, TypedValue) {
        (key.to_owned(), TypedValue::UInt(value))
    }

    /// What libvirt 11 hands back for a Debian guest with qemu-guest-agent 7.2.
    fn debian() -> Vec<(String, TypedValue)> {
        vec![
            n("user.count", 2),
            s("user.0.name", "root"),
            u("user.0.login-time", 1_733_300_000_123),
            s("user.1.name", "alice"),
            s("user.1.domain", "EXAMPLE"),
            s("os.id", "debian"),
            s("os.name", "Debian GNU/Linux"),
            s("os.pretty-name", "Debian GNU/Linux 12 (bookworm)"),
            s("os.version", "12 (bookworm)"),
            s("os.version-id", "12"),
            s("os.kernel-release", "6.1.0-28-amd64"),
            s("os.machine", "x86_64"),
            s("timezone.name", "CET"),
            ("timezone.offset".into(), TypedValue::Int(3600)),
            s("hostname", "web1"),
            n("fs.count", 2),
            s("fs.0.name", "vda1"),
            s("fs.0.mountpoint", "/"),
            s("fs.0.fstype", "ext4"),
            u("fs.0.total-bytes", 10_000_000_000),
            u("fs.0.used-bytes", 2_500_000_000),
            n("fs.0.disk.count", 1),
            s("fs.0.disk.0.alias", "vda"),
            s("fs.1.name", "vda15"),
            s("fs.1.mountpoint", "/boot/efi"),
            s("fs.1.fstype", "vfat"),
        ]
    }

    #[test]
    fn a_debian_guest_reads_in_full() {
        let info = parse(&debian());
        assert_eq!(info.hostname.as_deref(), Some("web1"));
        assert_eq!(
            info.os.title().as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(info.os.kernel_release.as_deref(), Some("6.1.0-28-amd64"));
        assert_eq!(
            info.timezone,
            GuestTimeZone {
                name: Some("CET".into()),
                offset_seconds: Some(3600)
            }
        );
        assert_eq!(
            info.users,
            [
                GuestUser {
                    name: "root".into(),
                    domain: None,
                    login_time_ms: Some(1_733_300_000_123)
                },
                GuestUser {
                    name: "alice".into(),
                    domain: Some("EXAMPLE".into()),
                    login_time_ms: None
                }
            ]
        );
        assert_eq!(info.filesystems.len(), 2);
        let root = &info.filesystems[0];
        assert_eq!(
            (root.mountpoint.as_str(), root.fstype.as_deref()),
            ("/", Some("ext4"))
        );
        assert_eq!(root.free_bytes(), Some(7_500_000_000));
        // The EFI partition's use was not reported: no free figure, not a wrong one.
        assert_eq!(info.filesystems[1].free_bytes(), None);
    }

    #[test]
    fn nothing_is_an_empty_answer() {
        assert_eq!(parse(&[]), GuestInfo::default());
        assert_eq!(GuestOs::default().title(), None);
    }

    #[test]
    fn the_os_title_falls_back_to_name_and_version() {
        let info = parse(&[s("os.name", "Microsoft Windows"), s("os.version", "10")]);
        assert_eq!(info.os.title().as_deref(), Some("Microsoft Windows 10"));
    }

    #[test]
    fn counts_bound_the_entries_and_nameless_ones_are_left_out() {
        let info = parse(&[
            n("fs.count", 2),
            s("fs.0.fstype", "ext4"),
            s("fs.1.mountpoint", "/data"),
            // Beyond the count: not read.
            s("fs.2.mountpoint", "/ghost"),
            n("user.count", 1),
            s("user.0.name", ""),
            // A count of the wrong type reads as none.
            ("other.count".into(), TypedValue::String("3".into())),
        ]);
        let mounts: Vec<&str> = info
            .filesystems
            .iter()
            .map(|f| f.mountpoint.as_str())
            .collect();
        assert_eq!(mounts, ["/data"]);
        assert!(info.users.is_empty());
    }

    #[test]
    fn a_used_figure_above_the_total_gives_no_negative_free_space() {
        let fs = GuestFilesystem {
            mountpoint: "/".into(),
            name: None,
            fstype: None,
            total_bytes: Some(100),
            used_bytes: Some(150),
        };
        assert_eq!(fs.free_bytes(), Some(0));
    }
}
