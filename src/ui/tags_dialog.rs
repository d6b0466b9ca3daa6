//! Editing a machine's tags: one line, comma-separated; stored in the domain's metadata by
//! the connection's worker, and shown at once in the list.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{HostsRequest, Request};
use crate::ui::util::{show_error, Failure};
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/tags_dialog.ui")]
    pub struct TagsDialog {
        #[template_child]
        pub entry: TemplateChild<gtk::Entry>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TagsDialog {
        const NAME: &'static str = "VdTagsDialog";
        type Type = super::TagsDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for TagsDialog {}
    impl WidgetImpl for TagsDialog {}
    impl WindowImpl for TagsDialog {}
    impl MessageDialogImpl for TagsDialog {}
}

glib::wrapper! {
    /// Asks for a machine's tags.
    pub struct TagsDialog(ObjectSubclass<imp::TagsDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// Asks for the tags of `domain` above `widget`'s window, then stores them.
pub fn edit(widget: &gtk::Widget, connection: &Connection, domain: &Domain) {
    let heading = gettext_f(
        // Translators: {name} is the name of a virtual machine.
        "Tags of {name}",
        &[("name", &domain.name())],
    );
    let dialog: TagsDialog = glib::Object::builder()
        .property("transient-for", widget.root().and_downcast::<gtk::Window>())
        .property("title", &heading)
        .property("heading", &heading)
        .build();
    dialog.imp().entry.set_text(&domain.tags());
    let widget = widget.downgrade();
    let (connection, domain) = (connection.clone(), domain.clone());
    dialog.connect_response(Some("save"), move |dialog, _| {
        let tags = dialog
            .imp()
            .entry
            .text()
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>();
        let (widget, connection, domain) = (widget.clone(), connection.clone(), domain.clone());
        glib::spawn_future_local(async move {
            let uuid = domain.uuid();
            let answer = connection
                .request(|reply| Request::Hosts(HostsRequest::SetTags { uuid, tags, reply }))
                .await;
            match answer {
                Ok(stored) => domain.set_tags(stored),
                Err(error) => {
                    if let Some(widget) = widget.upgrade() {
                        show_error(
                            &widget,
                            &Failure::with_detail(
                                gettext("The tags could not be saved"),
                                error.to_string(),
                            ),
                        );
                    }
                }
            }
        });
    });
    dialog.present();
    dialog.imp().entry.grab_focus();
}
