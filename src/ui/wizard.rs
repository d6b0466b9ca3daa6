//! The New Virtual Machine assistant: a frame (header with Back, Forward and Finish, a
//! stack of pages, the creation's progress) around six pages, one widget each
//! ([`Page`]): connection and install method, operating system, memory and CPUs,
//! storage, network, summary.
//!
//! The pages say what was chosen through their properties; on every change the wizard
//! builds a [`VmSpec`] of them, checks it ([`VmSpec::validate`]) against the host's
//! [`HostFacts`] and gives each page the problems that are its own. A page without
//! problems is complete, and the Forward and Finish buttons follow the visible page's
//! `complete`. Reading the host, the OS database and the ISO, and creating the machine,
//! run off the main thread. On a remote host a local ISO is uploaded into a pool first
//! ([`upload`]).
//!
//! [`VmSpec`]: crate::spec::VmSpec
//! [`VmSpec::validate`]: crate::spec::VmSpec::validate

mod build;
mod choices;
mod finish;
mod load;
mod network;
mod os;
mod page;
mod problems;
mod resources;
mod source;
mod storage;
mod summary;
mod upload;

pub(crate) use choices::network_text;
pub(crate) use load::read_network_options;

use crate::spec::{DomainType, HostFacts};
use crate::ui::{Application, Connection, Window};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use network::NetworkPage;
use os::{OsChoice, OsPage};
use page::{Page, WizardPage};
use resources::ResourcesPage;
use source::{InstallKind, SourcePage};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use storage::{StorageKind, StoragePage};
use summary::SummaryPage;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard.ui")]
    #[properties(wrapper_type = super::Wizard)]
    pub struct Wizard {
        #[template_child]
        pub scroller: TemplateChild<gtk::ScrolledWindow>,
        #[template_child]
        pub source_page: TemplateChild<SourcePage>,
        #[template_child]
        pub os_page: TemplateChild<OsPage>,
        #[template_child]
        pub resources_page: TemplateChild<ResourcesPage>,
        #[template_child]
        pub storage_page: TemplateChild<StoragePage>,
        #[template_child]
        pub network_page: TemplateChild<NetworkPage>,
        #[template_child]
        pub summary_page: TemplateChild<SummaryPage>,
        #[template_child]
        pub progress_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub progress_bar: TemplateChild<gtk::ProgressBar>,
        /// Why the machine was not created, below the pages.
        #[template_child]
        pub summary_problems: TemplateChild<gtk::Label>,

        /// The page shown.
        #[property(get, set, builder(Page::Source))]
        pub page: Cell<Page>,
        /// Creating: every control waits.
        #[property(get, set)]
        pub busy: Cell<bool>,
        /// Uploading a local image to the remote host, which Cancel Upload stops.
        #[property(get, set)]
        pub uploading: Cell<bool>,
        /// Set to stop the upload under way.
        pub upload_cancel: RefCell<Option<Arc<AtomicBool>>>,

        pub window: glib::WeakRef<Window>,
        /// What was read about the chosen connection's host; `None` while reading.
        pub facts: RefCell<Option<Result<HostFacts, String>>>,
        pub domain_type: Cell<Option<DomainType>>,
        /// Bumped on each new read of the host, so that late answers are dropped.
        pub generation: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Wizard {
        const NAME: &'static str = "VdWizard";
        type Type = super::Wizard;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            // Named in the template's expressions.
            WizardPage::ensure_type();
            StorageKind::static_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
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

    #[gtk::template_callbacks]
    impl Wizard {
        #[template_callback]
        fn on_cancel(&self) {
            self.obj().close();
        }

        #[template_callback]
        fn on_back(&self) {
            let obj = self.obj();
            if let Some(previous) = obj.page().previous() {
                obj.show_page(previous);
            }
        }

        #[template_callback]
        fn on_forward(&self) {
            let obj = self.obj();
            let page = obj.page();
            if let Some(next) = page.next().filter(|_| page.can_go_on(&obj)) {
                obj.show_page(next);
            }
        }

        #[template_callback]
        fn on_finish(&self) {
            self.obj().finish();
        }

        #[template_callback]
        fn on_cancel_upload(&self) {
            if let Some(cancel) = &*self.upload_cancel.borrow() {
                cancel.store(true, Ordering::Relaxed);
            }
        }

        #[template_callback]
        fn on_choice_changed(&self) {
            self.obj().show_review();
        }

        /// The network page made a virtual network on the host: the review knows it is there.
        #[template_callback]
        fn on_network_created(&self, name: String) {
            if let Some(Ok(facts)) = self.facts.borrow_mut().as_mut() {
                facts.networks.insert(name);
            }
            self.obj().show_review();
        }

        #[template_callback]
        fn on_connection_changed(&self) {
            self.obj().load_host();
        }

        #[template_callback(function)]
        fn recommended_memory(os: Option<OsChoice>) -> String {
            os.map(|OsChoice(os)| os.recommendation().memory_mib.to_string())
                .unwrap_or_default()
        }

        #[template_callback(function)]
        fn recommended_vcpus(os: Option<OsChoice>) -> String {
            os.map(|OsChoice(os)| os.recommendation().vcpus.to_string())
                .unwrap_or_default()
        }

        #[template_callback(function)]
        fn recommended_disk_size(os: Option<OsChoice>) -> String {
            os.map(|OsChoice(os)| os.recommendation().disk_gib.to_string())
                .unwrap_or_default()
        }

        #[template_callback(function)]
        fn page_title(page: Page) -> String {
            page.title()
        }

        #[template_callback(function)]
        fn page_name(page: Page) -> &'static str {
            page.name()
        }

        #[template_callback(function)]
        fn has_previous(page: Page) -> bool {
            page.previous().is_some()
        }

        #[template_callback(function)]
        fn has_next(page: Page) -> bool {
            page.next().is_some()
        }

        #[template_callback(function)]
        fn is_last(page: Page) -> bool {
            page.next().is_none()
        }

        #[template_callback(function)]
        fn can_go_on(complete: bool, busy: bool) -> bool {
            complete && !busy
        }

        #[template_callback(function)]
        fn is_session(connection: Option<Connection>) -> bool {
            connection.is_some_and(|c| c.uri().ends_with("/session"))
        }

        #[template_callback(function)]
        fn storage_for(kind: InstallKind) -> StorageKind {
            match kind {
                InstallKind::Import => StorageKind::None,
                _ => StorageKind::New,
            }
        }
    }
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
    if let Some(app) = window.application().and_downcast::<Application>() {
        wizard
            .imp()
            .source_page
            .set_connections(app.connections(), window.selected_connection().as_ref());
    }
    wizard.show_review();
    wizard.show_page(Page::Source);
    wizard.present();
}

impl Page {
    /// The widget of this page in `wizard`.
    fn widget(self, wizard: &Wizard) -> WizardPage {
        let imp = wizard.imp();
        match self {
            Page::Source => imp.source_page.clone().upcast(),
            Page::Os => imp.os_page.clone().upcast(),
            Page::Resources => imp.resources_page.clone().upcast(),
            Page::Storage => imp.storage_page.clone().upcast(),
            Page::Network => imp.network_page.clone().upcast(),
            Page::Summary => imp.summary_page.clone().upcast(),
        }
    }

    /// Whether the wizard can go on from this page (to the next, or create the machine
    /// from the last): nothing stands in the way on it, and nothing is being created.
    fn can_go_on(self, wizard: &Wizard) -> bool {
        self.widget(wizard).complete() && !wizard.busy()
    }
}

impl Wizard {
    /// Shows `page`, scrolled to its top, with what it needs on entering: the OS of the
    /// chosen image, a name for the machine.
    fn show_page(&self, page: Page) {
        let imp = self.imp();
        self.set_page(page);
        imp.scroller.vadjustment().set_value(0.0);
        build::set_text(&imp.summary_problems, "");
        match page {
            Page::Os => {
                let local = matches!(&*imp.facts.borrow(), Some(Ok(f)) if f.paths_are_local);
                imp.os_page.examine(imp.source_page.local_image_path(local));
            }
            Page::Summary if imp.summary_page.vm_name().is_empty() => {
                imp.summary_page.set_vm_name(self.default_name());
            }
            _ => {}
        }
    }
}
