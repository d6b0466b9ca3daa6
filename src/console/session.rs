//! One console connection: a task on the console runtime that owns the vnc-rs client.
//!
//! vnc-rs's `recv_event()` holds the client's lock while it waits, which would block
//! `input()`. So one task owns the client and `select!`s between the command channel
//! (clipboard, resize) and `recv_event()` (both cancel-safe). Keys and pointer input do
//! not wait for it: [`ConsoleSession::send`] writes them to the socket at once, through
//! the [`Outbound`] the session shares with vnc-rs. Nothing runs on a timer: a static
//! guest screen leaves the task asleep. After each burst of framebuffer events the next
//! incremental update is requested, so one request is always outstanding.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;
use vnc::{PixelFormat, VeNCryptSubtype, VncClient, VncConnector, VncEncoding, X11Event};

use super::apply::{apply, is_update, FramebufferSink};
use super::error::ConsoleError;
use super::framebuffer::{Framebuffer, SharedFramebuffer};
use super::input::{Input, InputState, Locks};
use super::outbound::{Outbound, Stream};
use super::source::{ConsoleSource, ConsoleStream};
use super::tls::{self, Credentials, TlsError};
use super::RUNTIME;

/// How long connecting and the RFB handshake may take by default.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// The most clipboard text sent or taken (vnc-rs's bound); more is not sent.
pub const MAX_CLIPBOARD_TEXT: usize = 1024 * 1024;
/// Events waiting for the UI; the session waits when the UI falls behind.
const EVENT_QUEUE: usize = 16;

/// How to connect.
#[derive(Clone)]
pub struct ConnectOptions {
    /// The VNC password (from the domain XML or asked for). Never logged.
    pub password: Option<String>,
    /// Let other viewers stay connected.
    pub shared: bool,
    /// How long opening the stream and the RFB handshake may take.
    pub handshake_timeout: Duration,
    /// The server runs on this machine: ask for uncompressed pixels first, since copying
    /// them costs both sides less than compressing and decompressing. [`ConsoleSession::open`]
    /// sets it from the source.
    pub local: bool,
    /// The host name the display's TLS certificate must carry (VeNCrypt): for a remote
    /// host the host of the libvirt URI, also through an SSH tunnel. By default
    /// [`ConsoleSession::open`] takes the TCP address dialled, else `localhost`.
    pub server_name: Option<String>,
    /// The certificates for VNC over TLS; by default libvirt's ([`Credentials::of_user`]).
    pub tls_credentials: Option<Credentials>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            password: None,
            shared: true,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            local: false,
            server_name: None,
            tls_credentials: None,
        }
    }
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("shared", &self.shared)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("local", &self.local)
            .field("server_name", &self.server_name)
            .field("tls_credentials", &self.tls_credentials)
            .finish()
    }
}

/// What the session tells the UI. Pixels never travel here: they are in the shared
/// framebuffer, and [`ConsoleEvent::Damaged`] says to take its damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleEvent {
    Connected {
        width: u32,
        height: u32,
    },
    /// Tiles changed; call `take_damage()`. Sent once until the damage is taken.
    Damaged,
    Resized {
        width: u32,
        height: u32,
    },
    /// The pointer shape changed (`Framebuffer::cursor`).
    CursorChanged,
    Bell,
    /// The guest's clipboard (at most 1 MiB).
    CutText(String),
    /// The server speaks the Extended Clipboard: this side's clipboard is offered with
    /// [ConsoleSession::offer_clipboard] and its text sent only when asked for.
    ClipboardExtended,
    /// The guest's clipboard changed (`text`: it holds text, which
    /// [ConsoleSession::request_clipboard] asks for; it arrives as `CutText`).
    GuestClipboardChanged {
        text: bool,
    },
    /// The guest asks for the text offered: answer with [ConsoleSession::provide_clipboard].
    ClipboardRequested,
    /// Whether the guest's screen can be resized from here ([`ConsoleSession::resize_desktop`]):
    /// the server told its screen layout (ExtendedDesktopSize), and that is one screen.
    GuestResizable(bool),
    /// The answer to [`ConsoleSession::resize_desktop`].
    DesktopResized(Result<(u16, u16), String>),
    /// The last event. `None` when the session was closed from this side.
    Disconnected {
        error: Option<ConsoleError>,
    },
}

enum Command {
    CutText(String),
    Clipboard(X11Event),
    ResizeDesktop(u16, u16),
}

/// A running console connection. Dropping it disconnects.
pub struct ConsoleSession {
    framebuffer: SharedFramebuffer,
    commands: mpsc::UnboundedSender<Command>,
    events: async_channel::Receiver<ConsoleEvent>,
    input: Arc<Mutex<InputLink>>,
}

/// Input goes out from the caller's thread, straight to the socket ([`Outbound`]).
#[derive(Default)]
struct InputLink {
    state: InputState,
    /// The connection, from the end of the handshake until the session ends.
    outbound: Option<Arc<Outbound>>,
}

impl InputLink {
    fn lock(link: &Mutex<InputLink>) -> std::sync::MutexGuard<'_, InputLink> {
        link.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&mut self, input: &Input) {
        let mut messages = Vec::new();
        for wire in self.state.apply(input) {
            wire.encode(&mut messages);
        }
        if let (Some(outbound), false) = (&self.outbound, messages.is_empty()) {
            // A failure ends the session through vnc-rs's side of the same socket.
            if let Err(error) = outbound.send(&messages) {
                tracing::debug!(%error, "input not sent");
            }
        }
    }

    fn disconnect(&mut self) {
        if let Some(outbound) = self.outbound.take() {
            outbound.close();
        }
    }
}

impl ConsoleSession {
    /// Connects to `source` on the console runtime; progress arrives as events.
    pub fn open(source: ConsoleSource, options: ConnectOptions) -> Self {
        let options = ConnectOptions {
            local: source.is_local(),
            server_name: options.server_name.or_else(|| match &source {
                ConsoleSource::Tcp { host, .. } => Some(host.clone()),
                _ => None,
            }),
            ..options
        };
        Self::start(async move { source.open().await }, options)
    }

    /// Runs the session over a stream the caller opens (inside the console runtime).
    pub fn start<F, S>(stream: F, options: ConnectOptions) -> Self
    where
        F: std::future::Future<Output = Result<S, ConsoleError>> + Send + 'static,
        S: ConsoleStream,
    {
        let framebuffer = Framebuffer::shared(1, 1).expect("1×1 is a valid size");
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = async_channel::bounded(EVENT_QUEUE);
        let fb = framebuffer.clone();
        let input = Arc::new(Mutex::new(InputLink::default()));
        let link = Arc::clone(&input);
        RUNTIME.spawn(async move {
            let mut task = Task {
                fb,
                events: event_tx,
                commands: command_rx,
                input: Arc::clone(&link),
                resizable: false,
                size: (0, 0),
            };
            let limit = options.handshake_timeout;
            let connect = async { task.connect(stream.await?, options).await };
            let result = match tokio::time::timeout(limit, connect).await {
                Err(_) => Err(ConsoleError::HandshakeTimeout),
                Ok(Err(error)) => Err(error),
                Ok(Ok((client, outbound))) => {
                    InputLink::lock(&link).outbound = Some(outbound);
                    let result = task.run(&client).await;
                    InputLink::lock(&link).disconnect();
                    let _ = client.close().await;
                    result
                }
            };
            if let Err(error) = &result {
                tracing::info!(%error, "console session ended");
            }
            let _ = task
                .events
                .send(ConsoleEvent::Disconnected {
                    error: result.err(),
                })
                .await;
        });
        Self {
            framebuffer,
            commands,
            events,
            input,
        }
    }

    /// The guest screen, shared with the session task.
    pub fn framebuffer(&self) -> &SharedFramebuffer {
        &self.framebuffer
    }

    /// Session events, to be received on the UI's main loop.
    pub fn events(&self) -> &async_channel::Receiver<ConsoleEvent> {
        &self.events
    }

    /// Forwards keyboard or mouse input; ignored once disconnected.
    pub fn send(&self, input: Input) {
        InputLink::lock(&self.input).send(&input);
    }

    /// Whether keys go out as scancodes (the server acknowledged QEMU Extended Key
    /// Events), and the guest's lock LEDs once the server told them.
    pub fn keyboard(&self) -> (bool, Option<Locks>) {
        let link = InputLink::lock(&self.input);
        (link.state.scancodes(), link.state.guest_locks())
    }

    /// Puts `text` on the guest's clipboard; text over [MAX_CLIPBOARD_TEXT] is not sent.
    pub fn send_cut_text(&self, text: String) {
        if text.len() <= MAX_CLIPBOARD_TEXT {
            let _ = self.commands.send(Command::CutText(text));
        }
    }

    /// Extended Clipboard: tells the guest whether this side's clipboard holds text.
    pub fn offer_clipboard(&self, text: bool) {
        let _ = self
            .commands
            .send(Command::Clipboard(X11Event::ClipboardNotify { text }));
    }

    /// Extended Clipboard: asks for the guest's text after `GuestClipboardChanged`.
    pub fn request_clipboard(&self) {
        let _ = self
            .commands
            .send(Command::Clipboard(X11Event::ClipboardRequest));
    }

    /// Extended Clipboard: this side's text, answering `ClipboardRequested`; text over
    /// [MAX_CLIPBOARD_TEXT] goes as none.
    pub fn provide_clipboard(&self, mut text: String) {
        if text.len() > MAX_CLIPBOARD_TEXT {
            text.clear();
        }
        let _ = self
            .commands
            .send(Command::Clipboard(X11Event::ClipboardProvide(text)));
    }

    /// Asks the server to resize the guest screen (ExtendedDesktopSize); the answer
    /// arrives as [`ConsoleEvent::DesktopResized`].
    pub fn resize_desktop(&self, width: u16, height: u16) {
        let _ = self.commands.send(Command::ResizeDesktop(width, height));
    }
}

/// The pixel encodings to ask for, the preferred first (the server takes the first it
/// knows). Locally Raw comes first; over a network, compression pays for itself.
fn pixel_encodings(local: bool) -> [VncEncoding; 4] {
    use VncEncoding::{CopyRect, Raw, Tight, Zrle};
    if local {
        [Raw, CopyRect, Tight, Zrle]
    } else {
        [Tight, Zrle, CopyRect, Raw]
    }
}

/// The stream vnc-rs runs over.
type Wire = Stream<Box<dyn ConsoleStream>>;

/// Starts TLS over the stream once VeNCrypt is agreed (tls.rs); the client is kept in
/// `slot` to explain a connection closed after the handshake.
fn tls_upgrade(
    host: String,
    credentials: Credentials,
    slot: Arc<OnceLock<Arc<tls::Client>>>,
) -> impl FnOnce(Wire, VeNCryptSubtype) -> vnc::TlsUpgradeFuture<Wire> + Send + Sync + 'static {
    move |mut stream, _subtype| {
        Box::pin(async move {
            let client = tls::Client::new(credentials, &host).map_err(TlsError::into_vnc)?;
            let client = slot.get_or_init(|| Arc::new(client));
            let (clear, relayed) = tokio::net::UnixStream::pair()?;
            let raw = stream.replace_inner(Box::new(clear))?;
            client
                .connect(raw, relayed)
                .await
                .map_err(TlsError::into_vnc)?;
            Ok(stream)
        })
    }
}

struct Task {
    fb: SharedFramebuffer,
    events: async_channel::Sender<ConsoleEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Learns what the server says about keys (scancodes accepted, the guest's LEDs).
    input: Arc<Mutex<InputLink>>,
    /// What the UI was last told in [`ConsoleEvent::GuestResizable`].
    resizable: bool,
    /// The screen size the UI was last told.
    size: (u32, u32),
}

/// Ends the session quietly: the UI dropped its side.
struct Gone;

impl Task {
    /// The RFB handshake; then input may go straight to the returned [`Outbound`].
    async fn connect<S: ConsoleStream>(
        &mut self,
        stream: S,
        options: ConnectOptions,
    ) -> Result<(VncClient, Arc<Outbound>), ConsoleError> {
        let stream: Box<dyn ConsoleStream> = Box::new(stream);
        let (stream, outbound) =
            Stream::new(stream).map_err(|e| ConsoleError::Connect(e.to_string()))?;
        let password = options.password;
        // vnc-rs reports a refused password (RFB 3.8) as a general error with the
        // server's reason: once the password was asked for, such an error is the refusal.
        let asked = Arc::new(AtomicBool::new(false));
        let asked_by_server = Arc::clone(&asked);
        let connector = VncConnector::new(stream).set_auth_method(async move {
            asked_by_server.store(true, Ordering::Relaxed);
            password.ok_or(vnc::VncError::NoPassword)
        });
        let host = options
            .server_name
            .unwrap_or_else(|| "localhost".to_owned());
        let credentials = options.tls_credentials.unwrap_or_else(Credentials::of_user);
        let tls = Arc::new(OnceLock::new());
        let connector = connector.set_tls_upgrade(
            &[VeNCryptSubtype::X509Vnc, VeNCryptSubtype::X509None],
            tls_upgrade(host, credentials, Arc::clone(&tls)),
        );
        let started = pixel_encodings(options.local)
            .into_iter()
            .fold(connector, VncConnector::add_encoding)
            .add_encoding(VncEncoding::CursorPseudo)
            .add_encoding(VncEncoding::DesktopSizePseudo)
            .add_encoding(VncEncoding::ExtendedDesktopSizePseudo)
            .add_encoding(VncEncoding::LastRectPseudo)
            .add_encoding(VncEncoding::QemuExtendedKeyEventPseudo)
            .add_encoding(VncEncoding::QemuLedStatePseudo)
            .add_encoding(VncEncoding::ExtendedClipboardPseudo)
            .set_pixel_sink(Arc::new(FramebufferSink(Arc::clone(&self.fb))))
            .allow_shared(options.shared)
            .set_pixel_format(PixelFormat::bgra())
            .build()?
            .try_start()
            .await;
        match started {
            Err(vnc::VncError::General(reason)) if asked.load(Ordering::Relaxed) => {
                // QEMU counts the C string's terminating NUL in the reason.
                let reason = reason.trim_end_matches('\0').to_owned();
                Err(ConsoleError::AuthenticationFailed(reason))
            }
            Err(error) => {
                let error = ConsoleError::from(error);
                let closed = error == ConsoleError::ServerClosed;
                // A host that wants a client certificate closes the connection once
                // the handshake is done, without saying why.
                match tls.get().and_then(|client: &Arc<tls::Client>| {
                    closed.then(|| client.closed_after_handshake()).flatten()
                }) {
                    Some(tls) => Err(ConsoleError::Tls(tls)),
                    None => Err(error),
                }
            }
            Ok(started) => Ok((started.finish()?, outbound)),
        }
    }

    async fn run(&mut self, client: &VncClient) -> Result<(), ConsoleError> {
        // vnc-rs queues the server's screen size before anything else.
        let first = client.recv_event().await?;
        let Some(ConsoleEvent::Resized { width, height }) = apply(&self.fb, &mut self.size, first)?
        else {
            return Err(ConsoleError::Protocol("no screen size".into()));
        };
        if self
            .emit(ConsoleEvent::Connected { width, height })
            .await
            .is_err()
        {
            return Ok(());
        }
        loop {
            let step = tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    None => return Ok(()),
                    Some(command) => self.commands_from(command, client).await,
                },
                event = client.recv_event() => self.events_from(event?, client).await,
            };
            match step {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Err(error),
                Err(Gone) => return Ok(()),
            }
        }
    }

    /// Sends `first` and every other command already queued.
    async fn commands_from(
        &mut self,
        first: Command,
        client: &VncClient,
    ) -> Result<Result<(), ConsoleError>, Gone> {
        let mut next = Some(first);
        while let Some(command) = next {
            let sent = match command {
                Command::CutText(text) => client.input(X11Event::CopyText(text)).await,
                Command::Clipboard(message) => client.input(message).await,
                Command::ResizeDesktop(width, height) => {
                    self.resize(client, width, height);
                    Ok(())
                }
            };
            if let Err(error) = sent {
                return Ok(Err(error.into()));
            }
            next = self.commands.try_recv().ok();
        }
        Ok(Ok(()))
    }

    /// Resizing waits for the server's answer while events keep flowing, so it runs
    /// beside the session loop.
    fn resize(&self, client: &VncClient, width: u16, height: u16) {
        let client = client.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let result = client
                .resize_desktop(width, height)
                .await
                .map(|layout| (layout.width, layout.height))
                .map_err(|e| e.to_string());
            let _ = events.send(ConsoleEvent::DesktopResized(result)).await;
        });
    }

    /// Applies `first` and every other event already decoded, then asks for the next
    /// update if this burst belonged to one.
    async fn events_from(
        &mut self,
        first: vnc::VncEvent,
        client: &VncClient,
    ) -> Result<Result<(), ConsoleError>, Gone> {
        let mut updated = false;
        let mut next = Some(first);
        while let Some(event) = next {
            updated |= is_update(&event);
            self.keys_from(&event);
            if let Some(resizable) = self.resizable_from(&event) {
                self.emit(ConsoleEvent::GuestResizable(resizable)).await?;
            }
            let message = match apply(&self.fb, &mut self.size, event) {
                Ok(message) => message,
                Err(error) => return Ok(Err(error)),
            };
            if let Some(message) = message {
                self.emit(message).await?;
            }
            next = match client.poll_event().await {
                Ok(next) => next,
                Err(error) => return Ok(Err(error.into())),
            };
        }
        if updated {
            if let Err(error) = client.input(X11Event::Refresh).await {
                return Ok(Err(error.into()));
            }
        }
        Ok(Ok(()))
    }

    /// Whether a screen layout changed what "Resize guest to window" can do; `None`
    /// when it did not.
    fn resizable_from(&mut self, event: &vnc::VncEvent) -> Option<bool> {
        let vnc::VncEvent::DesktopUpdate(vnc::DesktopUpdate {
            layout: Some(layout),
            ..
        }) = event
        else {
            return None;
        };
        let resizable = matches!(layout.screens.as_slice(), [screen]
            if (screen.x, screen.y, screen.width, screen.height) == (0, 0, layout.width, layout.height));
        (self.resizable != resizable).then(|| {
            self.resizable = resizable;
            resizable
        })
    }

    /// What the server says about keys goes to the input side.
    fn keys_from(&self, event: &vnc::VncEvent) {
        match event {
            vnc::VncEvent::QemuExtendedKeyEvent => {
                tracing::debug!("the server takes keys as scancodes");
                InputLink::lock(&self.input).state.set_scancodes(true);
            }
            vnc::VncEvent::LedState(leds) => {
                InputLink::lock(&self.input).state.set_guest_locks(Locks {
                    caps_lock: leds.caps_lock,
                    num_lock: leds.num_lock,
                });
            }
            _ => {}
        }
    }

    async fn emit(&self, event: ConsoleEvent) -> Result<(), Gone> {
        self.events.send(event).await.map_err(|_| Gone)
    }
}
