use super::*;
use std::time::Duration;
use tokio::io::duplex;

fn rect_header(rect: Rect, encoding: u32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 1];
    for value in [rect.x, rect.y, rect.width, rect.height] {
        bytes.extend(value.to_be_bytes());
    }
    bytes.extend(encoding.to_be_bytes());
    bytes
}

#[tokio::test]
async fn oversized_initialization_is_rejected_before_payload_reads() {
    for (width, height, length) in [
        (u16::MAX, 1, 0),
        (8192, 8192, 0),
        (0, 1, 0),
        (10, 10, u32::MAX),
    ] {
        let (mut client, mut server) = duplex(256);
        server.write_u16(width).await.unwrap();
        server.write_u16(height).await.unwrap();
        server
            .write_all(&Vec::<u8>::from(PixelFormat::rgba()))
            .await
            .unwrap();
        server.write_u32(length).await.unwrap();
        let result = tokio::time::timeout(
            Duration::from_secs(1),
            read_server_init(&mut client, &mut Some(PixelFormat::rgba()), &|_| async {
                Ok(())
            }),
        )
        .await
        .unwrap();
        assert!(result.is_err());
    }
}

#[tokio::test]
async fn invalid_rectangles_and_lengths_are_rejected_before_payload_reads() {
    let rect = Rect {
        x: 0,
        y: 0,
        width: 1,
        height: 1,
    };
    let mut copy = rect_header(rect, VncEncoding::CopyRect.into());
    copy.extend([0, 64, 0, 0]);
    let mut zrle = rect_header(rect, VncEncoding::Zrle.into());
    zrle.extend(u32::MAX.to_be_bytes());
    let mut clipboard = vec![3, 0, 0, 0];
    clipboard.extend(u32::MAX.to_be_bytes());
    for payload in [
        rect_header(rect, 12345),
        rect_header(rect, VncEncoding::Tight.into()), // not negotiated
        rect_header(Rect { x: 64, ..rect }, 0),
        rect_header(
            Rect {
                x: u16::MAX,
                ..rect
            },
            0,
        ),
        rect_header(
            Rect {
                width: u16::MAX,
                ..rect
            },
            VncEncoding::DesktopSizePseudo.into(),
        ),
        copy,
        zrle,
        clipboard,
        vec![1],
    ] {
        let (client, mut server) = duplex(256);
        let mut client = tokio::io::BufReader::new(client);
        server.write_all(&payload).await.unwrap();
        let (_stop, mut stopped) = oneshot::channel();
        let result = tokio::time::timeout(
            Duration::from_secs(1),
            asycn_vnc_read_loop(
                &mut client,
                &PixelFormat::rgba(),
                &|_| async { Ok(()) },
                &mut stopped,
                &[
                    VncEncoding::Raw,
                    VncEncoding::CopyRect,
                    VncEncoding::Zrle,
                    VncEncoding::DesktopSizePseudo,
                ],
                &AtomicU32::new(pack_screen((64, 64))),
                &DesktopState::default(),
                None,
            ),
        )
        .await
        .unwrap();
        assert!(result.is_err());
    }
}

#[tokio::test]
async fn raw_is_implicit_and_resize_changes_decoder_bounds() {
    let mut bytes = rect_header(
        Rect {
            x: 0,
            y: 0,
            width: 128,
            height: 96,
        },
        VncEncoding::DesktopSizePseudo.into(),
    );
    bytes.extend(rect_header(
        Rect {
            x: 127,
            y: 95,
            width: 1,
            height: 1,
        },
        0,
    ));
    bytes.extend([1, 2, 3, 255]);
    let output = std::sync::Mutex::new(Vec::new());
    let (_stop, mut stopped) = oneshot::channel();
    let result = asycn_vnc_read_loop(
        &mut bytes.as_slice(),
        &PixelFormat::rgba(),
        &|event| {
            output.lock().unwrap().push(event);
            async { Ok(()) }
        },
        &mut stopped,
        &[VncEncoding::DesktopSizePseudo],
        &AtomicU32::new(pack_screen((64, 64))),
        &DesktopState::default(),
        None,
    )
    .await;
    assert!(matches!(result, Err(VncError::IoError(_))));
    let output = output.into_inner().unwrap();
    assert!(
        matches!(&output[0], VncEvent::SetResolution(size) if (size.width, size.height) == (128, 96))
    );
    assert!(
        matches!(&output[1], VncEvent::RawImage(rect, bytes) if (rect.x, rect.y) == (127, 95) && bytes == &[1, 2, 3, 255])
    );
}

/// A sink that keeps a 4-byte-per-pixel screen and what was asked of it.
#[derive(Default)]
struct RecordingSink {
    state: std::sync::Mutex<(u16, Vec<u8>, Vec<String>)>,
}

impl PixelSink for RecordingSink {
    fn resize(&self, width: u16, height: u16) -> Result<(), VncError> {
        let mut state = self.state.lock().unwrap();
        state.0 = width;
        state.1 = vec![0; usize::from(width) * usize::from(height) * 4];
        state.2.push(format!("resize {width}x{height}"));
        Ok(())
    }

    fn put(&self, rect: &Rect, offset: usize, bytes: &[u8]) -> Result<(), VncError> {
        let mut state = self.state.lock().unwrap();
        let (stride, row) = (usize::from(state.0) * 4, usize::from(rect.width) * 4);
        for (i, byte) in bytes.iter().enumerate() {
            let (y, x) = ((offset + i) / row, (offset + i) % row);
            let at = (usize::from(rect.y) + y) * stride + usize::from(rect.x) * 4 + x;
            state.1[at] = *byte;
        }
        state.2.push(format!("put {offset}+{}", bytes.len()));
        Ok(())
    }

    fn copy(&self, dst: &Rect, src: &Rect) -> Result<(), VncError> {
        let mut state = self.state.lock().unwrap();
        let (stride, row) = (usize::from(state.0) * 4, usize::from(src.width) * 4);
        for y in 0..usize::from(src.height) {
            let from = (usize::from(src.y) + y) * stride + usize::from(src.x) * 4;
            let to = (usize::from(dst.y) + y) * stride + usize::from(dst.x) * 4;
            state.1.copy_within(from..from + row, to);
        }
        state.2.push("copy".into());
        Ok(())
    }
}

/// With a sink, Raw pixels arrive in the pieces the reader holds, a CopyRect sees the
/// rectangle before it, a resize reaches the sink in order, and the update ends with
/// one FramebufferUpdated instead of pixel events.
#[tokio::test]
async fn a_pixel_sink_receives_pixels_and_copies_in_stream_order() {
    let raw = Rect {
        x: 0,
        y: 0,
        width: 2,
        height: 2,
    };
    let mut bytes = rect_header(raw, 0);
    bytes[3] = 2; // two rectangles
    bytes.extend(1..=16u8);
    bytes.extend(&rect_header(Rect { x: 2, ..raw }, VncEncoding::CopyRect.into())[4..]);
    bytes.extend([0, 0, 0, 0]);
    bytes.extend(rect_header(
        Rect {
            width: 8,
            height: 3,
            ..raw
        },
        VncEncoding::DesktopSizePseudo.into(),
    ));
    let sink = RecordingSink::default();
    sink.resize(4, 2).unwrap();
    let output = std::sync::Mutex::new(Vec::new());
    let (_stop, mut stopped) = oneshot::channel();
    let result = asycn_vnc_read_loop(
        &mut tokio::io::BufReader::with_capacity(7, bytes.as_slice()),
        &PixelFormat::rgba(),
        &|event| {
            output.lock().unwrap().push(event);
            async { Ok(()) }
        },
        &mut stopped,
        &[VncEncoding::CopyRect, VncEncoding::DesktopSizePseudo],
        &AtomicU32::new(pack_screen((4, 2))),
        &DesktopState::default(),
        Some(&sink),
    )
    .await;
    assert!(matches!(result, Err(VncError::IoError(_))));
    let (_, pixels, calls) = sink.state.into_inner().unwrap();
    let (first, rest) = calls.split_first().unwrap();
    let (puts, last) = rest.split_at(rest.len() - 2);
    assert_eq!(
        (first.as_str(), last),
        ("resize 4x2", &["copy".into(), "resize 8x3".into()][..])
    );
    // The 16 bytes in more than one piece, each where the last ended.
    assert!(puts.len() > 1, "{calls:?}");
    let mut end = 0;
    for put in puts {
        let (offset, len) = put.strip_prefix("put ").unwrap().split_once('+').unwrap();
        assert_eq!(offset.parse::<usize>().unwrap(), end, "{calls:?}");
        end += len.parse::<usize>().unwrap();
    }
    assert_eq!(end, 16);
    assert!(
        pixels.iter().all(|&byte| byte == 0),
        "the new screen is fresh"
    );
    let output = output.into_inner().unwrap();
    assert_eq!(output.len(), 2, "{output:?}");
    assert!(matches!(output[0], VncEvent::FramebufferUpdated));
    assert!(
        matches!(&output[1], VncEvent::SetResolution(size) if (size.width, size.height) == (8, 3))
    );
}

/// The pixels a sink holds after Raw and CopyRect: both halves of the screen alike.
#[tokio::test]
async fn a_pixel_sink_gets_every_raw_byte_in_place() {
    let raw = Rect {
        x: 0,
        y: 0,
        width: 2,
        height: 2,
    };
    let mut bytes = rect_header(raw, 0);
    bytes[3] = 2;
    bytes.extend(1..=16u8);
    bytes.extend(&rect_header(Rect { x: 2, ..raw }, VncEncoding::CopyRect.into())[4..]);
    bytes.extend([0, 0, 0, 0]);
    let sink = RecordingSink::default();
    sink.resize(4, 2).unwrap();
    let (_stop, mut stopped) = oneshot::channel();
    let _ = asycn_vnc_read_loop(
        &mut tokio::io::BufReader::with_capacity(5, bytes.as_slice()),
        &PixelFormat::rgba(),
        &|_| async { Ok(()) },
        &mut stopped,
        &[VncEncoding::CopyRect],
        &AtomicU32::new(pack_screen((4, 2))),
        &DesktopState::default(),
        Some(&sink),
    )
    .await;
    let (_, pixels, _) = sink.state.into_inner().unwrap();
    let expected: Vec<u8> = [1..=8u8, 1..=8, 9..=16, 9..=16]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(pixels, expected);
}

#[tokio::test]
async fn shutdown_interrupts_a_full_event_queue() {
    let (events, mut received) = channel(OUTPUT_CHANNEL_SIZE);
    for _ in 0..OUTPUT_CHANNEL_SIZE {
        events.try_send(VncEvent::Bell).unwrap();
    }
    let calls = std::cell::Cell::new(0);
    let output = |event| {
        calls.set(calls.get() + 1);
        events.send(event)
    };
    let (stop, mut stopped) = oneshot::channel();
    let mut input = &[2_u8][..];
    let format = PixelFormat::rgba();
    let deliver = |event| {
        let send = output(event);
        async {
            send.await?;
            Ok(())
        }
    };
    let screen = AtomicU32::new(pack_screen((1, 1)));
    let desktop = DesktopState::default();
    let task = asycn_vnc_read_loop(
        &mut input,
        &format,
        &deliver,
        &mut stopped,
        &[],
        &screen,
        &desktop,
        None,
    );
    tokio::pin!(task);
    assert!(futures::poll!(task.as_mut()).is_pending());
    assert_eq!(calls.get(), 1);
    assert_eq!(events.capacity(), 0);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .unwrap()
        .unwrap();
    for _ in 0..OUTPUT_CHANNEL_SIZE {
        assert!(matches!(received.try_recv(), Ok(VncEvent::Bell)));
    }
    assert!(received.try_recv().is_err());
}

#[tokio::test]
async fn full_bridge_resumes_without_unrelated_input_and_cancels_promptly() {
    for cancel in [false, true] {
        let (client, mut server) = duplex(1);
        let (_input, input) = channel(INPUT_CHANNEL_SIZE);
        let (bridge, mut packets) = channel(2);
        for _ in 0..2 {
            bridge.try_send(Ok(vec![0])).unwrap();
        }
        let (stop, stopped) = oneshot::channel();
        server.write_all(&[7]).await.unwrap();
        let task = async_connection_process_loop(client, input, bridge, stopped);
        tokio::pin!(task);
        assert!(futures::poll!(task.as_mut()).is_pending());
        // The network byte was consumed while every bridge slot remains occupied.
        assert_eq!(packets.len(), 2);
        assert!(futures::poll!(Box::pin(server.write_all(&[8]))).is_ready());
        if !cancel {
            assert_eq!(packets.recv().await.unwrap().unwrap(), [0]);
            assert!(futures::poll!(task.as_mut()).is_pending());
            assert_eq!(packets.recv().await.unwrap().unwrap(), [0]);
            assert_eq!(packets.recv().await.unwrap().unwrap(), [7]);
        }
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap();
        let mut byte = [0];
        assert_eq!(server.read(&mut byte).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn shutdown_interrupts_a_blocked_socket_write() {
    let (client, mut server) = duplex(1);
    let (input, input_rx) = channel(INPUT_CHANNEL_SIZE);
    let (bridge, _packets) = channel(NETWORK_CHANNEL_SIZE);
    let (stop, stopped) = oneshot::channel();
    input
        .send(ClientMsg::ClientCutText("test".into()))
        .await
        .unwrap();
    let task = async_connection_process_loop(client, input_rx, bridge, stopped);
    tokio::pin!(task);
    assert!(futures::poll!(task.as_mut()).is_pending());
    assert_eq!(input.capacity(), INPUT_CHANNEL_SIZE);
    assert_eq!(server.read_u8().await.unwrap(), 6); // first byte of ClientCutText
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(server.read(&mut [0]).await.unwrap(), 0);
}

#[tokio::test]
async fn decoder_exit_releases_an_idle_socket() {
    let (client, mut server) = duplex(1);
    let (_input, input) = channel(INPUT_CHANNEL_SIZE);
    let (bridge, packets) = channel(NETWORK_CHANNEL_SIZE);
    let (_stop, stopped) = oneshot::channel();
    let task = async_connection_process_loop(client, input, bridge, stopped);
    tokio::pin!(task);
    assert!(futures::poll!(task.as_mut()).is_pending());
    drop(packets);
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(server.read(&mut [0]).await.unwrap(), 0);
}

#[tokio::test]
async fn full_input_queue_does_not_hold_the_client_lock_during_close() {
    let (input_ch, mut input) = channel(INPUT_CHANNEL_SIZE);
    for _ in 0..INPUT_CHANNEL_SIZE {
        input_ch
            .try_send(ClientMsg::ClientCutText(String::new()))
            .unwrap();
    }
    let (_events, output_ch) = channel(OUTPUT_CHANNEL_SIZE);
    let (network_stop, network_stopped) = oneshot::channel();
    let (decoder_stop, decoder_stopped) = oneshot::channel();
    let desktop = Arc::new(DesktopState::default());
    let client = VncClient {
        desktop: Arc::clone(&desktop),
        input_ch: input_ch.clone(),
        inner: Arc::new(Mutex::new(VncInner {
            name: String::new(),
            screen: Arc::new(AtomicU32::new(pack_screen((1, 1)))),
            desktop,
            input_ch,
            output_ch,
            decoding_stop: Some(decoder_stop),
            net_conn_stop: Some(network_stop),
            closed: false,
        })),
    };
    let pending = client.input(X11Event::Refresh);
    tokio::pin!(pending);
    assert!(futures::poll!(pending.as_mut()).is_pending());
    tokio::time::timeout(Duration::from_secs(1), client.close())
        .await
        .unwrap()
        .unwrap();
    network_stopped.await.unwrap();
    decoder_stopped.await.unwrap();
    // Even if capacity becomes available during close, no stale input is queued.
    input.recv().await.unwrap();
    assert!(matches!(pending.await, Err(VncError::ClientNotRunning)));
    assert_eq!(input.len(), INPUT_CHANNEL_SIZE - 1);
}

/// QEMU acknowledges the Extended Key Event pseudo-encoding with an empty rectangle the
/// size of its screen, and tells the LEDs in a rectangle of one byte; neither is pixels.
#[tokio::test]
async fn qemu_key_event_acknowledgement_and_led_state_become_events() {
    let screen = Rect {
        x: 0,
        y: 0,
        width: 640,
        height: 480,
    };
    let mut bytes = rect_header(screen, VncEncoding::QemuExtendedKeyEventPseudo.into());
    bytes.extend(rect_header(
        Rect {
            width: 0,
            height: 0,
            ..screen
        },
        VncEncoding::QemuLedStatePseudo.into(),
    ));
    bytes.push(0b110);
    let output = std::sync::Mutex::new(Vec::new());
    let (_stop, mut stopped) = oneshot::channel();
    let result = asycn_vnc_read_loop(
        &mut bytes.as_slice(),
        &PixelFormat::rgba(),
        &|event| {
            output.lock().unwrap().push(event);
            async { Ok(()) }
        },
        &mut stopped,
        &[
            VncEncoding::QemuExtendedKeyEventPseudo,
            VncEncoding::QemuLedStatePseudo,
        ],
        &AtomicU32::new(pack_screen((640, 480))),
        &DesktopState::default(),
        None,
    )
    .await;
    assert!(matches!(result, Err(VncError::IoError(_))));
    let output = output.into_inner().unwrap();
    assert!(matches!(output[0], VncEvent::QemuExtendedKeyEvent));
    assert!(matches!(
        output[1],
        VncEvent::LedState(crate::LedState {
            scroll_lock: false,
            num_lock: true,
            caps_lock: true
        })
    ));
    assert_eq!(output.len(), 2);
}

#[tokio::test]
async fn qemu_key_event_message_carries_keysym_and_scancode() {
    let mut wire = Vec::new();
    ClientMsg::QemuKeyEvent {
        keysym: 0xfe03,
        keycode: 0xb8,
        down: true,
    }
    .write(&mut wire)
    .await
    .unwrap();
    assert_eq!(wire, [255, 0, 0, 1, 0, 0, 0xfe, 0x03, 0, 0, 0, 0xb8]);
}
