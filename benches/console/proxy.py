#!/usr/bin/env python3
"""A counting RFB proxy: forwards bytes between VNC viewers and QEMU's VNC server unchanged,
and parses both directions to log, with CLOCK_MONOTONIC timestamps (time.monotonic()):

  C <t> <conn> open|close
  U <t> <conn> <rects> <pixels> <bytes>      one FramebufferUpdate, logged when its last
                                             byte has arrived; pixels = sum of w*h of the
                                             rectangles that carry pixels (not pseudo)
  K <t> <conn> <down> <keysym>               a KeyEvent (or QEMU extended key event);
                                             <t> is when its bytes arrived on the proxy's
                                             socket (the kernel's receive timestamp,
                                             SO_TIMESTAMPNS), so the proxy's own scheduling
                                             does not count
  S <t> <conn> <encodings...>                the viewer's SetEncodings
  E <t> <conn> <direction> <message>         parsing stopped (forwarding goes on)

Bytes are forwarded before they are parsed, so parsing adds no delay to either direction.
Handles RFB 3.8 with security None, and the encodings QEMU sends:
Raw, CopyRect, RRE, Hextile, Zlib, Tight, Tight PNG, ZRLE and the pseudo-encodings.

Usage: proxy.py LISTEN UPSTREAM LOGFILE
  LISTEN and UPSTREAM: a port on 127.0.0.1, or the path of a UNIX socket (with a slash)
"""

import asyncio
import socket
import struct
import sys
import time


class Need:
    """What a parser generator waits for: `n` bytes, handed over or skipped."""

    __slots__ = ("n", "skip")

    def __init__(self, n, skip=False):
        self.n = n
        self.skip = skip


def read(n):
    return Need(n)


def skip(n):
    return Need(n, skip=True)


class Feeder:
    """Drives a parser generator with the chunks of one direction of the stream."""

    def __init__(self, gen_fn, conn, name):
        self.conn = conn
        self.name = name
        self.now = 0.0
        self.offset = 0  # bytes fed so far
        self.buf = bytearray()
        self.skipping = 0
        self.gen = gen_fn(conn, self)
        self.want = next(self.gen)
        self.dead = False

    def feed(self, data, now):
        if self.dead:
            return
        self.now = now
        view = memoryview(data)
        self.offset += len(view)
        try:
            if self.skipping:
                take = min(self.skipping, len(view))
                self.skipping -= take
                self.buf += view[take:]
                if self.skipping:
                    return
                self.want = self.gen.send(None)
            else:
                self.buf += view
            while True:
                want = self.want
                if want.skip:
                    take = min(want.n, len(self.buf))
                    del self.buf[:take]
                    if take < want.n:
                        self.skipping = want.n - take
                        return
                    self.want = self.gen.send(None)
                else:
                    if len(self.buf) < want.n:
                        return
                    chunk = bytes(self.buf[: want.n])
                    del self.buf[: want.n]
                    self.want = self.gen.send(chunk)
        except StopIteration:
            self.dead = True
        except Exception as e:  # an unknown message: stop parsing, keep forwarding
            self.dead = True
            self.conn.log(f"E {now:.6f} {self.conn.id} {self.name} {type(e).__name__}: {e}")

    def consumed(self):
        """Bytes parsed so far (fed minus buffered, plus what is still to be skipped)."""
        return self.offset - len(self.buf) + self.skipping


def compact_length():
    b = (yield read(1))[0]
    n = b & 0x7F
    if b & 0x80:
        b = (yield read(1))[0]
        n |= (b & 0x7F) << 7
        if b & 0x80:
            b = (yield read(1))[0]
            n |= b << 14
    return n


def tight_rect(conn, w, h):
    tpixel = conn.tpixel
    ctrl = (yield read(1))[0]
    comp = ctrl >> 4
    if comp == 8:  # fill
        yield skip(tpixel)
        return
    if comp in (9, 10):  # JPEG, PNG
        n = yield from compact_length()
        yield skip(n)
        return
    if comp > 10:
        raise ValueError(f"tight compression control {ctrl:#x}")
    filt = 0
    if comp & 4:
        filt = (yield read(1))[0]
    if filt == 0:
        size = w * h * tpixel
    elif filt == 1:
        colours = (yield read(1))[0] + 1
        yield skip(colours * tpixel)
        size = ((w + 7) // 8) * h if colours == 2 else w * h
    elif filt == 2:
        size = w * h * tpixel
    else:
        raise ValueError(f"tight filter {filt}")
    if size < 12:
        yield skip(size)
    else:
        n = yield from compact_length()
        yield skip(n)


def hextile_rect(conn, w, h):
    bpp = conn.bpp
    for ty in range(0, h, 16):
        th = min(16, h - ty)
        for tx in range(0, w, 16):
            tw = min(16, w - tx)
            sub = (yield read(1))[0]
            if sub & 1:
                yield skip(tw * th * bpp)
                continue
            extra = (bpp if sub & 2 else 0) + (bpp if sub & 4 else 0)
            if extra:
                yield skip(extra)
            if sub & 8:
                n = (yield read(1))[0]
                yield skip(n * ((bpp if sub & 16 else 0) + 2))


def server_gen(conn, feeder):
    yield read(12)
    n = (yield read(1))[0]
    if n == 0:
        return
    yield read(n)
    yield read(4)  # SecurityResult (RFB 3.8)
    init = yield read(24)
    conn.width, conn.height = struct.unpack(">HH", init[:4])
    conn.set_pixel_format(init[4:20])
    (name_len,) = struct.unpack(">I", init[20:24])
    yield skip(name_len)
    while True:
        kind = (yield read(1))[0]
        if kind == 0:  # FramebufferUpdate
            start = feeder.consumed() - 1
            (rects,) = struct.unpack(">xH", (yield read(3)))
            pixels = 0
            count = 0
            encodings = set()
            i = 0
            while rects == 0xFFFF or i < rects:
                i += 1
                x, y, w, h, enc = struct.unpack(">HHHHi", (yield read(12)))
                if enc == -224:  # LastRect
                    break
                if enc >= 0 or enc == -260:
                    pixels += w * h
                    count += 1
                    encodings.add(enc)
                yield from rect_body(conn, enc, w, h)
            conn.log(
                f"U {feeder.now:.6f} {conn.id} {count} {pixels} {feeder.consumed() - start} "
                + (",".join(map(str, sorted(encodings))) or "-")
            )
        elif kind == 1:  # SetColourMapEntries
            (_, colours) = struct.unpack(">xHH", (yield read(5)))
            yield skip(6 * colours)
        elif kind == 2:  # Bell
            pass
        elif kind == 3:  # ServerCutText; a negative length is an Extended Clipboard message
            (length,) = struct.unpack(">xxxi", (yield read(7)))
            yield skip(abs(length))
        elif kind == 255:  # QEMU audio
            sub = (yield read(1))[0]
            if sub != 1:
                raise ValueError(f"QEMU server message {sub}")
            (op,) = struct.unpack(">H", (yield read(2)))
            if op == 2:
                (length,) = struct.unpack(">I", (yield read(4)))
                yield skip(length)
        else:
            raise ValueError(f"server message type {kind}")


def rect_body(conn, enc, w, h):
    bpp = conn.bpp
    if enc == 0:
        yield skip(w * h * bpp)
    elif enc == 1:
        yield skip(4)
    elif enc == 2:
        (n,) = struct.unpack(">I", (yield read(4)))
        yield skip(bpp + n * (bpp + 8))
    elif enc == 5:
        yield from hextile_rect(conn, w, h)
    elif enc in (6, 16):  # Zlib, ZRLE
        (n,) = struct.unpack(">I", (yield read(4)))
        yield skip(n)
    elif enc in (7, -260):
        yield from tight_rect(conn, w, h)
    elif enc == -239:  # Cursor
        yield skip(w * h * bpp + ((w + 7) // 8) * h)
    elif enc == -240:  # XCursor
        if w * h:
            yield skip(6 + 2 * ((w + 7) // 8) * h)
    elif enc == -223:  # DesktopSize
        conn.width, conn.height = w, h
    elif enc == -308:  # ExtendedDesktopSize
        (screens,) = struct.unpack(">Bxxx", (yield read(4)))
        yield skip(16 * screens)
        conn.width, conn.height = w, h
    elif enc in (-257, -258, -259):  # pointer type change, ext key event, audio
        pass
    elif enc == -261:  # LED state
        yield skip(1)
    elif enc == 0x574D5669:  # VMware WMVi: a new pixel format
        conn.set_pixel_format((yield read(16)))
    else:
        raise ValueError(f"encoding {enc}")


def client_gen(conn, feeder):
    yield read(12)
    security = (yield read(1))[0]
    if security != 1:
        raise ValueError(f"security type {security}: only None is followed")
    yield read(1)  # ClientInit
    while True:
        kind = (yield read(1))[0]
        if kind == 0:  # SetPixelFormat
            body = yield read(19)
            conn.set_pixel_format(body[3:19])
        elif kind == 2:  # SetEncodings
            (n,) = struct.unpack(">xH", (yield read(3)))
            encs = struct.unpack(f">{n}i", (yield read(4 * n)))
            conn.log(f"S {feeder.now:.6f} {conn.id} " + " ".join(map(str, encs)))
        elif kind == 3:  # FramebufferUpdateRequest
            yield skip(9)
            conn.update_requested()
        elif kind == 4:  # KeyEvent
            down, keysym = struct.unpack(">BxxI", (yield read(7)))
            conn.log(f"K {feeder.now:.6f} {conn.id} {down} {keysym:#x}")
        elif kind == 5:  # PointerEvent
            yield skip(5)
        elif kind == 6:  # ClientCutText
            (length,) = struct.unpack(">xxxi", (yield read(7)))
            yield skip(abs(length))
        elif kind == 150:  # EnableContinuousUpdates
            yield skip(9)
        elif kind == 251:  # SetDesktopSize
            (screens,) = struct.unpack(">xHHBx", (yield read(7)))
            yield skip(16 * screens)
        elif kind == 255:  # QEMU client messages
            sub = (yield read(1))[0]
            if sub == 0:  # extended key event
                down, keysym, _ = struct.unpack(">HII", (yield read(10)))
                conn.log(f"K {feeder.now:.6f} {conn.id} {int(down != 0)} {keysym:#x}")
            elif sub == 1:  # audio
                (op,) = struct.unpack(">H", (yield read(2)))
                if op == 2:
                    yield skip(6)
            else:
                raise ValueError(f"QEMU client message {sub}")
        else:
            raise ValueError(f"client message type {kind}")


class Conn:
    counter = 0

    def __init__(self, logfile):
        Conn.counter += 1
        self.id = Conn.counter
        self.logfile = logfile
        self.width = self.height = 0
        self.bpp = 4
        self.tpixel = 3

    def set_pixel_format(self, pf):
        bits, depth, _big, true_colour, rmax, gmax, bmax = struct.unpack(">BBBBHHH", pf[:10])
        self.bpp = bits // 8
        tight_pixel = bits == 32 and depth == 24 and true_colour and rmax == gmax == bmax == 255
        self.tpixel = 3 if tight_pixel else self.bpp

    def log(self, line):
        self.logfile.write(line + "\n")
        self.logfile.flush()

    def update_requested(self):
        """The viewer asked for a framebuffer update (pacer.py answers it)."""


async def pump(reader, sock, feeder):
    """Server → viewer."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(1 << 18)
            if not data:
                break
            now = time.monotonic()
            await loop.sock_sendall(sock, data)
            feeder.feed(data, now)
    except (ConnectionError, OSError):
        pass
    finally:
        try:  # ends the other direction too: its reads see the end
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def arrival(ancillary):
    """The kernel's receive time of the data (CLOCK_REALTIME) as CLOCK_MONOTONIC."""
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(payload) >= 16:
            sec, nsec = struct.unpack("qq", payload[:16])
            return time.monotonic() - (time.time() - (sec + nsec / 1e9))
    return time.monotonic()


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS


async def pump_timestamped(sock, writer, feeder):
    """Viewer → server, each chunk stamped with the time it reached the socket."""
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    fd = sock.fileno()
    loop.add_reader(fd, readable.set)
    try:
        while True:
            await readable.wait()
            readable.clear()
            while True:
                try:
                    data, ancillary, _flags, _addr = sock.recvmsg(1 << 16, 256)
                except BlockingIOError:
                    break
                if not data:
                    return
                writer.write(data)
                feeder.feed(data, arrival(ancillary))
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        loop.remove_reader(fd)
        writer.close()


def is_path(address):
    return "/" in address


async def main():
    listen, upstream, path = sys.argv[1], sys.argv[2], sys.argv[3]
    logfile = open(path, "a", buffering=1)
    loop = asyncio.get_running_loop()

    async def handle(client):
        conn = Conn(logfile)
        conn.log(f"C {time.monotonic():.6f} {conn.id} open")
        client.setblocking(False)
        if not is_path(listen):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            if is_path(upstream):
                s_reader, s_writer = await asyncio.open_unix_connection(upstream)
            else:
                s_reader, s_writer = await asyncio.open_connection("127.0.0.1", int(upstream))
                s_writer.get_extra_info("socket").setsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            conn.log(f"E {time.monotonic():.6f} {conn.id} connect {e}")
            client.close()
            return
        up = pump_timestamped(client, s_writer, Feeder(client_gen, conn, "client"))
        down = pump(s_reader, client, Feeder(server_gen, conn, "server"))
        await asyncio.gather(up, down)
        client.close()
        conn.log(f"C {time.monotonic():.6f} {conn.id} close")

    if is_path(listen):
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(listen)
    else:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", int(listen)))
    server.listen(8)
    server.setblocking(False)
    print(f"LISTEN {listen}", flush=True)
    tasks = set()
    while True:
        client, _ = await loop.sock_accept(server)
        task = asyncio.create_task(handle(client))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


if __name__ == "__main__":
    asyncio.run(main())
