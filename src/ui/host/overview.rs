//! The Overview page: hypervisor, processors and memory of the host, how much of it the
//! running machines have, its CPU and memory use over the last minutes (graphs of the
//! connection's [`HostLoadHistory`](crate::ui::HostLoadHistory)), its storage pools' use,
//! and the virtualization check of this computer.

use super::text;
use crate::host::kvm;
use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{ConnectionName, Request};
use crate::ui::util::run_blocking;
use crate::ui::Connection;
use crate::ui::InWords;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use items::{pool_line, HostCheck, HostFacts};
use std::cell::RefCell;

mod items;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/overview.ui")]
    #[properties(wrapper_type = super::OverviewPage)]
    pub struct OverviewPage {
        /// The connection whose host is shown; setting it reads the host.
        #[property(get, set = Self::set_connection, nullable)]
        pub connection: RefCell<Option<Connection>>,
        #[property(get, set, nullable)]
        pub facts: RefCell<Option<HostFacts>>,
        /// Why the host's facts are missing.
        #[property(get, set)]
        pub problem: RefCell<String>,
        /// How virtual machines will run, or why the check does not apply.
        #[property(get, set)]
        pub check_summary: RefCell<String>,
        #[template_child]
        pub checks: TemplateChild<gio::ListStore>,
        #[template_child]
        pub check_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub pool_list: TemplateChild<gtk::ListBox>,
        /// The storage pools' lines, each a (name, use) in a `BoxedAnyObject`.
        pub pools: PoolLines,
    }

    /// A list store of `BoxedAnyObject` lines.
    pub struct PoolLines(pub gio::ListStore);

    impl Default for PoolLines {
        fn default() -> Self {
            Self(gio::ListStore::new::<glib::BoxedAnyObject>())
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OverviewPage {
        const NAME: &'static str = "VdHostOverviewPage";
        type Type = super::OverviewPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            Connection::ensure_type();
            crate::ui::HostLoadHistory::ensure_type();
            crate::ui::graph::Graph::ensure_type();
            HostFacts::ensure_type();
            HostCheck::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
            crate::ui::util::Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl OverviewPage {
        /// Group titles and descriptions are markup.
        /// The stack page of the host's facts: "loaded", "failed" or "loading".
        #[template_callback(function)]
        fn facts_page(facts: Option<HostFacts>, problem: Option<&str>) -> &'static str {
            match (facts, problem) {
                (Some(_), _) => "loaded",
                (None, Some(p)) if !p.is_empty() => "failed",
                (None, _) => "loading",
            }
        }
    }

    impl OverviewPage {
        fn set_connection(&self, connection: Option<Connection>) {
            if *self.connection.borrow() == connection {
                return;
            }
            self.connection.replace(connection.clone());
            if let Some(connection) = connection {
                self.obj().read_host(&connection);
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for OverviewPage {
        fn constructed(&self) {
            self.parent_constructed();
            crate::ui::details::bind_lines(&self.pool_list, &self.pools.0);
            self.check_list.bind_model(Some(&*self.checks), |item| {
                match item.downcast_ref::<HostCheck>() {
                    Some(check) => check.row(),
                    None => gtk::Label::new(None).upcast(),
                }
            });
        }
    }

    impl WidgetImpl for OverviewPage {}
    impl PreferencesPageImpl for OverviewPage {}
}

glib::wrapper! {
    pub struct OverviewPage(ObjectSubclass<imp::OverviewPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl OverviewPage {
    /// Asks the connection's worker for the facts of its host and, for this computer,
    /// checks virtualization.
    fn read_host(&self, connection: &Connection) {
        self.set_facts(None::<HostFacts>);
        self.set_problem("");
        let uri = connection.uri();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            #[strong]
            connection,
            async move {
                match connection.request(Request::HostInfo).await {
                    Ok(facts) => {
                        let pools = facts.pools.iter().map(pool_line).collect();
                        crate::ui::details::replace_lines(&page.imp().pools.0, pools);
                        page.set_facts(Some(HostFacts::new(&facts)));
                    }
                    Err(reason) => page.set_problem(reason.in_words()),
                }
            }
        ));
        self.imp().checks.remove_all();
        if let Some(host) = ConnectionName::parse(&uri).host {
            self.set_check_summary(gettext_f(
                // Translators: {host} is the name of a remote computer.
                "This check looks at this computer only. “{host}” is a remote host, so it does not apply there.",
                &[("host", &host)],
            ));
            return;
        }
        self.set_check_summary(gettext("Checking…"));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let Some(report) = run_blocking(kvm::check).await else {
                    return;
                };
                page.set_check_summary(text::acceleration(report.acceleration));
                let checks: Vec<HostCheck> = report
                    .items
                    .iter()
                    .map(|(item, outcome)| HostCheck::new(&text::kvm_item(*item), outcome))
                    .collect();
                page.imp().checks.extend_from_slice(&checks);
            }
        ));
    }
}
