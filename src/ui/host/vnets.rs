//! libvirt's virtual networks on the Networking page: each with switches to run it and to
//! start it with the host.

use super::networking::{empty_row, link_row, NetworkPage};
use super::off_main;
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::error::describe;
use adw::prelude::*;
use gtk::glib;
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

pub(super) fn group(page: &NetworkPage, nets: Result<Vec<VNet>, String>) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::builder()
        .title(gettext("Virtual Networks"))
        .description(gettext(
            "Networks libvirt makes for virtual machines, usually with NAT to the host's network.",
        ))
        .build();
    let nets = match nets {
        Ok(nets) => nets,
        Err(reason) => {
            group.add(&empty_row(&reason));
            return group;
        }
    };
    if nets.is_empty() {
        group.add(&empty_row(&gettext("No virtual networks")));
    }
    for net in nets {
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
        let row = link_row(&net.name, &facts);
        row.add_suffix(&switch(
            page,
            &net.name,
            (
                &gettext("Running"),
                &gettext_f(
                    // Translators: {name} is a virtual network.
                    "Run {name}",
                    &[("name", &net.name)],
                ),
            ),
            net.active,
            Change::Active,
        ));
        if net.persistent {
            row.add_suffix(&switch(
                page,
                &net.name,
                (
                    &gettext("Autostart"),
                    &gettext_f(
                        // Translators: {name} is a virtual network.
                        "Start {name} with the host",
                        &[("name", &net.name)],
                    ),
                ),
                net.autostart,
                Change::Autostart,
            ));
        }
        group.add(&row);
    }
    group
}

/// A switch for one property of network `name`, in a box with its visible label.
fn switch(
    page: &NetworkPage,
    name: &str,
    (caption, label): (&str, &str),
    active: bool,
    change: fn(bool) -> Change,
) -> gtk::Box {
    let switch = super::labelled_switch(label);
    switch.set_active(active);
    switch.set_tooltip_text(Some(label));
    let name = name.to_owned();
    switch.connect_state_set(glib::clone!(
        #[weak]
        page,
        #[upgrade_or]
        glib::Propagation::Stop,
        move |_, on| {
            let uri = page.uri();
            let name = name.clone();
            page.set_sensitive(false);
            glib::spawn_future_local(glib::clone!(
                #[weak]
                page,
                async move {
                    let outcome = off_main(move || apply(&uri, &name, change(on))).await;
                    if let Some(Err(reason)) = outcome {
                        page.toast(&reason);
                    }
                    page.reload();
                }
            ));
            glib::Propagation::Proceed
        }
    ));
    let caption = gtk::Label::builder()
        .label(caption)
        .css_classes(["caption", "dim-label"])
        .build();
    let column = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(2)
        .valign(gtk::Align::Center)
        .build();
    column.append(&switch);
    column.append(&caption);
    column
}
