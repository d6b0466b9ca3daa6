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
endian, red shift 16). Client messages are read and dropped, except SetPixelFormat (the
bits per pixel of what is sent) and FramebufferUpdateRequest. Keys are counted by
proxy.py, which sits in front of this server exactly as it sits in front of QEMU.

Usage: pacer.py PORT   (on 127.0.0.1; prints "LISTEN PORT" once it accepts)
"""

import asyncio
import os
import struct
import sys
import time

WIDTH, HEIGHT = 1920, 1080
INTERVAL = 0.030  # QEMU's VNC refresh interval (VNC_REFRESH_INTERVAL_BASE)
NAME = b"paced screens"
# 32 bpp, depth 24, little endian, true colour, max 255 each, shifts 16 8 0.
PIXEL_FORMAT = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
# Fixed-size client messages: type → length after the type byte.
FIXED = {3: 9, 4: 7, 5: 5, 150: 9}


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


class Viewer:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.bytes_per_pixel = 4
        self.pending = asyncio.Event()
        self.sent = 0

    async def handshake(self):
        self.writer.write(b"RFB 003.008\n")
        await self.reader.readexactly(12)
        self.writer.write(b"\x01\x01")  # one security type: None
        if (await self.reader.readexactly(1))[0] != 1:
            raise ValueError("the viewer chose a security type other than None")
        self.writer.write(struct.pack(">I", 0))  # SecurityResult OK
        await self.reader.readexactly(1)  # ClientInit
        self.writer.write(struct.pack(">HH", WIDTH, HEIGHT) + PIXEL_FORMAT
                          + struct.pack(">I", len(NAME)) + NAME)
        await self.writer.drain()

    async def read_messages(self):
        read = self.reader.readexactly
        while True:
            kind = (await read(1))[0]
            if kind in FIXED:
                await read(FIXED[kind])
                if kind == 3:
                    self.pending.set()
            elif kind == 0:  # SetPixelFormat
                bits = (await read(19))[3]
                if bits not in (8, 16, 32):
                    raise ValueError(f"{bits} bits per pixel")
                self.bytes_per_pixel = bits // 8
            elif kind == 2:  # SetEncodings
                (n,) = struct.unpack(">xH", await read(3))
                await read(4 * n)
            elif kind == 6:  # ClientCutText
                (length,) = struct.unpack(">xxxi", await read(7))
                await read(abs(length))
            elif kind == 251:  # SetDesktopSize: the size stays
                (screens,) = struct.unpack(">xHHBx", await read(7))
                await read(16 * screens)
            elif kind == 255:  # QEMU: extended key event (0) or audio (1)
                sub = (await read(1))[0]
                if sub == 0:
                    await read(10)
                elif sub == 1:
                    (op,) = struct.unpack(">H", await read(2))
                    await read(6 if op == 2 else 0)
                else:
                    raise ValueError(f"QEMU client message {sub}")
            else:
                raise ValueError(f"client message type {kind}")

    async def send_paced(self, screens):
        """On each tick, a new screen if one was asked for; a slow viewer gets fewer."""
        tick = time.monotonic()
        while True:
            await self.pending.wait()
            now = time.monotonic()
            if now < tick:
                await asyncio.sleep(tick - now)
            self.pending.clear()
            self.writer.write(screens.get(self.bytes_per_pixel, self.sent))
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
