//! What a connection URI is called in the interface.
//!
//! [`ConnectionName::friendly_name`] gives the English name; the UI matches on
//! [`ConnectionKind`] and [`ConnectionName::host`] to build translated ones.

/// The kind of hypervisor connection a URI points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionKind {
    /// `qemu:///system`, or `qemu+…://host/system`.
    QemuSystem,
    /// `qemu:///session`, or `qemu+…://host/session`.
    QemuSession,
    /// libvirt's in-process `test:///` driver.
    Test,
    /// Anything else: shown by its URI.
    Other,
}

/// A connection URI with what the interface needs to name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionName {
    pub kind: ConnectionKind,
    /// The remote host, without user name or port; `None` for a local connection.
    pub host: Option<String>,
    pub uri: String,
}

impl ConnectionName {
    pub fn parse(uri: &str) -> Self {
        let parts = UriParts::parse(uri);
        let host = parts
            .as_ref()
            .and_then(|p| p.host)
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        let kind = match parts {
            Some(p) if p.driver == "qemu" => match p.path.trim_end_matches('/') {
                "/system" => ConnectionKind::QemuSystem,
                "/session" => ConnectionKind::QemuSession,
                _ => ConnectionKind::Other,
            },
            Some(p) if p.driver == "test" => ConnectionKind::Test,
            _ => ConnectionKind::Other,
        };
        Self {
            kind,
            host,
            uri: uri.to_owned(),
        }
    }

    pub fn is_remote(&self) -> bool {
        self.host.is_some()
    }

    /// The name in English, e.g. "QEMU/KVM", "QEMU/KVM User session", "QEMU/KVM: host".
    pub fn friendly_name(&self) -> String {
        let base = match self.kind {
            ConnectionKind::QemuSystem => "QEMU/KVM",
            ConnectionKind::QemuSession => "QEMU/KVM User session",
            ConnectionKind::Test => "Test",
            ConnectionKind::Other => return self.uri.clone(),
        };
        match &self.host {
            Some(host) => format!("{base}: {host}"),
            None => base.to_owned(),
        }
    }
}

/// The pieces of a libvirt URI (`driver[+transport]://[user@][host][:port]/path[?query]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriParts<'a> {
    pub driver: &'a str,
    pub transport: Option<&'a str>,
    pub user: Option<&'a str>,
    pub host: Option<&'a str>,
    pub port: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

impl<'a> UriParts<'a> {
    /// `None` when `uri` is not of the `scheme://…` form.
    pub fn parse(uri: &'a str) -> Option<Self> {
        let (scheme, rest) = uri.trim().split_once("://")?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return None;
        }
        let (driver, transport) = match scheme.split_once('+') {
            Some((d, t)) => (d, Some(t)),
            None => (scheme, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            // [::1]:port
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        Some(Self {
            driver,
            transport,
            user,
            host: (!host.is_empty()).then_some(host),
            port,
            path,
            query,
        })
    }
}

/// Hypervisor drivers libvirt knows. A URI naming another driver can never work.
const KNOWN_DRIVERS: &[&str] = &[
    "qemu",
    "test",
    "lxc",
    "xen",
    "libxl",
    "xenapi",
    "vbox",
    "vmwareplayer",
    "vmwarews",
    "vmwarefusion",
    "esx",
    "gsx",
    "vpx",
    "hyperv",
    "bhyve",
    "ch",
    "openvz",
    "vz",
    "parallels",
    "uml",
    "phyp",
    "remote",
];

/// Whether `uri` names a hypervisor driver that libvirt has (whether or not it is installed).
pub fn has_known_driver(uri: &str) -> bool {
    UriParts::parse(uri).is_some_and(|p| KNOWN_DRIVERS.contains(&p.driver))
}

/// What each host is called where several are listed together: its title, and where two
/// hosts share a title (two `test:///` files, two sessions) its URI too, "Test
/// (test:///default)", so that every host reads differently. `hosts` are (title, URI).
pub fn distinct_titles(hosts: &[(String, String)]) -> Vec<String> {
    hosts
        .iter()
        .map(|(title, uri)| {
            let shared = hosts.iter().filter(|(t, _)| t == title).count() > 1;
            if shared {
                format!("{title} ({uri})")
            } else {
                title.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_shared_by_two_hosts_get_their_uri() {
        let hosts = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(t, u)| (t.to_string(), u.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            distinct_titles(&hosts(&[
                ("Test", "test:///default"),
                ("QEMU/KVM", "qemu:///system"),
                ("Test", "test:///tmp/a.xml"),
            ])),
            [
                "Test (test:///default)",
                "QEMU/KVM",
                "Test (test:///tmp/a.xml)"
            ]
        );
        assert_eq!(
            distinct_titles(&hosts(&[("Test", "test:///default")])),
            ["Test"]
        );
        assert!(distinct_titles(&[]).is_empty());
    }

    fn name(uri: &str) -> String {
        ConnectionName::parse(uri).friendly_name()
    }

    #[test]
    fn friendly_names() {
        assert_eq!(name("qemu:///system"), "QEMU/KVM");
        assert_eq!(name("qemu:///session"), "QEMU/KVM User session");
        assert_eq!(name("test:///default"), "Test");
        assert_eq!(name("test:///work/tests/fixtures/states.xml"), "Test");
        assert_eq!(name("qemu+ssh://user@host/system"), "QEMU/KVM: host");
        assert_eq!(
            name("qemu+ssh://host.example.org:2222/system"),
            "QEMU/KVM: host.example.org"
        );
        assert_eq!(
            name("qemu+tls://[fe80::1]:16514/system"),
            "QEMU/KVM: fe80::1"
        );
        assert_eq!(
            name("qemu+ssh://me@box/session"),
            "QEMU/KVM User session: box"
        );
        assert_eq!(name("qemu+unix:///system?socket=/tmp/s"), "QEMU/KVM");
        assert_eq!(name("lxc:///system"), "lxc:///system");
        assert_eq!(
            name("qemu:///embed?root=/tmp/x"),
            "qemu:///embed?root=/tmp/x"
        );
        assert_eq!(name("not a uri"), "not a uri");
    }

    #[test]
    fn kinds_and_hosts() {
        let n = ConnectionName::parse("qemu+ssh://root@kvm1:22/system?keyfile=/k");
        assert_eq!(n.kind, ConnectionKind::QemuSystem);
        assert_eq!(n.host.as_deref(), Some("kvm1"));
        assert!(n.is_remote());
        let n = ConnectionName::parse("qemu:///session");
        assert_eq!(n.kind, ConnectionKind::QemuSession);
        assert!(!n.is_remote());
    }

    #[test]
    fn uri_parts() {
        let p = UriParts::parse("qemu+ssh://user@host:22/system?keyfile=/k").unwrap();
        assert_eq!(p.driver, "qemu");
        assert_eq!(p.transport, Some("ssh"));
        assert_eq!(p.user, Some("user"));
        assert_eq!(p.host, Some("host"));
        assert_eq!(p.port, Some("22"));
        assert_eq!(p.path, "/system");
        assert_eq!(p.query, Some("keyfile=/k"));
        let p = UriParts::parse("test:///default").unwrap();
        assert_eq!((p.host, p.path), (None, "/default"));
        assert!(UriParts::parse("no scheme").is_none());
        assert!(UriParts::parse("://x").is_none());
    }

    #[test]
    fn known_drivers() {
        assert!(has_known_driver("qemu:///system"));
        assert!(has_known_driver("qemu+ssh://h/system"));
        assert!(has_known_driver("test:///default"));
        assert!(!has_known_driver("foo:///system"));
        assert!(!has_known_driver("not a uri"));
    }
}
