//! The recent statistics of one domain, for graphs: a bounded ring of samples per series,
//! filled from the [`DomainStats`] the worker already computes once per interval (no
//! polling of its own), and the numbers a graph needs to be read (axis ceilings, sizes).

use std::collections::VecDeque;

use super::{DomainStats, HostLoad};

/// How many samples a series keeps: six minutes at the default three-second interval.
pub const HISTORY_LEN: usize = 120;

/// The most recent values of one quantity, oldest first; at most `capacity` of them.
///
/// Values are `f32` (a graph needs no more) and NaN marks a sample with no value (e.g. no
/// memory figure from a guest without a balloon driver), drawn as a gap.
#[derive(Debug, Clone, PartialEq)]
pub struct Ring {
    values: VecDeque<f32>,
    capacity: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Self {
            // Allocated on the first push: a machine that never runs costs nothing.
            values: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Appends `value`, dropping the oldest once full. Negative or infinite values (which
    /// counters that went backwards would give) are stored as 0, NaN as a gap.
    pub fn push(&mut self, value: f64) {
        let value = if value.is_nan() {
            f32::NAN
        } else if value.is_finite() {
            value.max(0.0) as f32
        } else {
            0.0
        };
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(value);
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Oldest first; NaN for gaps.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = f32> + '_ {
        self.values.iter().copied()
    }

    /// The newest value, unless the ring is empty or the newest sample is a gap.
    pub fn latest(&self) -> Option<f64> {
        self.values
            .back()
            .filter(|v| !v.is_nan())
            .map(|v| f64::from(*v))
    }

    /// The largest value held (0 when there is none).
    pub fn max(&self) -> f64 {
        self.iter()
            .filter(|v| !v.is_nan())
            .fold(0.0_f32, f32::max)
            .into()
    }

    pub fn clear(&mut self) {
        self.values = VecDeque::new();
    }
}

/// The quantities a domain's history keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series {
    /// Percent of the domain's vCPUs, 0–100.
    Cpu,
    /// Memory in use, KiB.
    Memory,
    /// Bytes per second.
    DiskRead,
    DiskWrite,
    NetRx,
    NetTx,
}

impl Series {
    pub const ALL: [Series; 6] = [
        Self::Cpu,
        Self::Memory,
        Self::DiskRead,
        Self::DiskWrite,
        Self::NetRx,
        Self::NetTx,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// One ring per [`Series`], all advanced together by [`StatsHistory::push`].
#[derive(Debug, Clone, PartialEq)]
pub struct StatsHistory {
    rings: [Ring; 6],
}

impl Default for StatsHistory {
    fn default() -> Self {
        Self::new(HISTORY_LEN)
    }
}

impl StatsHistory {
    pub fn new(capacity: usize) -> Self {
        Self {
            rings: std::array::from_fn(|_| Ring::new(capacity)),
        }
    }

    /// Adds one interval's statistics to every series.
    pub fn push(&mut self, stats: &DomainStats) {
        let memory = stats.memory_used_kib.map_or(f64::NAN, |kib| kib as f64);
        let values = [
            stats.cpu_percent,
            memory,
            stats.disk_read_bytes_per_sec,
            stats.disk_write_bytes_per_sec,
            stats.net_rx_bytes_per_sec,
            stats.net_tx_bytes_per_sec,
        ];
        for (series, value) in Series::ALL.into_iter().zip(values) {
            self.rings[series.index()].push(value);
        }
    }

    /// Adds one sample of the host: its CPU use as [`Series::Cpu`], its memory in use as
    /// [`Series::Memory`]; the other series get a gap.
    pub fn push_host(&mut self, load: &HostLoad) {
        for series in Series::ALL {
            let value = match series {
                Series::Cpu => load.cpu_percent.unwrap_or(f64::NAN),
                Series::Memory => load.memory.map_or(f64::NAN, |m| m.used_kib as f64),
                _ => f64::NAN,
            };
            self.rings[series.index()].push(value);
        }
    }

    pub fn series(&self, series: Series) -> &Ring {
        &self.rings[series.index()]
    }

    /// How many samples are held (the same for every series).
    pub fn len(&self) -> usize {
        self.rings[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.rings[0].is_empty()
    }

    pub fn clear(&mut self) {
        self.rings.iter_mut().for_each(Ring::clear);
    }
}

/// The top of a graph's axis for values up to `max`: the next 1, 2 or 5 times a power of
/// ten, at least `floor` (so that an idle disk does not draw noise as full height).
pub fn axis_ceiling(max: f64, floor: f64) -> f64 {
    let max = if max.is_finite() { max } else { 0.0 };
    if max <= floor {
        return floor;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libvirt::domain::{compute_stats, StatsSample};
    use std::time::Duration;

    #[test]
    fn a_ring_keeps_the_newest_values_up_to_its_capacity() {
        let mut ring = Ring::new(3);
        assert!(ring.is_empty());
        assert_eq!(ring.latest(), None);
        for v in 1..=5 {
            ring.push(f64::from(v));
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.iter().collect::<Vec<_>>(), [3.0, 4.0, 5.0]);
        assert_eq!(ring.latest(), Some(5.0));
        assert_eq!(ring.max(), 5.0);
        ring.clear();
        assert!(ring.is_empty());
    }

    #[test]
    fn a_ring_never_holds_negative_or_infinite_values() {
        let mut ring = Ring::new(4);
        ring.push(-5.0);
        ring.push(f64::INFINITY);
        ring.push(f64::NAN);
        let values: Vec<f32> = ring.iter().collect();
        assert_eq!(values[..2], [0.0, 0.0]);
        assert!(values[2].is_nan());
        assert_eq!(ring.latest(), None, "a gap has no value");
        assert_eq!(ring.max(), 0.0);
    }

    #[test]
    fn a_zero_capacity_ring_still_keeps_one_value() {
        let mut ring = Ring::new(0);
        ring.push(1.0);
        ring.push(2.0);
        assert_eq!(ring.iter().collect::<Vec<_>>(), [2.0]);
    }

    #[test]
    fn the_history_advances_every_series_together_and_stays_bounded() {
        let mut history = StatsHistory::new(10);
        for i in 0..25 {
            history.push(&DomainStats {
                cpu_percent: f64::from(i),
                memory_used_kib: (i % 2 == 0).then_some(1024),
                disk_read_bytes_per_sec: 1.0,
                disk_write_bytes_per_sec: 2.0,
                net_rx_bytes_per_sec: 3.0,
                net_tx_bytes_per_sec: 4.0,
                ..DomainStats::default()
            });
        }
        assert_eq!(history.len(), 10);
        for series in Series::ALL {
            assert_eq!(history.series(series).len(), 10, "{series:?}");
        }
        assert_eq!(history.series(Series::Cpu).latest(), Some(24.0));
        assert_eq!(history.series(Series::Memory).latest(), Some(1024.0));
        assert_eq!(history.series(Series::NetTx).latest(), Some(4.0));
        // Odd samples (the oldest kept is the 16th, number 15) had no memory figure: gaps,
        // not zeros.
        let memory: Vec<f32> = history.series(Series::Memory).iter().collect();
        assert!(memory[0].is_nan() && memory[1] == 1024.0, "{memory:?}");
    }

    #[test]
    fn rates_follow_the_counters() {
        let prev = StatsSample {
            cpu_time_ns: 1_000_000_000,
            disk_read_bytes: 1000,
            net_tx_bytes: 500,
            ..StatsSample::default()
        };
        let cur = StatsSample {
            cpu_time_ns: 2_000_000_000,
            disk_read_bytes: 7000,
            net_tx_bytes: 2500,
            ..StatsSample::default()
        };
        let mut history = StatsHistory::default();
        history.push(&compute_stats(&prev, &cur, Duration::from_secs(2), 1));
        assert_eq!(history.series(Series::Cpu).latest(), Some(50.0));
        assert_eq!(history.series(Series::DiskRead).latest(), Some(3000.0));
        assert_eq!(history.series(Series::NetTx).latest(), Some(1000.0));
        assert_eq!(history.series(Series::DiskWrite).latest(), Some(0.0));
    }

    #[test]
    fn counters_reset_by_a_restart_give_no_negative_spike() {
        let before = StatsSample {
            cpu_time_ns: 90_000_000_000,
            disk_read_bytes: 5_000_000,
            disk_write_bytes: 4_000_000,
            net_rx_bytes: 3_000_000,
            net_tx_bytes: 2_000_000,
            ..StatsSample::default()
        };
        // The QEMU process started again: every counter begins near zero.
        let after = StatsSample {
            cpu_time_ns: 1_000_000,
            disk_read_bytes: 512,
            ..StatsSample::default()
        };
        let mut history = StatsHistory::default();
        history.push(&compute_stats(&before, &after, Duration::from_secs(3), 2));
        for series in Series::ALL {
            let ring = history.series(series);
            assert!(
                ring.iter().all(|v| v.is_nan() || v >= 0.0),
                "{series:?}: {:?}",
                ring.iter().collect::<Vec<_>>()
            );
            assert_eq!(ring.max(), 0.0, "{series:?}: no spike either way");
        }
    }

    #[test]
    fn axis_ceilings_are_round_numbers_above_the_values() {
        assert_eq!(axis_ceiling(0.0, 1024.0), 1024.0);
        assert_eq!(axis_ceiling(f64::NAN, 100.0), 100.0);
        assert_eq!(axis_ceiling(1500.0, 1024.0), 2000.0);
        assert_eq!(axis_ceiling(2000.0, 1.0), 2000.0);
        assert_eq!(axis_ceiling(2001.0, 1.0), 5000.0);
        assert_eq!(axis_ceiling(7_300_000.0, 1.0), 10_000_000.0);
        assert_eq!(axis_ceiling(0.3, 0.1), 0.5);
    }

    #[test]
    fn the_host_s_samples_fill_cpu_and_memory_only() {
        use crate::libvirt::MemoryUse;
        let mut history = StatsHistory::new(4);
        history.push_host(&HostLoad::default());
        history.push_host(&HostLoad {
            cpu_percent: Some(42.0),
            memory: Some(MemoryUse {
                total_kib: 1000,
                used_kib: 600,
            }),
            ..HostLoad::default()
        });
        assert_eq!(history.len(), 2);
        // The first sample has no CPU figure yet: a gap, not a zero.
        assert!(history.series(Series::Cpu).iter().next().unwrap().is_nan());
        assert_eq!(history.series(Series::Cpu).latest(), Some(42.0));
        assert_eq!(history.series(Series::Memory).latest(), Some(600.0));
        assert_eq!(history.series(Series::DiskRead).latest(), None);
    }
}
