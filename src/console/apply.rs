//! Applies what vnc-rs decoded to the shared framebuffer, checking every rectangle
//! against the framebuffer before it touches memory. Pixels go in on vnc-rs's decoding
//! task, in the server's order, through [`FramebufferSink`]; the other events here.

use std::sync::PoisonError;

use vnc::{Rect, VncError, VncEvent};

use super::error::ConsoleError;
use super::framebuffer::{CursorImage, Framebuffer, SharedFramebuffer, TileRect, MAX_CURSOR_SIDE};
use super::session::ConsoleEvent;

/// Whether the event was part of a framebuffer update, after which the next incremental
/// update is requested.
pub(crate) fn is_update(event: &VncEvent) -> bool {
    matches!(
        event,
        VncEvent::FramebufferUpdated
            | VncEvent::SetCursor(..)
            | VncEvent::SetResolution(_)
            | VncEvent::DesktopUpdate(_)
    )
}

fn tile(rect: &Rect) -> TileRect {
    TileRect::new(
        rect.x.into(),
        rect.y.into(),
        rect.width.into(),
        rect.height.into(),
    )
}

/// The shared framebuffer as vnc-rs's [`vnc::PixelSink`]: the decoder writes pixels
/// and resizes it itself, so that Raw pixels are copied once, from the socket's buffers
/// into the framebuffer, and every rectangle lands in the server's order.
pub(crate) struct FramebufferSink(pub SharedFramebuffer);

impl FramebufferSink {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Framebuffer) -> Result<T, ConsoleError>,
    ) -> Result<T, VncError> {
        let mut fb = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut fb).map_err(|error| VncError::General(error.to_string()))
    }
}

impl vnc::PixelSink for FramebufferSink {
    fn resize(&self, width: u16, height: u16) -> Result<(), VncError> {
        self.with(|fb| fb.resize(width.into(), height.into()))
    }

    fn put(&self, rect: &Rect, offset: usize, bytes: &[u8]) -> Result<(), VncError> {
        self.with(|fb| fb.put_bytes(tile(rect), offset, bytes))
    }

    fn copy(&self, dst: &Rect, src: &Rect) -> Result<(), VncError> {
        self.with(|fb| fb.copy_rect(tile(dst), tile(src)))
    }
}

/// Handles one event of vnc-rs; returns what the UI must be told, if anything. `size`
/// is the screen size the UI was last told. Damage is announced only when the UI has
/// not been told since it last took it.
pub(crate) fn apply(
    fb: &SharedFramebuffer,
    size: &mut (u32, u32),
    event: VncEvent,
) -> Result<Option<ConsoleEvent>, ConsoleError> {
    let mut fb = fb.lock().unwrap_or_else(PoisonError::into_inner);
    // The sink already resized the framebuffer; the UI learns of it here.
    let mut resized = |width: u16, height: u16| {
        let new = (width.into(), height.into());
        // Same-size layout changes keep the pixels.
        (std::mem::replace(size, new) != new).then_some(ConsoleEvent::Resized {
            width: new.0,
            height: new.1,
        })
    };
    Ok(match event {
        VncEvent::FramebufferUpdated => fb.take_notice().then_some(ConsoleEvent::Damaged),
        VncEvent::SetResolution(screen) => resized(screen.width, screen.height),
        VncEvent::DesktopUpdate(update) => update
            .layout
            .and_then(|layout| resized(layout.width, layout.height)),
        VncEvent::SetCursor(rect, data) => {
            fb.set_cursor(cursor(&rect, data)?);
            Some(ConsoleEvent::CursorChanged)
        }
        VncEvent::Bell => Some(ConsoleEvent::Bell),
        VncEvent::Text(text) => Some(ConsoleEvent::CutText(text)),
        VncEvent::ExtendedClipboard => Some(ConsoleEvent::ClipboardExtended),
        VncEvent::ClipboardNotify { text } => Some(ConsoleEvent::GuestClipboardChanged { text }),
        VncEvent::ClipboardRequest => Some(ConsoleEvent::ClipboardRequested),
        VncEvent::Error(message) => return Err(ConsoleError::Protocol(message)),
        VncEvent::JpegImage(..) => {
            return Err(ConsoleError::Protocol(
                "JPEG data, which was not asked for".into(),
            ))
        }
        // Only sent when the client did not choose a pixel format; it always does.
        _ => None,
    })
}

/// The cursor pseudo-encoding: `rect` gives the hot spot and size, `data` B G R A with
/// the alpha byte already taken from the mask (0 or 255). Empty means no cursor.
fn cursor(rect: &Rect, mut data: Vec<u8>) -> Result<Option<CursorImage>, ConsoleError> {
    let (width, height) = (u32::from(rect.width), u32::from(rect.height));
    if width == 0 || height == 0 {
        return Ok(None);
    }
    if width > MAX_CURSOR_SIDE || height > MAX_CURSOR_SIDE {
        return Err(ConsoleError::CursorTooLarge);
    }
    if data.len() != width as usize * height as usize * 4 {
        return Err(ConsoleError::BadRectangle);
    }
    for pixel in data.chunks_exact_mut(4) {
        if pixel[3] == 0 {
            pixel.copy_from_slice(&[0; 4]);
        }
    }
    Ok(Some(CursorImage {
        width,
        height,
        hot_x: u32::from(rect.x).min(width - 1),
        hot_y: u32::from(rect.y).min(height - 1),
        pixels: data,
    }))
}
