//! The asker: what `virtdeck-askpass PROMPT` does when ssh runs it. It shows nothing
//! itself; it asks the instance that started ssh and prints the answer for ssh.

use std::io::Write;
use std::path::Path;

use gio::prelude::*;

use super::{read_bus_file, INTERFACE, OBJECT_PATH};

/// Runs the asker; the exit status is what ssh reads (0 answered, 1 cancelled or failed).
pub fn main(argv0: &Path, prompt: &str) -> glib::ExitCode {
    let hint = std::env::var("SSH_ASKPASS_PROMPT").unwrap_or_default();
    if hint == "none" {
        // A notice that needs no answer (e.g. "touch your security key").
        return glib::ExitCode::SUCCESS;
    }
    match ask(argv0, prompt, &hint) {
        Ok(answer) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{answer}")
                .and_then(|()| out.flush())
                .is_err()
            {
                return glib::ExitCode::FAILURE;
            }
            glib::ExitCode::SUCCESS
        }
        Err(error) => {
            // Never the answer; only why there is none.
            eprintln!("virtdeck-askpass: {error}");
            glib::ExitCode::FAILURE
        }
    }
}

fn ask(argv0: &Path, prompt: &str, hint: &str) -> Result<String, String> {
    let (address, name) =
        read_bus_file(argv0).map_err(|e| format!("no running Virtdeck to ask ({e})"))?;
    let flags = gio::DBusConnectionFlags::AUTHENTICATION_CLIENT
        | gio::DBusConnectionFlags::MESSAGE_BUS_CONNECTION;
    let bus = gio::DBusConnection::for_address_sync(
        &address,
        flags,
        None::<&gio::DBusAuthObserver>,
        None::<&gio::Cancellable>,
    )
    .map_err(|e| format!("cannot reach the session bus: {e}"))?;
    let asker = std::os::unix::process::parent_id();
    let reply = bus
        .call_sync(
            Some(&name),
            OBJECT_PATH,
            INTERFACE,
            "Ask",
            Some(&(prompt, hint, asker).to_variant()),
            Some(glib::VariantTy::new("(s)").expect("valid type")),
            gio::DBusCallFlags::NONE,
            // The user may take their time.
            i32::MAX,
            None::<&gio::Cancellable>,
        )
        .map_err(|e| match gio::DBusError::remote_error(&e) {
            Some(name) if name == super::CANCELLED => "cancelled".to_owned(),
            _ => e.message().to_owned(),
        })?;
    let (answer,) = reply
        .get::<(String,)>()
        .ok_or_else(|| "an answer of the wrong type".to_owned())?;
    Ok(answer)
}
