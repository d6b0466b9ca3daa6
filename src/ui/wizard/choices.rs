//! The lists of choices the pages offer (connections, operating systems, bridges and
//! other networks, storage pools) and the words for each choice.

use super::build::set_text;
use super::Wizard;
use crate::host::net::{Bridge, Networks};
use crate::i18n::{gettext, gettext_f};
use crate::spec::osinfo::OsInfo;
use crate::spec::{DomainType, InstallMethod, Network, Storage};
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

/// How many search results the OS list shows.
const OS_RESULTS: usize = 30;

/// A radio button with `label`, in `group`, with an optional dim line below.
pub(super) fn radio_row(
    list: &gtk::ListBox,
    label: &str,
    detail: Option<&str>,
    group: Option<&gtk::CheckButton>,
) -> gtk::CheckButton {
    let radio = gtk::CheckButton::with_label(label);
    radio.set_group(group);
    let content = gtk::Box::new(gtk::Orientation::Vertical, 2);
    content.append(&radio);
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        let caption = gtk::Label::builder()
            .label(detail)
            .xalign(0.0)
            .wrap(true)
            .margin_start(28)
            .css_classes(["dim-label", "caption"])
            .build();
        content.append(&caption);
    }
    list.append(&content);
    radio
}

/// The name shown for an OS; the generic fallbacks are translated.
pub(super) fn os_display_name(name: &str) -> String {
    match name {
        "Generic Linux" => gettext("Generic Linux"),
        "Generic OS" => gettext("Generic OS"),
        other => other.to_owned(),
    }
}

pub(super) fn install_text(install: &InstallMethod) -> String {
    match install {
        InstallMethod::LocalIso { path } => gettext_f(
            // Translators: {path} is an ISO image file.
            "From the image {path}",
            &[("path", path)],
        ),
        InstallMethod::StorageVolume { pool, volume } => gettext_f(
            // Translators: {volume} is a disk image in the storage pool {pool}.
            "From the volume {volume} of pool {pool}",
            &[("volume", volume), ("pool", pool)],
        ),
        InstallMethod::ImportDisk { path, .. } => gettext_f(
            // Translators: {path} is a disk image file.
            "Import the disk image {path}",
            &[("path", path)],
        ),
        InstallMethod::NetworkBoot => gettext("Network boot (PXE)"),
        InstallMethod::Manual => gettext("Manual install (no media)"),
    }
}

pub(super) fn storage_text(storage: &Storage) -> String {
    match storage {
        Storage::NewVolume { pool, size_gib } => gettext_f(
            // Translators: e.g. "New 20 GiB disk in pool default".
            "New {size} GiB disk in pool {pool}",
            &[("size", &size_gib.to_string()), ("pool", pool)],
        ),
        Storage::Existing { path, .. } => gettext_f(
            // Translators: {path} is a disk image file.
            "The existing disk {path}",
            &[("path", path)],
        ),
        Storage::None => gettext("No disk"),
    }
}

/// How the machine will run; emulation says that it is slow.
pub(super) fn virtualization_text(domain_type: DomainType) -> String {
    match domain_type {
        DomainType::Kvm => gettext("KVM hardware virtualization"),
        DomainType::Qemu => gettext("QEMU emulation without KVM (slow)"),
    }
}

pub(super) fn network_text(network: &Network) -> String {
    match network {
        Network::Bridge { name } => gettext_f(
            // Translators: {name} is a host bridge such as br0.
            "Host bridge {name}",
            &[("name", name)],
        ),
        Network::VirtualNetwork { name } => gettext_f(
            // Translators: {name} is a libvirt network such as "default".
            "Virtual network “{name}”",
            &[("name", name)],
        ),
        Network::Macvtap { dev } => gettext_f(
            // Translators: {dev} is a host network card such as eth0.
            "Macvtap on {dev}",
            &[("dev", dev)],
        ),
        Network::User => gettext("User-mode networking"),
    }
}

/// Member NICs and addresses of a bridge, in words.
fn bridge_detail(bridge: &Bridge) -> String {
    let members = if bridge.members.is_empty() {
        gettext("no member interfaces")
    } else {
        gettext_f(
            // Translators: {members} lists network interfaces, e.g. "eth0, veth1".
            "members: {members}",
            &[("members", &bridge.members.join(", "))],
        )
    };
    let addresses: Vec<String> = bridge
        .link
        .addresses
        .iter()
        .map(|a| format!("{}/{}", a.local, a.prefixlen))
        .collect();
    if addresses.is_empty() {
        members
    } else {
        gettext_f(
            // Translators: {members} from "members: …"; {addresses} lists IP addresses.
            "{members}; addresses: {addresses}",
            &[("members", &members), ("addresses", &addresses.join(", "))],
        )
    }
}

fn holds_default_route(bridge: &Bridge) -> bool {
    bridge.link.routes.iter().any(|r| r.dst == "default")
}

pub(super) fn clear(list: &gtk::ListBox) {
    while let Some(child) = list.first_child() {
        list.remove(&child);
    }
}

impl Wizard {
    pub(super) fn fill_connections(
        &self,
        connections: &gio::ListStore,
        selected: Option<&Connection>,
    ) {
        let imp = self.imp();
        let mut radios: Vec<(gtk::CheckButton, Connection)> = Vec::new();
        for connection in connections.iter::<Connection>().filter_map(Result::ok) {
            let group = radios.first().map(|(r, _)| r.clone());
            let radio = radio_row(
                &imp.connection_list,
                &connection.title(),
                Some(&connection.uri()),
                group.as_ref(),
            );
            radio.set_active(match selected {
                Some(selected) => *selected == connection,
                None => group.is_none(),
            });
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                move |radio| {
                    if radio.is_active() {
                        wizard.load_host();
                    }
                }
            ));
            radios.push((radio, connection));
        }
        if !radios.iter().any(|(r, _)| r.is_active()) {
            if let Some((first, _)) = radios.first() {
                first.set_active(true);
            }
        }
        imp.connections.replace(radios);
    }

    /// Lists the search results for the OS search text, the chosen OS ticked.
    pub(super) fn fill_os_list(&self) {
        let imp = self.imp();
        let Some(db) = imp.osdb.get() else {
            return;
        };
        clear(&imp.os_list);
        let chosen = imp.os.borrow().as_ref().map(|os| os.id.clone());
        let mut results = db.search(&imp.os_search.text());
        results.truncate(OS_RESULTS);
        if let Some(os) = imp.os.borrow().as_ref() {
            if !results.iter().any(|r| r.id == os.id) {
                results.insert(0, os.clone());
            }
        }
        let mut choices: Vec<(gtk::CheckButton, OsInfo)> = Vec::new();
        for os in results {
            let group = choices.first().map(|(r, _)| r.clone());
            let radio = radio_row(
                &imp.os_list,
                &os_display_name(&os.name),
                None,
                group.as_ref(),
            );
            radio.set_active(chosen.as_deref() == Some(os.id.as_str()));
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                #[strong]
                os,
                move |radio| {
                    if radio.is_active() {
                        wizard.choose_os(os.clone());
                    }
                }
            ));
            choices.push((radio, os));
        }
        imp.os_choices.replace(choices);
    }

    /// Makes `os` the chosen OS and fills in what it recommends.
    pub(super) fn choose_os(&self, os: OsInfo) {
        let imp = self.imp();
        let recommended = os.recommendation();
        imp.memory_entry
            .set_text(&recommended.memory_mib.to_string());
        imp.vcpus_entry.set_text(&recommended.vcpus.to_string());
        imp.disk_size_entry
            .set_text(&recommended.disk_gib.to_string());
        imp.os.replace(Some(os));
        self.check_page();
    }

    /// Lists the bridges, virtual networks, NICs for macvtap and user-mode networking;
    /// the bridge holding the default route is preselected, else the first choice.
    pub(super) fn fill_networks(&self, networks: Option<&Networks>, virtual_networks: &[String]) {
        let imp = self.imp();
        clear(&imp.bridge_list);
        clear(&imp.other_network_list);
        let mut choices: Vec<(gtk::CheckButton, Network)> = Vec::new();
        let mut add = |list: &gtk::ListBox, label: &str, detail: Option<&str>, network: Network| {
            let group = choices.first().map(|(r, _)| r.clone());
            let radio = radio_row(list, label, detail, group.as_ref());
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                move |_| {
                    wizard.update_bridge_helper();
                    wizard.check_page();
                }
            ));
            choices.push((radio, network));
        };
        let bridges = networks.map(|n| n.bridges.as_slice()).unwrap_or_default();
        for bridge in bridges {
            add(
                &imp.bridge_list,
                &bridge.link.name,
                Some(&bridge_detail(bridge)),
                Network::Bridge {
                    name: bridge.link.name.clone(),
                },
            );
        }
        imp.bridge_list.set_visible(!bridges.is_empty());
        imp.no_bridge_label.set_visible(bridges.is_empty());
        for name in virtual_networks {
            let detail = (name == "default")
                .then(|| gettext("NAT: the machine reaches out through the host"));
            add(
                &imp.other_network_list,
                &network_text(&Network::VirtualNetwork { name: name.clone() }),
                detail.as_deref(),
                Network::VirtualNetwork { name: name.clone() },
            );
        }
        for nic in networks.map(|n| n.nics.as_slice()).unwrap_or_default() {
            if nic.master.is_none() {
                add(
                    &imp.other_network_list,
                    &network_text(&Network::Macvtap {
                        dev: nic.name.clone(),
                    }),
                    Some(&gettext(
                        "The machine cannot reach the host itself this way",
                    )),
                    Network::Macvtap {
                        dev: nic.name.clone(),
                    },
                );
            }
        }
        if self
            .connection()
            .is_some_and(|c| c.uri().ends_with("/session"))
        {
            add(
                &imp.other_network_list,
                &network_text(&Network::User),
                Some(&gettext(
                    "No host setup; the machine is not reachable from outside",
                )),
                Network::User,
            );
        }
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
        if let Some((radio, _)) = choices.get(preferred) {
            radio.set_active(true);
        }
        imp.network_choices.replace(choices);
        self.update_bridge_helper();
    }

    /// Offers the active storage pools, the default one first.
    pub(super) fn fill_pools(&self, pools: &[String]) {
        let mut names: Vec<&str> = pools.iter().map(String::as_str).collect();
        names.sort_by_key(|n| *n != crate::spec::create::DEFAULT_POOL);
        if !names.contains(&crate::spec::create::DEFAULT_POOL) {
            names.insert(0, crate::spec::create::DEFAULT_POOL);
        }
        self.imp()
            .pool_row
            .set_model(Some(&gtk::StringList::new(&names)));
    }

    /// Offers UEFI only when the host has OVMF.
    pub(super) fn set_uefi_available(&self, available: bool) {
        let imp = self.imp();
        imp.uefi_radio.set_sensitive(available);
        if !available {
            imp.bios_radio.set_active(true);
        }
        imp.uefi_radio.set_label(Some(&if available {
            gettext("UEFI")
        } else {
            gettext("UEFI (not available: OVMF is not installed)")
        }));
    }

    /// The Browse… buttons open a file chooser that fills the path field.
    pub(super) fn connect_choosers(&self) {
        let imp = self.imp();
        for (button, entry) in [
            (&*imp.media_browse, &*imp.media_entry),
            (&*imp.existing_browse, &*imp.existing_entry),
        ] {
            button.connect_clicked(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                #[weak]
                entry,
                move |_| wizard.choose_file(&entry)
            ));
        }
    }

    fn choose_file(&self, entry: &gtk::Entry) {
        let chooser = gtk::FileChooserNative::new(
            Some(&gettext("Choose an Image File")),
            Some(self),
            gtk::FileChooserAction::Open,
            Some(&gettext("_Open")),
            Some(&gettext("_Cancel")),
        );
        chooser.set_modal(true);
        chooser.connect_response(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            #[weak]
            entry,
            move |chooser, response| {
                if response == gtk::ResponseType::Accept {
                    if let Some(path) = chooser.file().and_then(|f| f.path()) {
                        entry.set_text(&path.to_string_lossy());
                    }
                }
                wizard.imp().chooser.replace(None);
            }
        ));
        chooser.show();
        self.imp().chooser.replace(Some(chooser));
    }

    /// The OS page: what was detected, and the list to override it.
    pub(super) fn show_detected(&self, detected: Option<&OsInfo>, error: Option<&str>) {
        let imp = self.imp();
        let text = match (detected, error) {
            (_, Some(error)) => error.to_owned(),
            (Some(os), None) => gettext_f(
                // Translators: {os} is an operating system, e.g. "Debian 12".
                "Detected: {os}",
                &[("os", &os_display_name(&os.name))],
            ),
            (None, None) if self.install_kind() == super::InstallKind::Iso => {
                gettext("The operating system of this image was not recognised. Choose one below.")
            }
            (None, None) => gettext("Choose the operating system the machine will run."),
        };
        set_text(&imp.os_detected, &text);
    }
}
