//! Asking for a console's VNC password when the domain XML has none to offer, or the one
//! it has was refused. What the user types stays in the page's memory only.

use super::ConsolePage;
use crate::i18n::{gettext, gettext_f};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/console_page/password.ui")]
    pub struct PasswordDialog {
        #[template_child]
        pub entry: TemplateChild<gtk::Entry>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PasswordDialog {
        const NAME: &'static str = "VdPasswordDialog";
        type Type = super::PasswordDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for PasswordDialog {}
    impl WidgetImpl for PasswordDialog {}
    impl WindowImpl for PasswordDialog {}
    impl MessageDialogImpl for PasswordDialog {}
}

glib::wrapper! {
    /// Asks for a console's VNC password; the entry hides what is typed.
    pub struct PasswordDialog(ObjectSubclass<imp::PasswordDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl PasswordDialog {
    /// Asks for the password of `name`'s console above `parent`; `refused` says the last
    /// one was not accepted. `answer` gets the password, or `None` on Cancel.
    pub fn ask(
        parent: Option<&gtk::Window>,
        name: &str,
        refused: bool,
        answer: impl Fn(Option<String>) + 'static,
    ) {
        let heading = gettext_f(
            // Translators: {name} is the name of a virtual machine.
            "Password for {name}'s Console",
            &[("name", name)],
        );
        let body = if refused {
            gettext("The password was not accepted.")
        } else {
            gettext("The virtual machine's display is protected by a password.")
        };
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .property("title", &heading)
            .property("heading", &heading)
            .property("body", body)
            .build();
        dialog.connect_response(None, move |dialog, response| {
            let entry = &dialog.imp().entry;
            let password = (response == "connect").then(|| entry.text().to_string());
            // The entry's text is not needed any more.
            entry.set_text("");
            answer(password);
        });
        dialog.present();
        dialog.imp().entry.grab_focus();
    }
}

impl ConsolePage {
    /// The console wants a password (`refused`: the last one was wrong): asks, then
    /// reconnects with the answer; Cancel leaves the page disconnected.
    pub(super) fn ask_password(&self, refused: bool) {
        let Some(domain) = self.domain() else {
            return;
        };
        let answer = glib::clone!(
            #[weak(rename_to = page)]
            self,
            #[strong]
            domain,
            move |password: Option<String>| {
                if page.domain().as_ref() != Some(&domain) {
                    return; // the page shows another machine now
                }
                let cancelled = password.is_none();
                page.imp().password.replace(password);
                if cancelled {
                    page.show_disconnected(&gettext(
                        "The console needs a password, and none was given.",
                    ));
                } else if page.is_mapped() {
                    page.connect_console();
                }
            }
        );
        let parent = self.root().and_downcast::<gtk::Window>();
        PasswordDialog::ask(parent.as_ref(), &domain.name(), refused, answer);
    }
}
