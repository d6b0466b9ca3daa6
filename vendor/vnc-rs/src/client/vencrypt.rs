//! VeNCrypt (RFB security type 19): the client's side of the negotiation that comes
//! before TLS. The TLS itself is the caller's ([`crate::VncConnector::set_tls_upgrade`]),
//! so that this crate needs no TLS library and the caller chooses how certificates are
//! found and checked.
//!
//! ```text
//! server: version (u8 major, u8 minor)      client: 0, 2
//! server: 0 (accepted) or other (refused)
//! server: u8 count, count × u32 subtypes    client: u32 subtype
//! server: 1 (accepted) or 0 (refused)       then TLS, then the subtype's own
//!                                           authentication inside it
//! ```

use std::future::Future;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::VncError;

/// The VeNCrypt subtypes that run over TLS and that a client can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VeNCryptSubtype {
    /// Anonymous TLS, no further authentication.
    TlsNone,
    /// Anonymous TLS, then VNC authentication.
    TlsVnc,
    /// TLS with the server's X.509 certificate, no further authentication.
    X509None,
    /// TLS with the server's X.509 certificate, then VNC authentication.
    X509Vnc,
}

impl VeNCryptSubtype {
    /// The subtype's number on the wire.
    pub fn code(self) -> u32 {
        match self {
            Self::TlsNone => 257,
            Self::TlsVnc => 258,
            Self::X509None => 260,
            Self::X509Vnc => 261,
        }
    }

    /// Whether the server proves itself with an X.509 certificate (else the TLS is
    /// anonymous).
    pub fn x509(self) -> bool {
        matches!(self, Self::X509None | Self::X509Vnc)
    }

    /// Whether VNC authentication (a password) follows inside the TLS.
    pub fn vnc_auth(self) -> bool {
        matches!(self, Self::TlsVnc | Self::X509Vnc)
    }
}

/// The future a [`TlsUpgrade`] returns: the stream that now runs over TLS.
pub type TlsUpgradeFuture<S> = Pin<Box<dyn Future<Output = Result<S, VncError>> + Send + Sync>>;

/// Starts TLS on the connection once the server accepted `subtype`: a TLS client
/// handshake over the stream, returning a stream that encrypts.
pub type TlsUpgrade<S> = Box<dyn FnOnce(S, VeNCryptSubtype) -> TlsUpgradeFuture<S> + Send + Sync>;

/// Negotiates the VeNCrypt version and a subtype, the first of `supported` (in the
/// client's order of preference) that the server offers. Returns it once the server
/// accepted it; TLS starts next.
pub(super) async fn negotiate<S>(
    stream: &mut S,
    supported: &[VeNCryptSubtype],
) -> Result<VeNCryptSubtype, VncError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let major = stream.read_u8().await?;
    let minor = stream.read_u8().await?;
    if (major, minor) < (0, 2) {
        return Err(VncError::VeNCrypt(format!(
            "the server speaks version {major}.{minor}, this client 0.2"
        )));
    }
    stream.write_all(&[0, 2]).await?;
    if stream.read_u8().await? != 0 {
        return Err(VncError::VeNCrypt(
            "the server refused version 0.2".to_owned(),
        ));
    }
    // At most 255 subtypes: the count is one byte.
    let count = stream.read_u8().await?;
    let mut offered = Vec::with_capacity(count.into());
    for _ in 0..count {
        offered.push(stream.read_u32().await?);
    }
    tracing::trace!("VeNCrypt subtypes offered: {offered:?}");
    let Some(chosen) = supported
        .iter()
        .copied()
        .find(|subtype| offered.contains(&subtype.code()))
    else {
        return Err(VncError::VeNCrypt(format!(
            "no subtype in common: the server offers {offered:?}, this client {:?}",
            supported.iter().map(|s| s.code()).collect::<Vec<_>>()
        )));
    };
    stream.write_all(&chosen.code().to_be_bytes()).await?;
    stream.flush().await?;
    match stream.read_u8().await? {
        1 => Ok(chosen),
        _ => Err(VncError::VeNCrypt(format!(
            "the server refused subtype {}",
            chosen.code()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VeNCryptSubtype::*;

    /// Runs `negotiate` against a server that sends `from_server`; returns the result
    /// and what the client wrote.
    async fn against(
        from_server: &[u8],
        supported: &[VeNCryptSubtype],
    ) -> (Result<VeNCryptSubtype, VncError>, Vec<u8>) {
        let (mut client, mut server) = tokio::io::duplex(4096);
        server.write_all(from_server).await.unwrap();
        // Then the server sends nothing more: the client must not wait for it.
        server.shutdown().await.unwrap();
        let result = negotiate(&mut client, supported).await;
        drop(client);
        let mut written = Vec::new();
        server.read_to_end(&mut written).await.unwrap();
        (result, written)
    }

    fn offer(subtypes: &[u32]) -> Vec<u8> {
        let mut bytes = vec![0, 2, 0, subtypes.len() as u8];
        for subtype in subtypes {
            bytes.extend(subtype.to_be_bytes());
        }
        bytes
    }

    #[tokio::test]
    async fn the_first_supported_subtype_the_server_offers_is_chosen() {
        let mut server = offer(&[2, 258, 261, 260]);
        server.push(1);
        let (result, written) = against(&server, &[X509Vnc, X509None]).await;
        assert_eq!(result.unwrap(), X509Vnc);
        assert_eq!(written, [0, 2, 0, 0, 1, 5]);
    }

    #[tokio::test]
    async fn hostile_or_unusable_offers_are_errors_before_anything_is_chosen() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("old version", vec![0, 1]),
            ("refused version", vec![0, 2, 1]),
            ("no subtypes", offer(&[])),
            ("only plain and anonymous", offer(&[1, 2, 256, 257, 258])),
            ("unknown numbers", offer(&[u32::MAX, 0, 19, 262])),
            // 255 subtypes announced, 2 sent, then the server closes.
            ("short list", vec![0, 2, 0, 255, 0, 0, 1, 5, 0, 0, 1, 4]),
            ("closed at once", vec![]),
        ];
        for (case, server) in cases {
            let (result, written) = against(&server, &[X509Vnc, X509None]).await;
            assert!(
                matches!(result, Err(VncError::VeNCrypt(_) | VncError::IoError(_))),
                "{case}: {result:?}"
            );
            assert!(
                written.len() <= 2,
                "{case}: a subtype was chosen: {written:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_refused_subtype_is_an_error() {
        let mut server = offer(&[260]);
        server.push(0);
        let (result, written) = against(&server, &[X509Vnc, X509None]).await;
        assert!(matches!(result, Err(VncError::VeNCrypt(reason)) if reason.contains("260")));
        assert_eq!(written, [0, 2, 0, 0, 1, 4]);
    }
}
