//! The wizard's pages: which there are, in order ([`Page`]), and what every page widget
//! has ([`WizardPage`]): the problems the wizard's review found on it, and whether it is
//! complete, which the wizard's Forward and Finish buttons follow.

use crate::i18n::gettext_f;
use crate::spec::SpecField;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::RefCell;
use std::marker::PhantomData;

/// A page of the wizard, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, glib::Enum)]
#[enum_type(name = "VdWizardStep")]
pub enum Page {
    /// The connection and how the operating system is installed.
    #[default]
    Source,
    /// The operating system.
    Os,
    /// Memory and virtual CPUs.
    Resources,
    /// The disk.
    Storage,
    /// The network card.
    Network,
    /// The name, firmware and a review of every choice.
    Summary,
}

impl Page {
    pub const ALL: [Page; 6] = [
        Page::Source,
        Page::Os,
        Page::Resources,
        Page::Storage,
        Page::Network,
        Page::Summary,
    ];

    /// The name of the page in the wizard's stack.
    pub fn name(self) -> &'static str {
        match self {
            Page::Source => "source",
            Page::Os => "os",
            Page::Resources => "resources",
            Page::Storage => "storage",
            Page::Network => "network",
            Page::Summary => "summary",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> Option<Page> {
        Self::ALL.get(self.index() + 1).copied()
    }

    pub fn previous(self) -> Option<Page> {
        self.index().checked_sub(1).map(|i| Self::ALL[i])
    }

    /// What the header says on this page: how far the wizard is.
    pub fn title(self) -> String {
        gettext_f(
            // Translators: the wizard's progress, e.g. "Step 2 of 6".
            "Step {n} of {total}",
            &[
                ("n", &(self.index() + 1).to_string()),
                ("total", &Self::ALL.len().to_string()),
            ],
        )
    }

    /// The page where a problem with `field` is fixed.
    pub fn of_field(field: SpecField) -> Page {
        match field {
            SpecField::InstallMedia => Page::Source,
            SpecField::Memory | SpecField::Vcpus => Page::Resources,
            SpecField::Storage => Page::Storage,
            SpecField::Network => Page::Network,
            SpecField::Name | SpecField::Firmware => Page::Summary,
        }
    }
}

mod imp {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::WizardPage)]
    pub struct WizardPage {
        /// What stands in the way on this page, one sentence a line; the wizard's review
        /// fills it in, the page shows it beside its fields.
        #[property(get, set = Self::set_problems, explicit_notify)]
        problems: RefCell<String>,
        /// Whether nothing stands in the way: the wizard may go on from this page.
        #[property(get = Self::is_complete, type = bool)]
        complete: PhantomData<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for WizardPage {
        const NAME: &'static str = "VdWizardPage";
        const ABSTRACT: bool = true;
        type Type = super::WizardPage;
        type ParentType = gtk::Box;
    }

    #[glib::derived_properties]
    impl ObjectImpl for WizardPage {}
    impl WidgetImpl for WizardPage {}
    impl BoxImpl for WizardPage {}

    impl WizardPage {
        fn set_problems(&self, problems: String) {
            if *self.problems.borrow() == problems {
                return;
            }
            let was_complete = self.is_complete();
            self.problems.replace(problems);
            self.obj().notify_problems();
            if was_complete != self.is_complete() {
                self.obj().notify_complete();
            }
        }

        fn is_complete(&self) -> bool {
            self.problems.borrow().is_empty()
        }
    }
}

glib::wrapper! {
    /// What every page of the wizard is; the pages subclass it.
    pub struct WizardPage(ObjectSubclass<imp::WizardPage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

/// Implemented by the pages.
pub trait WizardPageImpl: BoxImpl {}

unsafe impl<T: WizardPageImpl> IsSubclassable<T> for WizardPage {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other() {
        assert_eq!(Page::Source.previous(), None);
        assert_eq!(Page::Source.next(), Some(Page::Os));
        assert_eq!(Page::Summary.previous(), Some(Page::Network));
        assert_eq!(Page::Summary.next(), None);
        let mut page = Page::Source;
        let mut seen = vec![page];
        while let Some(next) = page.next() {
            assert_eq!(next.previous(), Some(page));
            seen.push(next);
            page = next;
        }
        assert_eq!(seen, Page::ALL);
    }

    #[test]
    fn problems_go_to_the_page_of_their_field() {
        assert_eq!(Page::of_field(SpecField::InstallMedia), Page::Source);
        assert_eq!(Page::of_field(SpecField::Vcpus), Page::Resources);
        assert_eq!(Page::of_field(SpecField::Name), Page::Summary);
    }
}
