//! The details of the selected virtual machine: its name, its actions, state, OS,
//! processors, memory and live statistics, disks, network interfaces and display; and on a
//! second page its hardware, to change ([`hardware`]), on a third its performance graphs
//! ([`performance`]), on a fourth its snapshots ([`snapshots`]); its domain XML to edit
//! as text is the XML page ([`xml_editor`]). Those pages are built the first time their tab
//! is shown ([`LazyPage`]). The rows
//! are bound to the [`Domain`]'s properties, so a change (a new state, a statistics sample)
//! changes one label and nothing loses the keyboard focus.

use crate::i18n::{gettext, gettext_f, ngettext};
use crate::ui::backend::domain::{DiskDevice, Nic};
use crate::ui::backend::{DescribeRequest, DomainInfo, Request};
use crate::ui::domain::format_memory;
use crate::ui::domain_action::DomainActionButton;
use crate::ui::graph;
use crate::ui::util::{BoundObject, LazyPage};
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::RefCell;

mod addresses;
mod hardware;
mod performance;
mod snapshots;
mod xml_editor;

use addresses::GuestAddressesGroup;
use hardware::HardwarePage;
use performance::PerformancePage;
use snapshots::SnapshotsPage;
use xml_editor::XmlEditorPage;

/// A details row: its title and value.
pub(crate) type Line = (String, String);

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::DomainDetails)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details.ui")]
    pub struct DomainDetails {
        #[template_child]
        pub disks: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub nics: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub displays: TemplateChild<gtk::ListBox>,
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        /// The connection the machine is on, for what the details ask its worker.
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// How many machines the list has selected: several show no details.
        #[property(get, set)]
        pub selected: std::cell::Cell<u32>,
        /// The rows of the device lists, each a [`Line`] in a `BoxedAnyObject`.
        pub disk_lines: gio::ListStore,
        pub nic_lines: gio::ListStore,
        pub display_lines: gio::ListStore,
    }

    impl Default for DomainDetails {
        fn default() -> Self {
            let lines = || gio::ListStore::new::<glib::BoxedAnyObject>();
            Self {
                disks: TemplateChild::default(),
                nics: TemplateChild::default(),
                displays: TemplateChild::default(),
                domain: BoundObject::default(),
                connection: RefCell::default(),
                selected: std::cell::Cell::default(),
                disk_lines: lines(),
                nic_lines: lines(),
                display_lines: lines(),
            }
        }
    }

    impl DomainDetails {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            if domain.as_ref() == self.domain.get().as_ref() {
                return;
            }
            let obj = self.obj();
            match &domain {
                Some(domain) => {
                    // Only the device lists show more than the properties: the list
                    // keeps no devices, they are read for the machine shown.
                    let handler = domain.connect_revision_notify(glib::clone!(
                        #[weak]
                        obj,
                        move |domain| obj.read_devices(domain)
                    ));
                    self.domain.set(domain.clone(), vec![handler]);
                    obj.read_devices(domain);
                }
                None => self.domain.clear(),
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainDetails {
        const NAME: &'static str = "VdDomainDetails";
        type Type = super::DomainDetails;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            DomainActionButton::ensure_type();
            PerformancePage::ensure_type();
            SnapshotsPage::ensure_type();
            HardwarePage::ensure_type();
            XmlEditorPage::ensure_type();
            GuestAddressesGroup::ensure_type();
            LazyPage::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks(functions)]
    impl DomainDetails {
        #[template_callback]
        fn page_name(domain: Option<Domain>) -> &'static str {
            if domain.is_some() {
                "domain"
            } else {
                "none"
            }
        }

        /// "No Virtual Machine Selected", or how many are.
        #[template_callback]
        fn none_title(selected: u32) -> String {
            if selected > 1 {
                ngettext(
                    "{n} Virtual Machine Selected",
                    "{n} Virtual Machines Selected",
                    selected,
                )
                .replace("{n}", &selected.to_string())
            } else {
                gettext("No Virtual Machine Selected")
            }
        }

        #[template_callback]
        fn none_description(selected: u32) -> String {
            if selected > 1 {
                gettext("Start, Shut Down, Force Off and Delete act on all of them.")
            } else {
                gettext("Select a virtual machine to see its details.")
            }
        }

        #[template_callback]
        fn not_empty(text: Option<String>) -> bool {
            text.is_some_and(|t| !t.is_empty())
        }

        #[template_callback]
        fn count(n: u32) -> String {
            n.to_string()
        }

        #[template_callback]
        fn memory(kib: u64) -> String {
            format_memory(kib)
        }

        #[template_callback]
        fn positive(n: u64) -> bool {
            n > 0
        }

        /// Statistics are -1 while unknown.
        #[template_callback]
        fn known(value: f64) -> bool {
            value >= 0.0
        }

        #[template_callback]
        fn percent(value: f64) -> String {
            graph::percent(value)
        }

        #[template_callback]
        fn disk_rates(read: f64, written: f64) -> String {
            graph::disk_rates(read, written)
        }

        #[template_callback]
        fn net_rates(received: f64, sent: f64) -> String {
            graph::net_rates(received, sent)
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DomainDetails {
        fn constructed(&self) {
            self.parent_constructed();
            for (list, lines) in [
                (&*self.disks, &self.disk_lines),
                (&*self.nics, &self.nic_lines),
                (&*self.displays, &self.display_lines),
            ] {
                bind_lines(list, lines);
            }
        }
    }

    impl WidgetImpl for DomainDetails {}
    impl BoxImpl for DomainDetails {}
}

glib::wrapper! {
    pub struct DomainDetails(ObjectSubclass<imp::DomainDetails>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl Default for DomainDetails {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl DomainDetails {
    /// Asks the connection for the devices of `domain` and shows them, if it is still the
    /// machine shown then. Answers come in the order asked.
    fn read_devices(&self, domain: &Domain) {
        let Some(connection) = self.connection() else {
            return;
        };
        let uuid = domain.uuid();
        let domain = domain.clone();
        connection.ask_for(
            self,
            |reply| Request::Describe(DescribeRequest::Domain { uuid, reply }),
            move |obj, answer| {
                if obj.domain().as_ref() != Some(&domain) {
                    return;
                }
                match answer {
                    Ok(info) => obj.show_devices(&info),
                    // Gone or disconnected: the list follows, and the details with it.
                    Err(error) => tracing::debug!(%error, "could not read the devices"),
                }
            },
        );
    }

    /// Shows the disks, network interfaces and displays of `info`, changing only the lists
    /// that changed.
    fn show_devices(&self, info: &DomainInfo) {
        let imp = self.imp();
        replace_lines(&imp.disk_lines, disk_lines(info));
        replace_lines(&imp.nic_lines, nic_lines(info));
        replace_lines(&imp.display_lines, display_lines(info));
    }
}

/// Shows each [`Line`] of `lines` (in a `BoxedAnyObject`) as a [`property_row`] of `list`.
pub(crate) fn bind_lines(list: &gtk::ListBox, lines: &gio::ListStore) {
    list.bind_model(Some(lines), |item| {
        let line = item.downcast_ref::<glib::BoxedAnyObject>().expect("a line");
        let (title, value) = &*line.borrow::<Line>();
        property_row(title, value).upcast()
    });
}

/// Puts `lines` in `store` unless it holds them already.
pub(crate) fn replace_lines(store: &gio::ListStore, lines: Vec<Line>) {
    let same = store.n_items() as usize == lines.len()
        && store
            .iter::<glib::BoxedAnyObject>()
            .zip(&lines)
            .all(|(item, line)| item.is_ok_and(|item| *item.borrow::<Line>() == *line));
    if !same {
        let items: Vec<glib::BoxedAnyObject> =
            lines.into_iter().map(glib::BoxedAnyObject::new).collect();
        store.splice(0, store.n_items(), &items);
    }
}

/// A row of a details group: a title and its value, selectable for copying.
pub(crate) fn property_row(title: &str, value: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(glib::markup_escape_text(title))
        .subtitle(glib::markup_escape_text(value))
        .build();
    row.add_css_class("property");
    row
}

fn disk_lines(info: &DomainInfo) -> Vec<Line> {
    if info.disks.is_empty() {
        return vec![(gettext("Disks"), gettext("None"))];
    }
    info.disks
        .iter()
        .map(|disk| {
            let kind = match disk.device {
                DiskDevice::Cdrom => gettext("CD/DVD"),
                DiskDevice::Floppy => gettext("Floppy"),
                _ => gettext("Disk"),
            };
            let mut value = disk
                .source_path()
                .map(str::to_owned)
                .unwrap_or_else(|| gettext("No media"));
            if let Some(size) = disk.size_bytes {
                value = format!("{value} ({})", format_memory(size / 1024));
            }
            (format!("{kind} {}", disk.target), value)
        })
        .collect()
}

fn nic_lines(info: &DomainInfo) -> Vec<Line> {
    if info.nics.is_empty() {
        return vec![(gettext("Network"), gettext("None"))];
    }
    info.nics
        .iter()
        .map(|nic| {
            let details: Vec<&str> = [nic.mac.as_deref(), nic.model.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (nic_title(nic), details.join(" · "))
        })
        .collect()
}

/// What a network interface is attached to, in words: "Virtual network default".
pub(crate) fn nic_title(nic: &Nic) -> String {
    let source = nic.source.as_deref().unwrap_or("");
    match nic.kind.as_str() {
        "bridge" => gettext_f("Bridge {name}", &[("name", source)]),
        "network" => gettext_f("Virtual network {name}", &[("name", source)]),
        "direct" => gettext_f("Macvtap on {name}", &[("name", source)]),
        "user" => gettext("User-mode networking"),
        other => other.to_owned(),
    }
}

fn display_lines(info: &DomainInfo) -> Vec<Line> {
    if info.graphics.is_empty() {
        return vec![(gettext("Display"), gettext("None"))];
    }
    info.graphics
        .iter()
        .map(|g| {
            let listen = g.listen.as_deref().unwrap_or("127.0.0.1");
            let value = match g.port {
                Some(port) => format!("{listen}:{port}"),
                None => gettext_f(
                    // Translators: {address} is a listen address such as 127.0.0.1.
                    "{address}, port chosen at start",
                    &[("address", listen)],
                ),
            };
            (g.kind.to_uppercase(), value)
        })
        .collect()
}
