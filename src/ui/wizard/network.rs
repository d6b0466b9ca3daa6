//! The machine's network card: a host bridge, a virtual network, macvtap on a NIC, or
//! user-mode networking.
//!
//! Session machines reach a host bridge through qemu-bridge-helper, which only allows the
//! bridges listed in its configuration: the page says so when the chosen bridge is not,
//! and offers to allow it.
//!
//! A host with neither a bridge nor a virtual network (a fresh remote host, say) is said to
//! be so; user-mode networking (QEMU's built-in one, nothing to set up on the host) is
//! offered, and so is making libvirt's default NAT network there, as the Networking page
//! makes networks.

use super::choices::{clear, holds_default_route, network_options, network_text, radio_row};
use super::page::{WizardPage, WizardPageImpl};
use crate::host::net::{
    allow_bridge_for_session, bridge_allowed_for_session, Networks, Runner, BRIDGE_CONF,
};
use crate::i18n::{gettext, gettext_f};
use crate::spec::facts::is_local_uri;
use crate::spec::Network;
use crate::ui::backend::networks::create::NetworkSpec;
use crate::ui::backend::{NetworkRequest, Request};
use crate::ui::host::network_request_words;
use crate::ui::util::Closures;
use crate::ui::util::{run_blocking, show_error, Failure};
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use glib::subclass::Signal;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

/// What [`NetworkPage::set_networks`] was given, to list again when a network is made.
#[derive(Default)]
struct Offered {
    networks: Option<Networks>,
    remote_bridges: Vec<String>,
    virtual_networks: Vec<String>,
}

/// The chosen network.
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VdWizardNetwork", nullable)]
pub struct NetworkChoice(pub Network);

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard/network.ui")]
    #[properties(wrapper_type = super::NetworkPage)]
    pub struct NetworkPage {
        #[template_child]
        pub bridge_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub other_network_list: TemplateChild<gtk::ListBox>,

        #[property(get, nullable)]
        pub network: RefCell<Option<NetworkChoice>>,
        /// Whether the connection is a session one (user-mode networking, the helper).
        #[property(get, set = Self::set_session)]
        pub session: Cell<bool>,
        #[property(get)]
        pub has_bridges: Cell<bool>,
        #[property(get)]
        pub has_virtual_networks: Cell<bool>,
        /// The connection the machine is made on, where a network can be made.
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// Making the default network.
        #[property(get)]
        pub creating: Cell<bool>,
        pub(super) offered: RefCell<Offered>,
        /// The chosen bridge when qemu-bridge-helper does not allow it yet, else empty.
        #[property(get)]
        pub helper_bridge: RefCell<String>,
        /// Adding the bridge to the helper's configuration.
        #[property(get)]
        pub allowing: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkPage {
        const NAME: &'static str = "VdWizardNetworkPage";
        type Type = super::NetworkPage;
        type ParentType = WizardPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for NetworkPage {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                // A virtual network was made on the host; the argument is its name.
                vec![Signal::builder("network-created")
                    .param_types([String::static_type()])
                    .build()]
            })
        }
    }
    impl WidgetImpl for NetworkPage {}
    impl BoxImpl for NetworkPage {}
    impl WizardPageImpl for NetworkPage {}

    impl NetworkPage {
        fn set_session(&self, session: bool) {
            self.session.set(session);
            self.obj().check_helper();
        }
    }

    #[gtk::template_callbacks]
    impl NetworkPage {
        #[template_callback(function)]
        fn helper_text(bridge: &str) -> String {
            gettext_f(
                // Translators: {bridge} is a host bridge, {file} the helper's configuration.
                "Machines of a session connection join a bridge through qemu-bridge-helper, which does not allow “{bridge}” yet: it is not listed in {file}.",
                &[("bridge", bridge), ("file", BRIDGE_CONF)],
            )
        }

        /// Whether the host has virtual networks but no bridge (to say where one is made).
        #[template_callback(function)]
        fn only_virtual_networks(has_bridges: bool, has_virtual_networks: bool) -> bool {
            !has_bridges && has_virtual_networks
        }

        /// Whether the host has neither a bridge nor a virtual network.
        #[template_callback(function)]
        fn nothing_to_join(has_bridges: bool, has_virtual_networks: bool) -> bool {
            !has_bridges && !has_virtual_networks
        }

        /// Makes libvirt's default NAT network on the host, as the Networking page makes
        /// networks, and chooses it.
        #[template_callback]
        async fn on_create_default(&self) {
            let Some(connection) = self.obj().connection() else {
                return;
            };
            if self.creating.replace(true) {
                return;
            }
            let obj = self.obj().clone();
            obj.notify_creating();
            let spec = NetworkSpec::default_nat();
            let name = spec.name.clone();
            let local = is_local_uri(&connection.uri());
            let outcome = connection
                .request(|reply| Request::Network(NetworkRequest::Create { spec, local, reply }))
                .await;
            self.creating.set(false);
            obj.notify_creating();
            match outcome {
                Ok(()) => {
                    obj.emit_by_name::<()>("network-created", &[&name]);
                    let offered = self.offered.take();
                    let mut virtual_networks = offered.virtual_networks;
                    virtual_networks.push(name);
                    obj.set_networks(
                        offered.networks.as_ref(),
                        &offered.remote_bridges,
                        &virtual_networks,
                    );
                }
                Err(reason) => show_error(
                    &obj,
                    &Failure::with_detail(
                        gettext("The default network could not be created"),
                        network_request_words(&reason),
                    ),
                ),
            }
        }

        /// Adds the chosen bridge to the helper's configuration (through pkexec when not
        /// root), off the main thread.
        #[template_callback]
        async fn on_allow_bridge(&self) {
            let bridge = self.helper_bridge.borrow().clone();
            if bridge.is_empty() || self.allowing.replace(true) {
                return;
            }
            let obj = self.obj().clone();
            obj.notify_allowing();
            let done = run_blocking(move || {
                allow_bridge_for_session(&Runner::local(), &bridge)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await;
            match done {
                Some(Ok(())) | None => {}
                Some(Err(reason)) => show_error(
                    &obj,
                    &Failure::with_detail(gettext("The bridge could not be allowed"), reason),
                ),
            }
            self.allowing.set(false);
            obj.notify_allowing();
            obj.check_helper();
        }
    }
}

glib::wrapper! {
    pub struct NetworkPage(ObjectSubclass<imp::NetworkPage>)
        @extends WizardPage, gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl NetworkPage {
    /// The chosen network; an empty bridge name when none is.
    pub fn chosen(&self) -> Network {
        self.network()
            .map(|NetworkChoice(network)| network)
            .unwrap_or(Network::Bridge {
                name: String::new(),
            })
    }

    fn choose(&self, network: Network) {
        let network = Some(NetworkChoice(network));
        if *self.imp().network.borrow() != network {
            self.imp().network.replace(network);
            self.notify_network();
            self.check_helper();
        }
    }

    /// Finds out whether the chosen bridge needs allowing for qemu-bridge-helper.
    fn check_helper(&self) {
        let bridge = match self.chosen() {
            Network::Bridge { name }
                if self.session() && !name.is_empty() && !bridge_allowed_for_session(&name) =>
            {
                name
            }
            _ => String::new(),
        };
        if *self.imp().helper_bridge.borrow() != bridge {
            self.imp().helper_bridge.replace(bridge);
            self.notify_helper_bridge();
        }
    }

    /// Lists the bridges, virtual networks, NICs for macvtap and user-mode networking; the
    /// bridge holding the default route is chosen, else the "default" virtual network, else
    /// the first choice. `networks` are this computer's
    /// links, for a local connection; a remote host's bridges come as `remote_bridges`
    /// (names only: libvirt says no more of them).
    pub fn set_networks(
        &self,
        networks: Option<&Networks>,
        remote_bridges: &[String],
        virtual_networks: &[String],
    ) {
        let imp = self.imp();
        clear(&imp.bridge_list);
        clear(&imp.other_network_list);
        let mut choices: Vec<(gtk::CheckButton, Network)> = Vec::new();
        let options = network_options(networks, remote_bridges, virtual_networks);
        for option in options {
            let (list, label) = match &option.network {
                Network::Bridge { name } => (&imp.bridge_list, name.clone()),
                other => (&imp.other_network_list, network_text(other)),
            };
            let group = choices.first().map(|(r, _)| r.clone());
            let radio = radio_row(list, &label, option.detail.as_deref(), group.as_ref());
            let network = option.network;
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = page)]
                self,
                #[strong]
                network,
                move |radio| {
                    if radio.is_active() {
                        page.choose(network.clone());
                    }
                }
            ));
            choices.push((radio, network));
        }
        let bridges = networks.map(|n| n.bridges.as_slice()).unwrap_or_default();
        imp.has_bridges.set(
            choices
                .iter()
                .any(|(_, n)| matches!(n, Network::Bridge { .. })),
        );
        self.notify_has_bridges();
        imp.has_virtual_networks.set(!virtual_networks.is_empty());
        self.notify_has_virtual_networks();
        let preferred = bridges
            .iter()
            .position(holds_default_route)
            .or_else(|| {
                choices.iter().position(|(_, n)| {
                    *n == Network::VirtualNetwork {
                        name: "default".into(),
                    }
                })
            })
            .unwrap_or(0);
        imp.offered.replace(Offered {
            networks: networks.cloned(),
            remote_bridges: remote_bridges.to_vec(),
            virtual_networks: virtual_networks.to_vec(),
        });
        match choices.get(preferred) {
            Some((radio, network)) => {
                radio.set_active(true);
                self.choose(network.clone());
            }
            None => {
                self.imp().network.replace(None);
                self.notify_network();
                self.check_helper();
            }
        }
    }
}
