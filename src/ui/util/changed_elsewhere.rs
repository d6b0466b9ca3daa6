//! The one way a screen that edits a machine's configuration hears that the machine
//! changed elsewhere (an event: another `virsh edit`, a `virsh desc`, another Virtdeck): the
//! banner follows the [`Domain`]'s revision and asks the screen to `reload` when nothing is
//! unapplied; while the screen is `dirty` it shows itself and offers Reload instead, and
//! hides again once the screen has nothing unapplied.
//!
//! A define or a metadata change that the list does not show (a description) bumps the
//! domain's `config-serial` instead: the banner then reads the persistent XML of this one
//! machine and compares it with `xml`, the configuration the screen shows, and treats it as
//! a change only when they differ — so the screen's own Apply is no change elsewhere.

use crate::ui::backend::edit::EditRequest;
use crate::ui::backend::Request;
use crate::ui::util::BoundObject;
use crate::ui::{Connection, Domain};
use gtk::glib::subclass::Signal;
use gtk::subclass::prelude::*;
use gtk::{glib, prelude::*, CompositeTemplate};
use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::ChangedElsewhereBanner)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/util/changed_elsewhere.ui")]
    pub struct ChangedElsewhereBanner {
        /// The machine the screen edits, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        /// The screen has unapplied edits, which a reload would lose.
        #[property(get, set = Self::set_dirty)]
        pub dirty: Cell<bool>,
        /// The connection of the machine, to read its configuration.
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// The persistent XML the screen shows (as [`EditRequest::ReadXml`] reads it);
        /// empty when the screen shows none yet.
        #[property(get, set)]
        pub xml: RefCell<String>,
    }

    impl ChangedElsewhereBanner {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            let obj = self.obj();
            let followed = self.domain.follow(domain.as_ref(), |domain| {
                vec![
                    domain.connect_revision_notify(glib::clone!(
                        #[weak]
                        obj,
                        move |_| obj.changed()
                    )),
                    domain.connect_config_serial_notify(glib::clone!(
                        #[weak]
                        obj,
                        move |_| obj.compare()
                    )),
                ]
            });
            if followed {
                obj.set_visible(false);
            }
        }

        fn set_dirty(&self, dirty: bool) {
            self.dirty.set(dirty);
            if !dirty {
                self.obj().set_visible(false);
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ChangedElsewhereBanner {
        const NAME: &'static str = "VdChangedElsewhereBanner";
        type Type = super::ChangedElsewhereBanner;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ChangedElsewhereBanner {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            // Read the machine's configuration again, dropping what is unapplied.
            SIGNALS.get_or_init(|| vec![Signal::builder("reload").build()])
        }
    }

    #[gtk::template_callbacks]
    impl ChangedElsewhereBanner {
        #[template_callback]
        fn on_reload(&self) {
            let obj = self.obj();
            obj.set_visible(false);
            obj.emit_by_name::<()>("reload", &[]);
        }
    }

    impl WidgetImpl for ChangedElsewhereBanner {}
    impl BoxImpl for ChangedElsewhereBanner {}
}

glib::wrapper! {
    pub struct ChangedElsewhereBanner(ObjectSubclass<imp::ChangedElsewhereBanner>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl ChangedElsewhereBanner {
    /// The machine changed: reload, unless that would lose unapplied edits.
    fn changed(&self) {
        if self.dirty() {
            self.offer_reload();
        } else {
            self.emit_by_name::<()>("reload", &[]);
        }
    }

    /// The configuration may have changed: reads it and, when it is not what the screen
    /// shows, handles it as a change.
    fn compare(&self) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        let uuid = domain.uuid();
        let obj = self.downgrade();
        glib::spawn_future_local(async move {
            let answer = connection
                .request(|reply| Request::Edit(EditRequest::ReadXml { uuid, reply }))
                .await;
            let Some(obj) = obj.upgrade() else {
                return;
            };
            // Another machine by now: its screen has read it anew.
            if obj.domain().as_ref() != Some(&domain) {
                return;
            }
            match answer {
                Ok(xml) if xml == *obj.imp().xml.borrow() => {}
                Ok(_) => obj.changed(),
                // Gone or unreadable: the list's events tell the rest.
                Err(error) => tracing::debug!(%error, "configuration not read again"),
            }
        });
    }

    /// Offers Reload: the screen learnt otherwise that the machine changed (a refused
    /// apply).
    pub fn offer_reload(&self) {
        self.set_visible(true);
    }
}
