//! One virtual machine as the UI sees it: a GObject over what the list needs of a
//! [`DomainInfo`] ([`listed`]), updated in place when libvirt reports a change so that
//! rows and details follow by property bindings.

mod listed;

use crate::i18n::gettext;
use crate::ui::backend::{
    DomainInfo, DomainState, DomainStats, GuestAddresses, StatsHistory, Tablet,
};
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use listed::Listed;
use std::cell::{Cell, Ref, RefCell};

mod imp {
    use super::*;
    use glib::Properties;

    /// The list's properties are read from [`Listed`] when asked, not kept a second
    /// time as strings: a view asks only for the rows it shows.
    #[derive(Properties)]
    #[properties(wrapper_type = super::Domain)]
    pub struct Domain {
        #[property(name = "uuid", get = |d: &Self| d.listed().uuid.to_string(), type = String)]
        #[property(name = "name", get = |d: &Self| d.listed().name.to_string(), type = String)]
        /// The state in words, translated.
        #[property(name = "state-label", get = Self::state_label, type = String)]
        #[property(name = "state-icon", get = Self::state_icon, type = String)]
        /// Shut off with its memory saved (managed save): Start resumes it.
        #[property(name = "saved", get = |d: &Self| d.listed().saved, type = bool)]
        /// The template of linked clones: not started until unmarked.
        #[property(name = "template", get = |d: &Self| d.listed().template, type = bool)]
        /// It has a hypervisor process: running, paused, … anything but shut off.
        #[property(name = "active", get = |d: &Self| d.listed().state.is_active(), type = bool)]
        /// The guest's operating system for people ("Debian 12"), empty when unknown.
        #[property(name = "os-name", get = Self::os_name, type = String)]
        /// The user's tags, comma-separated ("db, web"), empty when none.
        #[property(name = "tags", get = |d: &Self| d.listed().tags_text(), type = String)]
        /// What the list's search looks in: the name and the tags.
        #[property(name = "search-text", get = |d: &Self| d.listed().search_text(), type = String)]
        #[property(name = "vcpus", get = |d: &Self| d.listed().vcpus, type = u32)]
        /// Current memory in KiB.
        #[property(name = "memory", get = |d: &Self| d.listed().memory_kib, type = u64)]
        pub listed: RefCell<Option<Listed>>,
        /// CPU usage in percent of the host, -1 when unknown (not running, no sample yet).
        #[property(get, default = -1.0, minimum = -1.0)]
        pub cpu_percent: Cell<f64>,
        /// Memory the guest uses in KiB, 0 when unknown (no balloon driver).
        #[property(get)]
        pub memory_used: Cell<u64>,
        /// Disk reads in bytes per second, -1 when unknown.
        #[property(get, default = -1.0, minimum = -1.0)]
        pub disk_read_rate: Cell<f64>,
        /// Disk writes in bytes per second, -1 when unknown.
        #[property(get, default = -1.0, minimum = -1.0)]
        pub disk_write_rate: Cell<f64>,
        /// Network bytes received per second, -1 when unknown.
        #[property(get, default = -1.0, minimum = -1.0)]
        pub net_rx_rate: Cell<f64>,
        /// Network bytes sent per second, -1 when unknown.
        #[property(get, default = -1.0, minimum = -1.0)]
        pub net_tx_rate: Cell<f64>,
        /// Bumped on every change of the description, for views that show more than the
        /// properties.
        #[property(get)]
        pub revision: Cell<u64>,
        /// Bumped when the machine's configuration may have changed (a define, a metadata
        /// change), even where nothing the list shows did: screens showing the
        /// configuration read it again.
        #[property(get)]
        pub config_serial: Cell<u64>,
        /// The guest's first IP address, empty while unknown (not asked yet, not running,
        /// or no source knew one).
        #[property(get)]
        pub address: RefCell<String>,
        /// Bumped on every change of the statistics history (a sample added, or cleared when
        /// the machine stops), for graphs.
        #[property(get)]
        pub samples: Cell<u64>,
        pub stats: Cell<Option<DomainStats>>,
        /// The recent statistics, kept while the connection is open and the machine runs;
        /// boxed on the first sample (most machines of a large host never get one).
        pub history: RefCell<Option<Box<StatsHistory>>>,
        /// What the worker last said about the guest's addresses.
        pub guest_addresses: RefCell<Option<Box<GuestAddresses>>>,
        /// `samples` when the list last asked for the address, if it did.
        pub address_asked_at: Cell<Option<u64>>,
    }

    impl Default for Domain {
        fn default() -> Self {
            Self {
                listed: RefCell::default(),
                cpu_percent: Cell::new(-1.0),
                memory_used: Cell::default(),
                disk_read_rate: Cell::new(-1.0),
                disk_write_rate: Cell::new(-1.0),
                net_rx_rate: Cell::new(-1.0),
                net_tx_rate: Cell::new(-1.0),
                revision: Cell::default(),
                config_serial: Cell::default(),
                address: RefCell::default(),
                samples: Cell::default(),
                stats: Cell::default(),
                history: RefCell::default(),
                guest_addresses: RefCell::default(),
                address_asked_at: Cell::default(),
            }
        }
    }

    impl Domain {
        pub fn listed(&self) -> Ref<'_, Listed> {
            Ref::map(self.listed.borrow(), |l| {
                l.as_ref().expect("a domain is made from its description")
            })
        }

        fn state_label(&self) -> String {
            let l = self.listed();
            super::state_label(l.state, l.saved, l.template)
        }

        fn state_icon(&self) -> String {
            let l = self.listed();
            super::state_icon(l.state, l.saved).to_owned()
        }

        fn os_name(&self) -> String {
            self.listed()
                .os_id
                .as_deref()
                .map(super::os_name)
                .unwrap_or_default()
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Domain {
        const NAME: &'static str = "VdDomain";
        type Type = super::Domain;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Domain {}
}

glib::wrapper! {
    pub struct Domain(ObjectSubclass<imp::Domain>);
}

/// Sets a property's backing field and notifies only when the value changed, so that a
/// refresh of a thousand unchanged rows costs nothing in the widgets.
fn replace<T: PartialEq>(obj: &Domain, field: &RefCell<T>, value: T, property: &str) {
    if *field.borrow() != value {
        field.replace(value);
        obj.notify(property);
    }
}

fn replace_cell<T: PartialEq + Copy>(obj: &Domain, field: &Cell<T>, value: T, property: &str) {
    if field.get() != value {
        field.set(value);
        obj.notify(property);
    }
}

/// The properties read from [`Listed`] that differ between `old` and `new`.
fn changed_properties(old: &Listed, new: &Listed) -> Vec<&'static str> {
    let state = |l: &Listed| (l.state, l.saved, l.template);
    [
        (old.name != new.name, "name"),
        (state(old) != state(new), "state-label"),
        (
            (old.state, old.saved) != (new.state, new.saved),
            "state-icon",
        ),
        (old.state.is_active() != new.state.is_active(), "active"),
        (old.saved != new.saved, "saved"),
        (old.template != new.template, "template"),
        (old.os_id != new.os_id, "os-name"),
        (old.vcpus != new.vcpus, "vcpus"),
        (old.memory_kib != new.memory_kib, "memory"),
        (old.tags != new.tags, "tags"),
        (old.name != new.name || old.tags != new.tags, "search-text"),
    ]
    .into_iter()
    .filter_map(|(changed, property)| changed.then_some(property))
    .collect()
}

impl Domain {
    pub fn new(info: DomainInfo) -> Self {
        let domain: Self = glib::Object::new();
        domain.imp().listed.replace(Some(info.into()));
        domain
    }

    /// Takes a newer description of the same domain.
    pub fn update(&self, info: DomainInfo) {
        self.replace_listed(info.into());
    }

    fn replace_listed(&self, new: Listed) {
        // Listeners run once everything, the description included, is current.
        let _queued = self.freeze_notify();
        let imp = self.imp();
        let active = new.state.is_active();
        let old = imp.listed.replace(Some(new));
        if let Some(old) = old {
            for property in changed_properties(&old, &imp.listed()) {
                self.notify(property);
            }
        }
        if !active {
            self.show_stats(None);
            self.set_guest_addresses(None);
            // the next run's address is asked for at its first sample
            imp.address_asked_at.set(None);
        }
        imp.revision.set(imp.revision.get() + 1);
        self.notify_revision();
    }

    /// The configuration may have changed elsewhere.
    pub fn config_changed(&self) {
        let imp = self.imp();
        imp.config_serial.set(imp.config_serial.get() + 1);
        self.notify_config_serial();
    }

    /// Shows `tags` as they are now stored (after the user edited them).
    pub fn set_tags(&self, tags: Vec<String>) {
        let mut listed = self.imp().listed().clone();
        listed.tags = tags.iter().map(|t| listed::intern(t)).collect();
        self.replace_listed(listed);
    }

    pub fn set_stats(&self, stats: DomainStats) {
        self.show_stats(Some(stats));
    }

    /// The statistics as properties; `None` makes them unknown.
    fn show_stats(&self, stats: Option<DomainStats>) {
        let imp = self.imp();
        // Holding notifications back costs an allocation; with nothing but the history
        // changing (an idle machine, every few seconds, thousands of them) there is only
        // the one notification of `samples` to send.
        let _queued = (imp.stats.get() != stats).then(|| self.freeze_notify());
        imp.stats.set(stats);
        self.record(stats.as_ref());
        let cpu = stats.map_or(-1.0, |s| (s.cpu_percent * 10.0).round() / 10.0);
        replace_cell(self, &imp.cpu_percent, cpu, "cpu-percent");
        let used = stats.and_then(|s| s.memory_used_kib).unwrap_or(0);
        replace_cell(self, &imp.memory_used, used, "memory-used");
        // Whole bytes per second: finer changes are noise nobody reads.
        let rates = stats.map(|s| {
            [
                s.disk_read_bytes_per_sec,
                s.disk_write_bytes_per_sec,
                s.net_rx_bytes_per_sec,
                s.net_tx_bytes_per_sec,
            ]
        });
        let fields = [
            (&imp.disk_read_rate, "disk-read-rate"),
            (&imp.disk_write_rate, "disk-write-rate"),
            (&imp.net_rx_rate, "net-rx-rate"),
            (&imp.net_tx_rate, "net-tx-rate"),
        ];
        for (i, (field, property)) in fields.into_iter().enumerate() {
            let rate = rates.map_or(-1.0, |r| r[i].round());
            replace_cell(self, field, rate, property);
        }
    }

    /// Adds `stats` to the history; `None` (the machine stopped) empties it, so that a new
    /// run starts a new graph.
    fn record(&self, stats: Option<&DomainStats>) {
        let imp = self.imp();
        {
            let mut history = imp.history.borrow_mut();
            match (stats, history.as_mut()) {
                (Some(stats), Some(history)) => history.push(stats),
                (Some(stats), None) => history.get_or_insert_default().push(stats),
                (None, None) => return,
                // a new run starts a new graph
                (None, Some(_)) => *history = None,
            }
        }
        imp.samples.set(imp.samples.get().wrapping_add(1));
        self.notify_samples();
    }

    /// Takes what the worker said about the guest's addresses; `None` forgets them.
    pub fn set_guest_addresses(&self, addresses: Option<GuestAddresses>) {
        let first = addresses
            .as_ref()
            .and_then(GuestAddresses::first)
            .unwrap_or_default()
            .to_owned();
        self.imp().guest_addresses.replace(addresses.map(Box::new));
        replace(self, &self.imp().address, first, "address");
    }

    /// Takes the guest's first address when one is known, from an answer that did not ask
    /// the agent (which does not replace what the details learnt).
    pub fn set_address(&self, address: &str) {
        replace(self, &self.imp().address, address.to_owned(), "address");
    }

    /// Whether something shows the address now: a view bound to this domain's `address`
    /// (a visible row of the list). Rows are made only for what is on screen, so with
    /// thousands of machines only a screenful is watched.
    pub fn address_shown(&self) -> bool {
        self.is_watched(Watched::Address)
    }

    /// Whether something shows the statistics now: a visible row's CPU or history cell,
    /// or the details of the selected machine (whose figures follow `cpu-percent` too,
    /// and whose graphs follow `samples`). Asked of every running machine at every tick:
    /// two looks each.
    pub fn stats_shown(&self) -> bool {
        self.is_watched(Watched::CpuPercent) || self.is_watched(Watched::Samples)
    }

    /// Whether a handler follows changes of the property. The signal and the property
    /// names are looked up once: each lookup takes a global lock, and with ten hosts of
    /// a thousand machines the looks at every tick added up to most of the idle CPU time.
    fn is_watched(&self, property: Watched) -> bool {
        thread_local! {
            static NOTIFY: Option<(glib::subclass::SignalId, [glib::Quark; 3])> =
                glib::subclass::SignalId::lookup("notify", Domain::static_type()).map(|notify| {
                    (notify, Watched::NAMES.map(glib::Quark::from_str))
                });
        }
        NOTIFY.with(|notify| {
            notify.is_some_and(|(notify, quarks)| {
                glib::signal::signal_has_handler_pending(
                    self,
                    notify,
                    Some(quarks[property as usize]),
                    false,
                )
            })
        })
    }

    /// Forgets the statistics and their history, when nothing shows them any more (they
    /// are no longer sampled, so they would only grow stale).
    pub fn forget_stats(&self) {
        self.show_stats(None);
    }

    /// Whether to ask for the address now, at most once every `every` samples: true at
    /// the first call and once `every` samples have passed since the last true.
    pub fn take_address_turn(&self, every: u64) -> bool {
        let imp = self.imp();
        let now = imp.samples.get();
        let due = imp
            .address_asked_at
            .get()
            .is_none_or(|at| now.wrapping_sub(at) >= every);
        if due {
            imp.address_asked_at.set(Some(now));
        }
        due
    }

    pub fn guest_addresses(&self) -> Option<GuestAddresses> {
        self.imp().guest_addresses.borrow().as_deref().cloned()
    }

    /// The recent statistics, oldest first.
    pub fn history(&self) -> Ref<'_, StatsHistory> {
        static EMPTY: std::sync::LazyLock<StatsHistory> =
            std::sync::LazyLock::new(StatsHistory::default);
        Ref::map(self.imp().history.borrow(), |h| {
            h.as_deref().unwrap_or(&EMPTY)
        })
    }

    pub fn state(&self) -> DomainState {
        self.imp().listed().state
    }

    /// The hypervisor's id of the running machine (a new one at every start).
    pub fn hypervisor_id(&self) -> Option<u32> {
        self.imp().listed().id
    }

    /// Whether the guest has a USB tablet (absolute pointer positions).
    pub fn tablet(&self) -> Tablet {
        self.imp().listed().tablet
    }

    /// A SPICE display and no VNC one, as the console connection decides it.
    pub fn spice_only(&self) -> bool {
        self.imp().listed().spice_only
    }

    /// libosinfo's id of the guest's operating system.
    pub fn os_id(&self) -> Option<String> {
        self.imp().listed().os_id.as_deref().map(str::to_owned)
    }

    /// Whether the machine keeps UEFI variables in a file of its own.
    pub fn has_nvram(&self) -> bool {
        self.imp().listed().nvram
    }

    /// Whether the machine has an emulated TPM whose state libvirt keeps.
    pub fn has_tpm_state(&self) -> bool {
        self.imp().listed().tpm_state
    }

    pub fn stats(&self) -> Option<DomainStats> {
        self.imp().stats.get()
    }
}

/// The properties [`Domain::is_watched`] looks at, in the order of [`Watched::NAMES`].
#[derive(Debug, Clone, Copy)]
enum Watched {
    Address,
    CpuPercent,
    Samples,
}

impl Watched {
    const NAMES: [&'static str; 3] = ["address", "cpu-percent", "samples"];
}

/// The state in words, as the list and the details show it.
pub fn state_label(state: DomainState, saved: bool, template: bool) -> String {
    match state {
        DomainState::Shutoff if saved => gettext("Saved"),
        DomainState::Shutoff if template => gettext("Template"),
        DomainState::NoState => gettext("No state"),
        DomainState::Running => gettext("Running"),
        DomainState::Blocked => gettext("Blocked"),
        DomainState::Paused => gettext("Paused"),
        DomainState::ShuttingDown => gettext("Shutting down"),
        DomainState::Shutoff => gettext("Shut off"),
        DomainState::Crashed => gettext("Crashed"),
        DomainState::PmSuspended => gettext("Suspended"),
    }
}

/// Every icon [`state_icon`] gives, each once.
pub fn state_icons() -> Vec<&'static str> {
    let mut icons: Vec<_> = DomainState::ALL
        .into_iter()
        .flat_map(|state| [state_icon(state, false), state_icon(state, true)])
        .collect();
    icons.sort_unstable();
    icons.dedup();
    icons
}

pub fn state_icon(state: DomainState, saved: bool) -> &'static str {
    match state {
        DomainState::Shutoff if saved => "document-save-symbolic",
        DomainState::Running => "media-playback-start-symbolic",
        DomainState::Blocked => "dialog-warning-symbolic",
        DomainState::Paused => "media-playback-pause-symbolic",
        DomainState::ShuttingDown => "system-shutdown-symbolic",
        DomainState::Shutoff => "media-playback-stop-symbolic",
        DomainState::Crashed => "dialog-error-symbolic",
        DomainState::PmSuspended => "weather-clear-night-symbolic",
        DomainState::NoState => "dialog-question-symbolic",
    }
}

/// "Ubuntu 22.04" from libosinfo's `http://ubuntu.com/ubuntu/22.04`.
pub fn os_name(os_id: &str) -> String {
    let mut parts = os_id.trim_end_matches('/').rsplit('/');
    let version = parts.next().unwrap_or_default();
    match parts.next() {
        Some(family) if !family.contains('.') && !family.is_empty() => {
            let mut chars = family.chars();
            let family: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            format!("{family} {version}")
        }
        _ => version.to_owned(),
    }
}

/// Memory for people: "512 MiB", "2 GiB", "1.5 GiB".
pub fn format_memory(kib: u64) -> String {
    let mib = kib as f64 / 1024.0;
    if mib < 1024.0 {
        format!("{} MiB", mib.round())
    } else {
        let gib = mib / 1024.0;
        let text = format!("{gib:.1}");
        format!("{} GiB", text.trim_end_matches(".0"))
    }
}

#[cfg(test)]
mod tests {
    use super::listed::{intern, Listed};
    use super::{changed_properties, format_memory, os_name, state_icon, state_icons};
    use crate::ui::backend::{DomainState, Tablet};

    #[test]
    fn every_state_icon_is_listed_once() {
        let icons = state_icons();
        assert_eq!(icons.len(), 9);
        for state in DomainState::ALL {
            assert!(icons.contains(&state_icon(state, false)));
            assert!(icons.contains(&state_icon(state, true)));
        }
    }

    fn listed() -> Listed {
        Listed {
            uuid: "6b1c0c9e-0000-4000-8000-000000000001".into(),
            name: "web".into(),
            id: None,
            state: DomainState::Shutoff,
            vcpus: 2,
            memory_kib: 1 << 20,
            os_id: Some(intern("http://debian.org/debian/12")),
            tags: Box::new([intern("db")]),
            tablet: Tablet::Present,
            spice_only: false,
            nvram: false,
            tpm_state: false,
            saved: false,
            template: false,
        }
    }

    #[test]
    fn only_the_properties_read_from_what_changed_are_notified() {
        let old = listed();
        assert!(changed_properties(&old, &old.clone()).is_empty());
        let mut tagged = old.clone();
        tagged.tags = Box::new([intern("db"), intern("web")]);
        assert_eq!(changed_properties(&old, &tagged), ["tags", "search-text"]);
        let mut running = old.clone();
        running.state = DomainState::Running;
        running.id = Some(3);
        assert_eq!(
            changed_properties(&old, &running),
            ["state-label", "state-icon", "active"]
        );
        let mut saved = old.clone();
        saved.saved = true;
        assert_eq!(
            changed_properties(&old, &saved),
            ["state-label", "state-icon", "saved"]
        );
    }

    #[test]
    fn the_search_looks_in_the_name_and_the_tags() {
        let mut domain = listed();
        domain.tags = Box::new([intern("db"), intern("prod")]);
        assert_eq!(domain.search_text(), "web db prod");
        assert_eq!(domain.tags_text(), "db, prod");
    }

    #[test]
    fn os_names_come_from_libosinfo_ids() {
        assert_eq!(os_name("http://ubuntu.com/ubuntu/22.04"), "Ubuntu 22.04");
        assert_eq!(os_name("http://debian.org/debian/12"), "Debian 12");
        assert_eq!(os_name("http://libosinfo.org/linux/2022"), "Linux 2022");
    }

    #[test]
    fn memory_reads_in_mib_or_gib() {
        assert_eq!(format_memory(512 * 1024), "512 MiB");
        assert_eq!(format_memory(2 * 1024 * 1024), "2 GiB");
        assert_eq!(format_memory(1536 * 1024), "1.5 GiB");
        assert_eq!(format_memory(0), "0 MiB");
    }
}
