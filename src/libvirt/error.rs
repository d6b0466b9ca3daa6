//! libvirt's error messages made readable, and which errors are worth retrying.

use virt::error::Error as VirtError;
use virt_sys as sys;

/// Category prefixes libvirt puts before the real message (`virErrorMsg`), which say
/// nothing to a person: "internal error: unable to …" becomes "Unable to …".
const NOISE_PREFIXES: &[&str] = &[
    "internal error: ",
    "operation failed: ",
    "Requested operation is not valid: ",
    "Operation not supported: ",
    "argument unsupported: ",
    "invalid argument: ",
    "unsupported configuration: ",
    "XML error: ",
    "error from service: ",
    "Domain not found: ",
    "Storage volume not found: ",
    "Storage pool not found: ",
    "Timed out during operation: ",
    "An error occurred, but the cause is unknown",
];

/// Turns a raw libvirt message into one readable sentence: category prefixes removed,
/// whitespace collapsed, first letter capitalised, a final full stop.
pub fn readable_message(raw: &str) -> String {
    let mut text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    // Prefixes can be stacked ("internal error: operation failed: …").
    loop {
        let before = text.len();
        for prefix in NOISE_PREFIXES {
            // Collapsing whitespace may have eaten the prefix's trailing space.
            if let Some(rest) = text.strip_prefix(prefix.trim_end()) {
                if rest.is_empty() || rest.starts_with(' ') {
                    text = rest.trim_start().to_owned();
                }
            }
        }
        if text.len() == before {
            break;
        }
    }
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return "Unknown error.".to_owned();
    };
    let mut sentence: String = first.to_uppercase().chain(chars).collect();
    if !sentence.ends_with(['.', '!', '?']) {
        // A trailing colon means libvirt had nothing to say after it.
        while sentence.ends_with([':', ',', ';']) {
            sentence.pop();
        }
        sentence.push('.');
    }
    sentence
}

/// [`readable_message`] of a `virt` error.
pub fn describe(error: &VirtError) -> String {
    readable_message(error.message())
}

/// Whether opening a connection that failed with `error` may work later (the daemon is
/// starting, the network is down) rather than never (no such driver, bad URI, bad file).
pub fn is_transient_open_error(error: &VirtError) -> bool {
    is_transient_open_failure(error.code().to_raw(), error.domain().to_raw())
        && !is_login_refused(error.message())
}

/// Whether ssh, which libvirt reports as a failing transport, refused the login itself
/// (wrong password, key or passphrase, a host key not trusted, the user cancelled): trying
/// again by itself would only ask the user again.
pub fn is_login_refused(message: &str) -> bool {
    [
        "Permission denied (",
        "Host key verification failed",
        "Too many authentication failures",
        "Authentication failed",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// [`is_transient_open_error`] on raw `virErrorNumber` / `virErrorDomain` values.
///
/// Failures of the transport (RPC, remote driver: socket missing, connection reset, ssh
/// down) are transient; anything a driver itself decided (unknown driver, unsupported
/// URI path, unreadable test file, refused authentication) is not.
pub fn is_transient_open_failure(code: u32, domain: u32) -> bool {
    let permanent_code = matches!(
        code,
        sys::VIR_ERR_NO_CONNECT
            | sys::VIR_ERR_INVALID_ARG
            | sys::VIR_ERR_NO_SUPPORT
            | sys::VIR_ERR_AUTH_FAILED
            | sys::VIR_ERR_AUTH_CANCELLED
            | sys::VIR_ERR_ARGUMENT_UNSUPPORTED
            | sys::VIR_ERR_CONFIG_UNSUPPORTED
            | sys::VIR_ERR_XML_ERROR
    );
    !permanent_code && matches!(domain, sys::VIR_FROM_RPC | sys::VIR_FROM_REMOTE)
}

/// Whether `error` says the domain does not exist (any more).
pub fn is_no_domain(error: &VirtError) -> bool {
    error.code().to_raw() == sys::VIR_ERR_NO_DOMAIN
}

/// Whether `error` says the driver does not support the flags or the call.
pub fn is_unsupported(error: &VirtError) -> bool {
    matches!(
        error.code().to_raw(),
        sys::VIR_ERR_INVALID_ARG
            | sys::VIR_ERR_NO_SUPPORT
            | sys::VIR_ERR_ARGUMENT_UNSUPPORTED
            | sys::VIR_ERR_OPERATION_UNSUPPORTED
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_ssh_login_is_not_retried() {
        assert!(is_login_refused(
            "Cannot recv data: root@203.0.113.2: Permission denied (publickey,password).: \
             Connection reset by peer"
        ));
        assert!(is_login_refused(
            "Cannot recv data: Host key verification failed.: Connection reset by peer"
        ));
        assert!(!is_login_refused(
            "Cannot recv data: ssh: connect to host 203.0.113.2 port 22: No route to host"
        ));
    }

    #[test]
    fn strips_category_noise_and_makes_a_sentence() {
        assert_eq!(
            readable_message("internal error: process exited while connecting to monitor"),
            "Process exited while connecting to monitor."
        );
        assert_eq!(
            readable_message("Requested operation is not valid: domain is not running"),
            "Domain is not running."
        );
        assert_eq!(
            readable_message("operation failed: domain 'vm1' already exists with uuid 1234"),
            "Domain 'vm1' already exists with uuid 1234."
        );
        assert_eq!(
            readable_message("Domain not found: no domain with matching uuid 'abc'"),
            "No domain with matching uuid 'abc'."
        );
    }

    #[test]
    fn stacked_prefixes_and_whitespace() {
        assert_eq!(
            readable_message("  internal error:   operation failed:\n  guest\tcrashed \n"),
            "Guest crashed."
        );
    }

    #[test]
    fn keeps_useful_messages_and_punctuation() {
        assert_eq!(
            readable_message("Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory"),
            "Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory."
        );
        assert_eq!(readable_message("Already stopped!"), "Already stopped!");
        assert_eq!(readable_message("cannot do it:"), "Cannot do it.");
        assert_eq!(readable_message("ünïcode first"), "Ünïcode first.");
    }

    #[test]
    fn empty_messages_still_say_something() {
        assert_eq!(readable_message(""), "Unknown error.");
        assert_eq!(readable_message("internal error: "), "Unknown error.");
        assert_eq!(
            readable_message("An error occurred, but the cause is unknown"),
            "Unknown error."
        );
    }

    #[test]
    fn transport_failures_are_transient_driver_verdicts_are_not() {
        // Socket missing, daemon gone, ssh unreachable.
        assert!(is_transient_open_failure(
            sys::VIR_ERR_SYSTEM_ERROR,
            sys::VIR_FROM_RPC
        ));
        assert!(is_transient_open_failure(
            sys::VIR_ERR_RPC,
            sys::VIR_FROM_REMOTE
        ));
        // "no connection driver available for foo:///system"
        assert!(!is_transient_open_failure(
            sys::VIR_ERR_NO_CONNECT,
            sys::VIR_FROM_NONE
        ));
        assert!(!is_transient_open_failure(
            sys::VIR_ERR_NO_CONNECT,
            sys::VIR_FROM_REMOTE
        ));
        // "unexpected qemu URI path '/bogus'"
        assert!(!is_transient_open_failure(
            sys::VIR_ERR_INTERNAL_ERROR,
            sys::VIR_FROM_QEMU
        ));
        // test:///missing.xml
        assert!(!is_transient_open_failure(
            sys::VIR_ERR_SYSTEM_ERROR,
            sys::VIR_FROM_TEST
        ));
        assert!(!is_transient_open_failure(
            sys::VIR_ERR_AUTH_FAILED,
            sys::VIR_FROM_REMOTE
        ));
    }
}
