//! A small blocking client of NetworkManager's D-Bus API: method calls, properties, and
//! NetworkManager's errors as sentences. It talks to the system bus, which also honours
//! `DBUS_SYSTEM_BUS_ADDRESS`. NetworkManager asks polkit itself whether the caller may make
//! a change, so nothing here escalates.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use zbus::blocking::Connection;
use zbus::zvariant::{DynamicDeserialize, DynamicType, ObjectPath, OwnedObjectPath, OwnedValue};

use super::super::{NetError, Runner};

pub(super) const NM: &str = "org.freedesktop.NetworkManager";
pub(super) const NM_PATH: &str = "/org/freedesktop/NetworkManager";
pub(super) const SETTINGS_PATH: &str = "/org/freedesktop/NetworkManager/Settings";
pub(super) const DEVICE: &str = "org.freedesktop.NetworkManager.Device";
pub(super) const ACTIVE: &str = "org.freedesktop.NetworkManager.Connection.Active";
pub(super) const SETTINGS: &str = "org.freedesktop.NetworkManager.Settings";
pub(super) const CONNECTION: &str = "org.freedesktop.NetworkManager.Settings.Connection";

/// A connection profile as NetworkManager hands it over: setting name → property → value.
pub(super) type Profile = HashMap<String, HashMap<String, OwnedValue>>;

/// The object path NetworkManager uses for "none".
pub(super) const NONE: &str = "/";

/// A connection to the bus on which NetworkManager answers.
pub(super) struct Client {
    conn: Connection,
}

impl Client {
    /// The client for `runner`'s NetworkManager; `None` when the runner has none (another
    /// network namespace), there is no system bus or NetworkManager is not running on it.
    /// A bus that is there but fails to answer is an error. NetworkManager is never
    /// started through bus activation.
    pub(super) fn connect(runner: &Runner) -> Result<Option<Client>, NetError> {
        if !runner.network_manager() {
            return Ok(None);
        }
        let conn = match Connection::system() {
            Ok(conn) => conn,
            Err(zbus::Error::InputOutput(e)) if no_bus(&e) => {
                tracing::debug!("no system bus: {e}");
                return Ok(None);
            }
            Err(e) => return Err(error("connecting to the system bus", e)),
        };
        let ask = || -> Result<bool, zbus::Error> {
            let bus = zbus::blocking::fdo::DBusProxy::new(&conn)?;
            Ok(bus.name_has_owner(NM.try_into()?)?)
        };
        let running = ask().map_err(|e| error("NameHasOwner", e))?;
        Ok(running.then_some(Client { conn }))
    }

    /// Calls `iface.method(body)` on NetworkManager's object `path`.
    pub(super) fn call<B, R>(
        &self,
        path: &str,
        iface: &str,
        method: &str,
        body: &B,
    ) -> Result<R, NetError>
    where
        B: serde::Serialize + DynamicType,
        R: for<'d> DynamicDeserialize<'d>,
    {
        let reply = self
            .conn
            .call_method(Some(NM), path, Some(iface), method, body)
            .map_err(|e| error(method, e))?;
        reply.body().deserialize().map_err(|e| error(method, e))
    }

    /// Property `iface.name` of object `path`.
    pub(super) fn property<T>(&self, path: &str, iface: &str, name: &str) -> Result<T, NetError>
    where
        T: TryFrom<OwnedValue>,
        T::Error: std::fmt::Display,
    {
        let value: OwnedValue = self.call(
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            &(iface, name),
        )?;
        T::try_from(value).map_err(|e| NetError::NmFailed(format!("property {name}: {e}")))
    }

    /// The device object of interface `iface`.
    pub(super) fn device(&self, iface: &str) -> Result<OwnedObjectPath, NetError> {
        self.call(NM_PATH, NM, "GetDeviceByIpIface", &iface)
            .map_err(|e| match e {
                NetError::NmNoDevice(_) => NetError::NmNoDevice(iface.to_owned()),
                other => other,
            })
    }

    /// The saved profile of the connection active on `device`, with its object path; `None`
    /// when nothing is active there.
    pub(super) fn active_profile(
        &self,
        device: &str,
    ) -> Result<Option<(OwnedObjectPath, Profile)>, NetError> {
        let active: OwnedObjectPath = self.property(device, DEVICE, "ActiveConnection")?;
        if active.as_str() == NONE {
            return Ok(None);
        }
        let path: OwnedObjectPath = self.property(&active, ACTIVE, "Connection")?;
        let profile = self.call(&path, CONNECTION, "GetSettings", &())?;
        Ok(Some((path, profile)))
    }

    /// Waits up to `within` for active connection `active` (of interface `name`) to come
    /// up; an error when it fails. Still on its way at the end (a slow DHCP server) is not a
    /// failure: the user sees the result and decides.
    pub(super) fn wait_activated(
        &self,
        active: &str,
        name: &str,
        within: Duration,
    ) -> Result<(), NetError> {
        const ACTIVATED: u32 = 2;
        const DEACTIVATING: u32 = 3;
        let deadline = Instant::now() + within;
        loop {
            // A failed activation disappears from the bus.
            let state = self
                .property::<u32>(active, ACTIVE, "State")
                .map_err(|_| NetError::NmActivation(name.to_owned()))?;
            match state {
                ACTIVATED => return Ok(()),
                s if s >= DEACTIVATING => return Err(NetError::NmActivation(name.to_owned())),
                _ if Instant::now() >= deadline => {
                    tracing::info!("{name} is still coming up");
                    return Ok(());
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

/// Whether connecting failed because no bus listens at all.
fn no_bus(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::ConnectionRefused | ErrorKind::PermissionDenied
    )
}

/// `p` as an object path argument.
pub(super) fn object_path(p: &str) -> Result<ObjectPath<'_>, NetError> {
    ObjectPath::try_from(p).map_err(|e| NetError::NmFailed(e.to_string()))
}

/// NetworkManager's D-Bus errors as sentences.
fn error(method: &str, e: zbus::Error) -> NetError {
    let zbus::Error::MethodError(name, detail, _) = &e else {
        return match e {
            zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                NetError::NmTimeout
            }
            other => NetError::NmFailed(format!("{method}: {other}")),
        };
    };
    let detail = detail.clone().unwrap_or_default();
    let short = name.rsplit('.').next().unwrap_or_default();
    match short {
        "PermissionDenied"
        | "AccessDenied"
        | "AuthFailed"
        | "InteractiveAuthorizationRequired"
        | "NotAuthorized" => NetError::NmDenied,
        "UnknownDevice" => NetError::NmNoDevice(detail),
        "NoReply" | "Timeout" | "TimedOut" => NetError::NmTimeout,
        _ => NetError::NmFailed(if detail.is_empty() {
            name.to_string()
        } else {
            detail
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_errors_become_sentences() {
        let reply = |name: &str, text: &str| {
            let msg = zbus::message::Message::method_call("/", "Get")
                .unwrap()
                .build(&())
                .unwrap();
            let err = zbus::message::Message::error(&msg.header(), name)
                .unwrap()
                .build(&text)
                .unwrap();
            error("Get", zbus::Error::from(err))
        };
        assert!(matches!(
            reply("org.freedesktop.NetworkManager.PermissionDenied", "no"),
            NetError::NmDenied
        ));
        assert!(matches!(
            reply("org.freedesktop.DBus.Error.NoReply", "late"),
            NetError::NmTimeout
        ));
        assert_eq!(
            reply("org.freedesktop.NetworkManager.Failed", "bad bridge").to_string(),
            "NetworkManager refused the change: bad bridge"
        );
    }
}
