//! "Upload a File to the Pool": a local file (typed or chosen) and the new volume's name,
//! which follows the file's name until it is typed; both checked as they are typed.

use super::super::items::storage_words;
use crate::i18n::gettext;
use crate::ui::backend::storage::{check_exists, check_name};
use crate::ui::backend::{Field, StorageError, VolumeInfo};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/upload.ui")]
    #[properties(wrapper_type = super::UploadDialog)]
    pub struct UploadDialog {
        #[property(get)]
        pub problem: RefCell<String>,
        /// The name was set from the file, not typed.
        pub name_follows: Cell<bool>,
        pub volumes: RefCell<Vec<VolumeInfo>>,
        #[template_child]
        pub file_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for UploadDialog {
        const NAME: &'static str = "VdUploadDialog";
        type Type = super::UploadDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            crate::ui::util::Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl UploadDialog {
        #[template_callback]
        fn file_changed(&self) {
            if self.name_follows.get() || self.name_row.text().is_empty() {
                let file = self.file_row.text();
                let name = Path::new(file.trim())
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.name_row.set_text(&name);
                self.name_follows.set(true);
            }
            self.check();
        }

        #[template_callback]
        pub(super) fn check(&self) {
            let obj = self.obj();
            let file = self.file_row.text();
            let name = self.name_row.text();
            let from_file = Path::new(file.trim())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if from_file.as_deref() != Some(name.as_str()) {
                self.name_follows.set(false);
            }
            let file_problem = check_exists(&file, Field::File)
                .and_then(|()| {
                    if Path::new(file.trim()).is_file() {
                        Ok(())
                    } else {
                        Err(StorageError::File {
                            path: file.trim().to_owned(),
                            reason: gettext("it is not a file"),
                        })
                    }
                })
                .err();
            let name_problem = check_name(
                &name,
                self.volumes.borrow().iter().map(|v| v.name.as_str()),
                StorageError::VolumeExists,
            )
            .err();
            for (row, problem) in [
                (&*self.file_row, &file_problem),
                (&*self.name_row, &name_problem),
            ] {
                crate::ui::host::mark_wrong(row, problem.is_some());
            }
            let result = file_problem.or(name_problem);
            let problem = result.as_ref().map(storage_words).unwrap_or_default();
            obj.set_response_enabled("upload", result.is_none());
            self.problem.replace(problem);
            obj.notify_problem();
        }

        #[template_callback]
        fn browse(&self) {
            let obj = self.obj();
            glib::spawn_future_local(glib::clone!(
                #[weak]
                obj,
                async move {
                    let chooser = gtk::FileChooserNative::new(
                        Some(&gettext("Choose a File to Upload")),
                        Some(&obj),
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
                    if let Some(path) = path {
                        obj.imp().file_row.set_text(&path.to_string_lossy());
                    }
                }
            ));
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for UploadDialog {}
    impl WidgetImpl for UploadDialog {}
    impl WindowImpl for UploadDialog {}
    impl MessageDialogImpl for UploadDialog {}
}

glib::wrapper! {
    pub struct UploadDialog(ObjectSubclass<imp::UploadDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl UploadDialog {
    /// Asks for a file to upload into a pool that has `volumes`.
    pub fn new(parent: &impl IsA<gtk::Window>, volumes: Vec<VolumeInfo>) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        dialog.imp().volumes.replace(volumes);
        dialog.imp().name_follows.set(true);
        dialog.imp().check();
        dialog
    }

    /// The file and the new volume's name.
    pub fn choice(&self) -> (PathBuf, String) {
        let imp = self.imp();
        (
            PathBuf::from(imp.file_row.text().trim()),
            imp.name_row.text().trim().to_owned(),
        )
    }
}
