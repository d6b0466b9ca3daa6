use crate::{PixelFormat, PixelSink, Rect, VncError, VncEvent};
use std::future::Future;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

pub struct Decoder {}

impl Decoder {
    pub fn new() -> Self {
        Self {}
    }

    /// With a `sink`, the pixels go into it straight from the reader's buffers; else
    /// they are gathered into one [VncEvent::RawImage].
    pub async fn decode<S, F, Fut>(
        &mut self,
        format: &PixelFormat,
        rect: &Rect,
        input: &mut S,
        sink: Option<&dyn PixelSink>,
        output_func: &F,
    ) -> Result<(), VncError>
    where
        S: AsyncBufRead + Unpin,
        F: Fn(VncEvent) -> Fut,
        Fut: Future<Output = Result<(), VncError>>,
    {
        crate::limits::dimensions(rect.width, rect.height)?;
        format.validate()?;
        // +----------------------------+--------------+-------------+
        // | No. of bytes               | Type [Value] | Description |
        // +----------------------------+--------------+-------------+
        // | width*height*bytesPerPixel | PIXEL array  | pixels      |
        // +----------------------------+--------------+-------------+
        let bpp = format.bits_per_pixel / 8;
        let buffer_size = bpp as usize * rect.height as usize * rect.width as usize;
        // Straight from the reader's buffers: one copy, no zeroing.
        let mut pixels = Vec::with_capacity(if sink.is_some() { 0 } else { buffer_size });
        let mut done = 0;
        while done < buffer_size {
            let available = input.fill_buf().await?;
            if available.is_empty() {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
            let take = available.len().min(buffer_size - done);
            match sink {
                Some(sink) => sink.put(rect, done, &available[..take])?,
                None => pixels.extend_from_slice(&available[..take]),
            }
            input.consume(take);
            done += take;
        }
        if sink.is_none() {
            output_func(VncEvent::RawImage(*rect, pixels)).await?;
        }
        Ok(())
    }
}
