//! A running guest's IP addresses (`virDomainInterfaceAddresses`), asked of the guest
//! agent first, then the DHCP leases of libvirt's networks, then the host's ARP table; the
//! answer says which source answered, and whether the guest has an agent at all.

use virt::connect::Connect;
use virt::sys;

use super::ffi::{self, RawInterface};

/// Where a domain's addresses came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    /// The QEMU guest agent inside the guest: every interface and address.
    Agent,
    /// The DHCP lease a libvirt network gave the guest.
    Lease,
    /// The host's ARP table: addresses the guest has used lately.
    Arp,
}

impl AddressSource {
    /// In the order they are tried.
    pub const ALL: [AddressSource; 3] = [Self::Agent, Self::Lease, Self::Arp];

    fn raw(self) -> sys::virDomainInterfaceAddressesSource {
        match self {
            Self::Agent => sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
            Self::Lease => sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
            Self::Arp => sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
        }
    }
}

/// One network interface of the guest and its addresses ("192.0.2.5/24", "fe80::1/64").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestNic {
    /// The guest's name for it (agent) or the host's (`vnet3`; lease and ARP).
    pub name: String,
    pub mac: Option<String>,
    pub addresses: Vec<String>,
}

/// What [`read`] learnt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestAddresses {
    /// The source that answered with addresses; `None` when none did (no agent, no lease,
    /// nothing in the ARP table, or the machine is not running).
    pub source: Option<AddressSource>,
    /// The interfaces with at least one address, loopback left out.
    pub nics: Vec<GuestNic>,
    /// Whether a guest agent answered (with or without addresses).
    pub agent: bool,
}

impl GuestAddresses {
    /// The first address without its prefix length, for a list column.
    pub fn first(&self) -> Option<&str> {
        let address = self.nics.iter().flat_map(|n| &n.addresses).next()?;
        Some(address.split_once('/').map_or(address.as_str(), |(a, _)| a))
    }
}

/// The interfaces of one answer, without loopback and without interfaces left with no
/// address.
fn usable(interfaces: Vec<RawInterface>) -> Vec<GuestNic> {
    interfaces
        .into_iter()
        .filter(|i| i.name != "lo")
        .map(|i| GuestNic {
            name: i.name,
            mac: i
                .hwaddr
                .filter(|m| !m.is_empty() && m != "00:00:00:00:00:00"),
            addresses: i
                .addrs
                .into_iter()
                .filter(|(address, _)| !is_loopback(address))
                .map(|(address, prefix)| format!("{address}/{prefix}"))
                .collect(),
        })
        .filter(|n| !n.addresses.is_empty())
        .collect()
}

fn is_loopback(address: &str) -> bool {
    address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback())
}

/// Picks the first source in [`AddressSource::ALL`] order that gave addresses. `answers`
/// holds what each source said (an error: it could not answer, e.g. no agent).
pub fn choose(
    answers: impl IntoIterator<Item = (AddressSource, Result<Vec<GuestNic>, String>)>,
) -> GuestAddresses {
    let mut result = GuestAddresses::default();
    for (source, answer) in answers {
        match answer {
            Ok(nics) => {
                result.agent |= source == AddressSource::Agent;
                if result.source.is_none() && !nics.is_empty() {
                    result.source = Some(source);
                    result.nics = nics;
                }
            }
            Err(reason) => tracing::debug!(?source, %reason, "no addresses"),
        }
    }
    result
}

/// Reads the addresses of the domain `uuid` on `conn`; blocks on libvirt (the agent is
/// given libvirt's timeout). A machine that is not running has none; a source that cannot
/// answer is passed over, so only a missing domain is an error. Stops at the first source
/// with addresses; asks the agent first when `agent`, so the answer says whether there is
/// one (without, `agent` in the answer is false).
pub fn read(conn: &Connect, uuid: &str, agent: bool) -> Result<GuestAddresses, virt::error::Error> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    if !domain.is_active()? {
        return Ok(GuestAddresses::default());
    }
    let mut answers = Vec::new();
    let sources = AddressSource::ALL
        .into_iter()
        .filter(|s| agent || *s != AddressSource::Agent);
    for source in sources {
        let answer = ffi::interface_addresses(&domain, source.raw())
            .map(usable)
            .map_err(|e| e.to_string());
        let found = answer.as_ref().is_ok_and(|nics| !nics.is_empty());
        answers.push((source, answer));
        if found {
            break;
        }
    }
    Ok(choose(answers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(name: &str, addresses: &[&str]) -> GuestNic {
        GuestNic {
            name: name.to_owned(),
            mac: None,
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn the_agent_is_preferred() {
        let chosen = choose([
            (
                AddressSource::Agent,
                Ok(vec![nic("eth0", &["192.0.2.5/24"])]),
            ),
            (
                AddressSource::Lease,
                Ok(vec![nic("vnet0", &["192.0.2.9/24"])]),
            ),
        ]);
        assert_eq!(chosen.source, Some(AddressSource::Agent));
        assert!(chosen.agent);
        assert_eq!(chosen.first(), Some("192.0.2.5"));
    }

    #[test]
    fn without_an_agent_the_lease_answers_and_says_so() {
        let chosen = choose([
            (
                AddressSource::Agent,
                Err("QEMU guest agent is not configured".into()),
            ),
            (
                AddressSource::Lease,
                Ok(vec![nic("vnet0", &["192.0.2.9/24"])]),
            ),
        ]);
        assert_eq!(chosen.source, Some(AddressSource::Lease));
        assert!(!chosen.agent);
        assert_eq!(chosen.nics, [nic("vnet0", &["192.0.2.9/24"])]);
    }

    #[test]
    fn an_agent_without_addresses_still_counts_as_an_agent() {
        let chosen = choose([
            (AddressSource::Agent, Ok(vec![])),
            (AddressSource::Lease, Ok(vec![])),
            (AddressSource::Arp, Ok(vec![nic("vnet0", &["fe80::1/64"])])),
        ]);
        assert_eq!(chosen.source, Some(AddressSource::Arp));
        assert!(chosen.agent);
        assert_eq!(chosen.first(), Some("fe80::1"));
    }

    #[test]
    fn nothing_anywhere_is_an_answer_too() {
        let chosen = choose([
            (AddressSource::Agent, Err("no agent".into())),
            (AddressSource::Lease, Ok(vec![])),
            (AddressSource::Arp, Err("unsupported".into())),
        ]);
        assert_eq!(chosen, GuestAddresses::default());
        assert_eq!(chosen.first(), None);
    }

    #[test]
    fn loopback_is_left_out() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("::1"));
        assert!(!is_loopback("192.0.2.1"));
        assert!(!is_loopback("not an address"));
    }
}
