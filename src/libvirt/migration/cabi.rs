//! The calls migration needs that the `virt` crate lacks (or gets wrong), as safe
//! functions: aborting a domain's job, reading its job statistics, and comparing a CPU
//! with what a destination's hypervisor can run. The only `unsafe` of the migration module.

use std::ffi::CString;

use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::Error;
use virt_sys as sys;

/// Stops the domain's running job (a migration): `virDomainAbortJob`.
pub fn abort_job(domain: &Domain) -> Result<(), Error> {
    // SAFETY: the pointer comes from a live `Domain`, which stays borrowed for the call.
    let result = unsafe { sys::virDomainAbortJob(domain.as_ptr()) };
    if result < 0 {
        return Err(Error::last_error());
    }
    Ok(())
}

/// How a CPU fares on a host's hypervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuFit {
    /// The host cannot run it.
    Incompatible,
    /// It runs (identical, or a subset of what the host offers).
    Compatible,
}

/// Whether `conn`'s hypervisor of type `virt_type` (for `arch`, `machine`) can run the CPU
/// described by `cpu_xml` (a `<cpu>` element): `virConnectCompareHypervisorCPU`.
pub fn compare_hypervisor_cpu(
    conn: &Connect,
    arch: Option<&str>,
    machine: Option<&str>,
    virt_type: Option<&str>,
    cpu_xml: &str,
) -> Result<CpuFit, Error> {
    let text = |s: Option<&str>| s.map(CString::new).transpose();
    let (arch, machine, virt_type) = (text(arch)?, text(machine)?, text(virt_type)?);
    let xml = CString::new(cpu_xml)?;
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every string is a live NUL-terminated CString or null (which the call
    // accepts for all but the CPU), and the connection stays borrowed for the call.
    let result = unsafe {
        sys::virConnectCompareHypervisorCPU(
            conn.as_ptr(),
            std::ptr::null(),
            ptr(&arch),
            ptr(&machine),
            ptr(&virt_type),
            xml.as_ptr(),
            0,
        )
    };
    match result {
        r if r < 0 => Err(Error::last_error()),
        0 => Ok(CpuFit::Incompatible),
        _ => Ok(CpuFit::Compatible),
    }
}

/// The parts of a domain's job statistics migration shows, from `virDomainGetJobStats`
/// (read here because the `virt` crate's `job_stats` builds a `Vec` on libvirt's memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobStats {
    /// `virDomainJobType`: 0 (none) when no job runs.
    pub kind: i32,
    pub data_total: Option<u64>,
    pub data_processed: Option<u64>,
    pub data_remaining: Option<u64>,
    pub memory_bps: Option<u64>,
    pub disk_bps: Option<u64>,
    pub time_elapsed: Option<u64>,
    pub downtime: Option<u64>,
}

/// The domain's current job statistics.
pub fn job_stats(domain: &Domain) -> Result<JobStats, Error> {
    let mut kind: std::os::raw::c_int = 0;
    let mut params: sys::virTypedParameterPtr = std::ptr::null_mut();
    let mut nparams: std::os::raw::c_int = 0;
    // SAFETY: the out-pointers are valid locals; libvirt allocates `params` (or leaves it
    // null), and the domain stays borrowed for the call.
    let result = unsafe {
        sys::virDomainGetJobStats(domain.as_ptr(), &mut kind, &mut params, &mut nparams, 0)
    };
    if result < 0 {
        return Err(Error::last_error());
    }
    let get = |name: &std::ffi::CStr| {
        let mut value: std::os::raw::c_ulonglong = 0;
        // SAFETY: `params` holds `nparams` entries from libvirt (or is null with 0), and
        // `name` is NUL-terminated; the lookup only reads them.
        let found =
            unsafe { sys::virTypedParamsGetULLong(params, nparams, name.as_ptr(), &mut value) };
        (found == 1).then_some(value)
    };
    let stats = JobStats {
        kind,
        data_total: get(sys::VIR_DOMAIN_JOB_DATA_TOTAL),
        data_processed: get(sys::VIR_DOMAIN_JOB_DATA_PROCESSED),
        data_remaining: get(sys::VIR_DOMAIN_JOB_DATA_REMAINING),
        memory_bps: get(sys::VIR_DOMAIN_JOB_MEMORY_BPS),
        disk_bps: get(sys::VIR_DOMAIN_JOB_DISK_BPS),
        time_elapsed: get(sys::VIR_DOMAIN_JOB_TIME_ELAPSED),
        downtime: get(sys::VIR_DOMAIN_JOB_DOWNTIME),
    };
    // SAFETY: frees what libvirt allocated, once; nothing refers to it afterwards.
    unsafe { sys::virTypedParamsFree(params, nparams) };
    Ok(stats)
}
