//! VNC over TLS (VeNCrypt): against hostile in-process servers (broken negotiations, a
//! peer that does not speak TLS) and against real QEMU with `tls-creds-x509`, the way
//! libvirt starts it when qemu.conf has `vnc_tls = 1`, with certificates made by
//! tests/tls/certs.sh. Every failure is a typed error, within a deadline, never a panic.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::thread;
use std::time::{Duration, Instant};

use common::console::expect;
use virtdeck::console::{
    ConnectOptions, ConsoleError, ConsoleEvent, ConsoleSession, ConsoleSource, Credentials,
    TlsError,
};

const DEADLINE: Duration = Duration::from_secs(20);
const PASSWORD: &str = "s3cret";
/// The name the server certificate is made out to.
const HOST: &str = "vdtest-tls.example";

/// The certificates of this test process, made once.
static CERTS: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console_tls");
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/certs.sh"))
        .arg(&dir)
        .arg(HOST)
        .status()
        .expect("tests/tls/certs.sh runs");
    assert!(status.success(), "tests/tls/certs.sh failed");
    dir
});

/// The client's certificates as found in a home directory made by certs.sh.
fn credentials(home: &str) -> Credentials {
    let found = Credentials::locate(Some(&CERTS.join(home)));
    assert!(found.ca.starts_with(CERTS.as_path()), "{found:?}");
    found
}

fn nowhere() -> Credentials {
    Credentials {
        ca: CERTS.join("nonexistent/cacert.pem"),
        cert: CERTS.join("nonexistent/clientcert.pem"),
        key: CERTS.join("nonexistent/clientkey.pem"),
    }
}

fn options(credentials: Credentials, host: &str) -> ConnectOptions {
    ConnectOptions {
        password: Some(PASSWORD.into()),
        server_name: Some(host.into()),
        tls_credentials: Some(credentials),
        handshake_timeout: Duration::from_secs(10),
        ..ConnectOptions::default()
    }
}

/// How a session over `stream` ends its handshake: the screen size, or the error.
fn outcome(stream: UnixStream, options: ConnectOptions) -> Result<(u32, u32), ConsoleError> {
    let session = ConsoleSession::open(ConsoleSource::Tunnel(stream.into()), options);
    match expect(&session, DEADLINE, "the end of the handshake", |e| {
        matches!(
            e,
            ConsoleEvent::Connected { .. } | ConsoleEvent::Disconnected { .. }
        )
    }) {
        ConsoleEvent::Connected { width, height } => Ok((width, height)),
        ConsoleEvent::Disconnected { error } => Err(error.expect("an error")),
        _ => unreachable!(),
    }
}

// ---- hostile servers -----------------------------------------------------------------

type Script = fn(&mut UnixStream) -> std::io::Result<()>;
/// Whether a case ended with the error it should.
type Expected = fn(&ConsoleError) -> bool;

/// The RFB 3.8 greeting up to the client's choice of VeNCrypt, which it must make.
fn up_to_vencrypt(server: &mut UnixStream) -> std::io::Result<()> {
    server.write_all(b"RFB 003.008\n")?;
    let mut version = [0; 12];
    server.read_exact(&mut version)?;
    server.write_all(&[1, 19])?;
    let mut chosen = [0; 1];
    server.read_exact(&mut chosen)?;
    assert_eq!(chosen, [19], "the client did not choose VeNCrypt");
    Ok(())
}

/// VeNCrypt 0.2 offering `subtypes`; returns the subtype the client chose.
fn offer(server: &mut UnixStream, subtypes: &[u32]) -> std::io::Result<u32> {
    up_to_vencrypt(server)?;
    server.write_all(&[0, 2])?;
    let mut version = [0; 2];
    server.read_exact(&mut version)?;
    server.write_all(&[0, subtypes.len() as u8])?;
    for subtype in subtypes {
        server.write_all(&subtype.to_be_bytes())?;
    }
    let mut chosen = [0; 4];
    server.read_exact(&mut chosen)?;
    Ok(u32::from_be_bytes(chosen))
}

fn no_subtypes(server: &mut UnixStream) -> std::io::Result<()> {
    offer(server, &[]).map(drop)
}

fn only_unusable_subtypes(server: &mut UnixStream) -> std::io::Result<()> {
    // None and VNC in the clear, Plain (a password in the clear), anonymous TLS, unknown.
    offer(server, &[1, 2, 256, 257, 258, 262, u32::MAX]).map(drop)
}

fn old_version(server: &mut UnixStream) -> std::io::Result<()> {
    up_to_vencrypt(server)?;
    server.write_all(&[0, 1])
}

fn many_subtypes_announced_few_sent(server: &mut UnixStream) -> std::io::Result<()> {
    up_to_vencrypt(server)?;
    server.write_all(&[0, 2])?;
    let mut version = [0; 2];
    server.read_exact(&mut version)?;
    server.write_all(&[0, 255, 0, 0, 1, 5])
}

fn refuses_the_subtype(server: &mut UnixStream) -> std::io::Result<()> {
    let chosen = offer(server, &[260, 261])?;
    assert_eq!(chosen, 261, "X509Vnc is preferred");
    server.write_all(&[0])
}

fn not_tls_after_all(server: &mut UnixStream) -> std::io::Result<()> {
    offer(server, &[261])?;
    server.write_all(&[1])?;
    server.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")?;
    server.write_all(&[0xff; 64 * 1024])
}

fn accepted(server: &mut UnixStream) -> std::io::Result<()> {
    offer(server, &[261])?;
    server.write_all(&[1])
}

/// Runs `script` as the server; how the session ended, and all the client sent after
/// the script.
fn run_case(name: &str, script: Script, options: ConnectOptions) -> (ConsoleError, Vec<u8>) {
    let (client, mut server) = UnixStream::pair().unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let server = thread::spawn(move || {
        let _ = script(&mut server);
        let mut rest = Vec::new();
        let _ = server.read_to_end(&mut rest);
        rest
    });
    let started = Instant::now();
    let error = outcome(client, options).expect_err(name);
    assert!(started.elapsed() < DEADLINE, "{name} took too long");
    let rest = server
        .join()
        .unwrap_or_else(|_| panic!("server of {name} panicked"));
    (error, rest)
}

#[test]
fn broken_negotiations_and_tls_failures_are_typed_errors() {
    let quick = |credentials| ConnectOptions {
        handshake_timeout: Duration::from_secs(2),
        ..options(credentials, HOST)
    };
    let good = || quick(credentials("client"));
    let negotiation = |e: &ConsoleError| matches!(e, ConsoleError::Tls(TlsError::Negotiation(_)));
    let cases: &[(&str, Script, ConnectOptions, Expected)] = &[
        ("no subtypes", no_subtypes, good(), negotiation),
        (
            "unusable subtypes",
            only_unusable_subtypes,
            good(),
            negotiation,
        ),
        ("VeNCrypt 0.1", old_version, good(), negotiation),
        ("refused subtype", refuses_the_subtype, good(), negotiation),
        // The server stalls: the handshake's deadline ends it.
        (
            "255 subtypes announced, one sent",
            many_subtypes_announced_few_sent,
            good(),
            |e| *e == ConsoleError::HandshakeTimeout,
        ),
        ("not TLS after all", not_tls_after_all, good(), |e| {
            matches!(e, ConsoleError::Tls(TlsError::Handshake(_)))
        }),
        (
            "no CA certificate here",
            accepted,
            options(nowhere(), HOST),
            |e| matches!(e, ConsoleError::Tls(TlsError::NoCa(_))),
        ),
    ];
    for (name, script, options, expected) in cases {
        let (error, rest) = run_case(name, *script, options.clone());
        assert!(expected(&error), "{name}: {error:?}");
        // Nothing in the clear after the negotiation: at most a TLS handshake record
        // (0x16), never a key event or a password.
        assert!(
            rest.is_empty() || rest[0] == 0x16,
            "{name}: the client sent {rest:?}"
        );
        println!("{name}: {error}");
    }
}

// ---- real QEMU -----------------------------------------------------------------------

/// QEMU with a VNC server on a UNIX socket that takes only VeNCrypt x509 (and the
/// password), stopped when dropped.
struct Qemu {
    child: Child,
    socket: PathBuf,
}

impl Qemu {
    fn start(name: &str, verify_peer: bool) -> Self {
        let socket = CERTS.join(format!("{name}.vnc"));
        let _ = std::fs::remove_file(&socket);
        let verify = if verify_peer { "yes" } else { "no" };
        let child = Command::new("qemu-system-x86_64")
            .args([
                "-machine",
                "pc,accel=tcg",
                "-nodefaults",
                "-vga",
                "std",
                "-S",
            ])
            .args(["-display", "none", "-m", "32"])
            .arg("-object")
            .arg(format!(
                "tls-creds-x509,id=tls0,dir={},endpoint=server,verify-peer={verify}",
                CERTS.display()
            ))
            .args(["-object", &format!("secret,id=pw0,data={PASSWORD}")])
            .arg("-vnc")
            .arg(format!(
                "unix:{},tls-creds=tls0,password-secret=pw0",
                socket.display()
            ))
            .stdin(Stdio::null())
            .spawn()
            .expect("qemu-system-x86_64 starts");
        let qemu = Qemu { child, socket };
        let deadline = Instant::now() + DEADLINE;
        while UnixStream::connect(&qemu.socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "QEMU's VNC socket did not appear"
            );
            thread::sleep(Duration::from_millis(100));
        }
        qemu
    }

    fn connect(&self, options: ConnectOptions) -> Result<(u32, u32), ConsoleError> {
        outcome(UnixStream::connect(&self.socket).unwrap(), options)
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn qemu_with_x509_verify_takes_the_right_certificates_and_password_only() {
    let qemu = Qemu::start("verify", true);
    let started = Instant::now();
    let screen = qemu.connect(options(credentials("client"), HOST));
    assert!(
        screen.is_ok(),
        "right CA, client certificate and password: {screen:?}"
    );
    println!("TLS handshake to a screen: {:?}", started.elapsed());

    let wrong_password = ConnectOptions {
        password: Some("wrong".into()),
        ..options(credentials("client"), HOST)
    };
    assert!(matches!(
        qemu.connect(wrong_password),
        Err(ConsoleError::AuthenticationFailed(_))
    ));

    // The server's certificate is checked against the CA and the host name.
    let error = qemu.connect(options(credentials("other-ca"), HOST));
    assert!(
        matches!(&error, Err(ConsoleError::Tls(TlsError::UnknownCa { ca })) if ca.contains("other-ca")),
        "{error:?}"
    );
    let error = qemu.connect(options(credentials("client"), "elsewhere.example"));
    assert!(
        matches!(&error, Err(ConsoleError::Tls(TlsError::WrongHost { host, .. })) if host == "elsewhere.example"),
        "{error:?}"
    );

    // The host wants a client certificate: none, or one of another CA.
    let no_client_cert = Credentials {
        cert: CERTS.join("nonexistent/clientcert.pem"),
        key: CERTS.join("nonexistent/clientkey.pem"),
        ..credentials("client")
    };
    let error = qemu.connect(options(no_client_cert, HOST));
    assert!(
        matches!(
            &error,
            Err(ConsoleError::Tls(
                TlsError::ClientCertificateRequired { .. }
            ))
        ),
        "{error:?}"
    );
    let foreign_client_cert = Credentials {
        ca: credentials("client").ca,
        ..credentials("other-ca")
    };
    let error = qemu.connect(options(foreign_client_cert, HOST));
    assert!(
        matches!(
            &error,
            Err(ConsoleError::Tls(TlsError::ClientCertificateRefused { .. }))
        ),
        "{error:?}"
    );
    println!("{}", error.unwrap_err());
}

#[test]
fn qemu_without_verify_needs_no_client_certificate() {
    let qemu = Qemu::start("noverify", false);
    let no_client_cert = Credentials {
        cert: CERTS.join("nonexistent/clientcert.pem"),
        key: CERTS.join("nonexistent/clientkey.pem"),
        ..credentials("client")
    };
    let screen = qemu.connect(options(no_client_cert, HOST));
    assert!(screen.is_ok(), "{screen:?}");
    // And never without TLS: with no CA the session ends before anything is sent.
    let error = qemu.connect(options(nowhere(), HOST));
    assert!(
        matches!(&error, Err(ConsoleError::Tls(TlsError::NoCa(_)))),
        "{error:?}"
    );
}
