//! Remembered SSH passwords and key passphrases in the desktop keyring, through the
//! freedesktop Secret Service on the session bus (GNOME Keyring, KWallet, KeePassXC).
//! Nothing is written anywhere else. Blocking: call it off the main loop.
//!
//! Items are labelled "Virtdeck: …" and found by their attributes: `application`,
//! `kind` ("ssh-password" or "ssh-passphrase") and `target` (`user@host`, or the key's
//! path). The secret travels in the service's "plain" session: it never leaves the
//! user's own session bus.

use std::collections::HashMap;

use zbus::blocking::{Connection, Proxy};
use zbus::zvariant::{OwnedObjectPath, Value};

const SERVICE: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_IFACE: &str = "org.freedesktop.Secret.Service";
const COLLECTION_IFACE: &str = "org.freedesktop.Secret.Collection";
const ITEM_IFACE: &str = "org.freedesktop.Secret.Item";
const PROMPT_IFACE: &str = "org.freedesktop.Secret.Prompt";
const APPLICATION: &str = "io.github.virtdeck.Virtdeck";

/// Why the keyring could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("no keyring service answers on the session bus: {0}")]
    Unavailable(String),
    #[error("the keyring refused: {0}")]
    Refused(String),
    #[error("the keyring stayed locked")]
    Locked,
}

impl From<zbus::Error> for KeyringError {
    fn from(e: zbus::Error) -> Self {
        match &e {
            zbus::Error::MethodError(name, _, _)
                if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown" =>
            {
                Self::Unavailable(e.to_string())
            }
            zbus::Error::InputOutput(_) | zbus::Error::Address(_) => {
                Self::Unavailable(e.to_string())
            }
            _ => Self::Refused(e.to_string()),
        }
    }
}

/// A secret as the Secret Service passes it: session, parameters, value, content type.
type Secret = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

/// One open session with the user's keyring.
pub struct Keyring {
    conn: Connection,
    session: OwnedObjectPath,
}

impl Keyring {
    pub fn open() -> Result<Self, KeyringError> {
        let conn = Connection::session().map_err(|e| KeyringError::Unavailable(e.to_string()))?;
        let service = Proxy::new(&conn, SERVICE, SERVICE_PATH, SERVICE_IFACE)?;
        let (_, session): (zbus::zvariant::OwnedValue, OwnedObjectPath) =
            service.call("OpenSession", &("plain", Value::from("")))?;
        Ok(Self { conn, session })
    }

    fn service(&self) -> Result<Proxy<'_>, KeyringError> {
        Ok(Proxy::new(
            &self.conn,
            SERVICE,
            SERVICE_PATH,
            SERVICE_IFACE,
        )?)
    }

    /// The remembered secret of `kind` for `target`, if any.
    pub fn lookup(&self, kind: &str, target: &str) -> Result<Option<String>, KeyringError> {
        let Some(item) = self.find(kind, target)? else {
            return Ok(None);
        };
        let secrets: HashMap<OwnedObjectPath, Secret> = self
            .service()?
            .call("GetSecrets", &(vec![&item], &self.session))?;
        Ok(secrets
            .into_values()
            .next()
            .map(|(_, _, value, _)| String::from_utf8_lossy(&value).into_owned()))
    }

    /// Keeps `secret` for `target` in the default keyring, replacing an older one.
    pub fn store(&self, kind: &str, target: &str, secret: &str) -> Result<(), KeyringError> {
        let service = self.service()?;
        let mut collection: OwnedObjectPath = service.call("ReadAlias", &("default",))?;
        if collection.as_str() == "/" {
            collection = service.call("ReadAlias", &("login",))?;
        }
        if collection.as_str() == "/" {
            return Err(KeyringError::Refused("there is no default keyring".into()));
        }
        self.unlock(&[&collection])?;
        let attributes = attributes(kind, target);
        let label = format!("Virtdeck: {target}");
        let mut properties: HashMap<&str, Value> = HashMap::new();
        properties.insert("org.freedesktop.Secret.Item.Label", Value::from(label));
        properties.insert(
            "org.freedesktop.Secret.Item.Attributes",
            Value::from(attributes),
        );
        let secret: Secret = (
            self.session.clone(),
            Vec::new(),
            secret.as_bytes().to_vec(),
            "text/plain".to_owned(),
        );
        let collection = Proxy::new(&self.conn, SERVICE, collection.as_str(), COLLECTION_IFACE)?;
        let (_item, prompt): (OwnedObjectPath, OwnedObjectPath) =
            collection.call("CreateItem", &(properties, secret, true))?;
        self.complete(&prompt)?;
        Ok(())
    }

    /// Forgets the secret of `kind` for `target`; nothing happens when there is none.
    pub fn delete(&self, kind: &str, target: &str) -> Result<(), KeyringError> {
        if let Some(item) = self.find(kind, target)? {
            let item = Proxy::new(&self.conn, SERVICE, item.as_str(), ITEM_IFACE)?;
            let prompt: OwnedObjectPath = item.call("Delete", &())?;
            self.complete(&prompt)?;
        }
        Ok(())
    }

    /// The item of `kind` for `target`, unlocked.
    fn find(&self, kind: &str, target: &str) -> Result<Option<OwnedObjectPath>, KeyringError> {
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = self
            .service()?
            .call("SearchItems", &(attributes(kind, target),))?;
        if let Some(item) = unlocked.into_iter().next() {
            return Ok(Some(item));
        }
        let Some(item) = locked.into_iter().next() else {
            return Ok(None);
        };
        self.unlock(&[&item])?;
        Ok(Some(item))
    }

    fn unlock(&self, objects: &[&OwnedObjectPath]) -> Result<(), KeyringError> {
        let (_, prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) =
            self.service()?.call("Unlock", &(objects,))?;
        if self.complete(&prompt)? {
            Ok(())
        } else {
            Err(KeyringError::Locked)
        }
    }

    /// Lets the keyring ask the user (e.g. to unlock it) when it returned a prompt;
    /// `false` when the user dismissed it.
    fn complete(&self, prompt: &OwnedObjectPath) -> Result<bool, KeyringError> {
        if prompt.as_str() == "/" {
            return Ok(true);
        }
        let proxy = Proxy::new(&self.conn, SERVICE, prompt.as_str(), PROMPT_IFACE)?;
        let mut completed = proxy.receive_signal("Completed")?;
        proxy.call_method("Prompt", &("",))?;
        let Some(message) = completed.next() else {
            return Ok(false);
        };
        let (dismissed, _): (bool, zbus::zvariant::OwnedValue) = message.body().deserialize()?;
        Ok(!dismissed)
    }
}

fn attributes<'a>(kind: &'a str, target: &'a str) -> HashMap<&'a str, &'a str> {
    HashMap::from([
        ("application", APPLICATION),
        ("kind", kind),
        ("target", target),
    ])
}
