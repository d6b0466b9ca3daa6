//! "Choose a Volume": the Storage page in a window of its own, in chooser mode. It shows
//! the connection's pools and, for a chosen pool, its volumes as the page does (New
//! Volume…, Upload File… included, so a local image can be put on a remote host);
//! choosing a volume answers it to the caller ([`choose_volume`]).

use super::StoragePage;
use crate::i18n::gettext;
use crate::spec::PoolVolume;
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/chooser.ui")]
    pub struct VolumeChooser {
        /// Where the chosen volume (or None, when the window closes) is answered.
        pub answer: RefCell<Option<async_channel::Sender<Option<PoolVolume>>>>,
        #[template_child]
        pub page: TemplateChild<StoragePage>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VolumeChooser {
        const NAME: &'static str = "VdVolumeChooser";
        type Type = super::VolumeChooser;
        type ParentType = adw::PreferencesWindow;

        fn class_init(klass: &mut Self::Class) {
            StoragePage::ensure_type();
            klass.bind_template();
            let volume = glib::VariantTy::new("(sss)").expect("a valid type");
            klass.install_action("chooser.choose", Some(volume), |chooser, _, target| {
                if let Some((pool, name, path)) = target.and_then(|t| t.get()) {
                    chooser.answer(Some(PoolVolume { pool, name, path }));
                    chooser.close();
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for VolumeChooser {}
    impl WidgetImpl for VolumeChooser {}
    impl WindowImpl for VolumeChooser {
        fn close_request(&self) -> glib::Propagation {
            self.obj().answer(None);
            self.parent_close_request()
        }
    }
    impl AdwWindowImpl for VolumeChooser {}
    impl PreferencesWindowImpl for VolumeChooser {}
}

glib::wrapper! {
    pub struct VolumeChooser(ObjectSubclass<imp::VolumeChooser>)
        @extends adw::PreferencesWindow, adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl VolumeChooser {
    /// The first answer wins; later ones (the window closing) are dropped.
    fn answer(&self, volume: Option<PoolVolume>) {
        if let Some(answer) = self.imp().answer.take() {
            let _ = answer.try_send(volume);
        }
    }
}

/// Lets the user choose a volume of `connection`'s pools (only an ISO image when
/// `iso_only`) in a window over `parent`; None when the window is closed without a choice.
pub async fn choose_volume(
    parent: Option<&gtk::Window>,
    connection: &Connection,
    iso_only: bool,
) -> Option<PoolVolume> {
    let chooser: VolumeChooser = glib::Object::builder()
        .property("transient-for", parent)
        .property("modal", parent.is_some())
        .build();
    let (answer, chosen) = async_channel::bounded(1);
    chooser.imp().answer.replace(Some(answer));
    if iso_only {
        chooser.set_title(Some(&gettext("Choose an ISO Image")));
    }
    chooser.imp().page.set_iso_only(iso_only);
    chooser.imp().page.set_connection(Some(connection.clone()));
    chooser.present();
    chosen.recv().await.ok().flatten()
}
