//! The Networking page: the host's network cards and bridges, with Create Bridge… and
//! Delete Bridge, and libvirt's virtual networks.

use super::bridge_dialogs;
use super::link_row::{HostLink, LinkRow};
use super::vnet_dialogs;
use super::vnet_row::VirtualNetworkRow;
use super::vnets::{self, VirtualNetwork};
use crate::host::net::{self, Bridge, LeftAlone, Link, NetError, Networks, Runner};
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{ConnectionKind, ConnectionName, Request};
use crate::ui::util::run_blocking;
use crate::ui::Connection;
use crate::ui::InWords;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use std::cell::{Cell, RefCell};

/// The host's links as the page shows them.
pub(super) struct HostLinks {
    pub networks: Networks,
    /// NICs NetworkManager manages: bridges are made from them through NetworkManager.
    pub managed: Vec<String>,
    /// The network namespace shown instead of the host's, if any.
    pub netns: Option<String>,
}

/// Everything the page shows, read off the main thread.
struct Loaded {
    /// `None` for a remote connection: its links are not this computer's.
    host: Option<Result<HostLinks, NetError>>,
    vnets: Result<Vec<crate::ui::backend::VirtualNetwork>, String>,
}

/// This computer's links, unless the connection is `remote`. Blocks.
fn load_links(remote: bool) -> Option<Result<HostLinks, NetError>> {
    (!remote).then(|| {
        let runner = Runner::local();
        net::list(&runner).map(|networks| HostLinks {
            managed: net::nm::managed_among(&runner, networks.nics.iter().map(|n| n.name.as_str())),
            netns: runner.netns().map(str::to_owned),
            networks,
        })
    })
}

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/networking.ui")]
    #[properties(wrapper_type = super::NetworkingPage)]
    pub struct NetworkingPage {
        /// The connection whose networks are shown; setting it reads them.
        #[property(get, set = Self::set_connection, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// The connection is to another computer, whose links are not shown.
        #[property(get)]
        pub remote: Cell<bool>,
        /// Everything was read once.
        #[property(get, set)]
        pub loaded: Cell<bool>,
        /// The network cards and bridges of this computer are shown.
        #[property(get, set)]
        pub links_shown: Cell<bool>,
        /// Why they could not be read.
        #[property(get, set)]
        pub links_problem: RefCell<String>,
        /// Which network namespace is shown instead of the host's, in words.
        #[property(get, set)]
        pub netns_note: RefCell<String>,
        /// Why libvirt's networks could not be read.
        #[property(get, set)]
        pub vnets_problem: RefCell<String>,
        /// The links last read, to check new bridge names against.
        pub links: RefCell<Vec<Link>>,
        /// The bridges of the virtual networks last read.
        pub bridge_names: RefCell<Vec<String>>,
        #[template_child]
        pub nics: TemplateChild<gio::ListStore>,
        #[template_child]
        pub bridges: TemplateChild<gio::ListStore>,
        #[template_child]
        pub networks: TemplateChild<gio::ListStore>,
        #[template_child]
        pub nic_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub bridge_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub network_list: TemplateChild<gtk::ListBox>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkingPage {
        const NAME: &'static str = "VdHostNetworkingPage";
        type Type = super::NetworkingPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            Connection::ensure_type();
            HostLink::ensure_type();
            VirtualNetwork::ensure_type();
            klass.bind_template();
            crate::ui::util::Closures::bind_template_callbacks(klass);
            klass.bind_template_callbacks();
            let by_name = |act: fn(&super::NetworkingPage, &str)| {
                move |page: &super::NetworkingPage, _: &str, target: Option<&glib::Variant>| {
                    if let Some(name) = target.and_then(|t| t.get::<String>()) {
                        act(page, &name);
                    }
                }
            };
            klass.install_action(
                "networking.create-bridge",
                Some(glib::VariantTy::STRING),
                by_name(bridge_dialogs::create),
            );
            klass.install_action(
                "networking.delete-bridge",
                Some(glib::VariantTy::STRING),
                by_name(bridge_dialogs::delete),
            );
            klass.install_action(
                "networking.allow-bridge",
                Some(glib::VariantTy::STRING),
                by_name(bridge_dialogs::allow_for_session),
            );
            let switch = |act: fn(&super::NetworkingPage, String, bool)| {
                move |page: &super::NetworkingPage, _: &str, target: Option<&glib::Variant>| {
                    if let Some((name, on)) = target.and_then(|t| t.get::<(String, bool)>()) {
                        act(page, name, on);
                    }
                }
            };
            klass.install_action("networking.add-network", None, |page, _, _| {
                vnet_dialogs::add(page);
            });
            klass.install_action(
                "networking.network-details",
                Some(glib::VariantTy::STRING),
                by_name(vnet_dialogs::show),
            );
            let name_and_state = glib::VariantTy::new("(sb)").expect("a valid type");
            klass.install_action(
                "networking.run-network",
                Some(name_and_state),
                switch(vnets::set_active),
            );
            klass.install_action(
                "networking.autostart-network",
                Some(name_and_state),
                switch(vnets::set_autostart),
            );
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl NetworkingPage {
        /// A chosen virtual network shows its details.
        #[template_callback]
        fn network_activated(&self, row: &gtk::ListBoxRow) {
            if let Some(network) = row
                .downcast_ref::<VirtualNetworkRow>()
                .and_then(VirtualNetworkRow::network)
            {
                vnet_dialogs::show(&self.obj(), &network.name());
            }
        }
    }

    impl NetworkingPage {
        fn set_connection(&self, connection: Option<Connection>) {
            if *self.connection.borrow() == connection {
                return;
            }
            let remote = connection
                .as_ref()
                .is_some_and(|c| ConnectionName::parse(&c.uri()).is_remote());
            self.connection.replace(connection);
            if self.remote.replace(remote) != remote {
                self.obj().notify_remote();
            }
            self.obj().reload();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for NetworkingPage {
        fn constructed(&self) {
            self.parent_constructed();
            self.nic_list.bind_model(Some(&*self.nics), link_row);
            self.bridge_list.bind_model(Some(&*self.bridges), link_row);
            self.network_list
                .bind_model(Some(&*self.networks), |item| match item.downcast_ref() {
                    Some(network) => VirtualNetworkRow::new(network).upcast(),
                    None => gtk::Label::new(None).upcast(),
                });
        }
    }

    fn link_row(item: &glib::Object) -> gtk::Widget {
        match item.downcast_ref() {
            Some(link) => LinkRow::new(link).upcast(),
            None => gtk::Label::new(None).upcast(),
        }
    }

    impl WidgetImpl for NetworkingPage {}
    impl PreferencesPageImpl for NetworkingPage {}
}

glib::wrapper! {
    pub struct NetworkingPage(ObjectSubclass<imp::NetworkingPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl NetworkingPage {
    pub(super) fn uri(&self) -> String {
        self.connection().map(|c| c.uri()).unwrap_or_default()
    }

    /// Whether the connection is a local user session, whose VMs reach bridges through
    /// qemu-bridge-helper.
    fn session(&self) -> bool {
        let name = ConnectionName::parse(&self.uri());
        name.kind == ConnectionKind::QemuSession && !name.is_remote()
    }

    /// The bridges of libvirt's virtual networks, whose routes are the networks'.
    pub(super) fn libvirt_bridges(&self) -> Vec<String> {
        self.imp().bridge_names.borrow().clone()
    }

    pub(super) fn links(&self) -> Vec<Link> {
        self.imp().links.borrow().clone()
    }

    pub(super) fn window(&self) -> Option<gtk::Window> {
        self.root().and_downcast::<gtk::Window>()
    }

    /// Tells the user that something worked: `message` (plain text) as a toast.
    /// Says the outcome of the user's latest change at once, ahead of older toasts still
    /// queued (a bridge made, kept, then reverted within seconds says "back" now).
    pub(super) fn tell(&self, message: &str) {
        if let Some(window) = self.root().and_downcast::<adw::PreferencesWindow>() {
            let toast = adw::Toast::new(&glib::markup_escape_text(message));
            toast.set_priority(adw::ToastPriority::High);
            window.add_toast(toast);
        }
    }

    /// Reads everything again and shows it: this computer's links off the main thread,
    /// the virtual networks from the connection's worker.
    pub(super) fn reload(&self) {
        let Some(connection) = self.connection() else {
            return;
        };
        let remote = self.remote();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let host = run_blocking(move || load_links(remote)).await;
                let vnets = connection
                    .request(Request::Networks)
                    .await
                    .map_err(|e| e.in_words());
                if let Some(host) = host {
                    page.show(Loaded { host, vnets });
                }
                page.set_sensitive(true);
            }
        ));
    }

    fn show(&self, loaded: Loaded) {
        let imp = self.imp();
        // Bridges of libvirt's networks are left alone: (network, bridge) names.
        let libvirt_bridges: Vec<(String, String)> = loaded
            .vnets
            .iter()
            .flatten()
            .filter_map(|n| Some((n.name.clone(), n.bridge.clone()?)))
            .collect();
        imp.bridge_names
            .replace(libvirt_bridges.iter().map(|(_, b)| b.clone()).collect());
        match loaded.host {
            None => {}
            Some(Err(e)) => {
                self.set_links_shown(false);
                self.set_links_problem(e.to_string());
            }
            Some(Ok(host)) => {
                let mut links = host.networks.nics.clone();
                links.extend(host.networks.bridges.iter().map(|b| b.link.clone()));
                imp.links.replace(links);
                self.set_netns_note(netns_note(&host).unwrap_or_default());
                let nics: Vec<HostLink> = host
                    .networks
                    .nics
                    .iter()
                    .map(|nic| nic_item(nic, &host.managed))
                    .collect();
                let session = self.session();
                let bridges: Vec<HostLink> = host
                    .networks
                    .bridges
                    .iter()
                    .map(|bridge| bridge_item(bridge, session, &libvirt_bridges))
                    .collect();
                update_store(&imp.nics, &nics);
                update_store(&imp.bridges, &bridges);
                self.set_links_problem("");
                self.set_links_shown(true);
            }
        }
        match loaded.vnets {
            Ok(nets) => {
                let nets: Vec<VirtualNetwork> = nets.iter().map(VirtualNetwork::new).collect();
                update_store(&imp.networks, &nets);
                self.set_vnets_problem("");
            }
            Err(reason) => {
                imp.networks.remove_all();
                self.set_vnets_problem(reason);
            }
        }
        self.set_loaded(true);
    }
}

/// Makes `store` hold `items` (objects with a `name` and only writable properties). When
/// they have the names of those there, in the same order, those take the new values, so
/// their rows stay and show them; otherwise the list is replaced.
pub(super) fn update_store<T: IsA<glib::Object>>(store: &gio::ListStore, items: &[T]) {
    let name = |object: &glib::Object| object.property::<String>("name");
    let old: Vec<glib::Object> = store.iter().filter_map(Result::ok).collect();
    let same = old.len() == items.len()
        && old
            .iter()
            .zip(items)
            .all(|(old, new)| name(old) == name(new.upcast_ref()));
    if !same {
        store.splice(0, store.n_items(), items);
        return;
    }
    for (old, new) in old.iter().zip(items) {
        for pspec in new.list_properties() {
            let value = new.property_value(pspec.name());
            old.set_property_from_value(pspec.name(), &value);
        }
    }
}

/// "Only network namespace “x” is shown…" when one is.
fn netns_note(host: &HostLinks) -> Option<String> {
    let netns = host.netns.as_ref()?;
    Some(gettext_f(
        // Translators: {netns} names a Linux network namespace; {variable} is VIRTDECK_NETNS.
        "Only network namespace “{netns}” is shown and changed here ({variable} is set).",
        &[("netns", netns), ("variable", net::runner::NETNS_VARIABLE)],
    ))
}

fn nic_item(nic: &Link, managed: &[String]) -> HostLink {
    let mut facts = vec![link_state(nic), nic.mac.clone()];
    facts.extend(addresses(nic));
    if let Some(master) = &nic.master {
        facts.push(gettext_f(
            // Translators: {bridge} is the name of a network bridge.
            "In bridge {bridge}",
            &[("bridge", master)],
        ));
    }
    if managed.contains(&nic.name) {
        facts.push(gettext("Managed by NetworkManager"));
    }
    let item = HostLink::new(&nic.name, &facts.join(" · "));
    item.set_can_create_bridge(nic.master.is_none());
    item
}

/// A bridge's row; `libvirt_bridges` are the (network, bridge) names of libvirt's virtual
/// networks, whose bridges are not offered for deletion.
fn bridge_item(bridge: &Bridge, session: bool, libvirt_bridges: &[(String, String)]) -> HostLink {
    let members = if bridge.members.is_empty() {
        gettext("No members")
    } else {
        gettext_f(
            // Translators: {names} lists network interfaces.
            "Members: {names}",
            &[("names", &bridge.members.join(", "))],
        )
    };
    let stp = if bridge.link.stp == Some(true) {
        gettext("STP on")
    } else {
        gettext("STP off")
    };
    let mut facts = vec![link_state(&bridge.link), members, stp];
    facts.extend(addresses(&bridge.link));
    let left_alone = bridge
        .left_alone(libvirt_bridges)
        .map(|why| left_alone_text(&why));
    facts.extend(left_alone.clone());
    let item = HostLink::new(&bridge.link.name, &facts.join(" · "));
    item.set_can_delete(true);
    item.set_left_alone(left_alone.unwrap_or_default());
    item.set_can_allow_sessions(session);
    item
}

/// Why a bridge is not deleted here, in words.
fn left_alone_text(why: &LeftAlone) -> String {
    match why {
        LeftAlone::LibvirtNetwork(network) => gettext_f(
            // Translators: {network} is the name of a libvirt virtual network.
            "Belongs to virtual network “{network}”: stop or delete the network instead",
            &[("network", network)],
        ),
        LeftAlone::OtherSoftware => gettext(
            "Made by other software (no network card joined it), so it is not deleted here",
        ),
        LeftAlone::SeveralCards(cards) => gettext_f(
            // Translators: {cards} lists network cards.
            "Several network cards joined it ({cards}): it is not clear which one would get its addresses back",
            &[("cards", &cards.join(", "))],
        ),
    }
}

/// "Up", "Down", … in words.
fn link_state(link: &Link) -> String {
    match (link.up, link.operstate.as_str()) {
        (false, _) => gettext("Down"),
        (true, "UP" | "UNKNOWN") => gettext("Up"),
        (true, _) => gettext("No carrier"),
    }
}

fn addresses(link: &Link) -> Vec<String> {
    link.addresses
        .iter()
        .map(|a| format!("{}/{}", a.local, a.prefixlen))
        .collect()
}
