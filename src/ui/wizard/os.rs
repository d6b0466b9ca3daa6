//! The operating system page: what was detected in the installation image, and a search
//! of the OS database to choose another. The database and the image are read off the
//! main thread.

use super::choices::{clear, os_display_name, radio_row};
use super::page::{WizardPage, WizardPageImpl};
use super::source::InstallKind;
use crate::i18n::{gettext, gettext_f};
use crate::spec::osinfo::{OsDb, OsInfo};
use crate::ui::util::Closures;
use crate::ui::util::{run_blocking, show_error, Failure};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

/// How many search results the OS list shows.
const OS_RESULTS: usize = 30;

/// The chosen operating system.
#[derive(Debug, Clone, PartialEq, Eq, glib::Boxed)]
#[boxed_type(name = "VdWizardOs", nullable)]
pub struct OsChoice(pub OsInfo);

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard/os.ui")]
    #[properties(wrapper_type = super::OsPage)]
    pub struct OsPage {
        #[template_child]
        pub search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub os_list: TemplateChild<gtk::ListBox>,

        /// The chosen OS; `None` until the database is read.
        #[property(get, nullable)]
        pub os: RefCell<Option<OsChoice>>,
        /// How the OS is installed (the first page's choice), for the words below.
        #[property(get, set, builder(InstallKind::Iso))]
        pub install_kind: Cell<InstallKind>,
        /// What was found in the image, in words.
        #[property(get)]
        pub detected: RefCell<String>,
        pub osdb: Cell<Option<&'static OsDb>>,
        /// The image path whose OS was last looked for.
        pub examined: RefCell<Option<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OsPage {
        const NAME: &'static str = "VdWizardOsPage";
        type Type = super::OsPage;
        type ParentType = WizardPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for OsPage {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().load_osdb();
        }
    }
    impl WidgetImpl for OsPage {}
    impl BoxImpl for OsPage {}
    impl WizardPageImpl for OsPage {}

    #[gtk::template_callbacks]
    impl OsPage {
        #[template_callback]
        fn on_search_changed(&self) {
            self.obj().fill_list();
        }
    }
}

glib::wrapper! {
    pub struct OsPage(ObjectSubclass<imp::OsPage>)
        @extends WizardPage, gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl OsPage {
    /// The chosen OS, `None` while the database is read.
    pub fn chosen(&self) -> Option<OsInfo> {
        self.os().map(|OsChoice(os)| os)
    }

    fn load_osdb(&self) {
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let loaded = run_blocking(|| OsDb::system().map_err(|e| e.to_string())).await;
                match loaded {
                    Some(Ok(db)) => {
                        page.imp().osdb.set(Some(db));
                        if page.os().is_none() {
                            page.choose(db.generic_os());
                        }
                        page.fill_list();
                    }
                    Some(Err(reason)) => show_error(
                        &page,
                        &Failure::with_detail(
                            gettext("The operating system database could not be read"),
                            reason,
                        ),
                    ),
                    None => {}
                }
            }
        ));
    }

    /// Makes `os` the chosen OS.
    fn choose(&self, os: OsInfo) {
        let os = Some(OsChoice(os));
        if *self.imp().os.borrow() != os {
            self.imp().os.replace(os);
            self.notify_os();
        }
    }

    fn set_detected(&self, text: String) {
        self.imp().detected.replace(text);
        self.notify_detected();
    }

    /// Lists the search results for the search text, the chosen OS ticked.
    fn fill_list(&self) {
        let imp = self.imp();
        let Some(db) = imp.osdb.get() else {
            return;
        };
        clear(&imp.os_list);
        let chosen = self.chosen();
        let mut results = db.search(&imp.search.text());
        results.truncate(OS_RESULTS);
        if let Some(os) = &chosen {
            if !results.iter().any(|r| r.id == os.id) {
                results.insert(0, os.clone());
            }
        }
        let mut first: Option<gtk::CheckButton> = None;
        for os in results {
            let radio = radio_row(
                &imp.os_list,
                &os_display_name(&os.name),
                None,
                first.as_ref(),
            );
            radio.set_active(chosen.as_ref().is_some_and(|c| c.id == os.id));
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |radio| {
                    if radio.is_active() {
                        page.choose(os.clone());
                    }
                }
            ));
            first.get_or_insert(radio);
        }
    }

    /// Looks for the OS of the installation image at `path` when it changed since last
    /// time; `None` when there is no image to look at.
    pub fn examine(&self, path: Option<String>) {
        let imp = self.imp();
        if *imp.examined.borrow() == path && path.is_some() {
            return;
        }
        imp.examined.replace(path.clone());
        let (Some(path), Some(db)) = (path, imp.osdb.get()) else {
            self.show_detected(None, None);
            return;
        };
        self.set_detected(gettext("Looking at the image…"));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let detected = run_blocking(move || {
                    db.detect_iso(std::path::Path::new(&path))
                        .map(|os| os.cloned())
                        .map_err(|e| e.to_string())
                })
                .await;
                match detected {
                    Some(Ok(Some(os))) => {
                        page.show_detected(Some(&os), None);
                        page.choose(os);
                        page.fill_list();
                    }
                    Some(Ok(None)) => page.show_detected(None, None),
                    Some(Err(e)) => page.show_detected(
                        None,
                        Some(&gettext_f(
                            // Translators: {reason} says why the image could not be read.
                            "The image could not be examined: {reason}",
                            &[("reason", &e)],
                        )),
                    ),
                    None => {}
                }
            }
        ));
    }

    /// Says what was detected, and that the list below is there to override it.
    fn show_detected(&self, detected: Option<&OsInfo>, error: Option<&str>) {
        let text = match (detected, error) {
            (_, Some(error)) => error.to_owned(),
            (Some(os), None) => gettext_f(
                // Translators: {os} is an operating system, e.g. "Debian 12".
                "Detected: {os}",
                &[("os", &os_display_name(&os.name))],
            ),
            (None, None) if self.install_kind() == InstallKind::Iso => {
                gettext("The operating system of this image was not recognised. Choose one below.")
            }
            (None, None) => gettext("Choose the operating system the machine will run."),
        };
        self.set_detected(text);
    }
}
