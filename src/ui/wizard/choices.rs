//! What the pages share: the rows of their lists of choices, the file chooser of their
//! Browse… buttons, and the words for each choice.

use crate::host::net::{Bridge, Networks};
use crate::i18n::{gettext, gettext_f};
use crate::spec::{DomainType, InstallMethod, Network, Storage};
use gtk::prelude::*;

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
        InstallMethod::LocalIso { path, .. } => gettext_f(
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

/// A network a machine's network card can be on, with a line about it.
pub(crate) struct NetworkOption {
    pub network: Network,
    pub detail: Option<String>,
}

/// What a network card can be on, as the wizard and the hardware page offer it: the
/// bridges (`networks` are this computer's links, for a local connection; a remote host's
/// bridges come as `remote_bridges`, names only), the virtual networks, macvtap on each
/// network card that is in no bridge, and user-mode networking.
pub(crate) fn network_options(
    networks: Option<&Networks>,
    remote_bridges: &[String],
    virtual_networks: &[String],
) -> Vec<NetworkOption> {
    let mut options = Vec::new();
    let mut add = |network, detail: Option<String>| {
        options.push(NetworkOption { network, detail });
    };
    for bridge in networks.map(|n| n.bridges.as_slice()).unwrap_or_default() {
        add(
            Network::Bridge {
                name: bridge.link.name.clone(),
            },
            Some(bridge_detail(bridge)),
        );
    }
    for name in remote_bridges {
        add(
            Network::Bridge { name: name.clone() },
            Some(gettext("A bridge on the remote host")),
        );
    }
    for name in virtual_networks {
        let detail =
            (name == "default").then(|| gettext("NAT: the machine reaches out through the host"));
        add(Network::VirtualNetwork { name: name.clone() }, detail);
    }
    for nic in networks.map(|n| n.nics.as_slice()).unwrap_or_default() {
        if nic.master.is_none() {
            add(
                Network::Macvtap {
                    dev: nic.name.clone(),
                },
                Some(gettext("The machine cannot reach the host itself this way")),
            );
        }
    }
    // QEMU's built-in user-mode networking (libslirp), on system connections too.
    add(
        Network::User,
        Some(gettext(
            "No host setup; the machine is not reachable from outside",
        )),
    );
    options
}

pub(crate) fn network_text(network: &Network) -> String {
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

pub(super) fn holds_default_route(bridge: &Bridge) -> bool {
    bridge.link.routes.iter().any(|r| r.dst == "default")
}

pub(super) fn clear(list: &gtk::ListBox) {
    while let Some(child) = list.first_child() {
        list.remove(&child);
    }
}

/// Asks for an image file in a file chooser over the window of `widget`; its path, or
/// `None` when the chooser was cancelled.
pub(super) async fn choose_file(widget: &impl IsA<gtk::Widget>) -> Option<String> {
    let window = widget.root().and_downcast::<gtk::Window>();
    let chooser = gtk::FileChooserNative::new(
        Some(&gettext("Choose an Image File")),
        window.as_ref(),
        gtk::FileChooserAction::Open,
        Some(&gettext("_Open")),
        Some(&gettext("_Cancel")),
    );
    chooser.set_modal(true);
    let response = chooser.run_future().await;
    let path = (response == gtk::ResponseType::Accept)
        .then(|| chooser.file()?.path())
        .flatten();
    chooser.destroy();
    path.map(|path| path.to_string_lossy().into_owned())
}
