#!/usr/bin/env python3
"""A VNC server that sends a whole new 1920×1080 screen at QEMU's pace.

QEMU's VNC server looks for changes every 30 ms (its refresh interval) and sends them when
the viewer has asked for an update, so a guest whose whole screen changes all the time
(video) reaches ~33 updates/s at most. The TCG test guest cannot repaint its screen that
often; this server can. On every 30 ms tick it sends each viewer with an update request
pending a whole-screen Raw rectangle of random pixels (two screens, alternating), in the
viewer's pixel format. Raw is what a viewer on the same machine gets from Virtdeck's
request order anyway, and every viewer must accept it.

RFB 3.8, security None, 1920×1080, QEMU's default pixel format (32 bpp, depth 24, little
endian, red shift 16). What the viewer sends is parsed by proxy.py's `client_gen`; only
SetPixelFormat (the bits per pixel of what is sent) and FramebufferUpdateRequest matter
here. Keys are counted by proxy.py, which sits in front of this server exactly as it sits
in front of QEMU.

Usage: pacer.py PORT   (on 127.0.0.1; prints "LISTEN PORT" once it accepts)
"""

import asyncio
import os
import struct
import sys
import time

from proxy import Conn, Feeder, client_gen

WIDTH, HEIGHT = 1920, 1080
INTERVAL = 0.030  # QEMU's VNC refresh interval (VNC_REFRESH_INTERVAL_BASE)
NAME = b"paced screens"
# 32 bpp, depth 24, little endian, true colour, max 255 each, shifts 16 8 0.
PIXEL_FORMAT = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)


class Screens:
    """Two random screens per pixel size, each with its update header in front."""

    def __init__(self):
        self.by_bpp = {}

    def get(self, bytes_per_pixel, n):
        if bytes_per_pixel not in self.by_bpp:
            header = struct.pack(">BxHHHHHi", 0, 1, 0, 0, WIDTH, HEIGHT, 0)
            size = WIDTH * HEIGHT * bytes_per_pixel
            self.by_bpp[bytes_per_pixel] = [header + os.urandom(size) for _ in range(2)]
        return self.by_bpp[bytes_per_pixel][n % 2]


class ViewerConn(Conn):
    """proxy.py's view of one viewer's messages, telling this server when an update is
    asked for; `bpp` (bytes per pixel) follows SetPixelFormat."""

    def __init__(self):
        super().__init__(logfile=None)
        self.pending = asyncio.Event()

    def log(self, line):
        if line.startswith("E "):  # parsing stopped: the viewer sent something unknown
            raise ValueError(line)

    def update_requested(self):
        self.pending.set()


class Viewer:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.conn = ViewerConn()
        self.messages = Feeder(client_gen, self.conn, "client")
        self.sent = 0

    async def read(self, n):
        data = await self.reader.readexactly(n)
        self.messages.feed(data, time.monotonic())
        return data

    async def handshake(self):
        self.writer.write(b"RFB 003.008\n")
        await self.read(12)
        self.writer.write(b"\x01\x01")  # one security type: None
        if (await self.read(1))[0] != 1:
            raise ValueError("the viewer chose a security type other than None")
        self.writer.write(struct.pack(">I", 0))  # SecurityResult OK
        await self.read(1)  # ClientInit
        self.writer.write(struct.pack(">HH", WIDTH, HEIGHT) + PIXEL_FORMAT
                          + struct.pack(">I", len(NAME)) + NAME)
        await self.writer.drain()

    async def read_messages(self):
        while data := await self.reader.read(1 << 16):
            self.messages.feed(data, time.monotonic())

    async def send_paced(self, screens):
        """On each tick, a new screen if one was asked for; a slow viewer gets fewer."""
        tick = time.monotonic()
        while True:
            await self.conn.pending.wait()
            now = time.monotonic()
            if now < tick:
                await asyncio.sleep(tick - now)
            self.conn.pending.clear()
            self.writer.write(screens.get(self.conn.bpp, self.sent))
            self.sent += 1
            await self.writer.drain()
            # The next tick after this one (ticks missed while sending are skipped).
            tick += INTERVAL * (int((time.monotonic() - tick) // INTERVAL) + 1)


async def main():
    port = int(sys.argv[1])
    screens = Screens()
    screens.get(4, 0)  # the usual format is ready before anybody connects

    async def serve(reader, writer):
        viewer = Viewer(reader, writer)
        try:
            await viewer.handshake()
            tasks = [asyncio.create_task(viewer.read_messages()),
                     asyncio.create_task(viewer.send_paced(screens))]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            for task in done:
                error = task.exception()
                if error and not isinstance(error, (asyncio.IncompleteReadError, ConnectionError)):
                    print(f"viewer: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    print(f"LISTEN {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
