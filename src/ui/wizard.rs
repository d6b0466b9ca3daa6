//! The New Virtual Machine assistant: six pages (connection and install method, operating
//! system, memory and CPUs, storage, network, summary), each checked before Forward.
//!
//! The pages fill a [`VmSpec`]; its checks ([`VmSpec::validate`]) against the host's
//! [`HostFacts`] decide what each page shows. Reading the host, the OS database and the
//! ISO, and creating the machine, run off the main thread.

mod bridge_helper;
mod build;
mod choices;
mod finish;
mod load;
mod problems;
mod volumes;

use crate::host::net::Networks;
use crate::spec::osinfo::{OsDb, OsInfo};
use crate::spec::{DomainType, HostFacts, InstallMethod, Network, OsChoice, PoolVolume};
use crate::ui::{Application, Connection, Window};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

/// The pages, in order.
const PAGES: [&str; 6] = ["source", "os", "resources", "storage", "network", "summary"];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard.ui")]
    pub struct Wizard {
        #[template_child]
        pub title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub cancel_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub forward_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub finish_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub connection_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub iso_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub import_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub pxe_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub manual_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub media_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub media_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub media_browse: TemplateChild<gtk::Button>,
        #[template_child]
        pub volume_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub volume_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub source_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub os_detected: TemplateChild<gtk::Label>,
        #[template_child]
        pub os_search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub os_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub os_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub resources_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub memory_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub vcpus_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub resources_warning: TemplateChild<gtk::Label>,
        #[template_child]
        pub resources_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub new_disk_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub existing_disk_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub no_disk_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub new_disk_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub disk_size_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub pool_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub existing_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub existing_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub existing_browse: TemplateChild<gtk::Button>,
        #[template_child]
        pub storage_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub bridge_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub no_bridge_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub other_network_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub bridge_helper_box: TemplateChild<gtk::Box>,
        #[template_child]
        pub bridge_helper_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub allow_bridge_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub network_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub name_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub review_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub bios_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub uefi_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub start_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub progress_box: TemplateChild<gtk::Box>,
        #[template_child]
        pub progress_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub progress_bar: TemplateChild<gtk::ProgressBar>,
        #[template_child]
        pub summary_problems: TemplateChild<gtk::Label>,

        pub window: glib::WeakRef<Window>,
        /// The connection radio buttons, one per connection of the application.
        pub connections: RefCell<Vec<(gtk::CheckButton, Connection)>>,
        /// What was read about the chosen connection's host; `None` while reading.
        pub facts: RefCell<Option<Result<HostFacts, String>>>,
        pub domain_type: Cell<Option<DomainType>>,
        /// The host's bridges and NICs (local connections only).
        pub networks: RefCell<Option<Networks>>,
        /// The ISO volume radio buttons; `None` stands for the image file field.
        pub volume_choices: RefCell<Vec<(gtk::CheckButton, Option<PoolVolume>)>>,
        /// The network radio buttons and what each stands for.
        pub network_choices: RefCell<Vec<(gtk::CheckButton, Network)>>,
        pub osdb: Cell<Option<&'static OsDb>>,
        /// The operating system radio buttons of the search results.
        pub os_choices: RefCell<Vec<(gtk::CheckButton, OsInfo)>>,
        pub os: RefCell<Option<OsInfo>>,
        /// The image path whose OS was last detected.
        pub detected_path: RefCell<Option<String>>,
        pub chooser: RefCell<Option<gtk::FileChooserNative>>,
        /// Creating: every control waits.
        pub busy: Cell<bool>,
        /// Bumped on each new read of the host, so that late answers are dropped.
        pub generation: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Wizard {
        const NAME: &'static str = "VdWizard";
        type Type = super::Wizard;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for Wizard {}
    impl WidgetImpl for Wizard {}
    impl WindowImpl for Wizard {
        fn close_request(&self) -> glib::Propagation {
            // Closing while creating would leave the user without the outcome.
            if self.busy.get() {
                glib::Propagation::Stop
            } else {
                glib::Propagation::Proceed
            }
        }
    }
    impl AdwWindowImpl for Wizard {}
}

glib::wrapper! {
    pub struct Wizard(ObjectSubclass<imp::Wizard>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// Opens the assistant over `window`, on its selected connection.
pub fn present(window: &Window) {
    let wizard: Wizard = glib::Object::builder()
        .property("transient-for", window)
        .build();
    wizard.imp().window.set(Some(window));
    wizard.setup(window);
    wizard.present();
}

impl Wizard {
    fn setup(&self, window: &Window) {
        let imp = self.imp();
        let connections = window
            .application()
            .and_downcast::<Application>()
            .map(|app| app.connections().clone());
        let selected = window.selected_connection();
        if let Some(connections) = connections {
            self.fill_connections(&connections, selected.as_ref());
        }
        imp.cancel_button.connect_clicked(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| wizard.close()
        ));
        imp.back_button.connect_clicked(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| wizard.go(-1)
        ));
        imp.forward_button.connect_clicked(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| wizard.go(1)
        ));
        imp.finish_button.connect_clicked(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            move |_| wizard.finish()
        ));
        self.connect_inputs();
        self.load_osdb();
        self.load_host();
        self.show_page(0);
    }

    fn page(&self) -> usize {
        let name = self.imp().stack.visible_child_name().unwrap_or_default();
        PAGES.iter().position(|p| *p == name).unwrap_or(0)
    }

    /// Moves `step` pages (Forward only when the page is fine).
    fn go(&self, step: isize) {
        let page = self.page();
        if step > 0 && !self.check_page() {
            return;
        }
        let next = page.saturating_add_signed(step).min(PAGES.len() - 1);
        self.show_page(next);
    }

    fn show_page(&self, page: usize) {
        let imp = self.imp();
        imp.stack.set_visible_child_name(PAGES[page]);
        imp.title.set_subtitle(&crate::i18n::gettext_f(
            // Translators: the wizard's progress, e.g. "Step 2 of 6".
            "Step {n} of {total}",
            &[
                ("n", &(page + 1).to_string()),
                ("total", &PAGES.len().to_string()),
            ],
        ));
        imp.back_button.set_visible(page > 0);
        let last = page == PAGES.len() - 1;
        imp.forward_button.set_visible(!last);
        imp.finish_button.set_visible(last);
        match PAGES[page] {
            "os" => self.enter_os_page(),
            "summary" => self.update_review(),
            _ => {}
        }
        self.check_page();
    }

    /// The connection chosen on the first page.
    fn connection(&self) -> Option<Connection> {
        self.imp()
            .connections
            .borrow()
            .iter()
            .find(|(radio, _)| radio.is_active())
            .map(|(_, c)| c.clone())
    }

    fn install_kind(&self) -> InstallKind {
        let imp = self.imp();
        if imp.import_radio.is_active() {
            InstallKind::Import
        } else if imp.pxe_radio.is_active() {
            InstallKind::NetworkBoot
        } else if imp.manual_radio.is_active() {
            InstallKind::Manual
        } else {
            InstallKind::Iso
        }
    }

    /// The OS part of the spec: the chosen OS, else "Generic OS".
    fn os_choice(&self) -> Option<OsChoice> {
        let imp = self.imp();
        let os = imp.os.borrow();
        match (&*os, imp.osdb.get()) {
            (Some(os), _) => Some(os.choice()),
            (None, Some(db)) => Some(db.generic_os().choice()),
            (None, None) => None,
        }
    }

    fn install_method(&self) -> InstallMethod {
        let path = self.imp().media_entry.text().trim().to_owned();
        match self.install_kind() {
            InstallKind::Iso => match self.chosen_volume() {
                Some(volume) => InstallMethod::StorageVolume {
                    pool: volume.pool,
                    volume: volume.name,
                },
                None => InstallMethod::LocalIso { path },
            },
            InstallKind::Import => {
                let format = crate::spec::DiskFormat::probe(std::path::Path::new(&path))
                    .unwrap_or(crate::spec::DiskFormat::Raw);
                InstallMethod::ImportDisk { path, format }
            }
            InstallKind::NetworkBoot => InstallMethod::NetworkBoot,
            InstallKind::Manual => InstallMethod::Manual,
        }
    }
}

/// The install method radio buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstallKind {
    Iso,
    Import,
    NetworkBoot,
    Manual,
}
