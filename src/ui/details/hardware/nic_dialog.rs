//! Changes a network interface: its source, picked from what the host has as the wizard
//! lists it (host bridges, virtual networks, macvtap on a network card, user-mode
//! networking), model and MAC address. What is wrong is said under its field (a MAC
//! address another NIC on the connection has, no source to pick) and Apply stays disabled
//! until it is right.

use super::HardwarePage;
use crate::i18n::gettext;
use crate::spec::edit::hardware::Nic;
use crate::spec::edit::tree::Element;
use crate::spec::edit::{self, DomainEdit, EditError, Limits};
use crate::spec::{Network, NicModel};
use crate::ui::wizard::{network_text, read_network_options};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(CompositeTemplate, Default)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/nic_dialog.ui")]
    pub struct NicDialog {
        #[template_child]
        pub source: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub sources: TemplateChild<gtk::StringList>,
        /// The networks of `source`, in its order.
        pub networks: RefCell<Vec<Network>>,
        #[template_child]
        pub source_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub model: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub mac: TemplateChild<gtk::Entry>,
        #[template_child]
        pub mac_problem: TemplateChild<gtk::Label>,
        /// The machine's configuration and the connection's MAC addresses, to check
        /// against.
        pub root: RefCell<Option<Element>>,
        pub limits: RefCell<Limits>,
        pub nic: RefCell<Option<Nic>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NicDialog {
        const NAME: &'static str = "VdNicDialog";
        type Type = super::NicDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NicDialog {}
    impl WidgetImpl for NicDialog {}
    impl WindowImpl for NicDialog {}
    impl MessageDialogImpl for NicDialog {}

    #[gtk::template_callbacks]
    impl NicDialog {
        #[template_callback]
        fn on_changed(&self) {
            self.obj().check();
        }
    }
}

glib::wrapper! {
    pub struct NicDialog(ObjectSubclass<imp::NicDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl NicDialog {
    /// The edit the fields hold, or why it is refused.
    fn edit(&self) -> Result<DomainEdit, EditError> {
        let imp = self.imp();
        let network = imp
            .networks
            .borrow()
            .get(imp.source.selected() as usize)
            .cloned()
            .ok_or(EditError::NoNicSource)?;
        let model = if imp.model.selected() == 1 {
            NicModel::E1000
        } else {
            NicModel::Virtio
        };
        let new_mac = imp.mac.text().trim().to_ascii_lowercase();
        let edit = match imp.nic.borrow().clone() {
            Some(nic) => DomainEdit::NicSettings {
                mac: nic.mac,
                network,
                model,
                new_mac,
            },
            None => DomainEdit::AddNic {
                network,
                model,
                mac: new_mac,
            },
        };
        // The worker's own checks, on a copy of the configuration.
        if let Some(mut root) = imp.root.borrow().clone() {
            edit::apply(&mut root, &edit, &imp.limits.borrow())?;
        }
        Ok(edit)
    }

    /// Shows what is wrong under its field; Apply only when nothing is.
    fn check(&self) {
        let imp = self.imp();
        let error = self.edit().err();
        let (source, mac) = match &error {
            Some(EditError::NoNicSource) => (error.as_ref().map(|e| e.to_string()), None),
            Some(e) => (None, Some(e.to_string())),
            None => (None, None),
        };
        for (label, text) in [(&imp.source_problem, source), (&imp.mac_problem, mac)] {
            label.set_visible(text.is_some());
            label.set_label(text.as_deref().unwrap_or(""));
        }
        self.set_response_enabled("apply", error.is_none());
    }
}

/// Opens the dialog for a new NIC of the page's machine and adds what it holds.
pub(super) async fn add(page: &HardwarePage) {
    run(page, None).await;
}

/// Opens the dialog for NIC `mac` of the page's machine and applies what it holds.
pub(super) async fn edit(page: &HardwarePage, mac: String) {
    run(page, Some(mac)).await;
}

async fn run(page: &HardwarePage, mac: Option<String>) {
    let (Some(domain), Some(connection)) = (page.domain(), page.connection()) else {
        return;
    };
    let uuid = domain.uuid();
    let Ok(config) = connection
        .request(|reply| {
            crate::ui::backend::Request::Edit(crate::ui::backend::edit::EditRequest::Read {
                uuid,
                reply,
            })
        })
        .await
    else {
        return;
    };
    let Ok(hardware) = crate::spec::edit::Hardware::from_xml(&config.xml) else {
        return;
    };
    let nic = match &mac {
        Some(mac) => match hardware
            .nics
            .into_iter()
            .find(|n| n.mac.eq_ignore_ascii_case(mac))
        {
            Some(nic) => Some(nic),
            None => return,
        },
        None => None,
    };
    let dialog: NicDialog = glib::Object::builder().build();
    let imp = dialog.imp();
    imp.root.replace(Element::parse(&config.xml).ok());
    imp.limits.replace(Limits {
        macs_in_use: config.macs_in_use,
        ..Limits::default()
    });
    let mut networks: Vec<Network> = read_network_options(&connection)
        .await
        .into_iter()
        .map(|o| o.network)
        .collect();
    // The NIC's own source stays offered, even where the host no longer lists it.
    let current = nic.as_ref().and_then(nic_network);
    if let Some(current) = current.as_ref().filter(|c| !networks.contains(c)) {
        networks.insert(0, current.clone());
    }
    // A new NIC: the "default" virtual network as virt-manager's, else user-mode
    // networking, else the first.
    let chosen = current
        .or_else(|| {
            let default = Network::VirtualNetwork {
                name: "default".into(),
            };
            networks.contains(&default).then_some(default)
        })
        .unwrap_or(Network::User);
    let texts: Vec<String> = networks.iter().map(network_text).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    imp.sources.splice(0, imp.sources.n_items(), &texts);
    let selected = networks.iter().position(|n| *n == chosen).unwrap_or(0);
    imp.networks.replace(networks);
    imp.source.set_selected(selected as u32);
    imp.model
        .set_selected(u32::from(nic.as_ref().is_some_and(|n| n.model == "e1000")));
    imp.mac.set_text(
        nic.as_ref()
            .map_or(config.free_mac.as_str(), |n| n.mac.as_str()),
    );
    if nic.is_none() {
        dialog.set_heading(Some(&gettext("Add Network Interface")));
        dialog.set_response_label("apply", &gettext("_Add"));
    }
    imp.nic.replace(nic);
    dialog.check();
    dialog.set_transient_for(page.root().and_downcast_ref::<gtk::Window>());
    let (answer, response) = async_channel::bounded(1);
    dialog.connect_response(None, move |_, r| {
        let _ = answer.try_send(r.to_owned());
    });
    dialog.present();
    if response.recv().await.as_deref() != Ok("apply") {
        return;
    }
    // Apply is only enabled without a problem.
    if let Ok(edit) = dialog.edit() {
        page.apply(vec![edit]).await;
    }
}

/// The source of `nic` as a network of the dialog; `None` for kinds it does not offer.
fn nic_network(nic: &Nic) -> Option<Network> {
    let name = nic.source.clone();
    match nic.kind.as_str() {
        "bridge" => Some(Network::Bridge { name }),
        "network" => Some(Network::VirtualNetwork { name }),
        "direct" => Some(Network::Macvtap { dev: name }),
        "user" => Some(Network::User),
        _ => None,
    }
}
