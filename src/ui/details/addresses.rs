//! The guest's IP addresses in the details, per network interface, with the source that
//! knew them (guest agent, DHCP lease, ARP). Asked of the connection's worker when a
//! running machine is shown or starts, and again every tenth statistics sample while
//! shown and still running; without an agent it says how to get one.

use crate::i18n::gettext;
use crate::ui::backend::{AddressSource, GuestAddresses, Request};
use crate::ui::{Connection, Domain, InWords};
use gtk::subclass::prelude::*;
use gtk::{gio, glib, prelude::*, CompositeTemplate};
use std::cell::{Cell, RefCell};

use super::{bind_lines, replace_lines, Line};

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
        /// A question is on its way: do not ask again.
        pub asking: Cell<bool>,
        pub lines: gio::ListStore,
    }

    impl Default for GuestAddressesGroup {
        fn default() -> Self {
            Self {
                list: TemplateChild::default(),
                domain: BoundObject::default(),
                connection: RefCell::default(),
                status: RefCell::default(),
                agent_missing: Cell::default(),
                known: Cell::default(),
                asking: Cell::default(),
                lines: gio::ListStore::new::<glib::BoxedAnyObject>(),
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
                obj.show(domain.as_ref().and_then(Domain::guest_addresses).as_ref());
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
                let answer = connection
                    .request(|reply| Request::GuestAddresses {
                        uuid,
                        agent: true,
                        reply,
                    })
                    .await;
                group.imp().asking.set(false);
                if let Ok(addresses) = &answer {
                    domain.set_guest_addresses(Some(addresses.clone()));
                }
                if group.domain().as_ref() != Some(&domain) {
                    // Another machine was selected meanwhile: its turn.
                    group.ask();
                    return;
                }
                match answer {
                    Ok(addresses) => group.show(Some(&addresses)),
                    Err(error) => {
                        tracing::debug!("no guest addresses: {error}");
                        group.set_status(error.in_words(), false);
                    }
                }
            }
        ));
    }

    /// Shows `addresses`; `None`: none known.
    fn show(&self, addresses: Option<&GuestAddresses>) {
        let running = self.domain().is_some_and(|d| d.active());
        let lines = addresses.map(lines).unwrap_or_default();
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

/// One line per network interface: its name (and MAC address), its addresses.
fn lines(addresses: &GuestAddresses) -> Vec<Line> {
    addresses
        .nics
        .iter()
        .map(|nic| {
            let title = match &nic.mac {
                Some(mac) => format!("{} ({mac})", nic.name),
                None => nic.name.clone(),
            };
            (title, nic.addresses.join(", "))
        })
        .collect()
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
    use crate::ui::backend::GuestNic;

    #[test]
    fn each_interface_is_a_line() {
        let addresses = GuestAddresses {
            source: Some(AddressSource::Lease),
            nics: vec![GuestNic {
                name: "vnet0".into(),
                mac: Some("52:54:00:12:34:56".into()),
                addresses: vec!["192.0.2.9/24".into(), "fe80::1/64".into()],
            }],
            agent: false,
        };
        assert_eq!(
            lines(&addresses),
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
}
