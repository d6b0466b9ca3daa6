//! The Overview page: hypervisor, processors and memory of the host, and the
//! virtualization check of this computer.

use super::{run_blocking, text};
use crate::host::kvm;
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::error::describe;
use crate::libvirt::worker::format_version;
use crate::libvirt::ConnectionName;
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use items::{HostCheck, HostFacts};
use std::cell::RefCell;
use virt::connect::Connect;

mod items;

/// What libvirt says about the host.
struct Facts {
    hostname: String,
    hypervisor: String,
    libvirt: String,
    cpu_model: String,
    cpus: u32,
    sockets: u32,
    cores: u32,
    threads: u32,
    memory_kib: u64,
}

/// Asks libvirt about the host over a connection of its own. Blocks.
fn read_facts(uri: &str, local: bool) -> Result<Facts, String> {
    let conn = Connect::open(Some(uri)).map_err(|e| describe(&e))?;
    let info = conn.node_info().map_err(|e| describe(&e))?;
    let driver = conn.driver_type().unwrap_or_default();
    let hyp = conn.hyp_version().map(format_version).unwrap_or_default();
    let caps = conn.capabilities().unwrap_or_default();
    let cpu_model = local
        .then(local_cpu_model)
        .flatten()
        .or_else(|| capabilities_cpu(&caps))
        .unwrap_or_else(|| info.model.clone());
    Ok(Facts {
        hostname: conn.hostname().unwrap_or_default(),
        hypervisor: format!("{driver} {hyp}").trim().to_owned(),
        libvirt: conn.lib_version().map(format_version).unwrap_or_default(),
        cpu_model,
        cpus: info.cpus,
        sockets: info.sockets * info.nodes.max(1),
        cores: info.cores,
        threads: info.threads,
        memory_kib: info.memory,
    })
}

/// The processor's marketing name from `/proc/cpuinfo`.
fn local_cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// "AMD kvm64-v1" from the host CPU of libvirt's capabilities.
fn capabilities_cpu(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let cpu = doc
        .descendants()
        .find(|n| n.has_tag_name("cpu") && n.parent().is_some_and(|p| p.has_tag_name("host")))?;
    let child = |name: &str| {
        cpu.children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
    };
    let words: Vec<&str> = [child("vendor"), child("model")]
        .into_iter()
        .flatten()
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

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
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OverviewPage {
        const NAME: &'static str = "VdHostOverviewPage";
        type Type = super::OverviewPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            Connection::ensure_type();
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
                self.obj().read_host(&connection.uri());
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for OverviewPage {
        fn constructed(&self) {
            self.parent_constructed();
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
    /// Reads the facts of the host of `uri` and, for this computer, checks virtualization.
    fn read_host(&self, uri: &str) {
        self.set_facts(None::<HostFacts>);
        self.set_problem("");
        let remote = ConnectionName::parse(uri).is_remote();
        let owned = uri.to_owned();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let facts = run_blocking(move || read_facts(&owned, !remote)).await;
                match facts.unwrap_or_else(|| Err(gettext("The host could not be read."))) {
                    Ok(facts) => page.set_facts(Some(HostFacts::new(&facts))),
                    Err(reason) => page.set_problem(reason),
                }
            }
        ));
        self.imp().checks.remove_all();
        if let Some(host) = ConnectionName::parse(uri).host {
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

#[cfg(test)]
mod tests {
    use super::capabilities_cpu;

    #[test]
    fn the_host_cpu_comes_from_the_capabilities() {
        let xml = "<capabilities><host><cpu><arch>x86_64</arch><model>kvm64-v1</model><vendor>AMD</vendor></cpu></host><guest><cpu><model>no</model></cpu></guest></capabilities>";
        assert_eq!(capabilities_cpu(xml).as_deref(), Some("AMD kvm64-v1"));
        assert_eq!(capabilities_cpu("<capabilities/>"), None);
    }
}
