//! The client's side of the socket, shared by vnc-rs and the UI thread.
//!
//! Keys and pointer moves are written to the socket by the thread that receives them
//! from the toolkit, at once, instead of crossing the session task and vnc-rs's network
//! task first: on a busy machine each crossing means waiting for a CPU. vnc-rs keeps
//! writing its own messages (update requests, clipboard) through [`Stream`].
//!
//! Both writers go through one [`Outbound`] under a mutex, so whole messages never
//! interleave. A message that the socket does not take at once (a full send buffer)
//! waits in its queue, behind which every later message waits too; vnc-rs's network
//! task, which polls the stream for reading all the time, drains it.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The largest read handed to the protocol engine at once. vnc-rs queues up to 4096
/// reads between its network and decoding tasks; capping each one bounds that queue to
/// 64 MiB when a server sends faster than the decoder can follow.
pub const MAX_READ: usize = 16 * 1024;

/// Bytes that may wait for a server that stopped reading before the session gives up.
const MAX_QUEUED: usize = 1024 * 1024;

/// The write side of one connection.
pub struct Outbound {
    inner: Mutex<Queue>,
}

struct Queue {
    /// A second handle on the socket, for writes from outside the runtime; `None` once
    /// the session ended, so that it never keeps the connection open.
    socket: Option<File>,
    /// Bytes written to no one yet, oldest first.
    queued: Vec<u8>,
    /// The network task, woken to drain `queued`.
    reader: Option<Waker>,
}

impl Outbound {
    /// Sends one whole message now, or queues it behind earlier ones. Fails when the
    /// session has ended or the server stopped reading.
    pub fn send(&self, message: &[u8]) -> io::Result<()> {
        let mut queue = self.lock();
        let Some(socket) = &queue.socket else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let written = if queue.queued.is_empty() {
            match (&*socket).write(message) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) => return Err(e),
            }
        } else {
            0
        };
        if written < message.len() {
            queue.enqueue(&message[written..])?;
            if let Some(reader) = &queue.reader {
                reader.wake_by_ref();
            }
        }
        Ok(())
    }

    /// Stops writes from outside the runtime and lets the socket close with the stream.
    pub fn close(&self) {
        self.lock().socket = None;
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding it; should it, the bytes are still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Queue {
    fn enqueue(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.queued.len() + bytes.len() > MAX_QUEUED {
            return Err(io::Error::other("the server stopped reading"));
        }
        self.queued.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes what is queued until the socket would block (then `cx` is woken when it
    /// can take more). Ready once the queue is empty.
    fn drain<S: AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while !self.queued.is_empty() {
            match Pin::new(&mut *stream).poll_write(cx, &self.queued) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.queued.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The stream vnc-rs runs over: reads pass through (at most [`MAX_READ`] at once),
/// writes go through the shared [`Outbound`].
pub struct Stream<S> {
    inner: S,
    outbound: Arc<Outbound>,
}

impl<S: AsFd> Stream<S> {
    /// Wraps `inner`; the returned [`Outbound`] writes to the same socket.
    pub fn new(inner: S) -> io::Result<(Self, Arc<Outbound>)> {
        let socket = File::from(inner.as_fd().try_clone_to_owned()?);
        let outbound = Arc::new(Outbound {
            inner: Mutex::new(Queue {
                socket: Some(socket),
                queued: Vec::new(),
                reader: None,
            }),
        });
        let stream = Stream {
            inner,
            outbound: Arc::clone(&outbound),
        };
        Ok((stream, outbound))
    }

    /// Goes on over `inner` instead (the clear side of a TLS relay), for vnc-rs and the
    /// [`Outbound`] alike; returns the stream it ran over until now. Only between
    /// messages: nothing may be queued.
    pub fn replace_inner(&mut self, inner: S) -> io::Result<S> {
        let socket = File::from(inner.as_fd().try_clone_to_owned()?);
        let mut queue = self.outbound.lock();
        if !queue.queued.is_empty() {
            return Err(io::Error::other("a message is still on its way"));
        }
        queue.socket = Some(socket);
        Ok(std::mem::replace(&mut self.inner, inner))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        {
            let mut queue = this.outbound.lock();
            if !queue
                .reader
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                queue.reader = Some(cx.waker().clone());
            }
            if let Poll::Ready(Err(e)) = queue.drain(&mut this.inner, cx) {
                return Poll::Ready(Err(e));
            }
        }
        if buf.remaining() <= MAX_READ {
            // vnc-rs reads at most this much: its buffer goes to the socket as it is,
            // without being zeroed first.
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let mut part = ReadBuf::new(buf.initialize_unfilled_to(MAX_READ));
        match Pin::new(&mut this.inner).poll_read(cx, &mut part) {
            Poll::Ready(Ok(())) => {
                let read = part.filled().len();
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    /// Takes all of `data`: what the socket does not take at once is queued.
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let mut queue = this.outbound.lock();
        let written = match queue.drain(&mut this.inner, cx) {
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => 0,
            Poll::Ready(Ok(())) => match Pin::new(&mut this.inner).poll_write(cx, data) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => 0,
            },
        };
        if written < data.len() {
            queue.enqueue(&data[written..])?;
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.outbound.lock().drain(&mut this.inner, cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Messages from the runtime and from another thread arrive whole and in order,
    /// also when the peer reads slowly enough for the send buffer to fill.
    #[test]
    fn messages_from_both_writers_arrive_whole_and_in_order() {
        runtime().block_on(async {
            let (ours, mut peer) = tokio::net::UnixStream::pair().unwrap();
            let (mut stream, outbound) = Stream::new(ours).unwrap();
            let writer = std::thread::spawn(move || {
                for i in 0..20_000u32 {
                    let mut message = [b'K'; 8];
                    message[4..].copy_from_slice(&i.to_be_bytes());
                    outbound.send(&message).unwrap();
                }
            });
            let runtime_side = async {
                for i in 0..20_000u32 {
                    let mut message = [b'R'; 8];
                    message[4..].copy_from_slice(&i.to_be_bytes());
                    stream.write_all(&message).await.unwrap();
                }
                stream.flush().await.unwrap();
                // Keep polling reads, as vnc-rs's network task does, to drain the rest,
                // until the peer says it has everything.
                let mut done = [0u8; 1];
                stream.read_exact(&mut done).await.unwrap();
            };
            let reader = async {
                let mut next = (0u32, 0u32);
                let mut message = [0u8; 8];
                while next != (20_000, 20_000) {
                    peer.read_exact(&mut message).await.unwrap();
                    let n = u32::from_be_bytes(message[4..].try_into().unwrap());
                    let (kind, expected) = match message[0] {
                        b'K' => ('K', &mut next.0),
                        b'R' => ('R', &mut next.1),
                        other => panic!("a torn message starting with {other}"),
                    };
                    assert_eq!(&message[1..4], &[kind as u8; 3], "a torn message");
                    assert_eq!(n, *expected, "{kind} out of order");
                    *expected += 1;
                }
                peer.write_all(b"!").await.unwrap();
            };
            tokio::join!(runtime_side, reader);
            writer.join().unwrap();
        });
    }

    #[test]
    fn a_closed_outbound_refuses_and_no_longer_holds_the_socket() {
        runtime().block_on(async {
            let (ours, mut peer) = tokio::net::UnixStream::pair().unwrap();
            let (stream, outbound) = Stream::new(ours).unwrap();
            outbound.send(b"hello").unwrap();
            outbound.close();
            assert_eq!(
                outbound.send(b"again").unwrap_err().kind(),
                io::ErrorKind::NotConnected
            );
            drop(stream);
            let mut all = Vec::new();
            peer.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"hello");
        });
    }

    #[test]
    fn a_server_that_stops_reading_ends_the_session() {
        let (ours, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let runtime = runtime();
        let _guard = runtime.enter();
        let ours = tokio::net::UnixStream::from_std(ours).unwrap();
        let (_stream, outbound) = Stream::new(ours).unwrap();
        let message = [0u8; 8];
        let failed = (0..MAX_QUEUED).find_map(|_| outbound.send(&message).err());
        assert_eq!(
            failed.map(|e| e.to_string()).as_deref(),
            Some("the server stopped reading")
        );
    }
}
