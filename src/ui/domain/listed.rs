//! What the UI keeps of every machine: what the list shows, searches and sorts, and the
//! few facts the actions and screens decide by. The device lists of a [`DomainInfo`] are
//! left out: with ten hosts of a thousand machines they cost megabytes, and the screens
//! that show them (details, the delete dialog) ask the connection for the one machine
//! they show (`Request::Describe`).

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use crate::ui::backend::graphics::{self, DisplayError};
use crate::ui::backend::{DomainInfo, DomainState, Tablet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub uuid: Box<str>,
    pub name: Box<str>,
    /// Hypervisor id, only while active.
    pub id: Option<u32>,
    pub state: DomainState,
    pub vcpus: u32,
    /// Current memory in KiB.
    pub memory_kib: u64,
    /// libosinfo OS id, shared by every machine with the same one.
    pub os_id: Option<Rc<str>>,
    /// The user's tags, sorted, each shared by every machine with it.
    pub tags: Box<[Rc<str>]>,
    pub tablet: Tablet,
    /// A SPICE display and no VNC one, as the console connection decides it.
    pub spice_only: bool,
    /// UEFI variables kept in a file of their own.
    pub nvram: bool,
    /// An emulated TPM, whose state libvirt keeps on the host.
    pub tpm_state: bool,
    pub saved: bool,
    pub template: bool,
}

impl From<DomainInfo> for Listed {
    fn from(info: DomainInfo) -> Self {
        let kinds = info.graphics.iter().map(|g| g.kind.as_str());
        let spice_only = graphics::vnc_position(kinds) == Err(DisplayError::SpiceOnly);
        Self {
            uuid: info.uuid.into(),
            name: info.name.into(),
            id: info.id,
            state: info.state,
            vcpus: info.vcpus,
            memory_kib: info.memory_kib,
            os_id: info.os_id.as_deref().map(intern),
            tags: info.tags.iter().map(|t| intern(t)).collect(),
            tablet: info.tablet,
            spice_only,
            nvram: info.nvram.is_some(),
            tpm_state: info.tpm_state,
            saved: info.saved,
            template: info.template,
        }
    }
}

impl Listed {
    /// The tags comma-separated ("db, web"), empty when none.
    pub fn tags_text(&self) -> String {
        self.tags.join(", ")
    }

    /// What the list's search looks in: the name and the tags.
    pub fn search_text(&self) -> String {
        std::iter::once(&*self.name)
            .chain(self.tags.iter().map(|t| &**t))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The one shared copy of `text`: OS ids and tags repeat across thousands of machines.
/// The set only grows, by the few distinct values the hosts have.
pub fn intern(text: &str) -> Rc<str> {
    thread_local! {
        static STRINGS: RefCell<HashSet<Rc<str>>> = RefCell::default();
    }
    STRINGS.with(|strings| {
        let mut strings = strings.borrow_mut();
        if let Some(shared) = strings.get(text) {
            return shared.clone();
        }
        let shared: Rc<str> = Rc::from(text);
        strings.insert(shared.clone());
        shared
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_text_is_shared() {
        let a = intern("http://debian.org/debian/12");
        let b = intern(&String::from("http://debian.org/debian/12"));
        assert!(Rc::ptr_eq(&a, &b));
        assert!(!Rc::ptr_eq(&a, &intern("http://debian.org/debian/11")));
    }
}
