//! A console's display on a remote host (tests/remote/host.sh: a private sshd and libvirtd
//! in a network namespace): the connection's worker says where it listens there, and the
//! host's SSH master reaches it — the remote host's 127.0.0.1, never this computer's, where
//! a decoy listens on the same port. The connection and the tunnel are one SSH login.
//!
//! On the test driver: the VNC display is found among several; SPICE only is a typed answer.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::fixture::{temp_xml, tiny_qemu_domain_xml};
use common::remote::RemoteHost;
use common::{ask, connect_and_snapshot, prefix, quiet_options, test_uri};
use virtdeck::libvirt::graphics::{DisplayError, DisplayRequest, Listen};
use virtdeck::libvirt::ssh::{open_tunnel, SshTarget, TunnelError};
use virtdeck::libvirt::{Request, RequestError};

/// A local listener on a free loopback port that counts who connects to it.
fn decoy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free local port");
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, hits)
}

#[test]
fn a_remote_display_is_reached_through_the_hosts_ssh_master_with_one_login() {
    let host = RemoteHost::up("rdsp", 61);
    let uri = host.get("URI").to_owned();
    let (port, decoy_hits) = decoy();

    // A domain on the remote host whose VNC listens on its 127.0.0.1 at the decoy's port.
    let name = format!("{}remote-display", prefix());
    let xml = tiny_qemu_domain_xml(&name, None).replace(
        r#"port="-1" autoport="yes""#,
        &format!(r#"port="{port}" autoport="no""#),
    );
    assert!(xml.contains(&format!(r#"port="{port}""#)), "{xml}");
    let path = temp_xml("remote-display", &xml);
    let virsh = |args: &[&str]| {
        let mut all = vec!["virsh", "-q", "-c", "qemu:///system"];
        all.extend_from_slice(args);
        host.exec(&all)
    };
    virsh(&["define", path.to_str().unwrap()]);
    virsh(&["start", &name]);
    let uuid = virsh(&["domuuid", &name]).trim().to_owned();
    assert_eq!(host.logins(), 0);

    let (handle, _) = connect_and_snapshot(&uri, quiet_options());
    let listen = ask(&handle, |reply| {
        Request::Display(DisplayRequest::Listen { uuid, reply })
    })
    .expect("where the display listens");
    assert_eq!(
        listen,
        Listen::Address {
            host: "127.0.0.1".into(),
            port
        }
    );

    let target = SshTarget::from_uri(&uri).expect("an SSH URI");
    let started = std::time::Instant::now();
    let fd = open_tunnel(&target, &listen).expect("a tunnel to the display");
    eprintln!("a tunnel through the master took {:?}", started.elapsed());
    let mut stream = std::fs::File::from(fd);
    let mut banner = [0u8; 12];
    stream
        .read_exact(&mut banner)
        .expect("the display's greeting");
    assert_eq!(&banner, b"RFB 003.008\n", "QEMU's VNC server greets");
    assert_eq!(decoy_hits.load(Ordering::SeqCst), 0, "nothing dialled here");

    // A second console rides on the same master too.
    let again = open_tunnel(&target, &listen).expect("a second tunnel");
    drop(again);
    assert_eq!(
        host.logins(),
        1,
        "one login for the connection and the consoles"
    );

    // A display port where nothing listens on the host: said so, not hung.
    let nothing = Listen::Address {
        host: "127.0.0.1".into(),
        port: 1,
    };
    let error = open_tunnel(&target, &nothing).expect_err("nothing listens there");
    assert_eq!(error, TunnelError::NoAnswer);

    // A host that does not accept the key: the login's refusal, in a typed error.
    let stranger = SshTarget {
        keyfile: Some(host.get("KNOWN_HOSTS").to_owned()),
        user: Some("nobody-here".into()),
        ..target.clone()
    };
    let error = open_tunnel(&stranger, &listen).expect_err("no login for that user");
    assert!(matches!(error, TunnelError::Auth(_)), "{error:?}");

    drop(stream);
    virsh(&["destroy", &name]);
    virsh(&["undefine", &name]);
    handle.quit_and_join();
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_vnc_display_is_picked_and_spice_only_is_told() {
    let node = "<node>\
        <domain type='test'><name>both</name><uuid>6c0f4a8e-1d2b-4c3a-9e5f-0a1b2c3d4e01</uuid><memory>65536</memory><os><type>hvm</type></os>\
          <devices><graphics type='spice' port='5910' autoport='no'/>\
          <graphics type='vnc' port='5907' autoport='no' listen='0.0.0.0'/></devices></domain>\
        <domain type='test'><name>spice</name><uuid>6c0f4a8e-1d2b-4c3a-9e5f-0a1b2c3d4e02</uuid><memory>65536</memory><os><type>hvm</type></os>\
          <devices><graphics type='spice' port='5911' autoport='no'/></devices></domain>\
        </node>";
    let path = std::env::temp_dir().join(format!("{}graphics-node.xml", prefix()));
    std::fs::write(&path, node).unwrap();
    let uri = test_uri(&path);
    let (handle, _) = connect_and_snapshot(&uri, quiet_options());
    let uuid = |name: &str| match name {
        "both" => "6c0f4a8e-1d2b-4c3a-9e5f-0a1b2c3d4e01".to_owned(),
        _ => "6c0f4a8e-1d2b-4c3a-9e5f-0a1b2c3d4e02".to_owned(),
    };

    let listen = ask(&handle, |reply| {
        Request::Display(DisplayRequest::Listen {
            uuid: uuid("both"),
            reply,
        })
    });
    assert_eq!(
        listen.expect("the VNC display"),
        Listen::Address {
            host: "0.0.0.0".into(),
            port: 5907
        }
    );
    let spice_only = |error: RequestError| {
        assert!(
            matches!(error, RequestError::Display(DisplayError::SpiceOnly)),
            "{error:?}"
        );
        assert!(error.to_string().contains("SPICE"), "{error}");
    };
    spice_only(
        ask(&handle, |reply| Request::GraphicsSocket {
            uuid: uuid("spice"),
            reply,
        })
        .expect_err("SPICE only"),
    );
    spice_only(
        ask(&handle, |reply| {
            Request::Display(DisplayRequest::Listen {
                uuid: uuid("spice"),
                reply,
            })
        })
        .expect_err("SPICE only"),
    );
    handle.quit_and_join();
    let _ = std::fs::remove_file(path);
}
