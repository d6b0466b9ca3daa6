//! Where a console connects to: a socket libvirt hands over for a local connection, so no
//! TCP port needs to be reachable, else the guest's graphics listen address and the VNC
//! password from the domain's secure XML.

use crate::console::{ConsoleSource, SendKey};
use crate::i18n::gettext;
use crate::ui::backend::{domain::Graphics, ConnectionName, Request};
use crate::ui::{Connection, Domain};

/// The source of `domain`'s console, asked of the connection's worker; the error is a
/// sentence.
pub async fn console_source(
    connection: &Connection,
    domain: &Domain,
) -> Result<ConsoleSource, String> {
    if let Some(source) = address_override() {
        return Ok(source);
    }
    let uri = connection.uri();
    let uuid = domain.uuid();
    let graphics = domain.info().graphics.into_iter().find(|g| g.kind == "vnc");
    match ConnectionName::parse(&uri).host {
        None => local_socket(connection, uuid).await,
        Some(host) => remote_address(host, graphics),
    }
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
        ConsoleSource::Tcp { .. } if typed.is_some() => typed,
        ConsoleSource::Tcp { .. } => stored_password(connection, domain).await,
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
async fn local_socket(connection: &Connection, uuid: String) -> Result<ConsoleSource, String> {
    connection
        .request(|reply| Request::GraphicsSocket { uuid, reply })
        .await
        .map(ConsoleSource::Socket)
        .map_err(|e| e.to_string())
}

/// The guest's VNC address on a remote host.
fn remote_address(host: String, graphics: Option<Graphics>) -> Result<ConsoleSource, String> {
    let graphics = graphics.ok_or_else(|| gettext("The virtual machine has no VNC display"))?;
    let port = graphics
        .port
        .ok_or_else(|| gettext("The virtual machine's display has no port yet"))?;
    let listen = graphics
        .listen
        .filter(|l| !l.is_empty() && l != "0.0.0.0" && l != "::")
        .unwrap_or(host);
    Ok(ConsoleSource::Tcp { host: listen, port })
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
    use super::send_key_named;
    use crate::console::SendKey;

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
}
