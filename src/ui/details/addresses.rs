//! The guest in the details: its IP addresses per network interface, with the source that
//! knew them (guest agent, DHCP lease, ARP), each matched by MAC address to the machine's
//! NIC; and, when it has an agent, what the agent tells (hostname, operating system, time
//! zone, users, filesystems). Asked of the connection's worker when a running machine is
//! shown or starts, and again every tenth statistics sample while shown and still running;
//! without an agent it says so and how to get one.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::domain::Nic;
use crate::ui::backend::{
    AddressSource, DescribeRequest, GuestAddresses, GuestFacts, GuestInfo, Request,
};
use crate::ui::graph::size;
use crate::ui::{Connection, Domain, InWords};
use gtk::subclass::prelude::*;
use gtk::{gio, glib, prelude::*, CompositeTemplate};
use std::cell::{Cell, RefCell};

use super::{bind_lines, nic_title, replace_lines, Line};

/// Ask again after this many statistics samples (30 s at the default interval).
const ASK_EVERY_SAMPLES: u64 = 10;

mod imp {
    use super::*;
    use crate::ui::util::BoundObject;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::GuestAddressesGroup)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/addresses.ui")]
    pub struct GuestAddressesGroup {
        #[template_child]
        pub list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub facts_list: TemplateChild<gtk::ListBox>,
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        /// The connection the machine is on, which answers the question.
        #[property(get, set = Self::set_connection, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// Where the addresses came from, or why there are none, in words.
        #[property(get)]
        pub status: RefCell<String>,
        /// The guest runs but no agent answered: say how to get one.
        #[property(get)]
        pub agent_missing: Cell<bool>,
        /// There are addresses to list.
        #[property(get)]
        pub known: Cell<bool>,
        /// What the agent told, or why nothing, in words.
        #[property(get)]
        pub facts_status: RefCell<String>,
        /// There are facts to list.
        #[property(get)]
        pub facts_known: Cell<bool>,
        /// A question is on its way: do not ask again.
        pub asking: Cell<bool>,
        /// The shown machine's network interfaces, read with its addresses (the list
        /// keeps no devices).
        pub nics: RefCell<Vec<Nic>>,
        pub lines: gio::ListStore,
        pub facts_lines: gio::ListStore,
    }

    impl Default for GuestAddressesGroup {
        fn default() -> Self {
            Self {
                list: TemplateChild::default(),
                facts_list: TemplateChild::default(),
                domain: BoundObject::default(),
                connection: RefCell::default(),
                status: RefCell::default(),
                agent_missing: Cell::default(),
                known: Cell::default(),
                facts_status: RefCell::default(),
                facts_known: Cell::default(),
                asking: Cell::default(),
                nics: RefCell::default(),
                lines: gio::ListStore::new::<glib::BoxedAnyObject>(),
                facts_lines: gio::ListStore::new::<glib::BoxedAnyObject>(),
            }
        }
    }

    impl GuestAddressesGroup {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            let obj = self.obj();
            let followed = self.domain.follow(domain.as_ref(), |domain| {
                vec![
                    domain.connect_active_notify(glib::clone!(
                        #[weak]
                        obj,
                        move |_| obj.ask()
                    )),
                    domain.connect_samples_notify(glib::clone!(
                        #[weak]
                        obj,
                        move |domain| {
                            if domain.samples() % ASK_EVERY_SAMPLES == 0 && obj.is_mapped() {
                                obj.ask();
                            }
                        }
                    )),
                ]
            });
            if followed {
                self.nics.replace(Vec::new());
                obj.show(domain.as_ref().and_then(Domain::guest_addresses).as_ref());
                obj.show_facts(None);
                obj.ask();
            }
        }

        fn set_connection(&self, connection: Option<Connection>) {
            if *self.connection.borrow() != connection {
                self.connection.replace(connection);
                self.obj().ask();
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for GuestAddressesGroup {
        const NAME: &'static str = "VdGuestAddressesGroup";
        type Type = super::GuestAddressesGroup;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for GuestAddressesGroup {
        fn constructed(&self) {
            self.parent_constructed();
            bind_lines(&self.list, &self.lines);
            bind_lines(&self.facts_list, &self.facts_lines);
        }
    }

    impl WidgetImpl for GuestAddressesGroup {}
    impl BoxImpl for GuestAddressesGroup {}
}

glib::wrapper! {
    pub struct GuestAddressesGroup(ObjectSubclass<imp::GuestAddressesGroup>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl GuestAddressesGroup {
    /// Asks the worker for the shown machine's addresses, if it runs and no question is on
    /// its way; shows the answer when it is still the machine shown.
    fn ask(&self) {
        let imp = self.imp();
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        if !domain.active() {
            self.show(None);
            return;
        }
        if imp.asking.replace(true) {
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = group)]
            self,
            async move {
                let uuid = domain.uuid();
                let described = connection
                    .request(|reply| {
                        Request::Describe(DescribeRequest::Domain {
                            uuid: uuid.clone(),
                            reply,
                        })
                    })
                    .await;
                let answer = connection
                    .request(|reply| Request::GuestAddresses {
                        uuid,
                        agent: true,
                        reply,
                    })
                    .await;
                if let Ok(addresses) = &answer {
                    domain.set_guest_addresses(Some(addresses.clone()));
                }
                // Only an agent that answered is asked for facts: it answers at once.
                let facts = match &answer {
                    Ok(addresses) if addresses.agent => Some(
                        connection
                            .request(|reply| Request::GuestInfo {
                                uuid: domain.uuid(),
                                reply,
                            })
                            .await,
                    ),
                    _ => None,
                };
                group.imp().asking.set(false);
                if group.domain().as_ref() != Some(&domain) {
                    // Another machine was selected meanwhile: its turn.
                    group.ask();
                    return;
                }
                if let Ok(info) = described {
                    group.imp().nics.replace(info.nics);
                }
                match answer {
                    Ok(addresses) => group.show(Some(&addresses)),
                    Err(error) => {
                        // Neither question was answered: both say why.
                        tracing::debug!("no guest addresses: {error}");
                        group.set_status(error.in_words(), false);
                        group.set_facts(Vec::new(), error.in_words());
                        return;
                    }
                }
                match facts {
                    Some(Ok(facts)) => group.show_facts(Some(&facts)),
                    Some(Err(error)) => {
                        tracing::debug!("no guest facts: {error}");
                        group.set_facts(Vec::new(), error.in_words());
                    }
                    // The addresses' answer said there is no agent.
                    None => group.show_facts(Some(&GuestFacts::NoAgent(String::new()))),
                }
            }
        ));
    }

    /// Shows `addresses`; `None`: none known.
    fn show(&self, addresses: Option<&GuestAddresses>) {
        let running = self.domain().is_some_and(|d| d.active());
        let lines = addresses
            .map(|a| lines(a, &self.imp().nics.borrow()))
            .unwrap_or_default();
        let known = !lines.is_empty();
        replace_lines(&self.imp().lines, lines);
        if self.imp().known.replace(known) != known {
            self.notify_known();
        }
        let (status, agent_missing) = match addresses {
            _ if !running => (gettext("Shown while the machine runs."), false),
            None => (gettext("Asking…"), false),
            Some(a) => (status(a), !a.agent),
        };
        self.set_status(status, agent_missing);
    }

    /// Shows what the agent told; `None`: nothing known yet (or not running).
    fn show_facts(&self, facts: Option<&GuestFacts>) {
        let running = self.domain().is_some_and(|d| d.active());
        let (lines, status) = match facts {
            _ if !running => (Vec::new(), gettext("Shown while the machine runs.")),
            None => (Vec::new(), gettext("Asking…")),
            Some(GuestFacts::NotRunning) => (Vec::new(), gettext("Shown while the machine runs.")),
            Some(GuestFacts::NoAgent(reason)) => {
                if !reason.is_empty() {
                    tracing::debug!("no guest agent: {reason}");
                }
                (Vec::new(), gettext("No guest agent answered."))
            }
            Some(GuestFacts::Known(info)) => (fact_lines(info), gettext("From the guest agent.")),
        };
        self.set_facts(lines, status);
    }

    fn set_facts(&self, lines: Vec<Line>, status: String) {
        let imp = self.imp();
        let known = !lines.is_empty();
        replace_lines(&imp.facts_lines, lines);
        if imp.facts_known.replace(known) != known {
            self.notify_facts_known();
        }
        if *imp.facts_status.borrow() != status {
            imp.facts_status.replace(status);
            self.notify_facts_status();
        }
    }

    fn set_status(&self, status: String, agent_missing: bool) {
        let imp = self.imp();
        if *imp.status.borrow() != status {
            imp.status.replace(status);
            self.notify_status();
        }
        if imp.agent_missing.replace(agent_missing) != agent_missing {
            self.notify_agent_missing();
        }
    }
}

/// One line per network interface, its addresses: titled by the machine's NIC with the
/// same MAC address ("Virtual network default", with the guest's name for it when the agent
/// answered), else by the name the source gave and the MAC address.
fn lines(addresses: &GuestAddresses, nics: &[Nic]) -> Vec<Line> {
    addresses
        .nics
        .iter()
        .map(|nic| {
            let mac = nic.mac.as_deref();
            let ours = mac.and_then(|mac| {
                nics.iter().find(|n| {
                    n.mac
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(mac))
                })
            });
            let title = match (ours, mac) {
                (Some(ours), _) if addresses.source == Some(AddressSource::Agent) => {
                    format!("{} · {}", nic_title(ours), nic.name)
                }
                (Some(ours), _) => nic_title(ours),
                (None, Some(mac)) => format!("{} ({mac})", nic.name),
                (None, None) => nic.name.clone(),
            };
            (title, nic.addresses.join(", "))
        })
        .collect()
}

/// The agent's facts as lines: hostname, operating system, time zone, users, then one
/// line per filesystem with its use.
fn fact_lines(info: &GuestInfo) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Some(hostname) = &info.hostname {
        lines.push((gettext("Hostname"), hostname.clone()));
    }
    if let Some(os) = info.os.title() {
        let os = match &info.os.kernel_release {
            Some(kernel) => gettext_f(
                // Translators: {os} is e.g. "Debian GNU/Linux 12", {kernel} "6.1.0-28-amd64".
                "{os}, kernel {kernel}",
                &[("os", &os), ("kernel", kernel)],
            ),
            None => os,
        };
        lines.push((gettext("Operating system"), os));
    }
    if let Some(zone) = time_zone(info) {
        lines.push((gettext("Time zone"), zone));
    }
    let users: Vec<String> = info
        .users
        .iter()
        .map(|u| match &u.domain {
            Some(domain) => format!("{domain}\\{}", u.name),
            None => u.name.clone(),
        })
        .collect();
    lines.push((
        gettext("Logged-in users"),
        if users.is_empty() {
            gettext("None")
        } else {
            users.join(", ")
        },
    ));
    for fs in &info.filesystems {
        let title = match &fs.fstype {
            Some(fstype) => format!("{} ({fstype})", fs.mountpoint),
            None => fs.mountpoint.clone(),
        };
        let value = match (fs.used_bytes, fs.free_bytes(), fs.total_bytes) {
            (Some(used), Some(free), Some(total)) => gettext_f(
                // Translators: a filesystem's use; {used}, {free} and {total} are sizes.
                "{used} used, {free} free of {total}",
                &[
                    ("used", &size(used as f64)),
                    ("free", &size(free as f64)),
                    ("total", &size(total as f64)),
                ],
            ),
            (_, _, Some(total)) => size(total as f64),
            _ => gettext("Size unknown"),
        };
        lines.push((title, value));
    }
    lines
}

/// "CET (UTC+01:00)".
fn time_zone(info: &GuestInfo) -> Option<String> {
    let offset = info.timezone.offset_seconds.map(|s| {
        let sign = if s < 0 { '-' } else { '+' };
        let minutes = s.unsigned_abs() / 60;
        format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    });
    match (&info.timezone.name, offset) {
        (Some(name), Some(offset)) => Some(format!("{name} ({offset})")),
        (Some(name), None) => Some(name.clone()),
        (None, offset) => offset,
    }
}

/// Which source answered, or that none did.
fn status(addresses: &GuestAddresses) -> String {
    match addresses.source {
        Some(AddressSource::Agent) => gettext("From the guest agent."),
        Some(AddressSource::Lease) => gettext("From the DHCP lease of its virtual network."),
        Some(AddressSource::Arp) => gettext("From the host’s ARP table."),
        None if addresses.agent => gettext("The guest agent reports no addresses."),
        None => gettext(
            "No addresses known: no guest agent answered, no DHCP lease, nothing in the host’s ARP table.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::backend::guest_info::GuestTimeZone;
    use crate::ui::backend::{GuestFilesystem, GuestNic, GuestOs, GuestUser};

    fn lease() -> GuestAddresses {
        GuestAddresses {
            source: Some(AddressSource::Lease),
            nics: vec![GuestNic {
                name: "vnet0".into(),
                mac: Some("52:54:00:12:34:56".into()),
                addresses: vec!["192.0.2.9/24".into(), "fe80::1/64".into()],
            }],
            agent: false,
        }
    }

    fn nic(mac: &str) -> Nic {
        Nic {
            kind: "network".into(),
            source: Some("default".into()),
            mac: Some(mac.into()),
            model: Some("virtio".into()),
        }
    }

    #[test]
    fn each_interface_is_a_line() {
        let addresses = lease();
        assert_eq!(
            lines(&addresses, &[]),
            [(
                "vnet0 (52:54:00:12:34:56)".to_owned(),
                "192.0.2.9/24, fe80::1/64".to_owned()
            )]
        );
        assert_eq!(
            status(&addresses),
            "From the DHCP lease of its virtual network."
        );
    }

    #[test]
    fn an_interface_is_named_after_the_machine_s_nic_of_the_same_mac() {
        let mut addresses = lease();
        let nics = [nic("52:54:00:ab:cd:ef"), nic("52:54:00:12:34:56")];
        assert_eq!(lines(&addresses, &nics)[0].0, "Virtual network default");
        // The agent names it as the guest does; MAC case does not matter.
        addresses.source = Some(AddressSource::Agent);
        addresses.nics[0].name = "eth0".into();
        addresses.nics[0].mac = Some("52:54:00:12:34:56".to_uppercase());
        assert_eq!(
            lines(&addresses, &nics)[0].0,
            "Virtual network default · eth0"
        );
    }

    #[test]
    fn the_agent_s_facts_are_lines() {
        let info = GuestInfo {
            hostname: Some("web1".into()),
            os: GuestOs {
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
                kernel_release: Some("6.1.0-28-amd64".into()),
                ..GuestOs::default()
            },
            timezone: GuestTimeZone {
                name: Some("IST".into()),
                offset_seconds: Some(19800),
            },
            users: vec![GuestUser {
                name: "alice".into(),
                domain: Some("EXAMPLE".into()),
                login_time_ms: None,
            }],
            filesystems: vec![GuestFilesystem {
                mountpoint: "/".into(),
                name: Some("vda1".into()),
                fstype: Some("ext4".into()),
                total_bytes: Some(10_000_000_000),
                used_bytes: Some(2_500_000_000),
            }],
        };
        let lines = fact_lines(&info);
        let find = |title: &str| {
            lines
                .iter()
                .find(|(t, _)| t == title)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(find("Hostname"), Some("web1"));
        assert_eq!(
            find("Operating system"),
            Some("Debian GNU/Linux 12 (bookworm), kernel 6.1.0-28-amd64")
        );
        assert_eq!(find("Time zone"), Some("IST (UTC+05:30)"));
        assert_eq!(find("Logged-in users"), Some("EXAMPLE\\alice"));
        assert_eq!(
            find("/ (ext4)"),
            // glib's sizes keep the number and unit together with a no-break space.
            Some("2.5\u{a0}GB used, 7.5\u{a0}GB free of 10.0\u{a0}GB")
        );
    }

    #[test]
    fn a_quiet_agent_still_says_who_is_logged_in() {
        let lines = fact_lines(&GuestInfo::default());
        assert_eq!(lines, [("Logged-in users".to_owned(), "None".to_owned())]);
        let west = GuestInfo {
            timezone: GuestTimeZone {
                name: None,
                offset_seconds: Some(-18000),
            },
            ..GuestInfo::default()
        };
        assert_eq!(time_zone(&west).as_deref(), Some("UTC-05:00"));
    }
}
