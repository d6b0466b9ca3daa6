//! The Extended Clipboard pseudo-encoding (rfbproto, "Extended Clipboard Pseudo-Encoding").
//!
//! Once the client lists [crate::VncEncoding::ExtendedClipboardPseudo], a server that
//! knows it sends ServerCutText messages whose length is negative: the payload is a
//! flags word (formats in the low bits, one action in the high byte) and, for "provide",
//! a zlib stream holding each offered format as a length and its bytes. The client
//! answers in ClientCutText messages of the same shape. Only UTF-8 text is handled here.

use std::io::Read;

use crate::VncError;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The UTF-8 text format.
const TEXT: u32 = 1;
const CAPS: u32 = 1 << 24;
const REQUEST: u32 = 1 << 25;
const PEEK: u32 = 1 << 26;
const NOTIFY: u32 = 1 << 27;
const PROVIDE: u32 = 1 << 28;

/// The largest extended payload read: the text limit plus what zlib may add to
/// incompressible text, and the flags and length words.
pub(super) const MAX_PAYLOAD: usize = crate::limits::MAX_TEXT + crate::limits::MAX_TEXT / 64 + 64;

/// What a server said in one extended clipboard message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ServerClipboard {
    /// The server speaks the extended clipboard; the client must answer with its own caps.
    Caps,
    /// The server's clipboard changed; `text` says whether it holds text.
    Notify { text: bool },
    /// The server asks for the client's text.
    Request,
    /// The server asks which formats the client's clipboard holds.
    Peek,
    /// The server's text (an empty provide, or one of other formats only, is `None`).
    Provide(Option<String>),
}

/// What the client sends in one extended clipboard message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ClientClipboard {
    /// The client handles text up to [crate::limits::MAX_TEXT] bytes and these actions.
    Caps,
    Notify {
        text: bool,
    },
    Request,
    Provide(String),
}

/// Reads the payload of a ServerCutText whose length field was `-length`.
pub(super) async fn read<S: AsyncRead + Unpin>(
    reader: &mut S,
    length: u32,
) -> Result<ServerClipboard, VncError> {
    let length = length as usize;
    if length < 4 {
        return Err(VncError::General(
            "extended clipboard message too short".into(),
        ));
    }
    if length > MAX_PAYLOAD {
        return Err(VncError::General("VNC string exceeds size limit".into()));
    }
    let flags = reader.read_u32().await?;
    let mut payload = vec![0; length - 4];
    reader.read_exact(&mut payload).await?;
    Ok(if flags & CAPS != 0 {
        ServerClipboard::Caps
    } else if flags & PROVIDE != 0 {
        ServerClipboard::Provide(if flags & TEXT != 0 {
            Some(inflate_text(&payload)?)
        } else {
            None
        })
    } else if flags & NOTIFY != 0 {
        ServerClipboard::Notify {
            text: flags & TEXT != 0,
        }
    } else if flags & REQUEST != 0 && flags & TEXT != 0 {
        ServerClipboard::Request
    } else if flags & PEEK != 0 {
        ServerClipboard::Peek
    } else {
        // A request for formats this client never announced asks for nothing.
        ServerClipboard::Notify { text: false }
    })
}

/// The text of a provide message: the first format in the zlib stream, as a length and
/// its bytes. Inflating stops at the text limit, so a small stream that would inflate to
/// gigabytes costs no more than the limit.
fn inflate_text(compressed: &[u8]) -> Result<String, VncError> {
    let mut inflater = flate2::read::ZlibDecoder::new(compressed);
    let mut length = [0; 4];
    inflater
        .read_exact(&mut length)
        .map_err(|_| VncError::General("extended clipboard data is not zlib".into()))?;
    let length = u32::from_be_bytes(length) as usize;
    if length > crate::limits::MAX_TEXT {
        return Err(VncError::General("VNC string exceeds size limit".into()));
    }
    let mut text = Vec::with_capacity(length.min(64 * 1024));
    inflater
        .take(length as u64)
        .read_to_end(&mut text)
        .map_err(|_| VncError::General("extended clipboard data is not zlib".into()))?;
    if text.len() != length {
        return Err(VncError::General(
            "extended clipboard text is cut short".into(),
        ));
    }
    // The text is NUL-terminated by the specification; QEMU passes on what its guest
    // agent sent, without the NUL. Line ends are CRLF on the wire.
    while text.last() == Some(&0) {
        text.pop();
    }
    Ok(String::from_utf8_lossy(&text).replace("\r\n", "\n"))
}

impl ClientClipboard {
    /// The ClientCutText message.
    pub(super) fn encode(self) -> Result<Vec<u8>, VncError> {
        let mut payload = Vec::new();
        match self {
            ClientClipboard::Caps => {
                let flags = CAPS | REQUEST | NOTIFY | PROVIDE | TEXT;
                payload.extend(flags.to_be_bytes());
                payload.extend((crate::limits::MAX_TEXT as u32).to_be_bytes());
            }
            ClientClipboard::Notify { text } => {
                payload.extend((NOTIFY | if text { TEXT } else { 0 }).to_be_bytes());
            }
            ClientClipboard::Request => payload.extend((REQUEST | TEXT).to_be_bytes()),
            ClientClipboard::Provide(text) => {
                if text.len() > crate::limits::MAX_TEXT {
                    return Err(VncError::General(
                        "clipboard text exceeds size limit".into(),
                    ));
                }
                payload.extend((PROVIDE | TEXT).to_be_bytes());
                payload.extend(deflate_text(&text)?);
            }
        }
        let mut message = vec![6, 0, 0, 0];
        message.extend((-(payload.len() as i32)).to_be_bytes());
        message.extend(payload);
        Ok(message)
    }
}

/// The zlib stream of a provide message holding `text`. The text goes as it is, without
/// the specification's NUL and CRLF: QEMU hands the bytes unchanged to its guest's agent,
/// which expects the text of the clipboard and nothing else.
fn deflate_text(text: &str) -> Result<Vec<u8>, VncError> {
    use std::io::Write;
    let mut deflater = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflater.write_all(&(text.len() as u32).to_be_bytes())?;
    deflater.write_all(text.as_bytes())?;
    Ok(deflater.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut deflater = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        deflater.write_all(bytes).unwrap();
        deflater.finish().unwrap()
    }

    async fn parse(flags: u32, payload: &[u8]) -> Result<ServerClipboard, VncError> {
        let mut bytes = flags.to_be_bytes().to_vec();
        bytes.extend(payload);
        read(&mut bytes.as_slice(), bytes.len() as u32).await
    }

    #[tokio::test]
    async fn server_messages_are_understood() {
        assert_eq!(
            parse(CAPS | TEXT | PROVIDE, &[0, 0, 0, 0]).await.unwrap(),
            ServerClipboard::Caps
        );
        assert_eq!(
            parse(NOTIFY | TEXT, &[]).await.unwrap(),
            ServerClipboard::Notify { text: true }
        );
        assert_eq!(
            parse(NOTIFY, &[]).await.unwrap(),
            ServerClipboard::Notify { text: false }
        );
        assert_eq!(
            parse(REQUEST | TEXT, &[]).await.unwrap(),
            ServerClipboard::Request
        );
        let mut text = 9u32.to_be_bytes().to_vec();
        text.extend(b"a\r\nb\xc3\xa9cd\0");
        assert_eq!(
            parse(PROVIDE | TEXT, &zlib(&text)).await.unwrap(),
            ServerClipboard::Provide(Some("a\nbécd".into()))
        );
    }

    #[tokio::test]
    async fn a_provide_round_trips() {
        let message = ClientClipboard::Provide("Grüße\nzwei".into())
            .encode()
            .unwrap();
        assert_eq!(&message[..4], &[6, 0, 0, 0]);
        let length = i32::from_be_bytes(message[4..8].try_into().unwrap());
        assert_eq!(-length as usize, message.len() - 8);
        let parsed = read(&mut &message[8..], (-length) as u32).await.unwrap();
        assert_eq!(parsed, ServerClipboard::Provide(Some("Grüße\nzwei".into())));
    }

    #[tokio::test]
    async fn hostile_sizes_are_refused_without_allocating_them() {
        // A length over the limit, before any payload is read.
        let mut empty: &[u8] = &[];
        assert!(read(&mut empty, i32::MIN.unsigned_abs()).await.is_err());
        assert!(read(&mut empty, 3).await.is_err());
        // A text length over the limit inside the stream.
        let claimed = zlib(&u32::MAX.to_be_bytes());
        assert!(parse(PROVIDE | TEXT, &claimed).await.is_err());
        // A zlib bomb: 64 MiB of text in a few hundred kilobytes that claims 1 MiB.
        // Inflating stops at the claimed length; the rest is never inflated.
        let mut bomb = ((crate::limits::MAX_TEXT) as u32).to_be_bytes().to_vec();
        bomb.extend(vec![b'x'; 64 * 1024 * 1024]);
        let bomb = zlib(&bomb);
        assert!(bomb.len() < MAX_PAYLOAD);
        match parse(PROVIDE | TEXT, &bomb).await.unwrap() {
            ServerClipboard::Provide(Some(text)) => assert_eq!(text.len(), crate::limits::MAX_TEXT),
            other => panic!("{other:?}"),
        }
        // Text that says it is longer than the stream is.
        let short = zlib(&[0, 0, 0, 10, b'a']);
        assert!(parse(PROVIDE | TEXT, &short).await.is_err());
        // Too much text to send.
        let long = "x".repeat(crate::limits::MAX_TEXT + 1);
        assert!(ClientClipboard::Provide(long).encode().is_err());
    }
}
