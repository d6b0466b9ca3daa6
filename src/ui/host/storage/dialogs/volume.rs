//! "New Volume": a name (not taken in the pool), qcow2 or raw, and a size as people write
//! it; or "Resize": a new size, no smaller than the volume is. Checked as it is typed.

use super::super::items::storage_words;
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::storage::{check_name, parse_size};
use crate::ui::backend::{StorageError, VolumeFormat, VolumeInfo, VolumeSpec};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/volume.ui")]
    #[properties(wrapper_type = super::VolumeDialog)]
    pub struct VolumeDialog {
        #[property(get)]
        pub problem: RefCell<String>,
        /// Only the size of an existing volume is asked.
        #[property(get, construct_only)]
        pub resizing: Cell<bool>,
        /// The size now, when resizing.
        pub current: Cell<u64>,
        pub volumes: RefCell<Vec<VolumeInfo>>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub format_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub size_row: TemplateChild<adw::EntryRow>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VolumeDialog {
        const NAME: &'static str = "VdVolumeDialog";
        type Type = super::VolumeDialog;
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
    impl VolumeDialog {
        #[template_callback]
        pub fn check(&self) {
            let obj = self.obj();
            let name_problem = if self.resizing.get() {
                None
            } else {
                check_name(
                    &self.name_row.text(),
                    self.volumes.borrow().iter().map(|v| v.name.as_str()),
                    StorageError::VolumeExists,
                )
                .err()
                .map(|e| storage_words(&e))
            };
            let size = parse_size(&self.size_row.text());
            let size_problem = match size {
                None => Some(gettext("Enter a size such as “20 GiB” or “512 MiB”.")),
                Some(bytes) if self.resizing.get() && bytes < self.current.get() => {
                    Some(gettext_f(
                        // Translators: {size} is a size such as "2.1 GB".
                        "A volume cannot shrink here: enter at least {size}.",
                        &[("size", &glib::format_size(self.current.get()))],
                    ))
                }
                Some(_) => None,
            };
            for (row, problem) in [
                (&*self.name_row, &name_problem),
                (&*self.size_row, &size_problem),
            ] {
                crate::ui::host::mark_wrong(row, problem.is_some());
            }
            let problem = name_problem.or(size_problem);
            obj.set_response_enabled("apply", problem.is_none());
            self.problem.replace(problem.unwrap_or_default());
            obj.notify_problem();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VolumeDialog {}
    impl WidgetImpl for VolumeDialog {}
    impl WindowImpl for VolumeDialog {}
    impl MessageDialogImpl for VolumeDialog {}
}

glib::wrapper! {
    pub struct VolumeDialog(ObjectSubclass<imp::VolumeDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl VolumeDialog {
    /// Asks for a new volume whose name differs from `volumes`'.
    pub fn for_new(parent: &impl IsA<gtk::Window>, volumes: Vec<VolumeInfo>) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .property("resizing", false)
            .property("heading", gettext("New Volume"))
            .build();
        dialog.set_response_label("apply", &gettext("C_reate Volume"));
        let imp = dialog.imp();
        imp.volumes.replace(volumes);
        imp.size_row.set_text("20 GiB");
        imp.name_row.set_text("");
        imp.check();
        dialog
    }

    /// Asks for the new size of `volume`.
    pub fn for_resize(parent: &impl IsA<gtk::Window>, volume: &VolumeInfo) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .property("resizing", true)
            .property(
                "heading",
                gettext_f(
                    // Translators: {name} is a storage volume.
                    "Resize “{name}”",
                    &[("name", &volume.name)],
                ),
            )
            .build();
        dialog.set_response_label("apply", &gettext("_Resize"));
        let imp = dialog.imp();
        imp.current.set(volume.capacity);
        imp.size_row
            .set_text(&format!("{} MiB", volume.capacity.div_ceil(1 << 20)));
        imp.check();
        dialog
    }

    /// The volume as the dialog describes it (its name is empty when resizing).
    pub fn spec(&self) -> VolumeSpec {
        let imp = self.imp();
        VolumeSpec {
            name: imp.name_row.text().trim().to_owned(),
            format: if imp.format_row.selected() == 1 {
                VolumeFormat::Raw
            } else {
                VolumeFormat::Qcow2
            },
            capacity: parse_size(&imp.size_row.text()).unwrap_or_default(),
        }
    }
}
