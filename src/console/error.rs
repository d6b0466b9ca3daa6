//! What can go wrong with a console connection, as sentences a person can read.

use thiserror::Error;

use super::tls::TlsError;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ConsoleError {
    #[error("Could not open the console connection: {0}")]
    Connect(String),
    #[error("The console server did not finish the handshake in time.")]
    HandshakeTimeout,
    #[error("The console needs a password, and none was given.")]
    PasswordRequired,
    #[error("The console refused the password: {0}")]
    AuthenticationFailed(String),
    #[error("The console server sent data that cannot be understood: {0}")]
    Protocol(String),
    #[error(
        "The console server announced a screen of {width}×{height} pixels, which is too large."
    )]
    FramebufferTooLarge { width: u32, height: u32 },
    #[error("The console server sent a picture that does not fit its screen.")]
    BadRectangle,
    #[error("The console server sent a pointer shape that is too large.")]
    CursorTooLarge,
    #[error("The console server closed the connection.")]
    ServerClosed,
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl From<vnc::VncError> for ConsoleError {
    fn from(error: vnc::VncError) -> Self {
        use vnc::VncError as V;
        match error {
            V::NoPassword => Self::PasswordRequired,
            V::WrongPassword => Self::AuthenticationFailed("wrong password".into()),
            V::ClientNotRunning => Self::ServerClosed,
            V::TlsRequired => Self::Tls(TlsError::Required),
            V::VeNCrypt(reason) => Self::Tls(TlsError::Negotiation(reason)),
            V::IoError(e) => match TlsError::carried_by(&e) {
                Some(tls) => Self::Tls(tls),
                None if e.kind() == std::io::ErrorKind::UnexpectedEof => Self::ServerClosed,
                None => Self::Connect(e.to_string()),
            },
            other => Self::Protocol(other.to_string()),
        }
    }
}
