//! `VdGraph`: a machine's recent statistics of one kind (CPU, memory, disk or network) as a
//! line graph, newest on the right; small, as a sparkline, in the list's CPU column. Given
//! a host's [`HostLoadHistory`] instead of a machine, it draws the host's CPU or memory use.
//!
//! A small own widget rather than a plotting crate: it draws one cairo path per series in
//! `snapshot` (no widget per point), in the style's accent and foreground colours so that
//! it reads in dark mode, and cairo draws at the window's scale. It follows the machine's
//! `samples` property, but only while mapped: a graph on a hidden page neither draws nor
//! formats text, and catches up when it is shown. Its value in words is `value-text`, for
//! the label beside it, and its tooltip, which GTK makes its accessible description.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::history::{axis_ceiling, Ring, Series};
use crate::ui::backend::StatsHistory;
use crate::ui::domain::format_memory;
use crate::ui::util::BoundObject;
use crate::ui::{Domain, HostLoadHistory};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib, graphene};
use std::cell::{Cell, RefCell};

/// What a graph shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, glib::Enum)]
#[enum_type(name = "VdGraphKind")]
pub enum GraphKind {
    /// Percent of the machine's vCPUs.
    #[default]
    Cpu,
    /// Memory in use against the machine's memory.
    Memory,
    /// Bytes read (solid) and written (dashed) per second.
    Disk,
    /// Bytes received (solid) and sent (dashed) per second.
    Network,
}

impl GraphKind {
    /// The series drawn: the first solid in the accent colour, the second dashed.
    fn series(self) -> &'static [Series] {
        match self {
            Self::Cpu => &[Series::Cpu],
            Self::Memory => &[Series::Memory],
            Self::Disk => &[Series::DiskRead, Series::DiskWrite],
            Self::Network => &[Series::NetRx, Series::NetTx],
        }
    }

    /// The top of the vertical axis for `history` of a machine with `memory_kib`.
    fn ceiling(self, history: &StatsHistory, memory_kib: u64) -> f64 {
        let max = |s: Series| history.series(s).max();
        match self {
            Self::Cpu => 100.0,
            Self::Memory => (memory_kib as f64).max(max(Series::Memory)).max(1.0),
            // At least 1 kB/s, so that a few bytes do not fill the graph.
            Self::Disk => axis_ceiling(max(Series::DiskRead).max(max(Series::DiskWrite)), 1e3),
            Self::Network => axis_ceiling(max(Series::NetRx).max(max(Series::NetTx)), 1e3),
        }
    }
}

/// The newest values in words, e.g. "12.5 %", "120 MiB of 512 MiB"; `None` while the
/// history holds no value of this kind.
pub(crate) fn value_text(
    kind: GraphKind,
    history: &StatsHistory,
    memory_kib: u64,
) -> Option<String> {
    let latest = |s: Series| history.series(s).latest();
    match kind {
        GraphKind::Cpu => latest(Series::Cpu).map(percent),
        GraphKind::Memory => latest(Series::Memory).map(|used| {
            let used = used as u64;
            // Without the guest's own figures it is the host's resident size of the
            // machine, which can exceed the memory given to the guest.
            if used > memory_kib {
                return format_memory(used);
            }
            gettext_f(
                // Translators: memory in use; {used} and {total} are sizes like "512 MiB".
                "{used} of {total}",
                &[
                    ("used", &format_memory(used)),
                    ("total", &format_memory(memory_kib)),
                ],
            )
        }),
        GraphKind::Disk => Some(disk_rates(
            latest(Series::DiskRead)?,
            latest(Series::DiskWrite)?,
        )),
        GraphKind::Network => Some(net_rates(latest(Series::NetRx)?, latest(Series::NetTx)?)),
    }
}

/// A CPU share in words: "12.5 %".
pub(crate) fn percent(value: f64) -> String {
    format!("{value:.1} %")
}

/// A size in bytes for people: "1.2 MB".
pub(crate) fn size(bytes: f64) -> String {
    glib::format_size(bytes.max(0.0) as u64).to_string()
}

pub(crate) fn disk_rates(read: f64, written: f64) -> String {
    gettext_f(
        // Translators: disk activity; {read} and {written} are sizes like "1.2 MB".
        "{read}/s read, {written}/s written",
        &[("read", &size(read)), ("written", &size(written))],
    )
}

pub(crate) fn net_rates(received: f64, sent: f64) -> String {
    gettext_f(
        // Translators: network activity; {received} and {sent} are sizes like "1.2 MB".
        "{received}/s received, {sent}/s sent",
        &[("received", &size(received)), ("sent", &size(sent))],
    )
}

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::Graph)]
    pub struct Graph {
        /// The machine whose history is drawn.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        /// The host whose CPU or memory use is drawn, when no machine is.
        #[property(get = Self::host, set = Self::set_host, nullable, type = Option<HostLoadHistory>)]
        pub host: BoundObject<HostLoadHistory>,
        #[property(get, set = Self::set_kind, builder(GraphKind::default()))]
        pub kind: Cell<GraphKind>,
        /// The newest value in words, as a label beside the graph shows it.
        #[property(get)]
        pub value_text: RefCell<String>,
        /// Small and without a frame, for a list cell.
        #[property(get, set)]
        pub sparkline: Cell<bool>,
    }

    impl Graph {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            self.follow_samples(&self.domain, domain.as_ref());
        }

        /// Follows the `samples` of `source` (a machine or a host) into `bound`, and
        /// refreshes when that is a change.
        fn follow_samples<T: IsA<glib::Object>>(&self, bound: &BoundObject<T>, source: Option<&T>) {
            let obj = self.obj();
            let followed = bound.follow(source, |source| {
                vec![source.connect_notify_local(
                    Some("samples"),
                    glib::clone!(
                        #[weak]
                        obj,
                        move |_, _| obj.refresh()
                    ),
                )]
            });
            if followed {
                obj.refresh();
            }
        }

        fn host(&self) -> Option<HostLoadHistory> {
            self.host.get()
        }

        fn set_host(&self, host: Option<HostLoadHistory>) {
            self.follow_samples(&self.host, host.as_ref());
        }

        fn set_kind(&self, kind: GraphKind) {
            self.kind.set(kind);
            self.obj().refresh();
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Graph {
        const NAME: &'static str = "VdGraph";
        type Type = super::Graph;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("vdgraph");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for Graph {}

    impl WidgetImpl for Graph {
        fn map(&self) {
            self.parent_map();
            // Samples that arrived while hidden were not looked at.
            self.obj().refresh();
        }

        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match (orientation, self.sparkline.get()) {
                (gtk::Orientation::Horizontal, false) => (120, 240, -1, -1),
                (_, false) => (48, 64, -1, -1),
                (gtk::Orientation::Horizontal, true) => (48, 64, -1, -1),
                (_, true) => (16, 16, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let obj = self.obj();
            let (width, height) = (f64::from(obj.width()), f64::from(obj.height()));
            if width < 2.0 || height < 2.0 {
                return;
            }
            let style = obj.style_context();
            let foreground = style.color();
            let accent = style.lookup_color("accent_color").unwrap_or(foreground);
            let bounds = graphene::Rect::new(0.0, 0.0, width as f32, height as f32);
            let cr = snapshot.append_cairo(&bounds);
            if !self.sparkline.get() {
                set_colour(&cr, &foreground, 0.15);
                cr.set_line_width(1.0);
                cr.rectangle(0.5, 0.5, width - 1.0, height - 1.0);
                let _ = cr.stroke();
            }

            let kind = self.kind.get();
            let sparkline = self.sparkline.get();
            obj.with_history(|history, memory, _| {
                let top = kind.ceiling(history, memory);
                for (i, series) in kind.series().iter().enumerate() {
                    trace(&cr, history.series(*series), width, height, top);
                    if i == 0 {
                        set_colour(&cr, &accent, 1.0);
                        cr.set_line_width(if sparkline { 1.5 } else { 2.0 });
                        cr.set_dash(&[], 0.0);
                    } else {
                        set_colour(&cr, &foreground, 0.7);
                        cr.set_line_width(1.5);
                        cr.set_dash(&[4.0, 3.0], 0.0);
                    }
                    let _ = cr.stroke();
                }
            });
        }
    }
}

glib::wrapper! {
    pub struct Graph(ObjectSubclass<imp::Graph>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Graph {
    /// A small CPU graph for a list cell.
    pub fn new_sparkline() -> Self {
        glib::Object::builder()
            .property("kind", GraphKind::Cpu)
            .property("sparkline", true)
            .property("valign", gtk::Align::Center)
            .build()
    }

    /// Calls `f` with what is drawn: the history, the memory it is measured against (KiB)
    /// and whether it is running; the machine's, else the host's; `None` without either.
    fn with_history<R>(&self, f: impl FnOnce(&StatsHistory, u64, bool) -> R) -> Option<R> {
        if let Some(domain) = self.domain() {
            return Some(f(&domain.history(), domain.memory(), domain.active()));
        }
        let host = self.imp().host.get()?;
        let result = f(&host.history(), host.memory_total(), true);
        Some(result)
    }

    /// Takes in new samples: the words always, the drawing only while shown.
    fn refresh(&self) {
        if !self.is_mapped() {
            return;
        }
        let imp = self.imp();
        let kind = imp.kind.get();
        let text = self
            .with_history(|history, memory, running| {
                value_text(kind, history, memory).unwrap_or_else(|| {
                    if running {
                        gettext("Waiting for the first sample")
                    } else {
                        gettext("Not running")
                    }
                })
            })
            .unwrap_or_default();
        if *imp.value_text.borrow() != text {
            // GTK makes the tooltip the accessible description (gtk-rs 0.11 offers
            // `update_property` only from GTK 4.10 on).
            self.set_tooltip_text(Some(&text).filter(|t| !t.is_empty()).map(|t| t.as_str()));
            imp.value_text.replace(text);
            self.notify_value_text();
        }
        self.queue_draw();
    }
}

fn set_colour(cr: &gtk::cairo::Context, colour: &gdk::RGBA, alpha: f64) {
    cr.set_source_rgba(
        f64::from(colour.red()),
        f64::from(colour.green()),
        f64::from(colour.blue()),
        f64::from(colour.alpha()) * alpha,
    );
}

/// Pixels kept free above and below the line.
const INSET: f64 = 2.5;

/// Adds `ring` to the current path: the newest value at the right edge, the ring's whole
/// capacity across the width, `top` at the top; gaps (NaN) break the line.
fn trace(cr: &gtk::cairo::Context, ring: &Ring, width: f64, height: f64, top: f64) {
    let step = width / (ring.capacity().max(2) - 1) as f64;
    let start = width - (ring.len() as f64 - 1.0) * step;
    let mut pen_down = false;
    for (i, value) in ring.iter().enumerate() {
        if value.is_nan() {
            pen_down = false;
            continue;
        }
        let x = start + i as f64 * step;
        let share = (f64::from(value) / top).clamp(0.0, 1.0);
        // Inset, so that an idle line is not hidden in the frame.
        let y = height - INSET - share * (height - 2.0 * INSET);
        if pen_down {
            cr.line_to(x, y);
        } else {
            cr.move_to(x, y);
            pen_down = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::backend::DomainStats;

    fn history(stats: &[DomainStats]) -> StatsHistory {
        let mut history = StatsHistory::default();
        stats.iter().for_each(|s| history.push(s));
        history
    }

    #[test]
    fn an_empty_history_has_no_value_in_words() {
        let empty = StatsHistory::default();
        for kind in [
            GraphKind::Cpu,
            GraphKind::Memory,
            GraphKind::Disk,
            GraphKind::Network,
        ] {
            assert_eq!(value_text(kind, &empty, 1024), None, "{kind:?}");
        }
    }

    #[test]
    fn values_read_in_words_with_units() {
        let h = history(&[DomainStats {
            cpu_percent: 12.345,
            memory_used_kib: Some(120 * 1024),
            disk_read_bytes_per_sec: 1500.0,
            disk_write_bytes_per_sec: 0.0,
            net_rx_bytes_per_sec: 2_500_000.0,
            net_tx_bytes_per_sec: 999.0,
            ..DomainStats::default()
        }]);
        // GLib puts a no-break space between a number and its unit.
        let text = |kind| {
            value_text(kind, &h, 512 * 1024)
                .expect("a value")
                .replace('\u{a0}', " ")
        };
        assert_eq!(text(GraphKind::Cpu), "12.3 %");
        assert_eq!(text(GraphKind::Memory), "120 MiB of 512 MiB");
        assert_eq!(
            value_text(GraphKind::Memory, &h, 64 * 1024).as_deref(),
            Some("120 MiB"),
            "more than the guest has (the host's resident size) is no share of it"
        );
        assert_eq!(text(GraphKind::Disk), "1.5 kB/s read, 0 bytes/s written");
        assert_eq!(
            text(GraphKind::Network),
            "2.5 MB/s received, 999 bytes/s sent"
        );
    }

    #[test]
    fn a_guest_without_memory_figures_has_no_memory_value() {
        let h = history(&[DomainStats::default()]);
        assert_eq!(value_text(GraphKind::Memory, &h, 1024), None);
        assert_eq!(
            value_text(GraphKind::Cpu, &h, 1024).as_deref(),
            Some("0.0 %")
        );
    }

    #[test]
    fn the_axis_fits_the_values() {
        let h = history(&[DomainStats {
            memory_used_kib: Some(4096),
            disk_write_bytes_per_sec: 3_300_000.0,
            net_rx_bytes_per_sec: 10.0,
            ..DomainStats::default()
        }]);
        assert_eq!(GraphKind::Cpu.ceiling(&h, 0), 100.0);
        assert_eq!(GraphKind::Memory.ceiling(&h, 8192), 8192.0);
        assert_eq!(GraphKind::Memory.ceiling(&h, 1024), 4096.0, "never clipped");
        assert_eq!(GraphKind::Disk.ceiling(&h, 0), 5e6);
        assert_eq!(GraphKind::Network.ceiling(&h, 0), 1e3);
    }
}
