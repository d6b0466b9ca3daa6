//! The Networking page: the host's network cards and bridges, with Create Bridge… and
//! Delete Bridge, and libvirt's virtual networks.

use super::{bridge_dialogs, off_main, vnets};
use crate::host::net::{self, Bridge, Link, NetError, Networks, Runner};
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::{ConnectionKind, ConnectionName, Request, VirtualNetwork};
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{OnceCell, RefCell};

/// The host's links as the page shows them.
pub(super) struct HostLinks {
    pub networks: Networks,
    /// NICs NetworkManager manages: bridges are made from them through NetworkManager.
    pub managed: Vec<String>,
    /// The network namespace shown instead of the host's, if any.
    pub netns: Option<String>,
}

/// Everything the page shows.
struct Loaded {
    /// `None` for a remote connection: its links are not this computer's.
    host: Option<Result<HostLinks, NetError>>,
    vnets: Result<Vec<VirtualNetwork>, String>,
}

/// The links of this computer. Blocks.
fn read_links() -> Result<HostLinks, NetError> {
    let runner = Runner::local();
    net::list(&runner).map(|networks| HostLinks {
        managed: net::nm::managed_among(&runner, networks.nics.iter().map(|n| n.name.as_str())),
        netns: runner.netns().map(str::to_owned),
        networks,
    })
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct NetworkPage {
        pub connection: OnceCell<Connection>,
        pub groups: RefCell<Vec<adw::PreferencesGroup>>,
        /// The links last read, to check new bridge names against.
        pub links: RefCell<Vec<Link>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkPage {
        const NAME: &'static str = "VdHostNetworkPage";
        type Type = super::NetworkPage;
        type ParentType = adw::PreferencesPage;
    }

    impl ObjectImpl for NetworkPage {}
    impl WidgetImpl for NetworkPage {}
    impl PreferencesPageImpl for NetworkPage {}
}

glib::wrapper! {
    pub struct NetworkPage(ObjectSubclass<imp::NetworkPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

pub(super) fn page(connection: &Connection) -> NetworkPage {
    let page: NetworkPage = glib::Object::builder()
        .property("title", gettext("Networking"))
        .property("icon-name", "network-wired-symbolic")
        .build();
    let _ = page.imp().connection.set(connection.clone());
    page.reload();
    page
}

impl NetworkPage {
    pub(super) fn connection(&self) -> Connection {
        self.imp()
            .connection
            .get()
            .cloned()
            .expect("the page is made with its connection")
    }

    fn uri(&self) -> String {
        self.connection().uri()
    }

    fn remote(&self) -> bool {
        ConnectionName::parse(&self.uri()).is_remote()
    }

    /// Whether the connection is a local user session, whose VMs reach bridges through
    /// qemu-bridge-helper.
    fn session(&self) -> bool {
        let name = ConnectionName::parse(&self.uri());
        name.kind == ConnectionKind::QemuSession && !name.is_remote()
    }

    pub(super) fn links(&self) -> Vec<Link> {
        self.imp().links.borrow().clone()
    }

    pub(super) fn window(&self) -> Option<adw::PreferencesWindow> {
        self.root().and_downcast::<adw::PreferencesWindow>()
    }

    /// Shows `message` (plain text) as a toast in the window.
    pub(super) fn toast(&self, message: &str) {
        if let Some(window) = self.window() {
            window.add_toast(adw::Toast::new(&glib::markup_escape_text(message)));
        }
    }

    /// Reads everything again and shows it.
    pub(super) fn reload(&self) {
        let connection = self.connection();
        let remote = self.remote();
        if self.imp().groups.borrow().is_empty() {
            let loading = adw::PreferencesGroup::builder()
                .title(gettext("Loading…"))
                .build();
            self.show(vec![loading]);
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                // `None` when reading the links panicked (logged).
                if let Some(host) = off_main(move || (!remote).then(read_links)).await {
                    let vnets = connection
                        .request(Request::Networks)
                        .await
                        .map_err(|e| e.to_string());
                    page.render(Loaded { host, vnets });
                }
                page.set_sensitive(true);
            }
        ));
    }

    fn show(&self, groups: Vec<adw::PreferencesGroup>) {
        for old in self.imp().groups.take() {
            self.remove(&old);
        }
        for group in &groups {
            self.add(group);
        }
        self.imp().groups.replace(groups);
    }

    fn render(&self, loaded: Loaded) {
        let mut groups = Vec::new();
        match loaded.host {
            None => {
                let group = adw::PreferencesGroup::builder()
                    .title(gettext("Network Cards and Bridges"))
                    .description(gettext(
                        "The network cards of a remote host are not shown: this page can only change the bridges of this computer.",
                    ))
                    .build();
                groups.push(group);
            }
            Some(Err(e)) => {
                let group = adw::PreferencesGroup::builder()
                    .title(gettext("Network Cards and Bridges"))
                    .description(glib::markup_escape_text(&e.to_string()))
                    .build();
                groups.push(group);
            }
            Some(Ok(host)) => {
                let mut links = host.networks.nics.clone();
                links.extend(host.networks.bridges.iter().map(|b| b.link.clone()));
                self.imp().links.replace(links);
                groups.push(self.nic_group(&host));
                groups.push(self.bridge_group(&host.networks.bridges));
            }
        }
        groups.push(vnets::group(self, loaded.vnets));
        self.show(groups);
    }

    fn nic_group(&self, host: &HostLinks) -> adw::PreferencesGroup {
        let group = adw::PreferencesGroup::builder()
            .title(gettext("Network Cards"))
            .build();
        if let Some(netns) = &host.netns {
            group.set_description(Some(&glib::markup_escape_text(&gettext_f(
                // Translators: {netns} names a Linux network namespace; {variable} is VIRTDECK_NETNS.
                "Only network namespace “{netns}” is shown and changed here ({variable} is set).",
                &[("netns", netns), ("variable", net::runner::NETNS_VARIABLE)],
            ))));
        }
        if host.networks.nics.is_empty() {
            group.add(&empty_row(&gettext("No network cards found")));
        }
        for nic in &host.networks.nics {
            let mut facts = vec![link_state(nic), nic.mac.clone()];
            facts.extend(addresses(nic));
            if let Some(master) = &nic.master {
                facts.push(gettext_f(
                    // Translators: {bridge} is the name of a network bridge.
                    "In bridge {bridge}",
                    &[("bridge", master)],
                ));
            }
            if host.managed.contains(&nic.name) {
                facts.push(gettext("Managed by NetworkManager"));
            }
            let row = link_row(&nic.name, &facts);
            if nic.master.is_none() {
                let button = row_button(&gettext("Create Bridge…"));
                let name = nic.name.clone();
                button.connect_clicked(glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    move |_| bridge_dialogs::create(&page, &name)
                ));
                row.add_suffix(&button);
            }
            group.add(&row);
        }
        group
    }

    fn bridge_group(&self, bridges: &[Bridge]) -> adw::PreferencesGroup {
        let group = adw::PreferencesGroup::builder()
            .title(gettext("Bridges"))
            .description(gettext(
                "Virtual machines attached to a bridge are on the same network as the host.",
            ))
            .build();
        if bridges.is_empty() {
            group.add(&empty_row(&gettext("No bridges")));
        }
        for bridge in bridges {
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
            let row = link_row(&bridge.link.name, &facts);
            if self.session() {
                let allow = row_button(&gettext("Allow for User Sessions"));
                let name = bridge.link.name.clone();
                allow.connect_clicked(glib::clone!(
                    #[weak(rename_to = page)]
                    self,
                    move |_| bridge_dialogs::allow_for_session(&page, &name)
                ));
                row.add_suffix(&allow);
            }
            let delete = row_button(&gettext("Delete"));
            delete.add_css_class("destructive-action");
            let name = bridge.link.name.clone();
            delete.connect_clicked(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |_| bridge_dialogs::delete(&page, &name)
            ));
            row.add_suffix(&delete);
            group.add(&row);
        }
        group
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

/// A row named `name` with `facts` below it.
pub(super) fn link_row(name: &str, facts: &[String]) -> adw::ActionRow {
    adw::ActionRow::builder()
        .title(glib::markup_escape_text(name))
        .subtitle(glib::markup_escape_text(&facts.join(" · ")))
        .build()
}

pub(super) fn empty_row(text: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(glib::markup_escape_text(text))
        .build();
    row.add_css_class("dim-label");
    row
}

fn row_button(label: &str) -> gtk::Button {
    gtk::Button::builder()
        .label(label)
        .valign(gtk::Align::Center)
        .build()
}
