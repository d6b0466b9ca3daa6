//! What an SSH prompt asks for, read from the words ssh passes to its askpass program.

use std::sync::LazyLock;

use regex::Regex;

/// One question of ssh, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The password of `target` (`user@host`), for password or keyboard-interactive login.
    Password { target: String },
    /// The passphrase of the private key at `key`.
    Passphrase { key: String },
    /// ssh has not seen this host's key before: `host` as ssh names it, `fingerprint`
    /// (e.g. `ED25519 SHA256:…`). Trusting it answers "yes".
    UnknownHostKey { host: String, fingerprint: String },
    /// A yes/no question (`SSH_ASKPASS_PROMPT=confirm`): the answer is the exit status.
    Confirm { text: String },
    /// Anything else (a one-time code, a PIN): the text, answered typed and hidden.
    Other { text: String },
}

/// What the user gave: the text to hand to ssh, and whether to keep it in the keyring
/// once the login has worked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub text: String,
    pub remember: bool,
}

static PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    // "root@host's password: " (password), "(root@host) Password: " (keyboard-interactive).
    Regex::new(r"^(?:(\S+)'s password|\((\S+)\) Password):\s*$").expect("valid pattern")
});
static PASSPHRASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Enter passphrase for(?: key)? '?(.+?)'?:\s*$").expect("valid pattern")
});
static AUTHENTICITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"The authenticity of host '([^']+)' can't be established").expect("valid pattern")
});
static FINGERPRINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\S+) key fingerprint is (\S+?)\.?$").expect("valid pattern")
});

impl Prompt {
    /// Reads ssh's prompt; `hint` is `SSH_ASKPASS_PROMPT` ("confirm", "none" or empty).
    pub fn parse(text: &str, hint: &str) -> Self {
        let trimmed = text.trim_end_matches('\n');
        if let Some(host) = AUTHENTICITY.captures(trimmed) {
            let fingerprint = FINGERPRINT
                .captures(trimmed)
                .map(|c| format!("{} {}", &c[1], &c[2]))
                .unwrap_or_default();
            // "203.0.113.2 (203.0.113.2)": the name once when it is the address.
            let host = match host[1].split_once(" (") {
                Some((name, address)) if address.trim_end_matches(')') == name => name.to_owned(),
                _ => host[1].to_owned(),
            };
            return Self::UnknownHostKey { host, fingerprint };
        }
        if hint == "confirm" {
            return Self::Confirm {
                text: trimmed.to_owned(),
            };
        }
        if let Some(c) = PASSWORD.captures(trimmed) {
            let target = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            return Self::Password {
                target: target.to_owned(),
            };
        }
        if let Some(c) = PASSPHRASE.captures(trimmed) {
            return Self::Passphrase {
                key: c[1].to_owned(),
            };
        }
        Self::Other {
            text: trimmed.to_owned(),
        }
    }

    /// What a remembered answer is filed under in the keyring: the kind and `user@host`
    /// or the key's path. Host keys and one-time answers are never remembered.
    pub fn keyring_key(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::Password { target } => Some(("ssh-password", target)),
            Self::Passphrase { key } => Some(("ssh-passphrase", key)),
            _ => None,
        }
    }

    /// The host a password is for (`user@host` → `host`), to tell which connection's
    /// login it belongs to.
    pub fn host(&self) -> Option<&str> {
        match self {
            Self::Password { target } => Some(target.rsplit_once('@').map_or(target, |t| t.1)),
            Self::UnknownHostKey { host, .. } => Some(host),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_prompts() {
        assert_eq!(
            Prompt::parse("root@203.0.113.2's password: ", ""),
            Prompt::Password {
                target: "root@203.0.113.2".into()
            }
        );
        assert_eq!(
            Prompt::parse("(admin@example.org) Password: ", ""),
            Prompt::Password {
                target: "admin@example.org".into()
            }
        );
        assert_eq!(
            Prompt::parse("root@203.0.113.2's password: ", "").host(),
            Some("203.0.113.2")
        );
    }

    #[test]
    fn passphrase_prompt() {
        assert_eq!(
            Prompt::parse("Enter passphrase for key '/root/.ssh/id_ed25519': ", ""),
            Prompt::Passphrase {
                key: "/root/.ssh/id_ed25519".into()
            }
        );
    }

    #[test]
    fn unknown_host_key_prompt() {
        let text = "The authenticity of host '203.0.113.32 (203.0.113.32)' can't be established.\n\
                    ED25519 key fingerprint is SHA256:9uVk4VUc7zsiR7W38btqNKD7y8mZ0Xb53bIuGiHolQY.\n\
                    This key is not known by any other names.\n\
                    Are you sure you want to continue connecting (yes/no/[fingerprint])? ";
        assert_eq!(
            Prompt::parse(text, ""),
            Prompt::UnknownHostKey {
                host: "203.0.113.32".into(),
                fingerprint: "ED25519 SHA256:9uVk4VUc7zsiR7W38btqNKD7y8mZ0Xb53bIuGiHolQY".into()
            }
        );
        let named = "The authenticity of host 'kvm1 (198.51.100.7)' can't be established.\n\
                     ECDSA key fingerprint is SHA256:abc.\nAre you sure (yes/no)? ";
        assert!(matches!(
            Prompt::parse(named, ""),
            Prompt::UnknownHostKey { host, .. } if host == "kvm1 (198.51.100.7)"
        ));
    }

    #[test]
    fn anything_else_is_shown_as_it_is() {
        assert_eq!(
            Prompt::parse("Verification code: ", ""),
            Prompt::Other {
                text: "Verification code: ".into()
            }
        );
        assert!(matches!(
            Prompt::parse("Allow use of key?", "confirm"),
            Prompt::Confirm { .. }
        ));
        assert_eq!(Prompt::parse("Verification code: ", "").keyring_key(), None);
    }
}
