//! A machine's serial console as a byte stream: `virDomainOpenConsole` on the worker's own
//! connection (so it works over a remote connection too, in the same login), then a thread
//! of its own that moves bytes between the stream and the UI.
//!
//! The stream is non-blocking. libvirt's event loop only wakes the console's thread
//! ([`events::watch_stream`]); the thread reads what arrived and sends it to
//! [`TextConsole::output`], and writes what the user typed ([`TextConsole::send`]). It ends
//! when the guest's side ends (the machine stopped, another console took the port over)
//! or when the [`TextConsole`] is dropped, and says which in [`ConsoleOutput::Closed`].

use std::sync::mpsc;
use std::time::{Duration, Instant};

use roxmltree::Document;
use virt::connect::Connect;
use virt::stream::Stream;
use virt::sys::{VIR_DOMAIN_CONSOLE_FORCE, VIR_STREAM_NONBLOCK};

use super::error::describe;
use super::events::{self, StreamRead};
use super::requests::RequestError;

/// How long a write may wait for a stream that takes nothing.
const WRITE_PATIENCE: Duration = Duration::from_secs(5);

/// What the console's thread tells the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleOutput {
    /// Bytes from the guest's serial port.
    Data(Vec<u8>),
    /// The last message: the stream ended, with libvirt's reason when it failed.
    Closed(Option<String>),
}

enum Message {
    /// The stream has something to read, or has ended.
    Readable,
    /// Bytes to write to the guest.
    Input(Vec<u8>),
    /// The [`TextConsole`] is gone.
    Close,
}

/// An open serial console. Dropping it closes the stream.
pub struct TextConsole {
    /// Which device it is (e.g. `serial1`), as libvirt's alias names it.
    pub device: Option<String>,
    input: mpsc::Sender<Message>,
    output: async_channel::Receiver<ConsoleOutput>,
}

impl std::fmt::Debug for TextConsole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextConsole")
            .field("device", &self.device)
            .finish()
    }
}

impl Drop for TextConsole {
    fn drop(&mut self) {
        let _ = self.input.send(Message::Close);
    }
}

impl TextConsole {
    /// Writes `bytes` to the guest's serial port (without waiting for them to go).
    pub fn send(&self, bytes: &[u8]) {
        let _ = self.input.send(Message::Input(bytes.to_vec()));
    }

    /// What the guest writes, ending with [`ConsoleOutput::Closed`].
    pub fn output(&self) -> async_channel::Receiver<ConsoleOutput> {
        self.output.clone()
    }
}

/// The alias of the first serial port or console that libvirt can open as a stream (a
/// pseudo terminal), from a running domain's XML.
pub fn console_device(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).ok()?;
    let device = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("devices"))
        .flat_map(|d| d.children())
        .filter(|n| n.has_tag_name("serial") || n.has_tag_name("console"))
        .find(|n| n.attribute("type") == Some("pty"))?
        .children()
        .find(|n| n.has_tag_name("alias"))?
        .attribute("name")
        .map(str::to_owned);
    device
}

/// Opens the serial console of the running domain `uuid` on `conn`, taking it over from
/// any other session. Blocks on libvirt.
pub fn open(conn: &Connect, uuid: &str) -> Result<TextConsole, RequestError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let device = console_device(&domain.xml_desc(0)?);
    let stream = Stream::new(conn, VIR_STREAM_NONBLOCK)?;
    domain.open_console(device.as_deref(), &stream, VIR_DOMAIN_CONSOLE_FORCE)?;
    let (input, inbox) = mpsc::channel();
    let (sender, output) = async_channel::unbounded();
    let wake = input.clone();
    events::watch_stream(&stream, move |_| {
        let _ = wake.send(Message::Readable);
    })?;
    let name = format!("text-console-{}", device.as_deref().unwrap_or("console"));
    let spawned = std::thread::Builder::new()
        .name(name)
        .spawn(move || run(stream, inbox, sender));
    if let Err(error) = spawned {
        return Err(RequestError::Libvirt(error.to_string()));
    }
    Ok(TextConsole {
        device,
        input,
        output,
    })
}

/// The console's thread: until the stream ends or the [`TextConsole`] is gone.
fn run(
    stream: Stream,
    inbox: mpsc::Receiver<Message>,
    output: async_channel::Sender<ConsoleOutput>,
) {
    let closed = loop {
        // The stream's callback holds a sender too, so the inbox does not end by itself:
        // the console says Close when it is dropped.
        let result = match inbox.recv() {
            Ok(Message::Readable) => read_all(&stream, &output),
            Ok(Message::Input(bytes)) => write_all(&stream, &bytes),
            Ok(Message::Close) | Err(_) => break None,
        };
        match result {
            Ok(true) => {}
            Ok(false) => break Some(None),
            Err(reason) => break Some(Some(reason)),
        }
        if output.is_closed() {
            break None;
        }
    };
    events::unwatch_stream(&stream);
    if let Err(error) = stream.abort() {
        tracing::debug!(%error, "aborting the console stream");
    }
    if let Some(reason) = closed {
        let _ = output.send_blocking(ConsoleOutput::Closed(reason));
    }
}

/// Reads what waits; `Ok(false)` when the stream has ended.
fn read_all(
    stream: &Stream,
    output: &async_channel::Sender<ConsoleOutput>,
) -> Result<bool, String> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match events::stream_recv(stream, &mut buf) {
            Ok(StreamRead::Data(n)) => {
                if output
                    .send_blocking(ConsoleOutput::Data(buf[..n].to_vec()))
                    .is_err()
                {
                    return Ok(true); // nobody listens; the loop sees it
                }
            }
            Ok(StreamRead::WouldBlock) => return Ok(true),
            Ok(StreamRead::End) => return Ok(false),
            Err(error) => return Err(describe(&error)),
        }
    }
}

/// Writes all of `bytes`, waiting a little while the stream takes nothing.
fn write_all(stream: &Stream, mut bytes: &[u8]) -> Result<bool, String> {
    let deadline = Instant::now() + WRITE_PATIENCE;
    while !bytes.is_empty() {
        match events::stream_send(stream, bytes) {
            Ok(Some(n)) => bytes = &bytes[n.min(bytes.len())..],
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => return Err("The serial console takes no input.".into()),
            Err(error) => return Err(describe(&error)),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::console_device;

    #[test]
    fn the_first_pseudo_terminal_is_the_console() {
        let xml = "<domain><devices>\
            <serial type='file'><source path='/l'/><target port='0'/><alias name='serial0'/></serial>\
            <serial type='pty'><source path='/dev/pts/3'/><target port='1'/><alias name='serial1'/></serial>\
            <console type='file'><alias name='serial0'/></console>\
            </devices></domain>";
        assert_eq!(console_device(xml).as_deref(), Some("serial1"));
        let none = "<domain><devices><serial type='file'><alias name='serial0'/></serial></devices></domain>";
        assert_eq!(console_device(none), None);
    }
}
