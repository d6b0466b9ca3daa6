//! Where the framebuffer sits in the widget, and where a pointer position lands on it.
//!
//! Widget coordinates are GTK's logical pixels; `scale_factor` is the number of device
//! pixels per logical pixel (HiDPI). Fit mode scales the framebuffer to the widget keeping
//! its aspect ratio, centred with bars on two sides; one-to-one mode shows one framebuffer
//! pixel per device pixel, scrolled by the given offsets (logical pixels), centred when
//! smaller than the widget.

/// How the framebuffer is scaled into the widget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scaling {
    Fit,
    OneToOne { scroll_x: f64, scroll_y: f64 },
}

/// A rectangle in widget coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The geometry needed to draw the framebuffer and to map the pointer onto it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub widget_width: f64,
    pub widget_height: f64,
    pub scale_factor: f64,
    pub fb_width: u32,
    pub fb_height: u32,
    pub scaling: Scaling,
}

impl Viewport {
    /// Logical pixels per framebuffer pixel.
    pub fn zoom(&self) -> f64 {
        let (fw, fh) = (f64::from(self.fb_width), f64::from(self.fb_height));
        match self.scaling {
            _ if fw <= 0.0 || fh <= 0.0 => 1.0,
            Scaling::Fit => (self.widget_width / fw)
                .min(self.widget_height / fh)
                .max(0.0),
            Scaling::OneToOne { .. } => 1.0 / self.scale_factor.max(1.0),
        }
    }

    /// The largest scroll offsets of one-to-one mode (zero when the framebuffer fits).
    pub fn max_scroll(&self) -> (f64, f64) {
        let zoom = self.zoom();
        (
            (f64::from(self.fb_width) * zoom - self.widget_width).max(0.0),
            (f64::from(self.fb_height) * zoom - self.widget_height).max(0.0),
        )
    }

    /// Where the framebuffer is drawn, in widget coordinates.
    pub fn destination(&self) -> Area {
        let zoom = self.zoom();
        let width = f64::from(self.fb_width) * zoom;
        let height = f64::from(self.fb_height) * zoom;
        let (max_x, max_y) = self.max_scroll();
        let (scroll_x, scroll_y) = match self.scaling {
            Scaling::Fit => (0.0, 0.0),
            Scaling::OneToOne { scroll_x, scroll_y } => {
                (scroll_x.clamp(0.0, max_x), scroll_y.clamp(0.0, max_y))
            }
        };
        let offset = |widget: f64, content: f64, scroll: f64| {
            if content < widget {
                (widget - content) / 2.0
            } else {
                -scroll
            }
        };
        Area {
            x: offset(self.widget_width, width, scroll_x),
            y: offset(self.widget_height, height, scroll_y),
            width,
            height,
        }
    }

    /// The framebuffer pixel under widget position (`x`, `y`), clamped to the
    /// framebuffer, so that the bars map to its nearest edge.
    pub fn to_framebuffer(&self, x: f64, y: f64) -> (u16, u16) {
        let dest = self.destination();
        let zoom = self.zoom();
        let map = |pos: f64, origin: f64, size: u32| -> u16 {
            let max = f64::from(size.clamp(1, u32::from(u16::MAX)) - 1);
            let fb = if zoom > 0.0 {
                ((pos - origin) / zoom).floor()
            } else {
                0.0
            };
            if fb.is_nan() {
                0
            } else {
                fb.clamp(0.0, max) as u16
            }
        };
        (
            map(x, dest.x, self.fb_width),
            map(y, dest.y, self.fb_height),
        )
    }
}

/// Where a relative pointer starts: the middle of the RFB coordinate range, with 32767
/// units of room either way.
pub const RELATIVE_START: (u16, u16) = (u16::MAX / 2, u16::MAX / 2);

/// `position` moved by (`dx`, `dy`), clamped to the RFB coordinate range.
///
/// A guest without an absolute pointer gets relative motion: QEMU passes the difference
/// between consecutive positions on, without clamping them to the screen. At an end of
/// the range, motion further that way is lost (moving back works at once). Getting there
/// takes 32767 units of motion one way from the start or 65535 from the other end, far
/// more than a guest screen is wide, so the guest's pointer has long stopped at its edge.
/// Jumping back to the middle is no way out: QEMU would pass the jump on as motion.
pub fn moved_by(position: (u16, u16), dx: i32, dy: i32) -> (u16, u16) {
    let axis = |at: u16, by: i32| (i32::from(at).saturating_add(by)).clamp(0, 0xffff) as u16;
    (axis(position.0, dx), axis(position.1, dy))
}

/// Local pointer positions (logical pixels) as whole device pixels of motion, for a
/// relative pointer. Fractions of a pixel carry over to the next motion.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RelativeMotion {
    last: Option<(f64, f64)>,
    carry: (f64, f64),
}

impl RelativeMotion {
    /// The pointer is at (`x`, `y`) without having moved there (warped, or just entered).
    pub fn anchor(&mut self, x: f64, y: f64) {
        self.last = Some((x, y));
    }

    /// Forgets the last position: the next one only anchors.
    pub fn forget(&mut self) {
        *self = Self::default();
    }

    /// The motion from the last position to (`x`, `y`), `scale_factor` device pixels per
    /// logical one; `None` without a last position or when less than a pixel.
    pub fn to(&mut self, x: f64, y: f64, scale_factor: f64) -> Option<(i32, i32)> {
        let (last_x, last_y) = self.last.replace((x, y))?;
        let whole = |distance: f64, carry: &mut f64| {
            let exact = distance * scale_factor + *carry;
            if !exact.is_finite() {
                *carry = 0.0;
                return 0;
            }
            let whole = exact
                .trunc()
                .clamp(f64::from(i32::MIN), f64::from(i32::MAX));
            *carry = exact - whole;
            whole as i32
        };
        let dx = whole(x - last_x, &mut self.carry.0);
        let dy = whole(y - last_y, &mut self.carry.1);
        (dx != 0 || dy != 0).then_some((dx, dy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_positions_move_and_stop_at_the_ends_of_the_range() {
        assert_eq!(moved_by(RELATIVE_START, 40, -3), (32807, 32764));
        assert_eq!(moved_by((10, 65530), -11, 9), (0, 65535));
        assert_eq!(moved_by((0, 65535), i32::MIN, i32::MAX), (0, 65535));
        // Back from an end at once.
        assert_eq!(moved_by((0, 65535), 5, -5), (5, 65530));
    }

    #[test]
    fn relative_motion_counts_device_pixels_and_carries_fractions() {
        let mut motion = RelativeMotion::default();
        assert_eq!(
            motion.to(100.0, 100.0, 1.0),
            None,
            "the first position anchors"
        );
        assert_eq!(motion.to(140.0, 99.0, 1.0), Some((40, -1)));
        // Moves of half and three quarters of a pixel are one pixel, a quarter left over.
        assert_eq!(motion.to(140.5, 99.0, 1.0), None);
        assert_eq!(motion.to(141.25, 99.0, 1.0), Some((1, 0)));
        // HiDPI: one logical pixel is two device pixels.
        assert_eq!(motion.to(151.25, 94.0, 2.0), Some((20, -10)));
        // Warped back to the middle: no motion, then motion from there (and the quarter).
        motion.anchor(50.0, 50.0);
        assert_eq!(motion.to(50.0, 50.0, 1.0), None);
        assert_eq!(motion.to(45.0, 50.0, 1.0), Some((-4, 0)));
        motion.forget();
        assert_eq!(motion.to(f64::NAN, 1.0, 1.0), None);
        assert_eq!(motion.to(f64::INFINITY, 3.0, 1.0), Some((0, 2)));
    }

    fn viewport(w: f64, h: f64, scale: f64, scaling: Scaling) -> Viewport {
        Viewport {
            widget_width: w,
            widget_height: h,
            scale_factor: scale,
            fb_width: 800,
            fb_height: 600,
            scaling,
        }
    }

    #[test]
    fn fit_keeps_the_aspect_with_bars_left_and_right() {
        let v = viewport(1000.0, 300.0, 1.0, Scaling::Fit);
        assert_eq!(v.zoom(), 0.5);
        let d = v.destination();
        assert_eq!((d.x, d.y, d.width, d.height), (300.0, 0.0, 400.0, 300.0));
        assert_eq!(v.to_framebuffer(300.0, 0.0), (0, 0));
        assert_eq!(v.to_framebuffer(500.0, 150.0), (400, 300));
        assert_eq!(v.to_framebuffer(699.9, 299.9), (799, 599));
        // The bars map to the nearest edge.
        assert_eq!(v.to_framebuffer(10.0, 150.0), (0, 300));
        assert_eq!(v.to_framebuffer(990.0, 500.0), (799, 599));
        assert_eq!(v.to_framebuffer(-5.0, -5.0), (0, 0));
    }

    #[test]
    fn fit_scales_up_with_bars_above_and_below() {
        let v = viewport(1600.0, 1600.0, 2.0, Scaling::Fit);
        assert_eq!(v.zoom(), 2.0);
        let d = v.destination();
        assert_eq!((d.x, d.y), (0.0, 200.0));
        assert_eq!(v.to_framebuffer(3.0, 203.0), (1, 1));
    }

    #[test]
    fn one_to_one_uses_device_pixels_and_scroll_offsets() {
        let scaling = Scaling::OneToOne {
            scroll_x: 50.0,
            scroll_y: 1000.0,
        };
        // HiDPI 2: the 800×600 framebuffer is 400×300 logical pixels.
        let v = viewport(200.0, 100.0, 2.0, scaling);
        assert_eq!(v.max_scroll(), (200.0, 200.0));
        let d = v.destination();
        assert_eq!((d.x, d.y), (-50.0, -200.0));
        assert_eq!(v.to_framebuffer(0.0, 0.0), (100, 400));
        assert_eq!(v.to_framebuffer(10.25, 0.5), (120, 401));
        // Smaller than the widget: centred, scroll ignored.
        let v = viewport(1000.0, 1000.0, 1.0, scaling);
        assert_eq!(v.destination().x, 100.0);
        assert_eq!(v.to_framebuffer(100.0, 200.0), (0, 0));
    }

    /// A 1280×800 guest in a 960×540 widget at HiDPI scale 2 (1920×1080 device pixels):
    /// widget positions are logical pixels, whatever the scale.
    fn hidpi(scaling: Scaling) -> Viewport {
        Viewport {
            fb_width: 1280,
            fb_height: 800,
            ..viewport(960.0, 540.0, 2.0, scaling)
        }
    }

    #[test]
    fn hidpi_fit_maps_logical_positions_onto_the_framebuffer() {
        let v = hidpi(Scaling::Fit);
        // 540 / 800: the height limits; 864 logical pixels wide, bars of 48.
        assert_eq!(v.zoom(), 0.675);
        let d = v.destination();
        assert_eq!((d.x, d.y, d.width, d.height), (48.0, 0.0, 864.0, 540.0));
        assert_eq!(v.to_framebuffer(48.0, 0.0), (0, 0));
        // A quarter of the drawn screen is a quarter of the framebuffer.
        assert_eq!(v.to_framebuffer(48.0 + 216.0, 135.0), (320, 200));
        assert_eq!(v.to_framebuffer(48.0 + 432.0, 270.0), (640, 400));
        assert_eq!(v.to_framebuffer(911.9, 539.9), (1279, 799));
        // Half a logical pixel is 0.74 framebuffer pixels here: still the same pixel.
        assert_eq!(v.to_framebuffer(48.5, 0.5), (0, 0));
    }

    #[test]
    fn hidpi_one_to_one_gives_each_framebuffer_pixel_one_device_pixel() {
        let v = hidpi(Scaling::OneToOne {
            scroll_x: 0.0,
            scroll_y: 0.0,
        });
        // 1280×800 device pixels are 640×400 logical ones, centred in 960×540.
        assert_eq!(v.zoom(), 0.5);
        let d = v.destination();
        assert_eq!((d.x, d.y, d.width, d.height), (160.0, 70.0, 640.0, 400.0));
        assert_eq!(v.to_framebuffer(160.0 + 160.0, 70.0 + 100.0), (320, 200));
        // Half a logical pixel is one device pixel is one framebuffer pixel.
        assert_eq!(v.to_framebuffer(160.5, 70.5), (1, 1));
        assert_eq!(v.to_framebuffer(799.5, 469.5), (1279, 799));
    }

    #[test]
    fn degenerate_sizes_do_not_panic() {
        let mut v = viewport(0.0, 0.0, 0.0, Scaling::Fit);
        assert_eq!(v.to_framebuffer(f64::NAN, f64::INFINITY), (0, 0));
        v.fb_width = 0;
        v.fb_height = 0;
        assert_eq!(v.to_framebuffer(5.0, 5.0), (0, 0));
    }
}
