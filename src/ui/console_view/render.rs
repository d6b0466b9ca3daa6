//! Drawing: each tile (1024×32 pixels) of the guest screen is kept as a render node that
//! already holds its pixels at the size they are shown, in device pixels. On the frame
//! clock only the tiles the session damaged are rebuilt; the others are the same nodes as
//! in the last frame, so GTK's renderer sees them unchanged and repaints only the damaged
//! area.
//!
//! Why not one texture per tile: GTK 4.8's cairo renderer (the one used without a GPU)
//! converts a texture's pixels through floats every time it draws it, which cost about
//! 30 ns a pixel. A cairo surface in the node is drawn as it is, and when the screen is
//! scaled it is scaled once, when the tile changes, instead of on every draw.

use super::ConsoleView;
use crate::console::{Framebuffer, TileRect, Viewport};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{cairo, gdk, glib, graphene, gsk};
use std::collections::HashMap;

const BYTES_PER_PIXEL: usize = 4;

/// Where tiles land in device pixels: a change of any of these redraws every tile.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    /// The framebuffer's top-left corner in device pixels of the widget.
    origin_x: f64,
    origin_y: f64,
    /// Device pixels per framebuffer pixel.
    zoom: f64,
    /// Device pixels per logical pixel.
    scale_factor: f64,
}

impl Placement {
    fn new(viewport: &Viewport) -> Self {
        let scale_factor = viewport.scale_factor.max(1.0);
        let area = viewport.destination();
        Placement {
            origin_x: (area.x * scale_factor).round(),
            origin_y: (area.y * scale_factor).round(),
            zoom: viewport.zoom() * scale_factor,
            scale_factor,
        }
    }

    fn is_one_to_one(&self) -> bool {
        (self.zoom - 1.0).abs() < 1e-9
    }

    /// The device-pixel edges `[start, end)` of framebuffer span `[from, from + len)`.
    /// Neighbouring tiles share their edge, so they meet without gaps or overlaps.
    fn span(&self, origin: f64, from: u32, len: u32) -> (i32, i32) {
        let edge = |fb: u32| (origin + f64::from(fb) * self.zoom).round() as i32;
        (edge(from), edge(from + len))
    }
}

/// A tile's node and the pixels it draws.
struct Tile {
    node: gsk::RenderNode,
    /// Held, never read: dropped after `node` (fields drop in order), see `retired`.
    _pixels: cairo::ImageSurface,
}

/// The render nodes of the guest screen, one per tile, keyed by the tile's position.
#[derive(Default)]
pub struct Tiles {
    nodes: HashMap<(u32, u32), Tile>,
    placement: Option<Placement>,
    /// Tiles replaced in the last frame. The renderer keeps the last frame's nodes until
    /// it has drawn the next one; were a tile's pixels freed while its node lives, cairo
    /// would first copy them for the node. One frame later, they go without a copy.
    retired: Vec<Tile>,
}

impl Tiles {
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.retired.clear();
        self.placement = None;
    }

    /// Rebuilds the tiles the session damaged since the last frame, or every tile when
    /// the placement changed.
    fn update(&mut self, fb: &mut Framebuffer, placement: Placement) {
        self.retired.clear();
        if self.placement != Some(placement) {
            self.retired
                .extend(self.nodes.drain().map(|(_, tile)| tile));
            self.placement = Some(placement);
            fb.damage_all();
        }
        for rect in fb.take_damage() {
            let old = match tile(fb, rect, placement) {
                Some(tile) => self.nodes.insert((rect.x, rect.y), tile),
                None => self.nodes.remove(&(rect.x, rect.y)),
            };
            self.retired.extend(old);
        }
    }
}

/// Tile `rect`: its pixels at the device size they are drawn at, or `None` when the
/// tile shrinks to nothing at this zoom.
fn tile(fb: &Framebuffer, rect: TileRect, placement: Placement) -> Option<Tile> {
    let (x0, x1) = placement.span(placement.origin_x, rect.x, rect.width);
    let (y0, y1) = placement.span(placement.origin_y, rect.y, rect.height);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let image = if placement.is_one_to_one() {
        let mut pixels = Vec::new();
        fb.copy_tile(rect, &mut pixels).ok()?;
        image_surface(rect.width, rect.height, pixels)?
    } else {
        scaled_tile(fb, rect, placement, (x0, y0), (x1 - x0, y1 - y0))?
    };
    let scale = placement.scale_factor;
    image.set_device_scale(scale, scale);
    let (x, y) = (f64::from(x0) / scale, f64::from(y0) / scale);
    let bounds = graphene::Rect::new(
        x as f32,
        y as f32,
        (f64::from(x1 - x0) / scale) as f32,
        (f64::from(y1 - y0) / scale) as f32,
    );
    let node = gsk::CairoNode::new(&bounds);
    let cr = node.draw_context();
    cr.set_source_surface(&image, x, y).ok()?;
    cr.paint().ok()?;
    Some(Tile {
        node: node.upcast(),
        _pixels: image,
    })
}

/// `rect` scaled to `size` device pixels whose top-left is `at`. The source takes one
/// pixel more on each side (where the screen has one), so that filtering across tile
/// edges uses the real neighbours and the tiles meet without seams.
fn scaled_tile(
    fb: &Framebuffer,
    rect: TileRect,
    placement: Placement,
    at: (i32, i32),
    size: (i32, i32),
) -> Option<cairo::ImageSurface> {
    let left = rect.x.min(1);
    let top = rect.y.min(1);
    let right = (fb.width() - rect.x - rect.width).min(1);
    let bottom = (fb.height() - rect.y - rect.height).min(1);
    let source_rect = TileRect::new(
        rect.x - left,
        rect.y - top,
        rect.width + left + right,
        rect.height + top + bottom,
    );
    let mut pixels = Vec::new();
    fb.copy_tile(source_rect, &mut pixels).ok()?;
    let source = image_surface(source_rect.width, source_rect.height, pixels)?;
    let target = cairo::ImageSurface::create(cairo::Format::Rgb24, size.0, size.1).ok()?;
    let cr = cairo::Context::new(&target).ok()?;
    // Device pixels of the target, then framebuffer pixels.
    cr.translate(
        placement.origin_x - f64::from(at.0),
        placement.origin_y - f64::from(at.1),
    );
    cr.scale(placement.zoom, placement.zoom);
    cr.set_source_surface(&source, f64::from(source_rect.x), f64::from(source_rect.y))
        .ok()?;
    let pattern = cr.source();
    pattern.set_extend(cairo::Extend::Pad);
    pattern.set_filter(if placement.zoom < 0.5 {
        cairo::Filter::Good
    } else {
        cairo::Filter::Bilinear
    });
    cr.set_operator(cairo::Operator::Source);
    cr.paint().ok()?;
    drop(cr);
    target.flush();
    Some(target)
}

/// An opaque cairo image over `pixels`, rows of `width * 4` bytes (B, G, R, unused).
fn image_surface(width: u32, height: u32, pixels: Vec<u8>) -> Option<cairo::ImageSurface> {
    let stride = width as usize * BYTES_PER_PIXEL;
    if width == 0 || height == 0 || pixels.len() < stride * height as usize {
        return None;
    }
    cairo::ImageSurface::create_for_data(
        pixels,
        cairo::Format::Rgb24,
        width as i32,
        height as i32,
        stride as i32,
    )
    .ok()
}

/// A texture of `width`×`height` premultiplied B, G, R, A pixels packed in rows of
/// `width * 4` bytes: the cursor and screenshots.
pub fn texture(width: u32, height: u32, pixels: &[u8]) -> Option<gdk::Texture> {
    let stride = width as usize * BYTES_PER_PIXEL;
    if width == 0 || height == 0 || pixels.len() < stride * height as usize {
        return None;
    }
    let bytes = glib::Bytes::from(&pixels[..stride * height as usize]);
    let texture = gdk::MemoryTexture::new(
        width as i32,
        height as i32,
        gdk::MemoryFormat::B8g8r8a8Premultiplied,
        &bytes,
        stride,
    );
    Some(texture.upcast())
}

impl ConsoleView {
    pub(super) fn draw(&self, snapshot: &gtk::Snapshot) {
        let imp = self.imp();
        let (width, height) = (self.width() as f32, self.height() as f32);
        snapshot.append_color(
            &gdk::RGBA::BLACK,
            &graphene::Rect::new(0.0, 0.0, width, height),
        );
        let Some(framebuffer) = imp
            .session
            .borrow()
            .as_ref()
            .map(|s| s.framebuffer().clone())
        else {
            return;
        };
        let mut tiles = imp.tiles.borrow_mut();
        let placement = Placement::new(&self.viewport());
        if let Ok(mut fb) = framebuffer.lock() {
            tiles.update(&mut fb, placement);
        }
        for tile in tiles.nodes.values() {
            snapshot.append_node(&tile.node);
        }
    }

    /// Shows the guest's pointer shape as the widget's cursor.
    pub(super) fn update_cursor(&self) {
        if self.pointer_grabbed() {
            return; // hidden
        }
        let session = self.imp().session.borrow();
        let Some(framebuffer) = session.as_ref().map(|s| s.framebuffer().clone()) else {
            return;
        };
        let Ok(fb) = framebuffer.lock() else {
            return;
        };
        // No shape from the server: the default pointer. An empty shape: no pointer.
        let cursor = fb.cursor().map(|c| {
            texture(c.width, c.height, &c.pixels)
                .map(|t| gdk::Cursor::from_texture(&t, c.hot_x as i32, c.hot_y as i32, None))
                .or_else(|| gdk::Cursor::from_name("none", None))
        });
        self.set_cursor(cursor.flatten().as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Scaling;

    fn placement(widget: (f64, f64), scale_factor: f64, fit: bool) -> Placement {
        Placement::new(&Viewport {
            widget_width: widget.0,
            widget_height: widget.1,
            scale_factor,
            fb_width: 1920,
            fb_height: 1080,
            scaling: if fit {
                Scaling::Fit
            } else {
                Scaling::OneToOne {
                    scroll_x: 0.0,
                    scroll_y: 0.0,
                }
            },
        })
    }

    /// Tiles laid side by side cover the destination exactly: each starts where the one
    /// before it ends, so there are no gaps or overlaps at any zoom.
    #[test]
    fn neighbouring_tiles_share_their_edges() {
        for p in [
            placement((1917.0, 1033.0), 1.0, true),
            placement((800.0, 600.0), 1.0, true),
            placement((1000.0, 700.0), 2.0, true),
            placement((1920.0, 1080.0), 1.0, false),
        ] {
            let mut end = p.span(p.origin_x, 0, 128).0;
            for x in (0..1920).step_by(128) {
                let (start, stop) = p.span(p.origin_x, x, 128.min(1920 - x));
                assert_eq!(start, end, "{p:?} at {x}");
                assert!(stop >= start);
                end = stop;
            }
            let expected = (p.origin_x + 1920.0 * p.zoom).round() as i32;
            assert_eq!(end, expected, "{p:?}");
        }
    }

    #[test]
    fn one_to_one_is_recognised_at_any_scale_factor() {
        assert!(placement((1920.0, 1080.0), 1.0, false).is_one_to_one());
        assert!(placement((960.0, 540.0), 2.0, false).is_one_to_one());
        assert!(!placement((1917.0, 1033.0), 1.0, true).is_one_to_one());
    }
}
