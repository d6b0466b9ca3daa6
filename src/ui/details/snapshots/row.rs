//! One row of the snapshot list (a list-model row, built here): the screenshot, the name
//! (with "Current" on the current one), the time, state then, kind and description, and
//! buttons for the page's actions on it. Children are indented under their parent.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{SnapshotInfo, SnapshotKind};
use gtk::prelude::*;
use gtk::{gdk, gdk_pixbuf, gio, glib};

/// Indentation per level of the tree, in pixels.
const INDENT: i32 = 24;

/// The width of a snapshot's screenshot in its row, in pixels.
const THUMBNAIL_WIDTH: i32 = 96;

pub fn snapshot_row(snapshot: &SnapshotInfo, depth: usize) -> gtk::ListBoxRow {
    let picture = gtk::Picture::builder()
        .can_shrink(false)
        .valign(gtk::Align::Start)
        .build();
    picture.set_alternative_text(Some(&gettext_f(
        // Translators: {name} is a snapshot's name.
        "Screen of “{name}”",
        &[("name", &snapshot.name)],
    )));
    // Scaled once here, so the picture asks for its small size, not the screen's.
    if let Some(pixbuf) = snapshot.screenshot.as_ref().and_then(|path| {
        gdk_pixbuf::Pixbuf::from_file_at_scale(path, THUMBNAIL_WIDTH, THUMBNAIL_WIDTH, true).ok()
    }) {
        #[allow(deprecated)] // gdk::Texture::for_pixbuf: the GTK 4.8 way.
        picture.set_paintable(Some(&gdk::Texture::for_pixbuf(&pixbuf)));
    }
    let name = gtk::Label::builder()
        .label(&snapshot.name)
        .xalign(0.0)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .build();
    name.add_css_class("heading");
    let title = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    title.append(&name);
    if snapshot.current {
        let current = gtk::Label::new(Some(&gettext("Current")));
        current.add_css_class("accent");
        current.set_tooltip_text(Some(&gettext(
            "The machine’s state descends from this snapshot",
        )));
        title.append(&current);
    }
    let details = gtk::Label::builder()
        .label(subtitle(snapshot))
        .xalign(0.0)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .build();
    details.add_css_class("dim-label");
    details.add_css_class("caption");
    let words = gtk::Box::new(gtk::Orientation::Vertical, 3);
    words.set_hexpand(true);
    words.append(&title);
    words.append(&details);
    let top = gtk::Box::new(gtk::Orientation::Horizontal, 12);
    top.append(&picture);
    top.append(&words);

    let target = snapshot.name.to_variant();
    let revert = gtk::Button::builder()
        .label(gettext("_Revert…"))
        .use_underline(true)
        .action_name("snapshots.revert")
        .action_target(&target)
        .build();
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
    let delete = gtk::MenuButton::builder()
        .label(gettext("Delete"))
        .menu_model(&menu)
        .build();
    let buttons = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    buttons.set_halign(gtk::Align::End);
    for button in [revert.upcast_ref::<gtk::Widget>(), delete.upcast_ref()] {
        button.add_css_class("flat");
        buttons.append(button);
    }

    let content = gtk::Box::new(gtk::Orientation::Vertical, 6);
    content.set_margin_top(9);
    content.set_margin_bottom(6);
    content.set_margin_end(9);
    content.set_margin_start(9 + INDENT * depth as i32);
    content.append(&top);
    content.append(&buttons);
    gtk::ListBoxRow::builder()
        .child(&content)
        .activatable(false)
        .build()
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
