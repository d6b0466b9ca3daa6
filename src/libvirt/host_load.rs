//! How busy the host is: its CPU use since the previous sample and its memory in use, read
//! by the connection worker at each statistics tick (two small calls beside the bulk domain
//! statistics), with the memory the running machines have.

use virt::connect::Connect;

use super::ffi;

/// The host's CPU time counters, nanoseconds since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub idle: u64,
    /// Everything else: kernel, user, I/O wait (which counts as busy waiting for the disk
    /// here, as `top`'s "wa" does not: it is shown, not idle).
    pub busy: u64,
}

impl CpuTimes {
    /// From `virNodeGetCPUStats`' fields; `None` without an `idle` field (a driver that
    /// only reports utilization).
    pub fn from_fields(fields: &[(String, u64)]) -> Option<Self> {
        let mut times = CpuTimes::default();
        let mut idle = false;
        for (name, value) in fields {
            match name.as_str() {
                "idle" => {
                    times.idle = *value;
                    idle = true;
                }
                "kernel" | "user" | "iowait" => times.busy = times.busy.saturating_add(*value),
                _ => {}
            }
        }
        idle.then_some(times)
    }
}

/// The share of CPU time that was busy between two readings, 0–100; `None` when the
/// counters did not advance or went back (a host that rebooted under a remote connection).
pub fn cpu_percent(before: CpuTimes, after: CpuTimes) -> Option<f64> {
    let idle = after.idle.checked_sub(before.idle)?;
    let busy = after.busy.checked_sub(before.busy)?;
    let total = idle + busy;
    (total > 0).then(|| (busy as f64 / total as f64 * 100.0).clamp(0.0, 100.0))
}

/// The host's memory, KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUse {
    pub total_kib: u64,
    /// What programs use: total less free, buffers and page cache (as `free` counts it).
    pub used_kib: u64,
}

impl MemoryUse {
    /// From `virNodeGetMemoryStats`' fields; `None` without `total` and `free`.
    pub fn from_fields(fields: &[(String, u64)]) -> Option<Self> {
        let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
        let total = get("total")?;
        let reclaimable = get("free")?
            .saturating_add(get("buffers").unwrap_or(0))
            .saturating_add(get("cached").unwrap_or(0));
        Some(Self {
            total_kib: total,
            used_kib: total.saturating_sub(reclaimable),
        })
    }
}

/// One sample of the host, as [`Event::HostLoad`](super::Event::HostLoad) carries it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostLoad {
    /// Percent of all the host's CPUs since the previous sample; `None` for the first.
    pub cpu_percent: Option<f64>,
    /// `None` when the driver does not tell.
    pub memory: Option<MemoryUse>,
    /// The memory the running machines have, summed (their current allocation).
    pub committed_kib: u64,
    pub running: u32,
}

/// Reads the host's counters. A call the driver does not support gives `None` for its
/// part rather than an error: the domain statistics go on without it.
pub fn read(conn: &Connect) -> (Option<CpuTimes>, Option<MemoryUse>) {
    let cpu = ffi::node_cpu_stats(conn)
        .map_err(|e| tracing::debug!("no host CPU statistics: {e}"))
        .ok()
        .and_then(|f| CpuTimes::from_fields(&f));
    (cpu, read_memory(conn))
}

/// The host's memory use, when the driver tells.
pub fn read_memory(conn: &Connect) -> Option<MemoryUse> {
    ffi::node_memory_stats(conn)
        .map_err(|e| tracing::debug!("no host memory statistics: {e}"))
        .ok()
        .and_then(|f| MemoryUse::from_fields(&f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn cpu_use_is_the_busy_share_of_the_time_that_passed() {
        let before = CpuTimes::from_fields(&fields(&[
            ("kernel", 100),
            ("user", 300),
            ("idle", 1000),
            ("iowait", 0),
        ]))
        .unwrap();
        let after = CpuTimes::from_fields(&fields(&[
            ("kernel", 150),
            ("user", 400),
            ("idle", 1450),
            ("iowait", 0),
        ]))
        .unwrap();
        // 150 busy of 600.
        assert_eq!(cpu_percent(before, after), Some(25.0));
    }

    #[test]
    fn counters_that_stand_still_or_go_back_give_no_figure() {
        let t = CpuTimes { idle: 10, busy: 10 };
        assert_eq!(cpu_percent(t, t), None);
        let rebooted = CpuTimes { idle: 1, busy: 1 };
        assert_eq!(cpu_percent(t, rebooted), None);
        assert_eq!(CpuTimes::from_fields(&fields(&[("utilization", 40)])), None);
    }

    #[test]
    fn memory_in_use_leaves_out_free_buffers_and_cache() {
        let m = MemoryUse::from_fields(&fields(&[
            ("total", 8_000_000),
            ("free", 1_000_000),
            ("buffers", 500_000),
            ("cached", 2_500_000),
        ]))
        .unwrap();
        assert_eq!(
            m,
            MemoryUse {
                total_kib: 8_000_000,
                used_kib: 4_000_000
            }
        );
        // The test driver tells total and free only.
        let m = MemoryUse::from_fields(&fields(&[("total", 100), ("free", 40)])).unwrap();
        assert_eq!(m.used_kib, 60);
        assert_eq!(MemoryUse::from_fields(&fields(&[("total", 100)])), None);
    }
}
