//! libvirt's own authentication (`virConnectOpenAuth`): the credentials a SASL login
//! (`qemu+tcp://`, `qemu+tls://`) or the libssh transport (`qemu+libssh://`: password,
//! unknown host key) asks for are handed to whoever serves [`requests`] — the window —
//! and the worker that opens the connection waits for the answer.
//!
//! The `virt` crate's `open_auth` reads a credential's challenge without checking for
//! NULL, which libvirt sends for its host-key question; this small wrapper reads each field
//! safely, so the unsafe code is kept to this file.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::sync::{LazyLock, OnceLock};

use regex::Regex;
use virt::connect::Connect;
use virt_sys as sys;

/// What one credential asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A user name (`VIR_CRED_USERNAME`, `VIR_CRED_AUTHNAME`), typed in the clear.
    UserName,
    /// A secret (`VIR_CRED_PASSPHRASE`, `VIR_CRED_NOECHOPROMPT`), typed hidden.
    Secret,
    /// A question answered in the clear (`VIR_CRED_ECHOPROMPT`), e.g. "Accept SSH host
    /// key …? (y/n)".
    Question,
    /// The authentication realm (`VIR_CRED_REALM`).
    Realm,
}

const ACCEPTED: [(sys::virConnectCredentialType, CredentialKind); 6] = [
    (sys::VIR_CRED_USERNAME, CredentialKind::UserName),
    (sys::VIR_CRED_AUTHNAME, CredentialKind::UserName),
    (sys::VIR_CRED_PASSPHRASE, CredentialKind::Secret),
    (sys::VIR_CRED_NOECHOPROMPT, CredentialKind::Secret),
    (sys::VIR_CRED_ECHOPROMPT, CredentialKind::Question),
    (sys::VIR_CRED_REALM, CredentialKind::Realm),
];

/// One credential libvirt asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub kind: CredentialKind,
    pub prompt: String,
    pub challenge: Option<String>,
    pub default: Option<String>,
}

static HOST_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Accept SSH host key with hash '([^']+)' for host '([^']+)' \(y/n\)\?$")
        .expect("valid pattern")
});

impl Credential {
    /// libvirt's libssh transport asking to trust an unknown host key: `(host, hash)`.
    /// Trusting it is answering "y".
    pub fn host_key(&self) -> Option<(String, String)> {
        let c = HOST_KEY.captures(self.prompt.trim())?;
        Some((c[2].to_owned(), c[1].to_owned()))
    }
}

/// The window's part: what it is asked, and where the answer goes (one text per
/// credential, in order; `None` cancels the login).
#[derive(Debug)]
pub struct CredentialsRequest {
    pub uri: String,
    pub credentials: Vec<Credential>,
    pub reply: async_channel::Sender<Option<Vec<String>>>,
}

type Channel = (
    async_channel::Sender<CredentialsRequest>,
    async_channel::Receiver<CredentialsRequest>,
);
static CHANNEL: OnceLock<Channel> = OnceLock::new();

fn channel() -> &'static Channel {
    CHANNEL.get_or_init(async_channel::unbounded)
}

/// Where the questions of every login arrive; the window serves them. While nobody holds
/// a receiver, a login that needs credentials fails ("no answer").
pub fn requests() -> async_channel::Receiver<CredentialsRequest> {
    channel().1.clone()
}

/// Opens `uri`; credentials libvirt asks for on the way are asked of [`requests`], and
/// this (worker) thread waits for the answer.
pub fn open(uri: &str) -> Result<Connect, virt::error::Error> {
    let c_uri = CString::new(uri).map_err(|_| virt::error::Error::last_error())?;
    let mut types: Vec<c_int> = ACCEPTED.iter().map(|(t, _)| *t as c_int).collect();
    let mut context = uri.to_owned();
    let mut auth = sys::virConnectAuth {
        credtype: types.as_mut_ptr(),
        ncredtype: types.len() as c_uint,
        cb: Some(callback),
        cbdata: (&mut context as *mut String).cast(),
    };
    // SAFETY: `auth`, `types`, `context` and `c_uri` outlive the call, which is the only
    // time libvirt uses them; libvirt returns a new connection reference or NULL.
    let ptr = unsafe { sys::virConnectOpenAuth(c_uri.as_ptr(), &mut auth, 0) };
    if ptr.is_null() {
        Err(virt::error::Error::last_error())
    } else {
        // SAFETY: a valid connection whose reference `Connect` now owns.
        Ok(unsafe { Connect::from_ptr(ptr) })
    }
}

/// Asks the window and waits; `None` when nobody answers.
fn ask(uri: &str, credentials: Vec<Credential>) -> Option<Vec<String>> {
    let (reply, answer) = async_channel::bounded(1);
    let (tx, rx) = channel();
    // Nobody serves the questions (no window): asking would wait for ever.
    if rx.receiver_count() <= 1 {
        return None;
    }
    tx.send_blocking(CredentialsRequest {
        uri: uri.to_owned(),
        credentials,
        reply,
    })
    .ok()?;
    answer.recv_blocking().ok().flatten()
}

/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
unsafe fn text(ptr: *const c_char) -> Option<String> {
    (!ptr.is_null()).then(|| CStr::from_ptr(ptr).to_string_lossy().into_owned())
}

unsafe extern "C" fn callback(
    creds: sys::virConnectCredentialPtr,
    count: c_uint,
    data: *mut c_void,
) -> c_int {
    let run = std::panic::catch_unwind(|| {
        if creds.is_null() || data.is_null() {
            return -1;
        }
        // SAFETY: libvirt passes `count` credentials and the `cbdata` given in `open`.
        let creds = unsafe { std::slice::from_raw_parts_mut(creds, count as usize) };
        let uri = unsafe { &*(data as *const String) };
        let mut asked = Vec::with_capacity(creds.len());
        for cred in creds.iter() {
            let Some(kind) = ACCEPTED
                .iter()
                .find(|(t, _)| *t as c_int == cred.type_)
                .map(|(_, k)| *k)
            else {
                return -1;
            };
            // SAFETY: libvirt's strings, each NULL or NUL-terminated.
            asked.push(unsafe {
                Credential {
                    kind,
                    prompt: text(cred.prompt).unwrap_or_default(),
                    challenge: text(cred.challenge),
                    default: text(cred.defresult),
                }
            });
        }
        let Some(answers) = ask(uri, asked) else {
            return -1;
        };
        if answers.len() != creds.len() {
            return -1;
        }
        for (cred, answer) in creds.iter_mut().zip(answers) {
            let Ok(answer) = CString::new(answer) else {
                return -1;
            };
            // libvirt frees the result with free(): it must come from malloc.
            // SAFETY: strdup copies a valid NUL-terminated string.
            let copy = unsafe { nix::libc::strdup(answer.as_ptr()) };
            if copy.is_null() {
                return -1;
            }
            cred.resultlen = answer.as_bytes().len() as c_uint;
            cred.result = copy;
        }
        0
    });
    run.unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_question() {
        let cred = Credential {
            kind: CredentialKind::Question,
            prompt: "Accept SSH host key with hash 'SHA256:abc' for host '203.0.113.2:22' (y/n)?"
                .into(),
            challenge: None,
            default: None,
        };
        assert_eq!(
            cred.host_key(),
            Some(("203.0.113.2:22".into(), "SHA256:abc".into()))
        );
    }

    #[test]
    fn without_a_window_a_login_that_needs_credentials_is_refused_not_stuck() {
        assert_eq!(ask("qemu+libssh://nowhere/system", Vec::new()), None);
    }
}
