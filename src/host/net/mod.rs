//! Host networking: the NICs and bridges of the host (or of a network namespace), making a
//! bridge from a NIC and deleting it again, and allowing a bridge for session VMs.
//!
//! - [`state`]: links, addresses and routes as `ip -j` reports them; [`list`] for the page.
//! - [`bridge`]: create/delete a bridge as a [`PendingChange`] to confirm or expire: through
//!   NetworkManager when it manages the NIC, otherwise with iproute2.
//! - [`plan`]: the one planner from the present state to a wanted [`Snapshot`].
//! - [`runner`]: every `ip` command runs through [`Runner`] (namespaces, fixed program
//!   paths), which also says how changes are made: through `pkexec` or not, NetworkManager
//!   asked or not, how long the countdown is.
//! - [`privileged`]: the privileged helper, this program started as `virtdeck --net-helper`
//!   (through `pkexec` unless root) once per change: it checks the request, records the
//!   state, applies the change and rolls it back by itself unless told to keep it;
//!   [`protocol`] is what it reads and writes, [`spawn`] the app's end of it.
//! - [`nm`]: the same two changes through NetworkManager's D-Bus API, for NICs it manages,
//!   guarded by a NetworkManager checkpoint that rolls back by itself.
//! - [`bridge_conf`]: `/etc/qemu/bridge.conf` for qemu-bridge-helper, also changed by the
//!   privileged helper.
//!
//! libvirt's virtual networks (start, stop, autostart) belong to the libvirt connection
//! worker, not here.

pub mod bridge;
pub mod bridge_conf;
pub mod nm;
pub mod plan;
pub mod privileged;
pub mod protocol;
pub mod runner;
mod spawn;
pub mod state;

pub use bridge::{
    create_bridge, delete_bridge, validate_bridge_name, BridgeRequest, PendingChange,
    CONFIRM_WITHIN, DEFAULT_BRIDGE,
};
pub use bridge_conf::{
    allow_bridge_for_session, allow_bridge_in, allows, bridge_allowed_for_session, BRIDGE_CONF,
};
pub use plan::{rollback, Snapshot};
pub use runner::Runner;
pub use state::{list, read_links, Address, Bridge, LeftAlone, Link, Networks, Route};

/// What can go wrong with host networking, each a sentence for the user.
/// They travel from the privileged helper to the app as they are (JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum NetError {
    #[error("“{name}” cannot be a bridge name: {reason}.")]
    InvalidName { name: String, reason: String },
    #[error("“{name}” is not a usable network interface name: {reason}.")]
    BadInterfaceName { name: String, reason: String },
    #[error("There is no network namespace named “{0}”.")]
    NoSuchNetns(String),
    #[error("A network interface named “{0}” already exists.")]
    NameTaken(String),
    #[error("There is no network interface named “{0}”.")]
    NoSuchLink(String),
    #[error("“{0}” is not a bridge.")]
    NotABridge(String),
    #[error("“{0}” is already a bridge.")]
    IsABridge(String),
    #[error("“{0}” is not an Ethernet interface and cannot join a bridge.")]
    NotEthernet(String),
    #[error("“{nic}” already belongs to bridge “{bridge}”.")]
    AlreadyBridged { nic: String, bridge: String },
    #[error("Bridge “{bridge}” has several network cards ({}); it is not clear which one gets its addresses back.", nics.join(", "))]
    SeveralUplinks { bridge: String, nics: Vec<String> },
    #[error("NetworkManager is not running, or cannot be reached on the system bus.")]
    NmNotRunning,
    #[error("NetworkManager did not allow the change: you are not allowed to change the network configuration.")]
    NmDenied,
    #[error("NetworkManager does not know a network interface named “{0}”.")]
    NmNoDevice(String),
    #[error("NetworkManager did not answer in time.")]
    NmTimeout,
    #[error("NetworkManager refused the change: {0}")]
    NmFailed(String),
    #[error("NetworkManager could not bring up “{0}”.")]
    NmActivation(String),
    #[error(
        "The change was already undone by NetworkManager, because it was not confirmed in time."
    )]
    NmExpired,
    #[error("Could not ask NetworkManager whether it manages “{iface}”, so nothing was changed. {cause}")]
    NmUnsure { iface: String, cause: Box<NetError> },
    #[error("Administrator rights are needed, and pkexec is not installed to ask for them.")]
    NoPkexec,
    #[error("The request for administrator rights was dismissed, so nothing was changed.")]
    AuthDismissed,
    #[error("You are not allowed to change the network configuration (polkit refused), so nothing was changed.")]
    NotAuthorized,
    #[error("Changing the network needs administrator rights.")]
    NotPermitted,
    #[error("The network helper refused the request: {0}.")]
    BadRequest(String),
    #[error("The network helper stopped unexpectedly: {0}.")]
    HelperFailed(String),
    #[error("The change was already undone, because it was not confirmed in time.")]
    Expired,
    #[error("{path} denies bridge “{bridge}” (a “deny” line); remove that line to allow it.")]
    DeniedInBridgeConf { path: String, bridge: String },
    #[error("The program “{0}” is not installed.")]
    Missing(String),
    #[error("Could not run {program}: {message}.")]
    Spawn { program: String, message: String },
    #[error("The command “{command}” failed: {message}")]
    Command { command: String, message: String },
    #[error("Could not read the network state: {0}.")]
    Parse(String),
    #[error("Could not write {path}: {message}.")]
    File { path: String, message: String },
    #[error("The network change failed and the previous configuration was restored. {0}")]
    RolledBack(Box<NetError>),
    #[error("The network change failed, and restoring the previous configuration failed too. {failure} {rollback}")]
    RollbackFailed {
        failure: Box<NetError>,
        rollback: Box<NetError>,
    },
}
