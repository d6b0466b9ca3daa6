//! The console's banner for a machine whose only display is SPICE, which this console
//! cannot show: it says so and offers "Switch Display to VNC" (the hardware editor's
//! display edit). The USB tablet is offered by the page's own tablet banner.
//!
//! SPICE-only is decided from the domain's `<graphics>` by the same function the console
//! connection uses (`graphics::vnc_position`, when the list reads the machine), so the
//! banner and the connection's typed `DisplayError::SpiceOnly` always agree.

use crate::i18n::gettext;
use crate::spec::edit::{DisplayKind, DomainEdit};
use crate::ui::backend::edit::EditRequest;
use crate::ui::backend::{DescribeRequest, Request};
use crate::ui::util::{show_error, BoundObject, Failure};
use crate::ui::{Connection, Domain};
use gtk::subclass::prelude::*;
use gtk::{glib, prelude::*, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::SpiceBanner)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/console_page/spice.ui")]
    pub struct SpiceBanner {
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// The machine's only display is SPICE.
        #[property(get)]
        pub spice_only: Cell<bool>,
        /// The display was switched to VNC in the configuration; the running machine
        /// keeps SPICE until it starts again.
        #[property(get)]
        pub switched: Cell<bool>,
    }

    impl SpiceBanner {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            if domain.as_ref() == self.domain.get().as_ref() {
                return;
            }
            let obj = self.obj();
            obj.set_switched(false);
            match &domain {
                Some(domain) => {
                    let handler = domain.connect_revision_notify(glib::clone!(
                        #[weak]
                        obj,
                        move |domain| obj.follow(domain)
                    ));
                    self.domain.set(domain.clone(), vec![handler]);
                    obj.follow(domain);
                }
                None => {
                    self.domain.clear();
                    obj.set_spice_only(false);
                }
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SpiceBanner {
        const NAME: &'static str = "VdSpiceBanner";
        type Type = super::SpiceBanner;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl SpiceBanner {
        #[template_callback]
        fn on_switch(&self) {
            let obj = self.obj().clone();
            glib::spawn_future_local(async move { obj.switch_to_vnc().await });
        }

        #[template_callback(function)]
        fn message(switched: bool) -> String {
            if switched {
                gettext("The display is now VNC; it takes effect when the virtual machine starts again.")
            } else {
                gettext("This virtual machine’s display is SPICE, which this console cannot show.")
            }
        }

        #[template_callback(function)]
        fn not(value: bool) -> bool {
            !value
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SpiceBanner {}
    impl WidgetImpl for SpiceBanner {}
    impl BoxImpl for SpiceBanner {}
}

glib::wrapper! {
    pub struct SpiceBanner(ObjectSubclass<imp::SpiceBanner>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl SpiceBanner {
    fn set_spice_only(&self, value: bool) {
        if self.imp().spice_only.replace(value) != value {
            self.notify_spice_only();
        }
    }

    fn set_switched(&self, value: bool) {
        if self.imp().switched.replace(value) != value {
            self.notify_switched();
        }
    }

    fn follow(&self, domain: &Domain) {
        let spice = domain.spice_only();
        if !spice {
            self.set_switched(false);
        }
        self.set_spice_only(spice);
    }

    async fn switch_to_vnc(&self) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        // The SPICE display's listen address, so that the switch opens nothing new.
        let uuid = domain.uuid();
        let described = connection
            .request(|reply| Request::Describe(DescribeRequest::Domain { uuid, reply }))
            .await;
        let listen = described
            .ok()
            .into_iter()
            .flat_map(|info| info.graphics)
            .find_map(|g| g.listen.filter(|l| !l.is_empty() && !l.starts_with('/')))
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        let edits = vec![DomainEdit::Display {
            kind: DisplayKind::Vnc,
            listen,
        }];
        let uuid = domain.uuid();
        let answer = connection
            .request(|reply| Request::Edit(EditRequest::Apply { uuid, edits, reply }))
            .await;
        match answer {
            // A shut-off machine's configuration is what the list shows: the banner goes
            // with the next event. A running one keeps SPICE until it starts again.
            Ok(applied) => self.set_switched(!applied.next_shutdown.is_empty()),
            Err(error) => show_error(
                self,
                &Failure::with_detail(
                    gettext("The display could not be switched to VNC"),
                    error.to_string(),
                ),
            ),
        }
    }
}
