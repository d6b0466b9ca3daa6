//! The guest console: an RFB (VNC) session, GUI-free.
//!
//! ```text
//! socket ─▶ vnc-rs network task ─▶ vnc-rs decoder ─▶ SharedFramebuffer (pixels, damaged tiles)
//!   ▲                                   │ events           ▲ take_damage / copy_tile
//!   │                                   ▼                  │
//!   │                              session task ──▶ ConsoleEvent ──▶ widget
//!   └── Outbound ◀── Input (caller's thread)        (async-channel)
//! ```
//!
//! vnc-rs's decoder writes every rectangle into the framebuffer itself, in the server's
//! order (apply.rs, `FramebufferSink`): Raw pixels go from the socket's buffers into the
//! framebuffer with one copy. The session task handles the other events and, at the end
//! of each update, tells the widget there is damage and asks for the next update.
//!
//! Everything runs on one process-wide tokio runtime ([`RUNTIME`], two worker threads, so
//! that the session task goes on while a large update is being decoded). The widget owns a
//! [`ConsoleSession`], receives its [`ConsoleEvent`]s on the GTK main loop, copies damaged
//! tiles out of the framebuffer, and maps pointer positions through a [`Viewport`] before
//! sending [`Input`], which is written to the socket from the widget's thread, in order
//! with vnc-rs's own messages (outbound.rs).

mod apply;
pub mod error;
pub mod framebuffer;
pub mod input;
pub mod input_times;
pub mod keymap;
mod outbound;
pub mod paste;
pub mod pointer;
pub mod session;
pub mod source;
pub mod tls;

use std::sync::LazyLock;

pub use error::ConsoleError;
pub use framebuffer::{CursorImage, Framebuffer, SharedFramebuffer, TileRect};
pub use input::{Input, InputState, Locks, Scroll, Wire};
pub use keymap::{keyval_to_keysym, Key, SendKey};
pub use pointer::{Area, RelativeMotion, Scaling, Viewport};
pub use session::{ConnectOptions, ConsoleEvent, ConsoleSession};
pub use source::ConsoleSource;
pub use tls::{Credentials, TlsError};

/// The tokio runtime of all console sessions: two worker threads named `vd-console`.
pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vd-console")
        .enable_all()
        .build()
        .expect("the console runtime could not start (no threads left?)")
});
