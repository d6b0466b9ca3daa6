//! Applies what vnc-rs decoded to the shared framebuffer, checking every rectangle
//! against the framebuffer before it touches memory.

use vnc::{Rect, VncEvent};

use super::error::ConsoleError;
use super::framebuffer::{CursorImage, SharedFramebuffer, TileRect, MAX_CURSOR_SIDE};
use super::session::ConsoleEvent;

/// Whether the event was part of a framebuffer update, after which the next incremental
/// update is requested.
pub(crate) fn is_update(event: &VncEvent) -> bool {
    matches!(
        event,
        VncEvent::RawImage(..)
            | VncEvent::Copy(..)
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

/// Writes one decoded event into `fb`; returns what the UI must be told, if anything.
/// Damage is announced only when the UI has not been told since it last took it.
pub(crate) fn apply(
    fb: &SharedFramebuffer,
    event: VncEvent,
) -> Result<Option<ConsoleEvent>, ConsoleError> {
    let mut fb = fb.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let damaged = |newly: bool| newly.then_some(ConsoleEvent::Damaged);
    Ok(match event {
        VncEvent::RawImage(rect, data) => damaged(fb.put_rect(tile(&rect), &data)?),
        VncEvent::Copy(dst, src) => damaged(fb.copy_rect(tile(&dst), tile(&src))?),
        VncEvent::SetResolution(screen) => {
            let (width, height) = (screen.width.into(), screen.height.into());
            fb.resize(width, height)?;
            Some(ConsoleEvent::Resized { width, height })
        }
        VncEvent::DesktopUpdate(update) => match update.layout {
            // Same-size layout changes keep the pixels.
            Some(layout)
                if (u32::from(layout.width), u32::from(layout.height))
                    != (fb.width(), fb.height()) =>
            {
                let (width, height) = (layout.width.into(), layout.height.into());
                fb.resize(width, height)?;
                Some(ConsoleEvent::Resized { width, height })
            }
            _ => None,
        },
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
