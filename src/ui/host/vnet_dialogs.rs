//! Adding a virtual network and showing one's details (with Delete) from the Networking
//! page; the worker makes, reads and deletes them (`Request::Network`).

mod create;
mod details;

use super::networking::NetworkingPage;
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::networks::create::local_routes;
use crate::ui::backend::{NetworkError, NetworkRequest, Request, RequestError};
use crate::ui::util::{show_error, Failure};
use crate::ui::InWords;
use adw::prelude::*;
use gtk::glib;

/// A network error in words.
pub(super) fn network_words(error: &NetworkError) -> String {
    match error {
        NetworkError::Libvirt(text) => text.clone(),
        NetworkError::NoName => gettext("Enter a name."),
        NetworkError::NameTaken(name) => gettext_f(
            // Translators: {name} is a virtual network.
            "There is already a network called “{name}”.",
            &[("name", name)],
        ),
        NetworkError::BadSubnet(subnet) => gettext_f(
            // Translators: {subnet} is what was typed for an IPv4 subnet.
            "“{subnet}” is not an IPv4 address with a prefix length, such as 192.168.100.1/24.",
            &[("subnet", subnet)],
        ),
        NetworkError::RangeOutside { subnet } => gettext_f(
            // Translators: {subnet} is an IPv4 subnet such as 192.168.100.0/24.
            "The DHCP range must lie inside {subnet}, without its first and last address and the host's.",
            &[("subnet", subnet)],
        ),
        NetworkError::RangeBackwards => gettext("The DHCP range starts after it ends."),
        NetworkError::OverlapsRoute {
            subnet,
            route,
            device,
        } => gettext_f(
            // Translators: {subnet} and {route} are IPv4 subnets, {device} a network card.
            "{subnet} overlaps the host's route to {route} (via {device}).",
            &[("subnet", subnet), ("route", route), ("device", device)],
        ),
        NetworkError::OverlapsNetwork {
            subnet,
            other,
            network,
        } => gettext_f(
            // Translators: {subnet} and {other} are IPv4 subnets, {network} a virtual network.
            "{subnet} overlaps {other} of virtual network “{network}”.",
            &[("subnet", subnet), ("other", other), ("network", network)],
        ),
        NetworkError::InUse { network, vms } => gettext_f(
            // Translators: {network} is a virtual network, {vms} lists virtual machines.
            "“{network}” is used by running machines: {vms}.",
            &[("network", network), ("vms", &vms.join(", "))],
        ),
    }
}

/// A failed network request in words.
pub(crate) fn request_words(error: &RequestError) -> String {
    match error {
        RequestError::Network(error) => network_words(error),
        other => other.in_words(),
    }
}

/// Asks for a new network (checked against the other networks, and this computer's routes
/// for a local connection), then has the worker make it.
pub(super) fn add(page: &NetworkingPage) {
    let (Some(window), Some(connection)) = (page.window(), page.connection()) else {
        return;
    };
    let local = !page.remote();
    let bridges = page.libvirt_bridges();
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let networks = match connection
                .request(|reply| Request::Network(NetworkRequest::Taken(reply)))
                .await
            {
                Ok(networks) => networks,
                Err(reason) => {
                    show_error(
                        &page,
                        &Failure::with_detail(
                            gettext("The virtual networks could not be read"),
                            request_words(&reason),
                        ),
                    );
                    return;
                }
            };
            let existing = create::Existing {
                networks,
                routes: if local { local_routes() } else { Vec::new() },
                bridges,
            };
            let dialog = create::CreateNetworkDialog::new(&window, existing);
            dialog.connect_response(Some("create"), move |dialog, _| {
                let Some(spec) = dialog.spec() else {
                    return;
                };
                let connection = connection.clone();
                page.set_sensitive(false);
                glib::spawn_future_local(glib::clone!(
                    #[weak]
                    page,
                    async move {
                        let name = spec.name.clone();
                        let outcome = connection
                            .request(|reply| {
                                Request::Network(NetworkRequest::Create { spec, local, reply })
                            })
                            .await;
                        crate::ui::host::report(
                            &page,
                            outcome.map_err(|e| request_words(&e)),
                            &gettext_f(
                                // Translators: {name} is a virtual network.
                                "Virtual network “{name}” was created.",
                                &[("name", &name)],
                            ),
                            &gettext_f(
                                // Translators: {name} is a virtual network.
                                "Virtual network “{name}” was not created",
                                &[("name", &name)],
                            ),
                        );
                        page.reload();
                    }
                ));
            });
            dialog.present();
        }
    ));
}

/// Shows the details of network `name`; its Delete Network has the worker delete it.
pub(super) fn show(page: &NetworkingPage, name: &str) {
    let (Some(window), Some(connection)) = (page.window(), page.connection()) else {
        return;
    };
    let name = name.to_owned();
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let asked = name.clone();
            let details = match connection
                .request(|reply| Request::Network(NetworkRequest::Details { name: asked, reply }))
                .await
            {
                Ok(details) => details,
                Err(reason) => {
                    show_error(
                        &page,
                        &Failure::with_detail(
                            gettext_f(
                                // Translators: {name} is a virtual network.
                                "The details of virtual network “{name}” could not be read",
                                &[("name", &name)],
                            ),
                            request_words(&reason),
                        ),
                    );
                    return;
                }
            };
            let dialog = details::NetworkDetailsDialog::new(&window, &details);
            dialog.connect_response(Some("delete"), move |_, _| {
                let connection = connection.clone();
                let name = name.clone();
                page.set_sensitive(false);
                glib::spawn_future_local(glib::clone!(
                    #[weak]
                    page,
                    async move {
                        let asked = name.clone();
                        let outcome = connection
                            .request(|reply| {
                                Request::Network(NetworkRequest::Delete { name: asked, reply })
                            })
                            .await;
                        crate::ui::host::report(
                            &page,
                            outcome.map_err(|e| request_words(&e)),
                            &gettext_f(
                                // Translators: {name} is a virtual network.
                                "Virtual network “{name}” was deleted.",
                                &[("name", &name)],
                            ),
                            &gettext_f(
                                // Translators: {name} is a virtual network.
                                "Virtual network “{name}” was not deleted",
                                &[("name", &name)],
                            ),
                        );
                        page.reload();
                    }
                ));
            });
            dialog.present();
        }
    ));
}
