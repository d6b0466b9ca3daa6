//! Moving the local pointer, which GTK 4 cannot do: on X11 with `XWarpPointer` from
//! libX11 (loaded at run time through x11-dl), the one place in the widget with unsafe
//! code. On Wayland GTK 4.8 has no way to move or confine the pointer (no
//! pointer-constraints support), so nothing happens there.

use gdk4_x11::x11::xlib::Xlib;
use gdk4_x11::{X11Display, X11Surface};
use gtk::graphene;
use gtk::prelude::*;

/// Moves the pointer to (`x`, `y`) in `widget`'s coordinates. False when it cannot (not
/// X11, libX11 missing, the widget not in a window).
pub(super) fn warp_pointer(widget: &gtk::Widget, x: f64, y: f64) -> bool {
    let Some(native) = widget.native() else {
        return false;
    };
    let Some(surface) = native.surface().and_downcast::<X11Surface>() else {
        return false;
    };
    let Some(display) = surface.display().downcast::<X11Display>().ok() else {
        return false;
    };
    let Some(point) = widget.compute_point(&native, &graphene::Point::new(x as f32, y as f32))
    else {
        return false;
    };
    // The native widget's origin is offset in its surface by the client-side shadow, and
    // X11 counts device pixels.
    let (offset_x, offset_y) = native.surface_transform();
    let scale = f64::from(surface.scale_factor());
    let to_x = ((f64::from(point.x()) + offset_x) * scale).round() as i32;
    let to_y = ((f64::from(point.y()) + offset_y) * scale).round() as i32;
    XLIB.with(|xlib| {
        xlib.as_ref()
            .map(|xlib| warp(xlib, &display, &surface, to_x, to_y))
    })
    .is_some()
}

thread_local! {
    /// libX11, loaded once (opening it resolves every one of its functions).
    static XLIB: Option<Xlib> = Xlib::open().ok();
}

fn warp(xlib: &Xlib, display: &X11Display, surface: &X11Surface, to_x: i32, to_y: i32) {
    // SAFETY: the X Display belongs to GDK's connection and lives as long as `display`;
    // the window is the surface's own, alive while `surface` is. XWarpPointer and XFlush
    // only queue and send requests on that connection, on GDK's (this) thread.
    unsafe {
        let xdisplay = display.xdisplay();
        (xlib.XWarpPointer)(xdisplay, 0, surface.xid(), 0, 0, 0, 0, to_x, to_y);
        (xlib.XFlush)(xdisplay);
    }
}
