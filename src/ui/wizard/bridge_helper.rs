//! Session machines reach a host bridge through qemu-bridge-helper, which only allows the
//! bridges listed in its configuration: say so when the chosen bridge is not, and offer to
//! allow it.

use super::build::set_text;
use super::Wizard;
use crate::host::net::{allow_bridge_for_session, bridge_allowed_for_session, Runner, BRIDGE_CONF};
use crate::i18n::gettext_f;
use crate::spec::Network;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

impl Wizard {
    /// The chosen bridge when the connection is a session one and the helper does not
    /// allow that bridge yet.
    fn bridge_needing_helper(&self) -> Option<String> {
        let session = self.connection()?.uri().ends_with("/session");
        match self.network() {
            Network::Bridge { name }
                if session && !name.is_empty() && !bridge_allowed_for_session(&name) =>
            {
                Some(name)
            }
            _ => None,
        }
    }

    /// Shows or hides the hint for the chosen network.
    pub(super) fn update_bridge_helper(&self) {
        let imp = self.imp();
        let bridge = self.bridge_needing_helper();
        imp.bridge_helper_box.set_visible(bridge.is_some());
        imp.allow_bridge_button.set_sensitive(true);
        if let Some(bridge) = bridge {
            set_text(
                &imp.bridge_helper_label,
                &gettext_f(
                    // Translators: {bridge} is a host bridge, {file} the helper's configuration.
                    "Machines of a session connection join a bridge through qemu-bridge-helper, which does not allow “{bridge}” yet: it is not listed in {file}.",
                    &[("bridge", &bridge), ("file", BRIDGE_CONF)],
                ),
            );
        }
    }

    pub(super) fn connect_bridge_helper(&self) {
        self.imp().allow_bridge_button.connect_clicked(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| wizard.allow_bridge()
        ));
    }

    /// Adds the chosen bridge to the helper's configuration (through pkexec when not
    /// root), off the main thread; a failure is shown in words.
    fn allow_bridge(&self) {
        let Some(bridge) = self.bridge_needing_helper() else {
            return;
        };
        self.imp().allow_bridge_button.set_sensitive(false);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                let done = gio::spawn_blocking(move || {
                    allow_bridge_for_session(&Runner::local(), &bridge)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .await;
                match done {
                    Ok(Ok(())) => wizard.update_bridge_helper(),
                    Ok(Err(reason)) => {
                        let imp = wizard.imp();
                        set_text(
                            &imp.bridge_helper_label,
                            &gettext_f(
                                // Translators: {reason} says why the file could not be changed.
                                "The bridge could not be allowed: {reason}",
                                &[("reason", &reason)],
                            ),
                        );
                        imp.allow_bridge_button.set_sensitive(true);
                    }
                    Err(_) => tracing::error!("allowing the bridge panicked"),
                }
            }
        ));
    }
}
