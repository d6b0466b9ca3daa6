//! libvirt's virtual networks on the Networking page: each with switches to run it and to
//! start it with the host.

use super::networking::NetworkingPage;
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{NetworkChange as Change, Request, VirtualNetwork as VNet};
use crate::ui::util::{show_error, Failure};
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::VirtualNetwork)]
    pub struct VirtualNetwork {
        #[property(get, set)]
        name: RefCell<String>,
        /// Its bridge and whether it runs, in one line.
        #[property(get, set)]
        facts: RefCell<String>,
        #[property(get, set)]
        active: Cell<bool>,
        #[property(get, set)]
        autostart: Cell<bool>,
        /// Defined for good (only those can start with the host).
        #[property(get, set)]
        persistent: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VirtualNetwork {
        const NAME: &'static str = "VdVirtualNetwork";
        type Type = super::VirtualNetwork;
    }

    #[glib::derived_properties]
    impl ObjectImpl for VirtualNetwork {}
}

glib::wrapper! {
    /// A virtual network as its row shows it.
    pub struct VirtualNetwork(ObjectSubclass<imp::VirtualNetwork>);
}

impl VirtualNetwork {
    pub(super) fn new(net: &VNet) -> Self {
        let mut facts = Vec::new();
        if let Some(bridge) = &net.bridge {
            facts.push(gettext_f(
                // Translators: {bridge} is the name of a network bridge.
                "Bridge {bridge}",
                &[("bridge", bridge)],
            ));
        }
        facts.push(if net.active {
            gettext("Active")
        } else {
            gettext("Inactive")
        });
        glib::Object::builder()
            .property("name", &net.name)
            .property("facts", facts.join(" · "))
            .property("active", net.active)
            .property("autostart", net.autostart)
            .property("persistent", net.persistent)
            .build()
    }
}

/// Starts (`on`) or stops network `name` of the page's connection.
pub(super) fn set_active(page: &NetworkingPage, name: String, on: bool) {
    change(page, name, Change::Active(on));
}

/// Has network `name` of the page's connection start with the host (`on`) or not.
pub(super) fn set_autostart(page: &NetworkingPage, name: String, on: bool) {
    change(page, name, Change::Autostart(on));
}

/// Has the connection's worker make `change`, says when it failed, and shows the networks
/// again.
fn change(page: &NetworkingPage, name: String, change: Change) {
    let Some(connection) = page.connection() else {
        return;
    };
    page.set_sensitive(false);
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let outcome = connection
                .request(|reply| Request::ChangeNetwork {
                    name: name.clone(),
                    change,
                    reply,
                })
                .await;
            if let Err(reason) = outcome {
                show_error(
                    &page,
                    &Failure::with_detail(failed(change, &name), reason.to_string()),
                );
            }
            page.reload();
        }
    ));
}

/// What did not happen to network `name`, as a toast says it.
fn failed(change: Change, name: &str) -> String {
    match change {
        Change::Active(true) => gettext_f(
            // Translators: {name} is a virtual network.
            "Virtual network “{name}” could not be started",
            &[("name", name)],
        ),
        Change::Active(false) => gettext_f(
            // Translators: {name} is a virtual network.
            "Virtual network “{name}” could not be stopped",
            &[("name", name)],
        ),
        Change::Autostart(_) => gettext_f(
            // Translators: {name} is a virtual network.
            "Whether virtual network “{name}” starts with the host could not be changed",
            &[("name", name)],
        ),
    }
}
