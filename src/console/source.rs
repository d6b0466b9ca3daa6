//! Where the console's byte stream comes from.
//!
//! Local guests: libvirt hands over a connected socket (`virDomainOpenGraphicsFD`, see
//! [`crate::libvirt::events::open_graphics_fd`]), so no TCP port has to be reachable.
//! Remote guests: a TCP connection to the graphics listen address.

use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::error::ConsoleError;

/// The largest read handed to the protocol engine at once. vnc-rs queues up to 4096
/// reads between its network and decoding tasks; capping each one bounds that queue to
/// 64 MiB when a server sends faster than the decoder can follow.
pub const MAX_READ: usize = 16 * 1024;

/// A byte stream the console can run over.
pub trait ConsoleStream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> ConsoleStream for T {}

/// How to reach a guest's VNC server.
#[derive(Debug)]
pub enum ConsoleSource {
    /// A TCP address, e.g. the `listen` address and `port` of `<graphics type='vnc'>`.
    Tcp { host: String, port: u16 },
    /// A connected stream socket, such as the one `virDomainOpenGraphicsFD` returns.
    Socket(OwnedFd),
}

impl ConsoleSource {
    /// Whether the server runs on this machine: a socket handed over, or a loopback
    /// address.
    pub fn is_local(&self) -> bool {
        match self {
            ConsoleSource::Socket(_) => true,
            ConsoleSource::Tcp { host, .. } => {
                host.eq_ignore_ascii_case("localhost")
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        }
    }

    /// Opens the stream. Must run inside the console runtime.
    pub(crate) async fn open(self) -> Result<Box<dyn ConsoleStream>, ConsoleError> {
        let connect_error = |e: std::io::Error| ConsoleError::Connect(e.to_string());
        match self {
            ConsoleSource::Tcp { host, port } => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), port))
                    .await
                    .map_err(connect_error)?;
                stream.set_nodelay(true).map_err(connect_error)?;
                Ok(Box::new(stream))
            }
            ConsoleSource::Socket(fd) => {
                let std = std::os::unix::net::UnixStream::from(fd);
                std.set_nonblocking(true).map_err(connect_error)?;
                let stream = tokio::net::UnixStream::from_std(std).map_err(connect_error)?;
                Ok(Box::new(stream))
            }
        }
    }
}

/// Passes reads and writes through, handing out at most [`MAX_READ`] bytes per read.
pub(crate) struct Chunked<S>(pub S);

impl<S: AsyncRead + Unpin> AsyncRead for Chunked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let limit = buf.remaining().min(MAX_READ);
        let mut part = ReadBuf::new(buf.initialize_unfilled_to(limit));
        match Pin::new(&mut self.0).poll_read(cx, &mut part) {
            Poll::Ready(Ok(())) => {
                let read = part.filled().len();
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Chunked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str) -> ConsoleSource {
        ConsoleSource::Tcp {
            host: host.into(),
            port: 5900,
        }
    }

    #[test]
    fn loopback_addresses_and_handed_over_sockets_are_local() {
        assert!(tcp("127.0.0.1").is_local());
        assert!(tcp("127.3.2.1").is_local());
        assert!(tcp("::1").is_local());
        assert!(tcp("LocalHost").is_local());
        let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(ConsoleSource::Socket(socket.into()).is_local());
    }

    #[test]
    fn other_addresses_are_remote() {
        assert!(!tcp("192.0.2.7").is_local());
        assert!(!tcp("0.0.0.0").is_local());
        assert!(!tcp("host.example").is_local());
        assert!(!tcp("localhost.example").is_local());
    }
}
