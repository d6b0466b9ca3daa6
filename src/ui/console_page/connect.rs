//! Where a console connects to. For a connection to this computer, a socket libvirt hands
//! over, so no TCP port needs to be reachable. For a remote host, never an address on this
//! computer: over SSH, a tunnel through the host's SSH master (the login libvirt's own
//! connection made) to where the display listens on that host; over other transports,
//! the display's address on the network when it listens there. The VNC display is picked
//! among a machine's graphics devices; one with only SPICE is told in words
//! ([`SourceError::display`]). A tunnel's or TCP display's VNC password comes from the
//! domain's secure XML, or the user.

use crate::console::{ConsoleSource, SendKey, TlsError};
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::graphics::{DisplayError, DisplayRequest, Listen};
use crate::ui::backend::ssh::{self, SshTarget, TunnelError};
use crate::ui::backend::{ConnectionName, Request, RequestError};
use crate::ui::util::run_blocking;
use crate::ui::InWords;
use crate::ui::{Connection, Domain};

/// Why a console has nothing to connect to.
#[derive(Debug)]
pub enum SourceError {
    /// The connection's worker could not answer (the display's own reasons included).
    Request(RequestError),
    /// The tunnel to a remote display failed.
    Tunnel(TunnelError),
    /// A remote display that listens only on its host's loopback or a socket there, over
    /// a connection that is not SSH.
    OnlyOnHost { host: String },
}

impl From<RequestError> for SourceError {
    fn from(error: RequestError) -> Self {
        Self::Request(error)
    }
}

impl SourceError {
    /// Why the machine's display cannot be used, when that is the reason (e.g.
    /// [`DisplayError::SpiceOnly`]).
    pub fn display(&self) -> Option<&DisplayError> {
        match self {
            Self::Request(RequestError::Display(display)) => Some(display),
            _ => None,
        }
    }

    /// The reason in the user's language.
    pub fn in_words(&self) -> String {
        if let Some(display) = self.display() {
            return display_in_words(display);
        }
        match self {
            Self::Request(other) => other.in_words(),
            Self::Tunnel(tunnel) => tunnel_in_words(tunnel),
            Self::OnlyOnHost { host } => gettext_f(
                // Translators: {host} is the name of the computer the machine runs on.
                "The display of this machine can be reached only on {host} itself. Connect to {host} over SSH to use it.",
                &[("host", host)],
            ),
        }
    }
}

fn display_in_words(error: &DisplayError) -> String {
    match error {
        DisplayError::SpiceOnly => gettext(
            "The display of this machine is SPICE, which this console cannot show. Switch its display to VNC to use it here.",
        ),
        DisplayError::NoDisplay => gettext("This machine has no graphical display."),
        DisplayError::NotListening => {
            gettext("The display of this machine cannot be reached from another computer.")
        }
    }
}

fn tunnel_in_words(error: &TunnelError) -> String {
    let with = |title: String, detail: &str| {
        if detail.is_empty() {
            title
        } else {
            format!("{title}\n{detail}")
        }
    };
    match error {
        TunnelError::NoSsh => gettext("The ssh program is not installed on this computer."),
        TunnelError::RuntimeDir(detail) => with(
            gettext("The private directory for SSH connections could not be made."),
            detail,
        ),
        TunnelError::HostKey(detail) => with(
            gettext("The host's SSH key could not be verified. Check its key in your known hosts."),
            detail,
        ),
        TunnelError::Auth(detail) => {
            with(gettext("The host did not accept the SSH login."), detail)
        }
        TunnelError::Unreachable(detail) => {
            with(gettext("The host could not be reached over SSH."), detail)
        }
        TunnelError::NoAnswer => {
            gettext("The display did not answer through the SSH connection to its host.")
        }
        TunnelError::Other(detail) => with(gettext("The SSH connection failed."), detail),
    }
}

/// Why VNC over TLS failed, in the user's language.
pub fn tls_in_words(error: &TlsError) -> String {
    match error {
        TlsError::NoCa(path) => gettext_f(
            // Translators: {path} is a file name.
            "The display requires TLS, and no CA certificate was found at {path}.",
            &[("path", path)],
        ),
        TlsError::BadFile { path, detail } => gettext_f(
            // Translators: {path} is a certificate or key file; {detail} says what is wrong with it.
            "The certificate file {path} cannot be used: {detail}",
            &[("path", path), ("detail", detail)],
        ),
        TlsError::BadServerName(host) => gettext_f(
            // Translators: {host} is the host name of the connection.
            "“{host}” is not a host name a certificate can be checked against.",
            &[("host", host)],
        ),
        TlsError::UnknownCa { ca } => gettext_f(
            // Translators: {ca} is the file of the CA certificate.
            "The display's certificate is not signed by the CA in {ca}.",
            &[("ca", ca)],
        ),
        TlsError::WrongHost { host, detail } => gettext_f(
            // Translators: {host} is the host name of the connection; {detail} is the TLS library's reason.
            "The display's certificate is not made out to {host}.\n{detail}",
            &[("host", host), ("detail", detail)],
        ),
        TlsError::Expired => gettext("The display's certificate has expired or is not valid yet."),
        TlsError::BadCertificate(detail) => gettext_f(
            // Translators: {detail} is the TLS library's reason.
            "The display's certificate was refused.\n{detail}",
            &[("detail", detail)],
        ),
        TlsError::ClientCertificateRequired { cert, key } => gettext_f(
            // Translators: {cert} and {key} are file names.
            "The display requires a client certificate, and none was found at {cert} and {key}.",
            &[("cert", cert), ("key", key)],
        ),
        TlsError::ClientCertificateRefused { cert } => gettext_f(
            // Translators: {cert} is the file of this computer's client certificate.
            "The display refused this computer's client certificate {cert}.",
            &[("cert", cert)],
        ),
        TlsError::Handshake(detail) | TlsError::Negotiation(detail) => gettext_f(
            // Translators: {detail} is the reason, in English.
            "The TLS connection to the display failed.\n{detail}",
            &[("detail", detail)],
        ),
        TlsError::Required => {
            gettext("The display requires TLS, which this connection cannot offer.")
        }
    }
}

/// The source of `domain`'s console, asked of the connection's worker.
pub async fn console_source(
    connection: &Connection,
    domain: &Domain,
) -> Result<ConsoleSource, SourceError> {
    if let Some(source) = address_override() {
        return Ok(source);
    }
    let uri = connection.uri();
    let uuid = domain.uuid();
    let Some(host) = ConnectionName::parse(&uri).host else {
        return local_socket(connection, uuid).await;
    };
    let listen = connection
        .request(|reply| Request::Display(DisplayRequest::Listen { uuid, reply }))
        .await?;
    match SshTarget::from_uri(&uri) {
        Some(target) => {
            let tunnel = run_blocking(move || ssh::open_tunnel(&target, &listen))
                .await
                .unwrap_or_else(|| Err(TunnelError::Other(String::new())));
            tunnel
                .map(ConsoleSource::Tunnel)
                .map_err(SourceError::Tunnel)
        }
        None => on_the_network(host, listen),
    }
}

/// The name a display's TLS certificate must carry (VNC over TLS): the host of a
/// remote connection's URI, also when the display is reached through an SSH tunnel.
pub fn tls_server_name(connection: &Connection) -> Option<String> {
    ConnectionName::parse(&connection.uri()).host
}

/// The password to connect to `source` with: none for libvirt's socket, which skips
/// authentication; else what the user typed for this page, else the domain XML's.
pub async fn password_for(
    source: &ConsoleSource,
    typed: Option<String>,
    connection: &Connection,
    domain: &Domain,
) -> Option<String> {
    match source {
        ConsoleSource::Socket(_) => None,
        ConsoleSource::Tcp { .. } | ConsoleSource::Tunnel(_) if typed.is_some() => typed,
        ConsoleSource::Tcp { .. } | ConsoleSource::Tunnel(_) => {
            stored_password(connection, domain).await
        }
    }
}

/// The VNC password in `domain`'s secure XML, from the connection's worker; `None` when
/// it has none or it cannot be read (a read-only connection), and the user is asked.
async fn stored_password(connection: &Connection, domain: &Domain) -> Option<String> {
    let uuid = domain.uuid();
    let read = connection
        .request(|reply| Request::VncPassword { uuid, reply })
        .await;
    read.unwrap_or_else(|error| {
        tracing::info!("no VNC password from the domain XML: {error}");
        None
    })
}

/// `VIRTDECK_CONSOLE_ADDRESS=host:port` makes consoles connect to that TCP address
/// instead of the guest's own display (benches/console puts a counting proxy there).
fn address_override() -> Option<ConsoleSource> {
    let value = std::env::var("VIRTDECK_CONSOLE_ADDRESS").ok()?;
    let (host, port) = value.rsplit_once(':')?;
    let port = port.parse().ok()?;
    tracing::info!("console address overridden: {value}");
    Some(ConsoleSource::Tcp {
        host: host.to_owned(),
        port,
    })
}

/// A socket connected to the guest's VNC server, from libvirt.
async fn local_socket(connection: &Connection, uuid: String) -> Result<ConsoleSource, SourceError> {
    let fd = connection
        .request(|reply| Request::GraphicsSocket { uuid, reply })
        .await?;
    Ok(ConsoleSource::Socket(fd))
}

/// The display of a machine on `host`, reached over the network (a connection that is not
/// SSH): only where it listens on an address other computers reach, never a loopback
/// address or socket, which here would be this computer's.
fn on_the_network(host: String, listen: Listen) -> Result<ConsoleSource, SourceError> {
    match listen {
        Listen::Address {
            host: address,
            port,
        } if !is_loopback(&address) => {
            let unspecified = address
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified());
            let host = if unspecified { host } else { address };
            Ok(ConsoleSource::Tcp { host, port })
        }
        _ => Err(SourceError::OnlyOnHost { host }),
    }
}

fn is_loopback(address: &str) -> bool {
    address.eq_ignore_ascii_case("localhost")
        || address
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The key combination a `console.send-key` target names.
pub fn send_key_named(name: &str) -> Option<SendKey> {
    match name {
        "ctrl-alt-delete" => Some(SendKey::CtrlAltDelete),
        "ctrl-alt-backspace" => Some(SendKey::CtrlAltBackspace),
        "print" => Some(SendKey::PrintScreen),
        other => other
            .strip_prefix("ctrl-alt-f")
            .and_then(|n| n.parse().ok())
            .filter(|n| (1..=12).contains(n))
            .map(SendKey::CtrlAltF),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_key_targets_name_every_combination() {
        assert_eq!(
            send_key_named("ctrl-alt-delete"),
            Some(SendKey::CtrlAltDelete)
        );
        assert_eq!(send_key_named("ctrl-alt-f7"), Some(SendKey::CtrlAltF(7)));
        assert_eq!(send_key_named("ctrl-alt-f13"), None);
        assert_eq!(send_key_named("print"), Some(SendKey::PrintScreen));
    }

    #[test]
    fn a_spice_only_machine_is_told_in_words_and_by_type() {
        let error = SourceError::Request(RequestError::Display(DisplayError::SpiceOnly));
        assert_eq!(error.display(), Some(&DisplayError::SpiceOnly));
        assert!(error.in_words().contains("SPICE"), "{}", error.in_words());
        let tunnel = SourceError::Tunnel(TunnelError::Auth("Permission denied".into()));
        assert_eq!(tunnel.display(), None);
        assert!(tunnel.in_words().ends_with("Permission denied"));
    }

    #[test]
    fn a_remote_display_off_ssh_is_dialled_only_on_the_network() {
        let at = |address: &str| Listen::Address {
            host: address.into(),
            port: 5900,
        };
        let dialled = |listen| match on_the_network("kvm1".into(), listen) {
            Ok(ConsoleSource::Tcp { host, port }) => Some(format!("{host}:{port}")),
            _ => None,
        };
        assert_eq!(dialled(at("0.0.0.0")).as_deref(), Some("kvm1:5900"));
        assert_eq!(dialled(at("::")).as_deref(), Some("kvm1:5900"));
        assert_eq!(dialled(at("192.0.2.4")).as_deref(), Some("192.0.2.4:5900"));
        assert_eq!(dialled(at("127.0.0.1")), None);
        assert_eq!(dialled(at("::1")), None);
        assert_eq!(dialled(at("localhost")), None);
        assert_eq!(dialled(Listen::Socket("/run/vnc".into())), None);
    }
}
