//! Drawing: damaged tiles become textures on the frame clock; every tile is drawn scaled
//! into the viewport's destination.

use super::ConsoleView;
use crate::console::{Framebuffer, TileRect};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib, graphene};
use std::collections::HashMap;

const FORMAT: gdk::MemoryFormat = gdk::MemoryFormat::B8g8r8a8Premultiplied;
const BYTES_PER_PIXEL: usize = 4;

/// The textures of the guest screen, one per 128×128 tile, keyed by their position.
#[derive(Default)]
pub struct Tiles {
    textures: HashMap<(u32, u32), (TileRect, gdk::Texture)>,
    scratch: Vec<u8>,
}

impl Tiles {
    pub fn clear(&mut self) {
        self.textures.clear();
    }

    /// Re-uploads the tiles the session damaged since the last frame.
    fn upload_damage(&mut self, fb: &mut Framebuffer) {
        for rect in fb.take_damage() {
            if fb.copy_tile(rect, &mut self.scratch).is_err() {
                continue;
            }
            if let Some(texture) = texture(rect.width, rect.height, &self.scratch) {
                self.textures.insert((rect.x, rect.y), (rect, texture));
            }
        }
    }
}

/// A texture of `width`×`height` pixels packed in rows of `width * 4` bytes.
pub fn texture(width: u32, height: u32, pixels: &[u8]) -> Option<gdk::Texture> {
    let stride = width as usize * BYTES_PER_PIXEL;
    if width == 0 || height == 0 || pixels.len() < stride * height as usize {
        return None;
    }
    let bytes = glib::Bytes::from(&pixels[..stride * height as usize]);
    let texture = gdk::MemoryTexture::new(width as i32, height as i32, FORMAT, &bytes, stride);
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
        if let Ok(mut fb) = framebuffer.lock() {
            tiles.upload_damage(&mut fb);
        }
        let viewport = self.viewport();
        let area = viewport.destination();
        let zoom = viewport.zoom() as f32;
        for (rect, texture) in tiles.textures.values() {
            let bounds = graphene::Rect::new(
                area.x as f32 + rect.x as f32 * zoom,
                area.y as f32 + rect.y as f32 * zoom,
                rect.width as f32 * zoom,
                rect.height as f32 * zoom,
            );
            snapshot.append_texture(texture, &bounds);
        }
    }

    /// Shows the guest's pointer shape as the widget's cursor.
    pub(super) fn update_cursor(&self) {
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
