//! A virtual network's details: its bridge, forward mode and subnet, and the DHCP leases
//! of the machines on it; Delete Network.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::NetworkDetails;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/vnet_dialogs/details.ui")]
    pub struct NetworkDetailsDialog {
        #[template_child]
        pub leases: TemplateChild<gio::ListStore>,
        #[template_child]
        pub lease_list: TemplateChild<gtk::ListBox>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkDetailsDialog {
        const NAME: &'static str = "VdNetworkDetailsDialog";
        type Type = super::NetworkDetailsDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NetworkDetailsDialog {
        fn constructed(&self) {
            self.parent_constructed();
            self.lease_list.bind_model(Some(&*self.leases), |item| {
                let text = item
                    .downcast_ref::<gtk::StringObject>()
                    .map(|s| s.string().to_string())
                    .unwrap_or_default();
                let (title, subtitle) = text.split_once('\n').unwrap_or((&text, ""));
                adw::ActionRow::builder()
                    .use_markup(false)
                    .title(title)
                    .subtitle(subtitle)
                    .build()
                    .upcast()
            });
        }
    }
    impl WidgetImpl for NetworkDetailsDialog {}
    impl WindowImpl for NetworkDetailsDialog {}
    impl MessageDialogImpl for NetworkDetailsDialog {}
}

glib::wrapper! {
    pub struct NetworkDetailsDialog(ObjectSubclass<imp::NetworkDetailsDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

/// A forward mode in words.
fn mode_words(details: &NetworkDetails) -> String {
    let mode = match details.forward.as_str() {
        "nat" => gettext("NAT"),
        "route" => gettext("Routed"),
        "open" => gettext("Open"),
        "isolated" => gettext("Isolated"),
        other => other.to_owned(),
    };
    match &details.forward_device {
        Some(device) => gettext_f(
            // Translators: {mode} is NAT, Routed, …; {device} a network card.
            "{mode} through {device}",
            &[("mode", &mode), ("device", device)],
        ),
        None => mode,
    }
}

impl NetworkDetailsDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, details: &NetworkDetails) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        dialog.set_heading(Some(&gettext_f(
            // Translators: {name} is a virtual network.
            "Virtual Network “{name}”",
            &[("name", &details.name)],
        )));
        let mut lines = vec![gettext_f(
            // Translators: {mode} is how the network reaches outside (NAT, Routed, …).
            "Mode: {mode}",
            &[("mode", &mode_words(details))],
        )];
        if let Some(bridge) = &details.bridge {
            lines.push(gettext_f(
                // Translators: {bridge} is the name of a network bridge.
                "Bridge: {bridge}",
                &[("bridge", bridge)],
            ));
        }
        if let Some(subnet) = &details.subnet {
            lines.push(gettext_f(
                // Translators: {subnet} is an IPv4 subnet such as 192.168.100.0/24.
                "Subnet: {subnet}",
                &[("subnet", subnet)],
            ));
        }
        dialog.set_body(&lines.join("\n"));
        let leases: Vec<gtk::StringObject> = details
            .leases
            .iter()
            .map(|lease| {
                let holder = match (&lease.vm, &lease.hostname) {
                    (Some(vm), _) => gettext_f(
                        // Translators: {vm} is a virtual machine, {mac} its card's address.
                        "Held by {vm} ({mac})",
                        &[("vm", vm), ("mac", &lease.mac)],
                    ),
                    (None, Some(host)) => gettext_f(
                        // Translators: {host} is the name a client gave the DHCP server,
                        // {mac} its card's address; it is not a machine of this connection.
                        "Held by {host} ({mac}), not a machine of this connection",
                        &[("host", host), ("mac", &lease.mac)],
                    ),
                    (None, None) => gettext_f(
                        // Translators: {mac} is a network card's address.
                        "Held by {mac}, not a machine of this connection",
                        &[("mac", &lease.mac)],
                    ),
                };
                gtk::StringObject::new(&format!("{}\n{holder}", lease.address))
            })
            .collect();
        dialog.imp().leases.extend_from_slice(&leases);
        dialog
    }
}
