//! Finishing a machine's install phase ([`crate::spec::install`]) on the worker's
//! connection: when the installer's first run has ended, the domain is redefined with its
//! final configuration, and started again when the worker saw that run end.
//!
//! The run counts as ended when the guest shut itself down: the lifecycle event "stopped
//! after a shutdown", or the shut-off reason "shutdown" of a domain the worker reads later
//! (Virtdeck was not running then). With `on_reboot` destroy, libvirt reports the
//! installer's reboot the same way as a power-off, so the worker starts the machine again
//! after either, as virt-install does. A machine that was forced off, or never started,
//! keeps its mark: its next start runs the installer again.

use virt::domain::{Domain, DomainShutoffReason, DomainStateReason};
use virt::enumutil::Enum;
use virt_sys as sys;

use super::events::{DomainEventKind, LifecycleEvent};
use crate::spec::install::finished_xml;
pub use crate::spec::install::is_pending;

/// Whether `event` says the guest shut itself down and stopped (or, under `on_reboot`
/// destroy, rebooted).
pub fn ended_by_guest(event: &DomainEventKind) -> bool {
    matches!(
        event,
        DomainEventKind::Lifecycle {
            event: LifecycleEvent::Stopped,
            detail,
        } if u32::try_from(*detail).ok() == Some(sys::VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
    )
}

/// What [`finish_if_ended`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// No install to finish (no mark, still running, or not ended by the guest).
    Nothing,
    /// Redefined with the final configuration.
    Redefined,
    /// Redefined and started again.
    Restarted,
}

/// Why the install phase could not be finished.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error(transparent)]
    Libvirt(#[from] virt::error::Error),
    #[error(transparent)]
    Xml(#[from] crate::spec::edit::tree::TreeError),
}

/// Finishes the install of `dom` when it carries the mark and its run has ended (see the
/// module). `restart`: start it again afterwards (the worker saw the run end).
pub fn finish_if_ended(dom: &Domain, restart: bool) -> Result<Finished, FinishError> {
    let (_, reason) = dom.state()?;
    let ended = matches!(
        reason,
        Enum::Known(DomainStateReason::Shutoff(Enum::Known(
            DomainShutoffReason::Shutdown
        )))
    );
    if !ended || !dom.is_persistent()? {
        return Ok(Finished::Nothing);
    }
    let xml = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_SECURE)?;
    if !is_pending(&xml) {
        return Ok(Finished::Nothing);
    }
    let finished = finished_xml(&xml)?;
    let conn = dom.connect()?;
    let dom = conn.define_domain_xml_flags(&finished, sys::VIR_DOMAIN_DEFINE_VALIDATE)?;
    tracing::info!(name = ?dom.name().ok(), "install finished: the machine boots its disk");
    if restart {
        dom.create()?;
        return Ok(Finished::Restarted);
    }
    Ok(Finished::Redefined)
}
