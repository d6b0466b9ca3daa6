//! Where the console's byte stream comes from.
//!
//! Local guests: libvirt hands over a connected socket (`virDomainOpenGraphicsFD`, see
//! [`crate::libvirt::events::open_graphics_fd`]), so no TCP port has to be reachable.
//! Remote guests: a stream through an SSH tunnel to the display on the guest's host
//! (`crate::libvirt::ssh`), or a TCP connection to the graphics listen address.

use std::os::fd::{AsFd, OwnedFd};

use tokio::io::{AsyncRead, AsyncWrite};

use super::error::ConsoleError;

/// A byte stream the console can run over.
pub trait ConsoleStream: AsyncRead + AsyncWrite + AsFd + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + AsFd + Send + Sync + Unpin + 'static> ConsoleStream for T {}

/// How to reach a guest's VNC server.
#[derive(Debug)]
pub enum ConsoleSource {
    /// A TCP address, e.g. the `listen` address and `port` of `<graphics type='vnc'>`.
    Tcp { host: String, port: u16 },
    /// A connected stream socket, such as the one `virDomainOpenGraphicsFD` returns.
    Socket(OwnedFd),
    /// A connected stream socket that leads through an SSH tunnel to a display on another
    /// computer: read and written like [`ConsoleSource::Socket`], but not local.
    Tunnel(OwnedFd),
}

impl ConsoleSource {
    /// Whether the server runs on this machine: a socket handed over, or a loopback
    /// address.
    pub fn is_local(&self) -> bool {
        match self {
            ConsoleSource::Socket(_) => true,
            ConsoleSource::Tunnel(_) => false,
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
            ConsoleSource::Socket(fd) | ConsoleSource::Tunnel(fd) => {
                let std = std::os::unix::net::UnixStream::from(fd);
                std.set_nonblocking(true).map_err(connect_error)?;
                let stream = tokio::net::UnixStream::from_std(std).map_err(connect_error)?;
                Ok(Box::new(stream))
            }
        }
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
        let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(!ConsoleSource::Tunnel(socket.into()).is_local());
    }
}
