//! Everything one can do to a virtual machine, as one typed enum: each action's name,
//! words, icon, shortcut, the states that accept it and what it does. Widgets install the
//! actions on their class ([`install`]) under their own group (`win.domain-start` in the
//! main window, `console.domain-start` in a console), and enable them from one place,
//! [`set_enabled`], following the state of the domain they act on ([`follow`]). Menus and
//! buttons only name the actions.

mod batch;
mod button;

use crate::i18n::gettext;
use crate::ui::backend::{Command, DeleteStorage, DomainState};
use crate::ui::{Application, Connection, Domain};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};

pub use button::DomainActionButton;

/// An action on one virtual machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainAction {
    Console,
    TextConsole,
    Start,
    Shutdown,
    Reboot,
    Pause,
    Resume,
    ForceOff,
    Delete,
    AddTablet,
    /// Save the memory and stop (managed save); Start resumes.
    Save,
    /// Throw the saved memory away.
    DiscardSaved,
    /// Make a copy of the shut-off machine, full or linked.
    Clone,
    /// Let a template of linked clones start again.
    UnmarkTemplate,
    /// Edit the machine's tags (kept in its domain metadata).
    EditTags,
    /// Move the machine to another connected host.
    Migrate,
}

/// What besides its state decides which actions a machine takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// Its memory is saved (managed save).
    pub saved: bool,
    /// It is the template of linked clones.
    pub template: bool,
}

/// What activating an action does.
#[derive(Debug)]
pub enum Effect {
    /// Sends this command to the connection's worker.
    Send(Command),
    /// Asks first (offering to delete the storage too), then sends [`Command::Delete`].
    ConfirmDelete,
    /// Opens (or raises) the console window.
    OpenConsole,
    /// Opens (or raises) the text console window (the serial port).
    OpenTextConsole,
    /// Opens the clone dialog.
    OpenClone,
    /// Asks the worker to unmark the template.
    UnmarkTemplate,
    /// Asks for the tags, then stores them in the domain's metadata.
    EditTags,
    /// Opens the Migrate dialog.
    OpenMigrate,
}

impl DomainAction {
    /// Every action, the power actions first.
    pub const ALL: [DomainAction; 16] = [
        Self::Start,
        Self::Shutdown,
        Self::Reboot,
        Self::Pause,
        Self::Resume,
        Self::ForceOff,
        Self::Console,
        Self::TextConsole,
        Self::Delete,
        Self::AddTablet,
        Self::Save,
        Self::DiscardSaved,
        Self::Clone,
        Self::UnmarkTemplate,
        Self::EditTags,
        Self::Migrate,
    ];

    /// The power actions, in the order menus list them.
    pub const POWER: &'static [DomainAction] = Self::ALL.split_at(6).0;

    /// The actions that act on several selected machines at once.
    pub const BATCH: [DomainAction; 4] =
        [Self::Start, Self::Shutdown, Self::ForceOff, Self::Delete];

    /// What the action sends for the machine `uuid` when it acts on several at once (Delete
    /// keeps their storage); `None` for the actions that act on one machine only.
    pub fn batch_command(self, uuid: String) -> Option<Command> {
        match self {
            Self::Start => Some(Command::Start(uuid)),
            Self::Shutdown => Some(Command::Shutdown(uuid)),
            Self::ForceOff => Some(Command::ForceOff(uuid)),
            Self::Delete => Some(Command::Delete {
                uuid,
                storage: DeleteStorage::default(),
            }),
            _ => None,
        }
    }

    /// The action's name within its group: `domain-start` is `win.domain-start`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Console => "domain-console",
            Self::TextConsole => "domain-text-console",
            Self::Start => "domain-start",
            Self::Shutdown => "domain-shutdown",
            Self::Reboot => "domain-reboot",
            Self::Pause => "domain-pause",
            Self::Resume => "domain-resume",
            Self::ForceOff => "domain-force-off",
            Self::Delete => "domain-delete",
            Self::AddTablet => "domain-add-tablet",
            Self::Save => "domain-save",
            Self::DiscardSaved => "domain-discard-saved",
            Self::Clone => "domain-clone",
            Self::UnmarkTemplate => "domain-unmark-template",
            Self::EditTags => "domain-edit-tags",
            Self::Migrate => "domain-migrate",
        }
    }

    /// The action called `name` (without its group).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The action a detailed name such as `win.domain-start` stands for, whatever its group.
    pub fn from_detailed_name(name: &str) -> Option<Self> {
        Self::from_name(name.split_once('.').map_or(name, |(_, n)| n))
    }

    /// Its words in a menu, with a mnemonic (and an ellipsis when it asks first).
    pub fn menu_label(self) -> String {
        match self {
            Self::Console => gettext("Open _Console"),
            Self::TextConsole => gettext("_Text Console"),
            Self::Start => gettext("_Start"),
            Self::Shutdown => gettext("Shut _Down"),
            Self::Reboot => gettext("_Reboot"),
            Self::Pause => gettext("_Pause"),
            Self::Resume => gettext("Res_ume"),
            Self::ForceOff => gettext("_Force Off"),
            Self::Delete => gettext("_Delete…"),
            Self::AddTablet => gettext("Add USB _Tablet"),
            Self::Save => gettext("Sa_ve"),
            Self::DiscardSaved => gettext("Discard Saved _State"),
            Self::Clone => gettext("C_lone…"),
            Self::UnmarkTemplate => gettext("Un_mark as Template"),
            Self::EditTags => gettext("Ta_gs…"),
            Self::Migrate => gettext("_Migrate…"),
        }
    }

    /// Its words on a button beside its icon.
    pub fn button_label(self) -> String {
        match self {
            Self::Console => gettext("Console"),
            Self::TextConsole => gettext("Text Console"),
            Self::Start => gettext("Start"),
            Self::Shutdown => gettext("Shut Down"),
            Self::Reboot => gettext("Reboot"),
            Self::Pause => gettext("Pause"),
            Self::Resume => gettext("Resume"),
            Self::ForceOff => gettext("Force Off"),
            Self::Delete => gettext("Delete"),
            Self::AddTablet => gettext("Add USB Tablet"),
            Self::Save => gettext("Save"),
            Self::DiscardSaved => gettext("Discard Saved State"),
            Self::Clone => gettext("Clone"),
            Self::UnmarkTemplate => gettext("Unmark as Template"),
            Self::EditTags => gettext("Tags"),
            Self::Migrate => gettext("Migrate"),
        }
    }

    /// The icon of its button.
    pub fn icon_name(self) -> &'static str {
        match self {
            Self::Console => "computer-symbolic",
            Self::TextConsole => "utilities-terminal-symbolic",
            Self::Start | Self::Resume => "media-playback-start-symbolic",
            Self::Shutdown => "system-shutdown-symbolic",
            Self::Reboot => "view-refresh-symbolic",
            Self::Pause => "media-playback-pause-symbolic",
            Self::ForceOff => "process-stop-symbolic",
            Self::Delete => "user-trash-symbolic",
            Self::AddTablet => "input-mouse-symbolic",
            Self::Save => "document-save-symbolic",
            Self::DiscardSaved => "edit-clear-symbolic",
            Self::Clone => "edit-copy-symbolic",
            Self::UnmarkTemplate => "changes-allow-symbolic",
            Self::EditTags => "document-edit-symbolic",
            Self::Migrate => "send-to-symbolic",
        }
    }

    /// Its keyboard shortcut in the main window (see [`set_accels`]).
    pub fn accel(self) -> Option<&'static str> {
        Some(match self {
            Self::Console => "<Control><Shift>o",
            Self::Start => "<Control><Shift>r",
            Self::Shutdown => "<Control><Shift>d",
            Self::Reboot => "<Control><Shift>b",
            Self::Pause => "<Control><Shift>p",
            Self::Resume => "<Control><Shift>u",
            Self::ForceOff => "<Control><Shift>f",
            Self::Delete => "<Control>Delete",
            Self::TextConsole
            | Self::AddTablet
            | Self::DiscardSaved
            | Self::Clone
            | Self::UnmarkTemplate
            | Self::Migrate => return None,
            Self::Save => "<Control><Shift>s",
            Self::EditTags => "<Control><Shift>t",
        })
    }

    /// Whether a domain in `state` with `marks` accepts the action.
    pub fn accepts(self, state: DomainState, marks: Marks) -> bool {
        use DomainState::*;
        match self {
            Self::Start => matches!(state, Shutoff | Crashed) && !marks.template,
            Self::Clone => state == Shutoff,
            Self::UnmarkTemplate => marks.template,
            Self::Shutdown | Self::Reboot | Self::Pause => matches!(state, Running | Blocked),
            Self::Save => matches!(state, Running | Blocked | Paused),
            Self::DiscardSaved => state == Shutoff && marks.saved,
            Self::Resume => matches!(state, Paused | PmSuspended),
            Self::ForceOff | Self::TextConsole => state.is_active(),
            Self::Console | Self::Delete | Self::AddTablet | Self::EditTags | Self::Migrate => true,
        }
    }

    /// What the action does to the domain `uuid`.
    pub fn effect(self, uuid: String) -> Effect {
        match self {
            Self::Console => Effect::OpenConsole,
            Self::TextConsole => Effect::OpenTextConsole,
            Self::Delete => Effect::ConfirmDelete,
            Self::Migrate => Effect::OpenMigrate,
            Self::Start => Effect::Send(Command::Start(uuid)),
            Self::Shutdown => Effect::Send(Command::Shutdown(uuid)),
            Self::Reboot => Effect::Send(Command::Reboot(uuid)),
            Self::Pause => Effect::Send(Command::Pause(uuid)),
            Self::Resume => Effect::Send(Command::Resume(uuid)),
            Self::ForceOff => Effect::Send(Command::ForceOff(uuid)),
            Self::AddTablet => Effect::Send(Command::AddTablet(uuid)),
            Self::Save => Effect::Send(Command::Save(uuid)),
            Self::DiscardSaved => Effect::Send(Command::DiscardSaved(uuid)),
            Self::Clone => Effect::OpenClone,
            Self::UnmarkTemplate => Effect::UnmarkTemplate,
            Self::EditTags => Effect::EditTags,
        }
    }

    /// A menu item for the action in `group` (`win`, `console`).
    pub fn menu_item(self, group: &str) -> gio::MenuItem {
        gio::MenuItem::new(
            Some(&self.menu_label()),
            Some(&format!("{group}.{}", self.name())),
        )
    }

    /// Carries the action out on `domain` of `connection`, for `widget`'s window.
    fn activate(self, widget: &gtk::Widget, connection: &Connection, domain: &Domain) {
        match self.effect(domain.uuid()) {
            Effect::Send(command) => connection.send(command),
            Effect::ConfirmDelete => crate::ui::window::confirm_delete(widget, connection, domain),
            Effect::EditTags => crate::ui::tags_dialog::edit(widget, connection, domain),
            Effect::OpenMigrate => crate::ui::window::open_migrate(widget, connection, domain),
            Effect::OpenConsole => {
                if let Some(app) = gio::Application::default().and_downcast::<Application>() {
                    app.open_console(connection, domain);
                }
            }
            Effect::OpenTextConsole => {
                if let Some(app) = gio::Application::default().and_downcast::<Application>() {
                    crate::ui::TextConsoleWindow::show(app.upcast_ref(), connection, domain);
                }
            }
            Effect::OpenClone => crate::ui::clone_dialog::open(widget, connection, domain),
            Effect::UnmarkTemplate => {
                crate::ui::clone_dialog::unmark_template(widget, connection, domain)
            }
        }
    }
}

/// A widget whose domain actions act on one virtual machine.
pub trait DomainActionTarget: IsA<gtk::Widget> {
    /// The group the actions are installed in: `win` makes `win.domain-start`.
    const GROUP: &'static str;

    /// The domain the actions act on now, with its connection.
    fn action_target(&self) -> Option<(Connection, Domain)>;

    /// The domains the actions act on now, with their connections: several where the
    /// widget lets the user select several.
    fn action_targets(&self) -> Vec<(Connection, Domain)> {
        self.action_target().into_iter().collect()
    }
}

/// Installs every [`DomainAction`] on the widget class of `klass`.
pub fn install<C>(klass: &mut C)
where
    C: WidgetClassExt,
    <<C as glib::subclass::types::ClassStruct>::Type as ObjectSubclass>::Type: DomainActionTarget,
{
    let group = <<<C as glib::subclass::types::ClassStruct>::Type as ObjectSubclass>::Type as DomainActionTarget>::GROUP;
    for action in DomainAction::ALL {
        klass.install_action(
            &format!("{group}.{}", action.name()),
            None,
            move |widget, _, _| {
                let targets = widget.action_targets();
                if targets.len() > 1 {
                    batch::confirm(widget.upcast_ref(), action, targets);
                } else if let Some((connection, domain)) = widget.action_target() {
                    action.activate(widget.upcast_ref(), &connection, &domain);
                }
            },
        );
    }
}

/// Enables the actions of `widget` that `domain` accepts in its state; none without a
/// domain. The one place that decides whether an action is available.
pub fn set_enabled<W: DomainActionTarget>(widget: &W, domain: Option<&Domain>) {
    match domain {
        Some(domain) => set_enabled_for(widget, std::slice::from_ref(domain)),
        None => set_enabled_for(widget, &[]),
    }
}

/// Enables the actions of `widget` for `domains`: for one, those it accepts; for several,
/// the [`DomainAction::BATCH`] actions that one of them at least accepts.
pub fn set_enabled_for<W: DomainActionTarget>(widget: &W, domains: &[Domain]) {
    for action in DomainAction::ALL {
        let allowed = domains.len() == 1 || DomainAction::BATCH.contains(&action);
        widget.action_set_enabled(
            &format!("{}.{}", W::GROUP, action.name()),
            allowed && domains.iter().any(|d| accepted(action, d)),
        );
    }
}

/// Whether `domain` accepts `action` in its state now.
fn accepted(action: DomainAction, domain: &Domain) -> bool {
    let marks = Marks {
        saved: domain.saved(),
        template: domain.template(),
    };
    action.accepts(domain.state(), marks)
}

/// Keeps the actions of `widget` in step with the state of `domain`; the handler is for the
/// widget's [`crate::ui::util::BoundObject`].
pub fn follow<W: DomainActionTarget>(widget: &W, domain: &Domain) -> glib::SignalHandlerId {
    // The state in words changes exactly when the state does (or the saved memory:
    // "Saved").
    let widget = widget.downgrade();
    domain.connect_state_label_notify(move |domain| {
        if let Some(widget) = widget.upgrade() {
            set_enabled(&widget, Some(domain));
        }
    })
}

/// Appends items for `actions` in `group` to `menu`.
pub fn append_items(menu: &gio::Menu, group: &str, actions: &[DomainAction]) {
    for action in actions {
        menu.append_item(&action.menu_item(group));
    }
}

/// The keyboard shortcuts of the main window's domain actions.
pub fn set_accels(app: &Application) {
    for action in DomainAction::ALL {
        if let Some(accel) = action.accel() {
            app.set_accels_for_action(&format!("win.{}", action.name()), &[accel]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DomainAction, Effect, Marks};
    use crate::ui::backend::{Command, DomainState};

    /// The states that accept each action, written out in full.
    fn accepted(action: DomainAction) -> &'static [DomainState] {
        use DomainState::*;
        match action {
            DomainAction::Start => &[Shutoff, Crashed],
            DomainAction::Shutdown | DomainAction::Reboot | DomainAction::Pause => {
                &[Running, Blocked]
            }
            DomainAction::Resume => &[Paused, PmSuspended],
            DomainAction::ForceOff | DomainAction::TextConsole => &[
                NoState,
                Running,
                Blocked,
                Paused,
                ShuttingDown,
                Crashed,
                PmSuspended,
            ],
            DomainAction::Save => &[Running, Blocked, Paused],
            DomainAction::DiscardSaved | DomainAction::Clone => &[Shutoff],
            DomainAction::UnmarkTemplate => &[],
            DomainAction::Console
            | DomainAction::Delete
            | DomainAction::AddTablet
            | DomainAction::EditTags
            | DomainAction::Migrate => &DomainState::ALL,
        }
    }

    #[test]
    fn every_action_in_every_state() {
        for action in DomainAction::ALL {
            for state in DomainState::ALL {
                let saved = Marks {
                    saved: true,
                    template: false,
                };
                assert_eq!(
                    action.accepts(state, saved),
                    accepted(action).contains(&state),
                    "{action:?} in {state:?}"
                );
                if !matches!(
                    action,
                    DomainAction::DiscardSaved | DomainAction::UnmarkTemplate
                ) {
                    assert_eq!(
                        action.accepts(state, Marks::default()),
                        action.accepts(state, saved)
                    );
                }
            }
        }
    }

    #[test]
    fn a_shut_off_domain_starts_and_a_running_one_does_not() {
        let none = Marks::default();
        let saved = Marks {
            saved: true,
            template: false,
        };
        let template = Marks {
            saved: false,
            template: true,
        };
        assert!(DomainAction::Start.accepts(DomainState::Shutoff, none));
        assert!(!DomainAction::Start.accepts(DomainState::Running, none));
        assert!(!DomainAction::ForceOff.accepts(DomainState::Shutoff, none));
        assert!(DomainAction::ForceOff.accepts(DomainState::Paused, none));
        assert!(!DomainAction::DiscardSaved.accepts(DomainState::Shutoff, none));
        assert!(DomainAction::DiscardSaved.accepts(DomainState::Shutoff, saved));
        assert!(!DomainAction::Start.accepts(DomainState::Shutoff, template));
        assert!(DomainAction::UnmarkTemplate.accepts(DomainState::Shutoff, template));
        assert!(!DomainAction::UnmarkTemplate.accepts(DomainState::Shutoff, none));
    }

    #[test]
    fn names_are_unique_and_found_again() {
        for action in DomainAction::ALL {
            assert_eq!(DomainAction::from_name(action.name()), Some(action));
            assert_eq!(
                DomainAction::from_detailed_name(&format!("win.{}", action.name())),
                Some(action)
            );
        }
        assert_eq!(DomainAction::from_name("domain-nothing"), None);
    }

    #[test]
    fn shortcuts_are_the_documented_ones() {
        assert_eq!(DomainAction::Start.accel(), Some("<Control><Shift>r"));
        assert_eq!(DomainAction::Delete.accel(), Some("<Control>Delete"));
        assert_eq!(DomainAction::Console.accel(), Some("<Control><Shift>o"));
        let mut accels: Vec<_> = DomainAction::ALL.iter().filter_map(|a| a.accel()).collect();
        let all = accels.len();
        accels.sort();
        accels.dedup();
        assert_eq!(accels.len(), all, "two actions share a shortcut");
    }

    #[test]
    fn effects_send_the_matching_command() {
        let effect = |action: DomainAction| action.effect("u".to_owned());
        assert!(matches!(effect(DomainAction::Start), Effect::Send(Command::Start(u)) if u == "u"));
        assert!(
            matches!(effect(DomainAction::ForceOff), Effect::Send(Command::ForceOff(u)) if u == "u")
        );
        assert!(
            matches!(effect(DomainAction::AddTablet), Effect::Send(Command::AddTablet(u)) if u == "u")
        );
        assert!(matches!(
            effect(DomainAction::Delete),
            Effect::ConfirmDelete
        ));
        assert!(matches!(effect(DomainAction::Console), Effect::OpenConsole));
        assert!(matches!(effect(DomainAction::Migrate), Effect::OpenMigrate));
    }
}
