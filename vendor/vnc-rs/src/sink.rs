use crate::{Rect, VncError};

/// A framebuffer that the decoder writes into itself, instead of sending each
/// rectangle's pixels as [crate::VncEvent::RawImage] and [crate::VncEvent::Copy] events.
///
/// Set with [crate::VncConnector::set_pixel_sink]. Every call comes from the decoding
/// task, in the order of the server's stream: a CopyRect sees every rectangle before it,
/// and a rectangle after a resize is of the new size. Raw rectangles are written straight
/// from the socket's buffers, piece by piece, with no copy of their own; the other
/// encodings write what they decoded. Once all rectangles of a FramebufferUpdate that
/// carried pixels are written, the client receives [crate::VncEvent::FramebufferUpdated].
///
/// Every rectangle passed lies inside the screen of the last [PixelSink::resize]; pixels
/// are in the client's pixel format. An error ends the session.
pub trait PixelSink: Send + Sync + 'static {
    /// The screen is now `width`×`height` pixels: first at the start (ServerInit), then
    /// at every change of size (DesktopSize, ExtendedDesktopSize).
    fn resize(&self, width: u16, height: u16) -> Result<(), VncError>;

    /// `bytes` of `rect`'s pixels, rows packed, starting `offset` bytes into them. The
    /// pieces of one rectangle come in order and together cover it exactly once.
    fn put(&self, rect: &Rect, offset: usize, bytes: &[u8]) -> Result<(), VncError>;

    /// Copies the pixels of `src` to `dst` (same size; they may overlap).
    fn copy(&self, dst: &Rect, src: &Rect) -> Result<(), VncError>;
}
