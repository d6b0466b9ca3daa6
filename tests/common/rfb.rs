//! A small RFB 3.8 server for the console tests and benchmark: handshake, client message
//! parsing, and encoders for Raw, CopyRect, ZRLE and a few pseudo-encodings. Pixels are
//! `0x00RRGGBB` values; the client is expected to ask for 32-bit little-endian BGRX.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use flate2::{Compress, Compression, FlushCompress};

pub const RAW: i32 = 0;
pub const COPY_RECT: i32 = 1;
pub const ZRLE: i32 = 16;
pub const CURSOR: i32 = -239;
pub const DESKTOP_SIZE: i32 = -223;
pub const EXTENDED_DESKTOP_SIZE: i32 = -308;
pub const QEMU_EXTENDED_KEY_EVENT: i32 = -258;
pub const QEMU_LED_STATE: i32 = -261;
pub const EXTENDED_CLIPBOARD: i32 = 0xC0A1E5CE_u32 as i32;
/// Extended Clipboard flags: the text format and the actions.
pub const CLIP_TEXT: u32 = 1;
pub const CLIP_CAPS: u32 = 1 << 24;
pub const CLIP_REQUEST: u32 = 1 << 25;
pub const CLIP_NOTIFY: u32 = 1 << 27;
pub const CLIP_PROVIDE: u32 = 1 << 28;

/// A listener on an ephemeral loopback port.
pub fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    SetPixelFormat([u8; 16]),
    SetEncodings(Vec<i32>),
    UpdateRequest {
        incremental: bool,
        x: u16,
        y: u16,
        width: u16,
        height: u16,
    },
    Key {
        down: bool,
        keysym: u32,
    },
    Pointer {
        buttons: u8,
        x: u16,
        y: u16,
    },
    CutText(Vec<u8>),
    /// A ClientCutText with a negative length: the Extended Clipboard's flags and the
    /// rest of its payload.
    ExtendedCutText {
        flags: u32,
        payload: Vec<u8>,
    },
    /// QEMU Extended Key Event: a scancode (qnum) with its keysym.
    QemuKey {
        down: bool,
        keysym: u32,
        scancode: u32,
    },
    Other(u8),
}

/// One accepted client connection.
pub struct Conn {
    pub stream: TcpStream,
    zlib: Compress,
}

impl Conn {
    pub fn accept(listener: &TcpListener) -> Conn {
        let (stream, _) = listener.accept().expect("accept the client");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        Conn {
            stream,
            zlib: Compress::new(Compression::fast(), true),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn read_exact<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut buf = [0; N];
        self.stream.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// Version and security type None, up to (not including) ServerInit.
    pub fn security_none(&mut self) -> std::io::Result<()> {
        self.write(b"RFB 003.008\n")?;
        let version: [u8; 12] = self.read_exact()?;
        assert_eq!(&version, b"RFB 003.008\n");
        self.write(&[1, 1])?;
        let [chosen] = self.read_exact()?;
        assert_eq!(chosen, 1, "the client must pick security None");
        self.write(&0u32.to_be_bytes())?;
        let [_shared] = self.read_exact()?;
        Ok(())
    }

    /// Version and VNC authentication (security type 2) against `password`, up to (not
    /// including) ServerInit when the client's answer is right. Returns whether it was;
    /// a wrong answer is refused with a reason that, as QEMU's does, ends in a NUL.
    pub fn security_vnc(&mut self, password: &str) -> std::io::Result<bool> {
        self.write(b"RFB 003.008\n")?;
        let _version: [u8; 12] = self.read_exact()?;
        self.write(&[1, 2])?;
        let [chosen] = self.read_exact()?;
        assert_eq!(chosen, 2, "the client must pick VNC authentication");
        let challenge: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        self.write(&challenge)?;
        let response: [u8; 16] = self.read_exact()?;
        if response != vnc_auth_response(&challenge, password) {
            self.write(&1u32.to_be_bytes())?;
            let reason = b"Authentication failed\0";
            let reason = cut_text(reason.len() as u32, reason);
            return self.write(&reason[4..]).map(|_| false);
        }
        self.write(&0u32.to_be_bytes())?;
        let [_shared] = self.read_exact()?;
        Ok(true)
    }

    /// ServerInit with a 32-bit pixel format and a name.
    pub fn server_init(&mut self, width: u16, height: u16) -> std::io::Result<()> {
        let mut init = Vec::new();
        init.extend(width.to_be_bytes());
        init.extend(height.to_be_bytes());
        init.extend([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        init.extend(4u32.to_be_bytes());
        init.extend(b"test");
        self.write(&init)
    }

    /// Full handshake; returns the encodings the client asked for after checking that it
    /// set the expected pixel format and asked for a first full update.
    pub fn handshake(&mut self, width: u16, height: u16) -> Vec<i32> {
        self.security_none().expect("security handshake");
        self.client_setup(width, height)
    }

    /// [`Self::handshake`] after the security handshake.
    pub fn client_setup(&mut self, width: u16, height: u16) -> Vec<i32> {
        self.server_init(width, height).expect("ServerInit");
        let ClientMsg::SetPixelFormat(pf) = self.read_msg().expect("SetPixelFormat") else {
            panic!("expected SetPixelFormat first");
        };
        assert_eq!(pf[..13], [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0]);
        let ClientMsg::SetEncodings(encodings) = self.read_msg().expect("SetEncodings") else {
            panic!("expected SetEncodings");
        };
        let first = self.read_msg().expect("first update request");
        assert!(
            matches!(
                first,
                ClientMsg::UpdateRequest {
                    incremental: false,
                    ..
                }
            ),
            "{first:?}"
        );
        encodings
    }

    /// Reads one client message.
    pub fn read_msg(&mut self) -> std::io::Result<ClientMsg> {
        let [kind] = self.read_exact()?;
        Ok(match kind {
            0 => {
                let body: [u8; 19] = self.read_exact()?;
                ClientMsg::SetPixelFormat(body[3..].try_into().unwrap())
            }
            2 => {
                let [_, hi, lo] = self.read_exact()?;
                let count = u16::from_be_bytes([hi, lo]);
                let mut encodings = Vec::new();
                for _ in 0..count {
                    encodings.push(i32::from_be_bytes(self.read_exact()?));
                }
                ClientMsg::SetEncodings(encodings)
            }
            3 => {
                let b: [u8; 9] = self.read_exact()?;
                let u = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
                ClientMsg::UpdateRequest {
                    incremental: b[0] != 0,
                    x: u(1),
                    y: u(3),
                    width: u(5),
                    height: u(7),
                }
            }
            4 => {
                let b: [u8; 7] = self.read_exact()?;
                ClientMsg::Key {
                    down: b[0] != 0,
                    keysym: u32::from_be_bytes([b[3], b[4], b[5], b[6]]),
                }
            }
            5 => {
                let b: [u8; 5] = self.read_exact()?;
                ClientMsg::Pointer {
                    buttons: b[0],
                    x: u16::from_be_bytes([b[1], b[2]]),
                    y: u16::from_be_bytes([b[3], b[4]]),
                }
            }
            6 => {
                let b: [u8; 7] = self.read_exact()?;
                let len = i32::from_be_bytes([b[3], b[4], b[5], b[6]]);
                let mut text = vec![0; len.unsigned_abs() as usize];
                self.stream.read_exact(&mut text)?;
                if len < 0 {
                    let payload = text.split_off(4);
                    let flags = u32::from_be_bytes(text.try_into().expect("four bytes"));
                    ClientMsg::ExtendedCutText { flags, payload }
                } else {
                    ClientMsg::CutText(text)
                }
            }
            255 => {
                let b: [u8; 11] = self.read_exact()?;
                assert_eq!(b[0], 0, "only the Extended Key Event of QEMU's messages");
                ClientMsg::QemuKey {
                    down: u16::from_be_bytes([b[1], b[2]]) != 0,
                    keysym: u32::from_be_bytes([b[3], b[4], b[5], b[6]]),
                    scancode: u32::from_be_bytes([b[7], b[8], b[9], b[10]]),
                }
            }
            other => ClientMsg::Other(other),
        })
    }

    /// Reads messages until an update request, returning the input messages before it.
    pub fn until_update_request(&mut self) -> Vec<ClientMsg> {
        let mut other = Vec::new();
        loop {
            match self.read_msg().expect("client message") {
                ClientMsg::UpdateRequest { .. } => return other,
                msg => other.push(msg),
            }
        }
    }

    /// A ZRLE rectangle of `pixels` (row-major, `width * height`), compressed on this
    /// connection's zlib stream.
    pub fn zrle_rect(
        &mut self,
        x: u16,
        y: u16,
        width: u16,
        height: u16,
        pixels: &[u32],
    ) -> Vec<u8> {
        let plain = zrle_tiles(width as usize, height as usize, pixels);
        let mut compressed = Vec::with_capacity(plain.len() + 1024);
        let mut input = &plain[..];
        loop {
            compressed.reserve(64 * 1024);
            let before = self.zlib.total_in();
            self.zlib
                .compress_vec(input, &mut compressed, FlushCompress::Sync)
                .expect("compress");
            input = &input[(self.zlib.total_in() - before) as usize..];
            if input.is_empty() && compressed.len() < compressed.capacity() {
                break;
            }
        }
        let mut out = rect_header(x, y, width, height, ZRLE);
        out.extend((compressed.len() as u32).to_be_bytes());
        out.extend(compressed);
        out
    }
}

/// FramebufferUpdate with `count` rectangles to follow.
pub fn update_header(count: u16) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend(count.to_be_bytes());
    out
}

pub fn rect_header(x: u16, y: u16, width: u16, height: u16, encoding: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    for v in [x, y, width, height] {
        out.extend(v.to_be_bytes());
    }
    out.extend(encoding.to_be_bytes());
    out
}

/// A Raw rectangle: 4 bytes per pixel, B G R 0.
pub fn raw_rect(x: u16, y: u16, width: u16, height: u16, pixels: &[u32]) -> Vec<u8> {
    let mut out = rect_header(x, y, width, height, RAW);
    out.reserve(pixels.len() * 4);
    for p in pixels {
        out.extend(p.to_le_bytes());
    }
    out
}

/// An ExtendedDesktopSize rectangle (reason 0: the server's own change, status 0) of a
/// `width`×`height` desktop with `screens` (x, y, width, height), ids 1, 2, …
pub fn desktop_layout(width: u16, height: u16, screens: &[(u16, u16, u16, u16)]) -> Vec<u8> {
    let mut out = rect_header(0, 0, width, height, EXTENDED_DESKTOP_SIZE);
    out.extend([screens.len() as u8, 0, 0, 0]);
    for (id, &(x, y, w, h)) in (1u32..).zip(screens) {
        out.extend(id.to_be_bytes());
        for v in [x, y, w, h] {
            out.extend(v.to_be_bytes());
        }
        out.extend(0u32.to_be_bytes());
    }
    out
}

/// What QEMU answers to a client that asks for Extended Key Events: an empty rectangle
/// of that pseudo-encoding, the screen's size.
pub fn qemu_key_ack(width: u16, height: u16) -> Vec<u8> {
    rect_header(0, 0, width, height, QEMU_EXTENDED_KEY_EVENT)
}

/// QEMU's LED State: bit 0 Scroll Lock, 1 Num Lock, 2 Caps Lock.
pub fn led_state(bits: u8) -> Vec<u8> {
    let mut out = rect_header(0, 0, 0, 0, QEMU_LED_STATE);
    out.push(bits);
    out
}

pub fn copy_rect(x: u16, y: u16, width: u16, height: u16, src_x: u16, src_y: u16) -> Vec<u8> {
    let mut out = rect_header(x, y, width, height, COPY_RECT);
    out.extend(src_x.to_be_bytes());
    out.extend(src_y.to_be_bytes());
    out
}

pub fn cut_text(len_claimed: u32, text: &[u8]) -> Vec<u8> {
    let mut out = vec![3, 0, 0, 0];
    out.extend(len_claimed.to_be_bytes());
    out.extend(text);
    out
}

/// A ServerCutText of the Extended Clipboard: `flags`, then `payload`.
pub fn extended_cut_text(flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![3, 0, 0, 0];
    out.extend((-(payload.len() as i32 + 4)).to_be_bytes());
    out.extend(flags.to_be_bytes());
    out.extend(payload);
    out
}

/// The zlib stream of an Extended Clipboard provide holding `text` (its length first).
pub fn clipboard_stream(text: &[u8]) -> Vec<u8> {
    use flate2::write::ZlibEncoder;
    let mut out = ZlibEncoder::new(Vec::new(), Compression::default());
    out.write_all(&(text.len() as u32).to_be_bytes()).unwrap();
    out.write_all(text).unwrap();
    out.finish().unwrap()
}

/// The text of an Extended Clipboard provide's zlib stream.
pub fn clipboard_text(stream: &[u8]) -> Vec<u8> {
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(stream)
        .read_to_end(&mut inflated)
        .expect("a zlib stream");
    let length = u32::from_be_bytes(inflated[..4].try_into().unwrap()) as usize;
    inflated[4..4 + length].to_vec()
}

/// The uncompressed ZRLE stream of a rectangle: 64×64 tiles, each with the smallest of
/// solid, packed palette, palette RLE, plain RLE or raw that fits.
pub fn zrle_tiles(width: usize, height: usize, pixels: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    for ty in (0..height).step_by(64) {
        for tx in (0..width).step_by(64) {
            let (tw, th) = (64.min(width - tx), 64.min(height - ty));
            let tile: Vec<u32> = (0..th)
                .flat_map(|r| pixels[(ty + r) * width + tx..][..tw].iter().copied())
                .collect();
            zrle_tile(&mut out, tw, &tile);
        }
    }
    out
}

fn cpixel(out: &mut Vec<u8>, p: u32) {
    out.extend(&p.to_le_bytes()[..3]);
}

fn runs(tile: &[u32]) -> Vec<(u32, usize)> {
    let mut runs: Vec<(u32, usize)> = Vec::new();
    for &p in tile {
        match runs.last_mut() {
            Some((color, len)) if *color == p => *len += 1,
            _ => runs.push((p, 1)),
        }
    }
    runs
}

fn run_length(out: &mut Vec<u8>, len: usize) {
    let mut rest = len - 1;
    while rest >= 255 {
        out.push(255);
        rest -= 255;
    }
    out.push(rest as u8);
}

fn zrle_tile(out: &mut Vec<u8>, width: usize, tile: &[u32]) {
    let mut palette: Vec<u32> = Vec::new();
    for &p in tile {
        if !palette.contains(&p) {
            palette.push(p);
            if palette.len() > 127 {
                break;
            }
        }
    }
    let runs = runs(tile);
    let index = |p: u32| palette.iter().position(|&c| c == p).unwrap() as u8;
    match palette.len() {
        1 => {
            out.push(1);
            cpixel(out, palette[0]);
        }
        n @ 2..=16 => {
            out.push(n as u8);
            palette.iter().for_each(|&c| cpixel(out, c));
            let bits = match n {
                2 => 1,
                3..=4 => 2,
                _ => 4,
            };
            for row in tile.chunks(width) {
                let (mut byte, mut used) = (0u8, 0);
                for &p in row {
                    byte |= index(p) << (8 - bits - used);
                    used += bits;
                    if used == 8 {
                        out.push(byte);
                        (byte, used) = (0, 0);
                    }
                }
                if used > 0 {
                    out.push(byte);
                }
            }
        }
        n @ 17..=127 => {
            out.push(128 + n as u8);
            palette.iter().for_each(|&c| cpixel(out, c));
            for &(color, len) in &runs {
                if len == 1 {
                    out.push(index(color));
                } else {
                    out.push(index(color) | 0x80);
                    run_length(out, len);
                }
            }
        }
        _ if runs.len() * 2 < tile.len() => {
            out.push(128);
            for &(color, len) in &runs {
                cpixel(out, color);
                run_length(out, len);
            }
        }
        _ => {
            out.push(0);
            tile.iter().for_each(|&p| cpixel(out, p));
        }
    }
}

/// A test picture exercising every ZRLE sub-encoding: noise (raw), wide colour bands
/// (plain RLE), narrow stripes (packed palette), row colours (palette RLE), solid.
pub fn test_picture(width: usize, height: usize, seed: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let region = (x / 64 + y / 64) % 5;
            let p = match region {
                0 => hash(x as u32, y as u32, seed) & 0xff_ffff,
                1 => ((y as u32 * 7 + (x as u32 / 32) * 3 + seed) & 0xff) << 8 | 0x40_0000,
                2 => [0x00ff_0000, 0x0000_ff00, 0x0000_00ff][(x + seed as usize) % 3],
                3 => (y as u32 + seed) & 0xff | 0x2000,
                _ => 0x0012_3456 ^ seed,
            };
            out.push(p);
        }
    }
    out
}

fn hash(x: u32, y: u32, seed: u32) -> u32 {
    let mut h = x.wrapping_mul(0x9e37_79b9) ^ y.wrapping_mul(0x85eb_ca6b) ^ seed;
    h ^= h >> 15;
    h = h.wrapping_mul(0x2c1b_3c6d);
    h ^ (h >> 12)
}

/// The client's answer to a VNC authentication challenge: the challenge DES-encrypted
/// with the password (at most 8 bytes, zero-padded, each byte's bits reversed) as key.
pub fn vnc_auth_response(challenge: &[u8; 16], password: &str) -> [u8; 16] {
    use des::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.bytes()) {
        *k = b.reverse_bits();
    }
    let cipher = des::Des::new_from_slice(&key).expect("an 8-byte DES key");
    let mut out = *challenge;
    for block in out.chunks_exact_mut(8) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    out
}
