//! libvirt's virtual networks on the Networking page: each with switches to run it and to
//! start it with the host.

use super::networking::NetworkingPage;
use super::run_blocking;
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::error::describe;
use crate::ui::util::{show_error, Failure};
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::{Cell, RefCell};
use virt::connect::Connect;

/// One virtual network as libvirt has it.
#[derive(Debug, Clone)]
pub(super) struct VNet {
    pub name: String,
    pub bridge: Option<String>,
    pub active: bool,
    pub autostart: bool,
    pub persistent: bool,
}

/// The virtual networks of `uri`, over a connection of their own. Blocks.
pub(super) fn list(uri: &str) -> Result<Vec<VNet>, String> {
    let conn = Connect::open(Some(uri)).map_err(|e| describe(&e))?;
    let mut nets: Vec<VNet> = conn
        .list_all_networks(0)
        .map_err(|e| describe(&e))?
        .into_iter()
        .filter_map(|n| {
            Some(VNet {
                name: n.name().ok()?,
                bridge: n.bridge_name().ok(),
                active: n.is_active().unwrap_or(false),
                autostart: n.autostart().unwrap_or(false),
                persistent: n.is_persistent().unwrap_or(false),
            })
        })
        .collect();
    nets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nets)
}

/// What a switch changes.
#[derive(Debug, Clone, Copy)]
enum Change {
    Active(bool),
    Autostart(bool),
}

/// Starts or stops network `name`, or sets its autostart. Blocks.
fn apply(uri: &str, name: &str, change: Change) -> Result<(), String> {
    let conn = Connect::open(Some(uri)).map_err(|e| describe(&e))?;
    let net = conn
        .lookup_network_by_name(name)
        .map_err(|e| describe(&e))?;
    match change {
        Change::Active(true) => net.create(),
        Change::Active(false) => net.destroy(),
        Change::Autostart(on) => net.set_autostart(on),
    }
    .map_err(|e| describe(&e))
}

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

/// Makes `change` off the main thread, says when it failed, and shows the networks again.
fn change(page: &NetworkingPage, name: String, change: Change) {
    let uri = page.uri();
    page.set_sensitive(false);
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let network = name.clone();
            let outcome = run_blocking(move || apply(&uri, &network, change)).await;
            if let Some(Err(reason)) = outcome {
                show_error(&page, &Failure::with_detail(failed(change, &name), reason));
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
