//! One row of the snapshot list (a list-factory row, built here): the screenshot, the name
//! (with "Current" on the current one), the time, state then, kind and description, and
//! buttons for the page's actions on it. Children are indented under their parent.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{SnapshotInfo, SnapshotKind};
use adw::prelude::*;
use gtk::{gdk, gio, glib};

/// Indentation per level of the tree, in pixels.
const INDENT: i32 = 24;

pub fn snapshot_row(snapshot: &SnapshotInfo, depth: usize) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(glib::markup_escape_text(&snapshot.name))
        .subtitle(glib::markup_escape_text(&subtitle(snapshot)))
        .subtitle_lines(3)
        .margin_start(INDENT * depth as i32)
        .build();
    let picture = gtk::Picture::builder()
        .width_request(96)
        .height_request(54)
        .can_shrink(true)
        .build();
    picture.set_alternative_text(Some(&gettext_f(
        // Translators: {name} is a snapshot's name.
        "Screen of “{name}”",
        &[("name", &snapshot.name)],
    )));
    if let Some(texture) = snapshot
        .screenshot
        .as_ref()
        .and_then(|path| gdk::Texture::from_filename(path).ok())
    {
        picture.set_paintable(Some(&texture));
    }
    row.add_prefix(&picture);
    if snapshot.current {
        let current = gtk::Label::new(Some(&gettext("Current")));
        current.add_css_class("accent");
        current.set_tooltip_text(Some(&gettext(
            "The machine’s state descends from this snapshot",
        )));
        row.add_suffix(&current);
    }
    let target = snapshot.name.to_variant();
    let revert = gtk::Button::builder()
        .label(gettext("_Revert…"))
        .use_underline(true)
        .action_name("snapshots.revert")
        .action_target(&target)
        .valign(gtk::Align::Center)
        .build();
    revert.add_css_class("flat");
    row.add_suffix(&revert);
    let menu = gio::Menu::new();
    let item = |label: String, action: &str| {
        let item = gio::MenuItem::new(Some(&label), None);
        item.set_action_and_target_value(Some(action), Some(&target));
        menu.append_item(&item);
    };
    item(gettext("_Delete"), "snapshots.delete");
    item(
        gettext("Delete With _Children"),
        "snapshots.delete-children",
    );
    let more = gtk::MenuButton::builder()
        .label(gettext("Delete"))
        .menu_model(&menu)
        .valign(gtk::Align::Center)
        .build();
    more.add_css_class("flat");
    row.add_suffix(&more);
    row
}

/// The time, the state then, the kind, the description.
fn subtitle(snapshot: &SnapshotInfo) -> String {
    let time = glib::DateTime::from_unix_local(snapshot.created)
        .and_then(|t| t.format("%x %X"))
        .map(String::from)
        .unwrap_or_default();
    let state = if snapshot.was_running() {
        gettext("running")
    } else {
        gettext("shut off")
    };
    let kind = match (snapshot.kind, snapshot.memory) {
        (SnapshotKind::Internal, true) => gettext("internal, with memory"),
        (SnapshotKind::Internal, false) => gettext("internal"),
        (SnapshotKind::External, true) => gettext("external, with memory"),
        (SnapshotKind::External, false) => gettext("external"),
    };
    let line = gettext_f(
        // Translators: {time} is when it was taken, {state} "running" or "shut off", {kind} e.g. "internal, with memory".
        "{time} · {state} · {kind}",
        &[("time", &time), ("state", &state), ("kind", &kind)],
    );
    if snapshot.description.is_empty() {
        line
    } else {
        format!("{line}\n{}", snapshot.description)
    }
}
