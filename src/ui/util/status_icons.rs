//! The icons of a stack's status pages are loaded when a page is shown.
//!
//! A stack measures its hidden pages too, and measuring a status page loads its icon. At the
//! 128 and 96 pixels a status page asks for, Adwaita and Virtdeck have symbolic icons only as
//! SVG, and the first SVG maps librsvg into the process (6.5 MB resident) although none of
//! these pages is on screen at startup.

use adw::prelude::*;
use gtk::glib::GString;
use std::cell::RefCell;
use std::rc::Rc;

/// Holds back the icon of every status page in `stack`, from the template or set later by
/// code, while that page is not on screen; a page shown looks the same as without this.
pub fn load_status_icons_when_shown(stack: &gtk::Stack) {
    let mut child = stack.first_child();
    while let Some(widget) = child {
        child = widget.next_sibling();
        if let Ok(page) = widget.downcast::<adw::StatusPage>() {
            hold_icon_while_hidden(&page);
        }
    }
}

fn hold_icon_while_hidden(page: &adw::StatusPage) {
    let held: Rc<RefCell<Option<GString>>> = Rc::default();
    let hold = {
        let held = held.clone();
        move |page: &adw::StatusPage| {
            if page.is_mapped() {
                return;
            }
            if let Some(icon) = page.icon_name() {
                held.replace(Some(icon));
                page.set_icon_name(None);
            }
        }
    };
    hold(page);
    page.connect_icon_name_notify(hold);
    page.connect_map(move |page| {
        if let Some(icon) = held.take() {
            page.set_icon_name(Some(&icon));
        }
    });
}
