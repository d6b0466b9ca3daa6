//! A context menu on a widget: a right click (or a long press on a touch screen) opens it
//! where the pointer is, the Menu key or Shift+F10 opens it at the widget.

use gtk::prelude::*;
use gtk::{gdk, gio, glib};
use std::cell::OnceCell;
use std::rc::Rc;

/// Attaches a popover of `model` to `widget`. `before` runs first with the position in
/// `widget` (or `None` from the keyboard), e.g. to select the row under the pointer. The
/// popover is made when it first opens (a popover menu builds a widget per item: a row
/// of every host in the sidebar has a menu), and goes with the widget.
pub fn add_context_menu(
    widget: &impl IsA<gtk::Widget>,
    model: &impl IsA<gio::MenuModel>,
    before: impl Fn(Option<(f64, f64)>) + 'static,
) {
    let widget = widget.as_ref();
    let model = model.as_ref().clone();
    let menu: Rc<OnceCell<gtk::PopoverMenu>> = Rc::default();
    let made = menu.clone();
    let open = Rc::new(glib::clone!(
        #[weak]
        widget,
        move |at: Option<(f64, f64)>| {
            before(at);
            let menu = made.get_or_init(|| {
                let menu = gtk::PopoverMenu::from_model(Some(&model));
                menu.set_has_arrow(false);
                menu.set_halign(gtk::Align::Start);
                menu.set_parent(&widget);
                menu
            });
            let (x, y) = at.unwrap_or_default();
            let rect = match at {
                Some(_) => gdk::Rectangle::new(x as i32, y as i32, 1, 1),
                None => gdk::Rectangle::new(0, 0, 1, 1),
            };
            menu.set_pointing_to(Some(&rect));
            menu.popup();
        }
    ));

    let click = gtk::GestureClick::builder()
        .button(gdk::BUTTON_SECONDARY)
        .build();
    let on_click = open.clone();
    click.connect_pressed(move |gesture, _, x, y| {
        gesture.set_state(gtk::EventSequenceState::Claimed);
        on_click(Some((x, y)));
    });
    widget.add_controller(click);

    let press = gtk::GestureLongPress::builder().touch_only(true).build();
    let on_press = open.clone();
    press.connect_pressed(move |_, x, y| on_press(Some((x, y))));
    widget.add_controller(press);

    let keys = gtk::ShortcutController::new();
    keys.add_shortcut(gtk::Shortcut::new(
        gtk::ShortcutTrigger::parse_string("Menu|<Shift>F10"),
        Some(gtk::CallbackAction::new(move |_, _| {
            open(None);
            glib::Propagation::Stop
        })),
    ));
    widget.add_controller(keys);

    widget.connect_destroy(move |_| {
        if let Some(menu) = menu.get() {
            menu.unparent();
        }
    });
}
