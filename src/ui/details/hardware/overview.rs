//! The Hardware page's Machine group, under its Overview: the name, renamed while the
//! machine is shut off ([`EditRequest::Rename`], a refusal said on the field), and what the
//! configuration says of the machine itself: its UUID, guest operating system (libosinfo,
//! from the metadata the wizard writes), firmware (BIOS or UEFI, and Secure Boot) and
//! machine type.

use crate::i18n::{gettext, gettext_f};
use crate::spec::edit::overview::{Firmware, Overview};
use crate::ui::backend::edit::EditRequest;
use crate::ui::backend::Request;
use crate::ui::domain::os_name;
use crate::ui::util::BoundObject;
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::OverviewGroup)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/overview.ui")]
    pub struct OverviewGroup {
        #[template_child]
        pub name_entry: TemplateChild<gtk::Entry>,
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// The machine's persistent XML, as the Hardware page read it.
        #[property(get, set = Self::set_xml)]
        pub xml: RefCell<String>,
        /// The name typed in the Name field.
        #[property(get, set)]
        pub new_name: RefCell<String>,
        /// Under the name: why it was not renamed, or when it can be.
        #[property(get)]
        pub name_note: RefCell<String>,
        #[property(get)]
        pub uuid: RefCell<String>,
        /// The guest OS's name and libosinfo id, from the metadata the wizard writes.
        #[property(get)]
        pub os: RefCell<String>,
        /// BIOS or UEFI and Secure Boot, in words.
        #[property(get)]
        pub firmware: RefCell<String>,
        #[property(get)]
        pub machine: RefCell<String>,
    }

    impl OverviewGroup {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            let obj = self.obj();
            let followed = self.domain.follow(domain.as_ref(), |domain| {
                let show = glib::clone!(
                    #[weak]
                    obj,
                    move |_: &Domain| obj.show_name()
                );
                vec![
                    domain.connect_name_notify(show.clone()),
                    domain.connect_active_notify(show),
                ]
            });
            if followed {
                obj.show_name();
            }
        }

        fn set_xml(&self, xml: String) {
            let overview = Overview::from_xml(&xml).unwrap_or_default();
            self.xml.replace(xml);
            let obj = self.obj();
            obj.set_text(&self.uuid, "uuid", overview.uuid);
            let os_id = obj.domain().and_then(|d| d.os_id());
            obj.set_text(&self.os, "os", os_words(os_id.as_deref()));
            obj.set_text(
                &self.firmware,
                "firmware",
                firmware_words(overview.firmware),
            );
            let machine = if overview.machine.is_empty() {
                gettext("Chosen when the machine starts")
            } else {
                overview.machine
            };
            obj.set_text(&self.machine, "machine", machine);
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OverviewGroup {
        const NAME: &'static str = "VdOverviewGroup";
        type Type = super::OverviewGroup;
        type ParentType = adw::PreferencesGroup;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl OverviewGroup {
        #[template_callback]
        async fn on_rename(&self) {
            self.obj().rename().await;
        }

        #[template_callback(function)]
        fn not(value: bool) -> bool {
            !value
        }

        #[template_callback(function)]
        fn can_rename(new_name: Option<String>, name: Option<String>, active: bool) -> bool {
            !active && new_name != name
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for OverviewGroup {}
    impl WidgetImpl for OverviewGroup {}
    impl PreferencesGroupImpl for OverviewGroup {}
}

glib::wrapper! {
    pub struct OverviewGroup(ObjectSubclass<imp::OverviewGroup>)
        @extends adw::PreferencesGroup, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl OverviewGroup {
    fn set_text(&self, cell: &RefCell<String>, property: &str, text: String) {
        if *cell.borrow() != text {
            cell.replace(text);
            self.notify(property);
        }
    }

    /// The Name field shows the machine's name, and the note when it can be renamed.
    fn show_name(&self) {
        let imp = self.imp();
        imp.name_entry.remove_css_class("error");
        let domain = self.domain();
        self.set_new_name(domain.as_ref().map(Domain::name).unwrap_or_default());
        let note = if domain.is_some_and(|d| d.active()) {
            gettext("Can be renamed when the machine is shut off")
        } else {
            String::new()
        };
        self.set_text(&imp.name_note, "name-note", note);
    }

    /// Renames the machine to the typed name; a refusal is said under the field.
    async fn rename(&self) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        let name = self.new_name();
        if name == domain.name() || domain.active() {
            return;
        }
        let uuid = domain.uuid();
        let answer = connection
            .request(|reply| Request::Edit(EditRequest::Rename { uuid, name, reply }))
            .await;
        let imp = self.imp();
        let note = match answer {
            Ok(()) => String::new(),
            Err(error) => {
                imp.name_entry.add_css_class("error");
                error.to_string()
            }
        };
        self.set_text(&imp.name_note, "name-note", note);
    }
}

/// "Debian 12 (http://debian.org/debian/12)", or "Unknown" without an id.
fn os_words(os_id: Option<&str>) -> String {
    match os_id {
        Some(id) => gettext_f(
            // Translators: {name} is an operating system such as Debian 12, {id} its
            // libosinfo id such as http://debian.org/debian/12.
            "{name} ({id})",
            &[("name", &os_name(id)), ("id", id)],
        ),
        None => gettext("Unknown"),
    }
}

/// "BIOS", "UEFI, Secure Boot on" or "UEFI, Secure Boot off".
fn firmware_words(firmware: Firmware) -> String {
    match firmware {
        Firmware::Bios => gettext("BIOS"),
        Firmware::Uefi { secure_boot: true } => gettext("UEFI, Secure Boot on"),
        Firmware::Uefi { secure_boot: false } => gettext("UEFI, Secure Boot off"),
    }
}
