//! The one way an error reaches the user: a toast saying what failed, with a Details
//! button when there is more to say (libvirt's reason, a command's output). GUI-free code
//! returns `thiserror` enums; the UI turns each into a [`UserError`] and calls
//! [`show_error`], wherever it happened.

use crate::i18n::gettext;
use adw::prelude::*;
use gtk::glib;

/// An error as the user reads it.
pub trait UserError {
    /// What failed, in one short sentence: the toast.
    fn title(&self) -> String;
    /// Why, in words, when there is more to say than the title: shown on "Details".
    fn detail(&self) -> Option<String> {
        None
    }
}

/// A failure told in words: a title and an optional detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub title: String,
    pub detail: Option<String>,
}

impl Failure {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            detail: None,
        }
    }

    pub fn with_detail(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            detail: Some(detail.into()).filter(|d: &String| !d.trim().is_empty()),
        }
    }
}

impl UserError for Failure {
    fn title(&self) -> String {
        self.title.clone()
    }

    fn detail(&self) -> Option<String> {
        self.detail.clone()
    }
}

/// Tells the user about `error` in the window of `widget`: a toast in the nearest toast
/// overlay (or the Preferences window's own), else a dialog.
pub fn show_error(widget: &impl IsA<gtk::Widget>, error: &dyn UserError) {
    let widget = widget.as_ref();
    let title = error.title();
    let detail = error.detail();
    tracing::info!(%title, detail = detail.as_deref().unwrap_or(""), "shown to the user");
    let toast = adw::Toast::new(&glib::markup_escape_text(&title));
    if let Some(detail) = detail.clone() {
        toast.set_button_label(Some(&gettext("_Details")));
        let parent = widget.downgrade();
        let heading = title.clone();
        toast.connect_button_clicked(move |_| {
            if let Some(parent) = parent.upgrade() {
                error_dialog(&parent, &heading, &detail);
            }
        });
    }
    if let Some(overlay) = widget
        .ancestor(adw::ToastOverlay::static_type())
        .and_downcast::<adw::ToastOverlay>()
        .or_else(|| overlay_of(widget))
    {
        overlay.add_toast(toast);
        return;
    }
    if let Some(window) = widget.root().and_downcast::<adw::PreferencesWindow>() {
        window.add_toast(toast);
        return;
    }
    error_dialog(widget, &title, detail.as_deref().unwrap_or(""));
}

/// A window's toast overlay when it is the window's child (the widget is the window).
fn overlay_of(widget: &gtk::Widget) -> Option<adw::ToastOverlay> {
    let window = widget.downcast_ref::<gtk::Window>()?;
    let child = window.child()?;
    match child.downcast::<adw::ToastOverlay>() {
        Ok(overlay) => Some(overlay),
        // adw windows wrap their content.
        Err(child) => child.first_child().and_downcast::<adw::ToastOverlay>(),
    }
}

/// A dialog over `parent`'s window with `heading`, `body` and Close.
pub(crate) fn error_dialog(parent: &gtk::Widget, heading: &str, body: &str) {
    let dialog: ErrorDialog = glib::Object::builder()
        .property("heading", heading)
        .property("body", body)
        .build();
    if let Some(window) = parent.root().and_downcast::<gtk::Window>() {
        dialog.set_transient_for(Some(&window));
    }
    dialog.present();
}

mod imp {
    use adw::subclass::prelude::*;
    use gtk::glib;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/util/error_dialog.ui")]
    pub struct ErrorDialog {}

    #[glib::object_subclass]
    impl ObjectSubclass for ErrorDialog {
        const NAME: &'static str = "VdErrorDialog";
        type Type = super::ErrorDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ErrorDialog {}
    impl WidgetImpl for ErrorDialog {}
    impl WindowImpl for ErrorDialog {}
    impl MessageDialogImpl for ErrorDialog {}
}

glib::wrapper! {
    /// What went wrong, where no toast can say it.
    pub struct ErrorDialog(ObjectSubclass<imp::ErrorDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}
