//! VNC over TLS: VeNCrypt's X.509 subtypes, which QEMU offers when the host's qemu.conf
//! has `vnc_tls = 1`.
//!
//! The certificates are the ones libvirt's `qemu+tls://` connections use: the CA that
//! signed the host's certificates, and this computer's client certificate and key, which
//! the host asks for when qemu.conf has `vnc_tls_x509_verify = 1`. Each file is taken
//! from `~/.pki/libvirt/` when it is there, else from the system-wide place
//! ([`Credentials::locate`]). The server's certificate must be signed by that CA and name
//! the host the user connected to (the host of the libvirt URI, also through an SSH
//! tunnel).
//!
//! vnc-rs negotiates VeNCrypt and hands the stream over for the TLS handshake
//! ([`upgrade`]). Keys are written to the socket from the toolkit's thread
//! (`outbound.rs`), which cannot take part in TLS: so the encrypted stream is relayed
//! to one end of a socket pair by a task of its own, and the session goes on over the
//! other end in the clear, as over any other socket.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{AlertDescription, CertificateError};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixStream;

/// What can go wrong with TLS, as sentences a person can read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TlsError {
    #[error("The console requires TLS, and no CA certificate was found (looked for {0}).")]
    NoCa(String),
    #[error("The certificate file {path} cannot be used: {detail}")]
    BadFile { path: String, detail: String },
    #[error("“{0}” is not a host name a certificate can be checked against.")]
    BadServerName(String),
    #[error("The console's certificate is not signed by the CA in {ca}.")]
    UnknownCa { ca: String },
    #[error("The console's certificate is not made out to {host}: {detail}")]
    WrongHost { host: String, detail: String },
    #[error("The console's certificate has expired or is not valid yet.")]
    Expired,
    #[error("The console's certificate was refused: {0}")]
    BadCertificate(String),
    #[error(
        "The console requires a client certificate, and none was found (looked for {cert} and {key})."
    )]
    ClientCertificateRequired { cert: String, key: String },
    #[error("The console refused this computer's client certificate {cert}.")]
    ClientCertificateRefused { cert: String },
    #[error("The TLS connection to the console failed: {0}")]
    Handshake(String),
    #[error("The console's TLS negotiation failed: {0}")]
    Negotiation(String),
    #[error("The console requires TLS, which this connection cannot offer.")]
    Required,
}

impl TlsError {
    /// `self` as vnc-rs's error, through which it comes back ([`TlsError::carried_by`]).
    pub fn into_vnc(self) -> vnc::VncError {
        vnc::VncError::IoError(std::io::Error::other(self))
    }

    /// The error an I/O error carries, when it is one.
    pub fn carried_by(error: &std::io::Error) -> Option<Self> {
        error.get_ref()?.downcast_ref::<Self>().cloned()
    }
}

/// Where the CA certificate, the client certificate and its key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Credentials {
    /// libvirt's places: each file from `home`'s `.pki/libvirt/` when it exists there,
    /// else `/etc/pki/CA/cacert.pem`, `/etc/pki/libvirt/clientcert.pem` and
    /// `/etc/pki/libvirt/private/clientkey.pem`.
    pub fn locate(home: Option<&Path>) -> Self {
        let pick = |user: &str, system: &str| {
            home.map(|home| home.join(".pki/libvirt").join(user))
                .filter(|path| path.is_file())
                .unwrap_or_else(|| PathBuf::from(system))
        };
        Self {
            ca: pick("cacert.pem", "/etc/pki/CA/cacert.pem"),
            cert: pick("clientcert.pem", "/etc/pki/libvirt/clientcert.pem"),
            key: pick("clientkey.pem", "/etc/pki/libvirt/private/clientkey.pem"),
        }
    }

    /// [`Credentials::locate`] in the user's home directory (`$HOME`).
    pub fn of_user() -> Self {
        Self::locate(std::env::var_os("HOME").map(PathBuf::from).as_deref())
    }
}

/// What one TLS connection learnt about client certificates, kept after the
/// handshake: a host that wants one but is not satisfied closes the connection only
/// after the handshake, which is then explained by [`Client::closed_after_handshake`].
#[derive(Debug, Default)]
struct Asked {
    certificate: AtomicBool,
}

/// A TLS client for one console connection.
pub struct Client {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    credentials: Credentials,
    has_certificate: bool,
    asked: Arc<Asked>,
}

impl Client {
    /// Reads the certificates and checks `host` (the name the server's certificate must
    /// carry: a DNS name or an IP address).
    pub fn new(credentials: Credentials, host: &str) -> Result<Self, TlsError> {
        let host = host.trim_matches(['[', ']']);
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| TlsError::BadServerName(host.to_owned()))?;
        // rustls marks *ring* as lacking post-quantum key exchange, which the GnuTLS of
        // QEMU's hosts does not offer either; aws-lc-rs would need cmake and nasm.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = root_store(&credentials.ca)?;
        let own = client_certificate(&credentials, &provider)?;
        let has_certificate = own.is_some();
        let asked = Arc::new(Asked::default());
        let resolver = Arc::new(Resolver {
            own,
            asked: Arc::clone(&asked),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Handshake(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_cert_resolver(resolver);
        Ok(Self {
            config: Arc::new(config),
            name,
            credentials,
            has_certificate,
            asked,
        })
    }

    /// The TLS handshake over `stream`; then a task on the current runtime relays
    /// between it and `clear`, whose peer carries the session in the clear.
    pub async fn connect<S>(&self, stream: S, mut clear: UnixStream) -> Result<(), TlsError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.config));
        let mut tls = connector
            .connect(self.name.clone(), stream)
            .await
            .map_err(|e| self.handshake_error(e))?;
        tokio::spawn(async move {
            if let Err(error) = tokio::io::copy_bidirectional(&mut tls, &mut clear).await {
                tracing::debug!(%error, "TLS relay ended");
            }
        });
        Ok(())
    }

    /// Why the server closed the connection right after a handshake that succeeded,
    /// when it had asked for a client certificate: it did not accept the one sent, or
    /// there was none.
    pub fn closed_after_handshake(&self) -> Option<TlsError> {
        if !self.asked.certificate.load(Ordering::Relaxed) {
            return None;
        }
        Some(self.certificate_problem())
    }

    fn certificate_problem(&self) -> TlsError {
        if self.has_certificate {
            TlsError::ClientCertificateRefused {
                cert: self.credentials.cert.display().to_string(),
            }
        } else {
            TlsError::ClientCertificateRequired {
                cert: self.credentials.cert.display().to_string(),
                key: self.credentials.key.display().to_string(),
            }
        }
    }

    fn handshake_error(&self, error: std::io::Error) -> TlsError {
        let Some(tls) = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        else {
            return TlsError::Handshake(error.to_string());
        };
        match tls {
            rustls::Error::InvalidCertificate(certificate) => self.certificate_error(certificate),
            rustls::Error::AlertReceived(
                AlertDescription::CertificateRequired
                | AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::HandshakeFailure,
            ) if self.asked.certificate.load(Ordering::Relaxed) => self.certificate_problem(),
            other => TlsError::Handshake(other.to_string()),
        }
    }

    fn certificate_error(&self, error: &CertificateError) -> TlsError {
        match error {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                TlsError::UnknownCa {
                    ca: self.credentials.ca.display().to_string(),
                }
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsError::WrongHost {
                    host: self.name.to_str().into_owned(),
                    detail: error.to_string(),
                }
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsError::Expired,
            other => TlsError::BadCertificate(other.to_string()),
        }
    }
}

fn bad_file(path: &Path, detail: impl ToString) -> TlsError {
    TlsError::BadFile {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// The CA certificates in the PEM file at `path`.
fn root_store(path: &Path) -> Result<rustls::RootCertStore, TlsError> {
    if !path.is_file() {
        return Err(TlsError::NoCa(path.display().to_string()));
    }
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path).map_err(|e| bad_file(path, e))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| bad_file(path, e))?;
        roots.add(certificate).map_err(|e| bad_file(path, e))?;
    }
    if roots.is_empty() {
        return Err(bad_file(path, "no certificate in it"));
    }
    Ok(roots)
}

/// The client certificate and its key, when both files exist.
fn client_certificate(
    credentials: &Credentials,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<Option<Arc<rustls::sign::CertifiedKey>>, TlsError> {
    let (cert, key) = (&credentials.cert, &credentials.key);
    if !cert.is_file() || !key.is_file() {
        return Ok(None);
    }
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad_file(cert, e))?;
    if chain.is_empty() {
        return Err(bad_file(cert, "no certificate in it"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| bad_file(key, e))?;
    let signing = provider
        .key_provider
        .load_private_key(private)
        .map_err(|e| bad_file(key, e))?;
    Ok(Some(Arc::new(rustls::sign::CertifiedKey::new(
        chain, signing,
    ))))
}

/// Offers the client certificate when the server asks, and remembers that it asked.
#[derive(Debug)]
struct Resolver {
    own: Option<Arc<rustls::sign::CertifiedKey>>,
    asked: Arc<Asked>,
}

impl rustls::client::ResolvesClientCert for Resolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.certificate.store(true, Ordering::Relaxed);
        self.own.clone()
    }

    fn has_certs(&self) -> bool {
        self.own.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_the_users_own_when_it_is_there() {
        let home = std::env::temp_dir().join(format!("vd-tls-home-{}", std::process::id()));
        let pki = home.join(".pki/libvirt");
        std::fs::create_dir_all(&pki).unwrap();
        std::fs::write(pki.join("cacert.pem"), "").unwrap();
        let found = Credentials::locate(Some(&home));
        std::fs::remove_dir_all(&home).unwrap();
        assert_eq!(found.ca, pki.join("cacert.pem"));
        assert_eq!(found.cert, Path::new("/etc/pki/libvirt/clientcert.pem"));
        assert_eq!(
            found.key,
            Path::new("/etc/pki/libvirt/private/clientkey.pem")
        );
        assert_eq!(
            Credentials::locate(None).ca,
            Path::new("/etc/pki/CA/cacert.pem")
        );
    }

    #[test]
    fn a_missing_ca_or_a_bad_host_name_is_told_before_connecting() {
        let credentials = Credentials {
            ca: "/nonexistent/cacert.pem".into(),
            cert: "/nonexistent/clientcert.pem".into(),
            key: "/nonexistent/clientkey.pem".into(),
        };
        assert!(matches!(
            Client::new(credentials.clone(), "kvm1.example"),
            Err(TlsError::NoCa(path)) if path == "/nonexistent/cacert.pem"
        ));
        assert!(matches!(
            Client::new(credentials, "bad host"),
            Err(TlsError::BadServerName(_))
        ));
    }
}
