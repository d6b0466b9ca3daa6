//! "Add a Virtual Network": name, mode (NAT, routed, isolated, open), the card it forwards
//! through, its IPv4 subnet with a DHCP range, optional IPv6 and DNS domain, checked as
//! typed against the host's routes and the other networks (the clash is named).

use crate::i18n::gettext;
use crate::ui::backend::networks::create::{check, HostRoute};
use crate::ui::backend::{ForwardMode, Ipv4Subnet, NetworkError, NetworkSpec, TakenSubnet};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::RefCell;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `forwards`, for the device row's `<closure>`.
struct ModeClosures;

#[gtk::template_callbacks(functions)]
impl ModeClosures {
    /// NAT and routed networks forward through a card.
    #[template_callback]
    fn forwards(selected: u32) -> bool {
        selected <= 1
    }
}

/// What the host already has, to check a new network against.
#[derive(Debug, Default, Clone)]
pub struct Existing {
    pub networks: Vec<TakenSubnet>,
    pub routes: Vec<HostRoute>,
    pub bridges: Vec<String>,
}

/// A field that is wrong and why.
enum Wrong {
    Field(&'static str, String),
}

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/vnet_dialogs/create.ui")]
    #[properties(wrapper_type = super::CreateNetworkDialog)]
    pub struct CreateNetworkDialog {
        #[property(get)]
        pub problem: RefCell<String>,
        pub existing: RefCell<Existing>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub mode_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub device_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub subnet_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub dhcp_start_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub dhcp_end_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub ipv6_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub domain_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub autostart: TemplateChild<gtk::Switch>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CreateNetworkDialog {
        const NAME: &'static str = "VdCreateNetworkDialog";
        type Type = super::CreateNetworkDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            crate::ui::util::Closures::bind_template_callbacks(klass);
            ModeClosures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl CreateNetworkDialog {
        /// What cannot be used says why, marks its field and disables Create Network.
        #[template_callback]
        pub(super) fn check(&self) {
            let obj = self.obj();
            let result = obj.read().and_then(|spec| {
                let existing = self.existing.borrow();
                check(
                    &spec,
                    &existing.networks,
                    &existing.routes,
                    &existing.bridges,
                )
                .map_err(|e| {
                    let row = match e {
                        NetworkError::NoName | NetworkError::NameTaken(_) => "name",
                        NetworkError::RangeOutside { .. } | NetworkError::RangeBackwards => "dhcp",
                        _ => "subnet",
                    };
                    Wrong::Field(row, super::super::network_words(&e))
                })
            });
            let wrong = match &result {
                Err(Wrong::Field(row, _)) => *row,
                Ok(()) => "",
            };
            for (field, row) in [
                ("name", &*self.name_row),
                ("subnet", &*self.subnet_row),
                ("dhcp", &*self.dhcp_start_row),
                ("dhcp", &*self.dhcp_end_row),
                ("ipv6", &*self.ipv6_row),
            ] {
                crate::ui::host::mark_wrong(row, field == wrong);
            }
            let problem = match result {
                Err(Wrong::Field(_, words)) => words,
                Ok(()) => String::new(),
            };
            obj.set_response_enabled("create", problem.is_empty());
            self.problem.replace(problem);
            obj.notify_problem();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CreateNetworkDialog {}
    impl WidgetImpl for CreateNetworkDialog {}
    impl WindowImpl for CreateNetworkDialog {}
    impl MessageDialogImpl for CreateNetworkDialog {}
}

glib::wrapper! {
    pub struct CreateNetworkDialog(ObjectSubclass<imp::CreateNetworkDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl CreateNetworkDialog {
    /// Asks over `parent` for a network that clashes with nothing in `existing`.
    pub fn new(parent: &impl IsA<gtk::Window>, existing: Existing) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        let imp = dialog.imp();
        imp.existing.replace(existing);
        imp.subnet_row.set_text("192.168.100.1/24");
        imp.dhcp_start_row.set_text("192.168.100.128");
        imp.dhcp_end_row.set_text("192.168.100.254");
        imp.check();
        dialog
    }

    /// The network as the dialog describes it; only valid after [`Self::read`] succeeded.
    pub fn spec(&self) -> Option<NetworkSpec> {
        self.read().ok()
    }

    fn read(&self) -> Result<NetworkSpec, Wrong> {
        let imp = self.imp();
        let text = |row: &adw::EntryRow| row.text().trim().to_owned();
        let device = Some(text(&imp.device_row)).filter(|d| !d.is_empty());
        let forward = match imp.mode_row.selected() {
            0 => ForwardMode::Nat { device },
            1 => ForwardMode::Routed { device },
            2 => ForwardMode::Isolated,
            _ => ForwardMode::Open,
        };
        let ipv4 = Ipv4Subnet::parse(&text(&imp.subnet_row)).ok_or_else(|| {
            Wrong::Field(
                "subnet",
                gettext("Enter an IPv4 address with a prefix length, such as 192.168.100.1/24."),
            )
        })?;
        let address = |row: &adw::EntryRow| text(row).parse::<Ipv4Addr>();
        let dhcp = match (
            text(&imp.dhcp_start_row).is_empty(),
            text(&imp.dhcp_end_row).is_empty(),
        ) {
            (true, true) => None,
            _ => match (address(&imp.dhcp_start_row), address(&imp.dhcp_end_row)) {
                (Ok(first), Ok(last)) => Some((first, last)),
                _ => {
                    return Err(Wrong::Field(
                        "dhcp",
                        gettext("Enter the first and last address of the DHCP range, or neither."),
                    ))
                }
            },
        };
        let ipv6 = match text(&imp.ipv6_row) {
            empty if empty.is_empty() => None,
            given => {
                let parsed = given.split_once('/').and_then(|(a, p)| {
                    Some((
                        a.parse::<Ipv6Addr>().ok()?,
                        p.parse::<u8>().ok().filter(|p| *p <= 128)?,
                    ))
                });
                Some(parsed.ok_or_else(|| {
                    Wrong::Field(
                        "ipv6",
                        gettext(
                            "Enter an IPv6 address with a prefix length, such as fd00:1::1/64.",
                        ),
                    )
                })?)
            }
        };
        Ok(NetworkSpec {
            name: text(&imp.name_row),
            forward,
            ipv4,
            dhcp,
            ipv6,
            domain: Some(text(&imp.domain_row)).filter(|d| !d.is_empty()),
            autostart: imp.autostart.is_active(),
        })
    }
}
