//! libvirt's virtual networks on the Networking page: each with switches to run it and to
//! start it with the host.

use super::networking::{empty_row, link_row, NetworkPage};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::{NetworkChange, Request, VirtualNetwork};
use adw::prelude::*;
use gtk::glib;

pub(super) fn group(
    page: &NetworkPage,
    nets: Result<Vec<VirtualNetwork>, String>,
) -> adw::PreferencesGroup {
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
            NetworkChange::Active,
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
                NetworkChange::Autostart,
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
    change: fn(bool) -> NetworkChange,
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
            let connection = page.connection();
            let name = name.clone();
            page.set_sensitive(false);
            glib::spawn_future_local(glib::clone!(
                #[weak]
                page,
                async move {
                    let change = change(on);
                    let outcome = connection
                        .request(|reply| Request::ChangeNetwork {
                            name,
                            change,
                            reply,
                        })
                        .await;
                    if let Err(reason) = outcome {
                        page.toast(&reason.to_string());
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
