#!/usr/bin/python3
"""Console benchmark harness (run by run.sh inside xvfb-run + dbus-run-session).

For each scenario, boots the painting test guest (or starts pacer.py) and puts proxy.py
between the viewers and that VNC server. Then, for each viewer alone: CPU of its process
over a steady window, the updates and pixels it received in that window (from the proxy's
log), then input latency from an XTest key press to the KeyEvent bytes at the proxy, and
for Virtdeck also from the key event in GTK (its VIRTDECK_INPUT_TIMES record) to those
bytes. Prints a Markdown table. See README.md.
"""

import argparse
import contextlib
import ctypes
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "ui"))
import guest as test_guest  # noqa: E402  (tests/ui/guest.py)

TICK = os.sysconf("SC_CLK_TCK")
KEYSYM_X = 0x78
KEYSYM_SHIFT = 0xFFE1


def say(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def deadline_wait(what, condition, timeout, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def thread_cpu(pid):
    """CPU seconds per thread name (threads of the same name summed)."""
    per = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
        except FileNotFoundError:
            continue
        name = head.split("(", 1)[1]
        fields = rest.split()
        per[name] = per.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return per


def free_display_port():
    """A free port 5900+D (gvncviewer takes a display number), above QEMU's usual range."""
    for display in range(150, 400):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 5900 + display))
                return 5900 + display
            except OSError:
                continue
    raise RuntimeError("no free port for the proxy")


class ProxyLog:
    """Reads what proxy.py logged."""

    def __init__(self, path):
        self.path = path

    def lines(self):
        with open(self.path) as f:
            return [line.split() for line in f if line.strip()]

    def connections(self):
        return [int(p[2]) for p in self.lines() if p[0] == "C" and p[3] == "open"]

    def errors(self):
        return [" ".join(p) for p in self.lines() if p[0] == "E"]

    def updates(self, conn, t0=0.0, t1=float("inf")):
        return [
            (float(p[1]), int(p[3]), int(p[4]), int(p[5]),
             [int(e) for e in p[6].split(",") if e != "-"])
            for p in self.lines()
            if p[0] == "U" and int(p[2]) == conn and t0 <= float(p[1]) <= t1
        ]

    def keys(self, conn):
        return [
            (float(p[1]), int(p[3]), int(p[4], 16))
            for p in self.lines()
            if p[0] == "K" and int(p[2]) == conn
        ]

    def encodings(self, conn):
        for p in self.lines():
            if p[0] == "S" and int(p[2]) == conn:
                return [int(e) for e in p[3:]]
        return []

    def closed(self, conn):
        return any(p[0] == "C" and int(p[2]) == conn and p[3] == "close" for p in self.lines())


class XTest:
    """Synthetic X input through libXtst, in this process: no xdotool start-up in the
    measured latency (xdotool uses the same XTest requests)."""

    def __init__(self):
        self.x11 = ctypes.CDLL("libX11.so.6")
        self.xtst = ctypes.CDLL("libXtst.so.6")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.dpy = self.x11.XOpenDisplay(None)
        if not self.dpy:
            raise RuntimeError("cannot open the X display")
        vp, ui, i, ul = ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong
        self.x11.XStringToKeysym.restype = ul
        self.x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x11.XKeysymToKeycode.argtypes = [vp, ul]
        self.x11.XFlush.argtypes = [vp]
        self.x11.XSync.argtypes = [vp, i]
        self.xtst.XTestFakeKeyEvent.argtypes = [vp, ui, i, ul]
        self.xtst.XTestFakeMotionEvent.argtypes = [vp, i, i, i, ul]
        self.xtst.XTestFakeButtonEvent.argtypes = [vp, ui, i, ul]

    def keycode(self, name):
        return self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(name.encode()))

    def key(self, keycode, down):
        self.xtst.XTestFakeKeyEvent(self.dpy, keycode, int(down), 0)
        self.x11.XFlush(self.dpy)

    def click(self, x, y):
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.xtst.XTestFakeButtonEvent(self.dpy, 1, 1, 0)
        self.xtst.XTestFakeButtonEvent(self.dpy, 1, 0, 0)
        self.x11.XSync(self.dpy, 0)


def find_window(pid, name):
    """The app's visible top-level window (xdotool, by PID, else by name):
    (id, x, y, width, height)."""

    def find():
        for args in (["--pid", str(pid)], ["--name", name]):
            out = subprocess.run(
                ["xdotool", "search", "--onlyvisible", *args],
                capture_output=True, text=True,
            ).stdout.split()
            for wid in out:
                geo = subprocess.run(
                    ["xdotool", "getwindowgeometry", "--shell", wid],
                    capture_output=True, text=True,
                ).stdout
                g = dict(line.split("=", 1) for line in geo.split() if "=" in line)
                if int(g.get("WIDTH", 0)) > 200 and int(g.get("HEIGHT", 0)) > 200:
                    return wid, int(g["X"]), int(g["Y"]), int(g["WIDTH"]), int(g["HEIGHT"])
        return None

    return deadline_wait(f"the window of {name}", find, 30, step=0.5)


def fill_screen(pid, name):
    """Moves the window to 0,0 and makes it 1920×1080 (no window manager runs), so both
    viewers show the guest screen at about 1:1."""
    wid = find_window(pid, name)[0]
    subprocess.run(["xdotool", "windowmove", wid, "0", "0", "windowsize", wid, "1920", "1080"],
                   check=True)


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def key_latency(presses, proxy, conn, keysym, prefix="key"):
    """Matches each press to the first key-down of `keysym` the proxy saw before the next
    press; p50/p99/max in ms over the matched ones."""
    downs = [k[0] for k in proxy.keys(conn) if k[1] == 1 and k[2] == keysym]
    latencies = []
    for i, t in enumerate(presses):
        nxt = presses[i + 1] if i + 1 < len(presses) else float("inf")
        seen = next((d for d in downs if t <= d < nxt), None)
        if seen is not None:
            latencies.append(1000 * (seen - t))
    return {
        f"{prefix}s_sent": len(presses),
        f"{prefix}s_seen": len(latencies),
        f"{prefix}_p50_ms": percentile(latencies, 0.5),
        f"{prefix}_p99_ms": percentile(latencies, 0.99),
        f"{prefix}_max_ms": max(latencies) if latencies else float("nan"),
    }


def handler_times(env, keysym):
    """When Virtdeck's console received each press of `keysym` from GTK (CLOCK_MONOTONIC),
    from the file `VIRTDECK_INPUT_TIMES` names; None for a viewer without that record."""
    path = env.get("VIRTDECK_INPUT_TIMES")
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        rows = [line.split() for line in f]
    return [float(t) for t, k in rows if int(k) == keysym]


def bare_client_latency(port, proxy, keys):
    """The measurement's floor: a bare RFB client in this process writes KeyEvents (Shift)
    to the proxy; latency from just before send() to the proxy's timestamp."""
    known = set(proxy.connections())
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        f.read(12)
        s.sendall(b"RFB 003.008\n")
        f.read(f.read(1)[0])
        s.sendall(b"\x01")  # security None
        f.read(4)
        s.sendall(b"\x01")  # ClientInit, shared
        f.read(struct.unpack(">20xI", f.read(24))[0])
        conn = deadline_wait("the bare client's connection",
                             lambda: next((c for c in proxy.connections() if c not in known), None), 10)
        presses = []
        for _ in range(keys):
            presses.append(time.monotonic())
            s.sendall(struct.pack(">BBxxI", 4, 1, KEYSYM_SHIFT))
            time.sleep(0.01)
            s.sendall(struct.pack(">BBxxI", 4, 0, KEYSYM_SHIFT))
            time.sleep(0.02)
        time.sleep(0.5)
    result = key_latency(presses, proxy, conn, KEYSYM_SHIFT)
    say(f"bare client: p50 {result['key_p50_ms']:.2f} ms, p99 {result['key_p99_ms']:.2f} ms")
    return result


def measure_app(app, cmd, env, title, proxy, xtest, args, logdir):
    known = set(proxy.connections())
    log = open(os.path.join(logdir, f"{app}.log"), "w")
    say(f"{app}: starting {' '.join(cmd)}")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    result = {"app": app}
    try:
        conn = deadline_wait(
            f"{app} to connect through the proxy",
            lambda: next((c for c in proxy.connections() if c not in known), None),
            60,
        )
        deadline_wait(f"{app}'s first framebuffer update", lambda: proxy.updates(conn), 60)
        result["encodings"] = proxy.encodings(conn)
        fill_screen(proc.pid, title)
        time.sleep(args.warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"{app} exited ({proc.returncode})")

        # Steady window: the guest paints, nobody touches the viewer.
        c0, t0, th0 = cpu_seconds(proc.pid), time.monotonic(), thread_cpu(proc.pid)
        time.sleep(args.seconds)
        c1, t1, th1 = cpu_seconds(proc.pid), time.monotonic(), thread_cpu(proc.pid)
        threads = {n: th1[n] - th0.get(n, 0.0) for n in th1}
        result["thread_cpu_s"] = dict(sorted(threads.items(), key=lambda kv: -kv[1]))
        ups = proxy.updates(conn, t0, t1)
        span = t1 - t0
        cpu = c1 - c0
        mpix = sum(u[2] for u in ups) / 1e6
        result.update(
            seconds=span,
            cpu_s=cpu,
            cpu_pct=100 * cpu / span,
            updates=len(ups),
            updates_per_s=len(ups) / span,
            rects=sum(u[1] for u in ups),
            mpix=mpix,
            mpix_per_s=mpix / span,
            mbytes=sum(u[3] for u in ups) / 1e6,
            received_encodings=sorted({e for u in ups for e in u[4]}),
            cpu_ms_per_mpix=1000 * cpu / mpix if mpix else float("nan"),
        )
        say(f"{app}: {result['updates_per_s']:.1f} updates/s, {result['cpu_pct']:.1f} % CPU, "
            f"{result['cpu_ms_per_mpix']:.2f} ms/Mpix")

        # Input latency: focus by a click into the window, then key presses.
        _, x, y, w, h = find_window(proc.pid, title)
        result["window"] = f"{w}x{h}"
        xtest.click(x + w // 2, y + h // 2)
        time.sleep(1.0)
        keycode = xtest.keycode("x")
        presses = []
        for _ in range(args.keys):
            t = time.monotonic()
            xtest.key(keycode, True)
            presses.append(t)
            time.sleep(0.02)
            xtest.key(keycode, False)
            time.sleep(0.04 + random.random() * 0.03)
        time.sleep(1.0)
        result.update(key_latency(presses, proxy, conn, KEYSYM_X))
        handled = handler_times(env, KEYSYM_X)
        if handled is not None:
            result.update(key_latency(handled, proxy, conn, KEYSYM_X, prefix="gtk_key"))
        say(f"{app}: keys {result['keys_seen']}/{result['keys_sent']} seen, p50 {result['key_p50_ms']:.2f} ms, "
            f"p99 {result['key_p99_ms']:.2f} ms")
    except Exception as e:  # report the app as failed, go on with the other one
        result["error"] = str(e)
        say(f"{app}: FAILED: {e}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    conns = [c for c in proxy.connections() if c not in known]
    try:
        deadline_wait(f"{app}'s connection to close", lambda: all(proxy.closed(c) for c in conns), 15)
    except RuntimeError as e:
        say(str(e))
    return result


def fmt(value, digits=1):
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}f}"


NAMES = {"virtdeck": "Virtdeck", "virtdeck-fit": "Virtdeck (fit)", "gvncviewer": "gvncviewer"}


def table(results, floor, load):
    """One column per viewer, in the order measured."""
    rows = [
        ("CPU, % of one core", "cpu_pct", 1, "< 50 % at ~33 updates/s"),
        ("framebuffer updates / s", "updates_per_s", 1, "~33 (QEMU's rate)"),
        ("Mpix updated / s", "mpix_per_s", 1, ""),
        ("MB received / s", None, 1, ""),
        ("CPU ms per Mpix", "cpu_ms_per_mpix", 2, "≤ 7 and ≤ gvncviewer's"),
        ("XTest key → socket p50 (ms)", "key_p50_ms", 2, ""),
        ("XTest key → socket p99 (ms)", "key_p99_ms", 2, ""),
        ("XTest key → socket max (ms)", "key_max_ms", 2, ""),
        ("GTK key event → socket p50 (ms)", "gtk_key_p50_ms", 2, ""),
        ("GTK key event → socket p99 (ms)", "gtk_key_p99_ms", 2, "≤ 1"),
        ("GTK key event → socket max (ms)", "gtk_key_max_ms", 2, ""),
        ("keys seen / sent", None, 0, "all"),
    ]
    names = [NAMES.get(r["app"], r["app"]) for r in results]
    out = ["| measure | " + " | ".join(names) + " | target |",
           "| --- | " + "--- | " * len(results) + "--- |"]
    for label, key, digits, target in rows:
        cells = []
        for r in results:
            if label.startswith("MB"):
                v = r.get("mbytes", float("nan")) / r["seconds"] if "seconds" in r else None
                cells.append(fmt(v, digits))
            elif label.startswith("keys"):
                cells.append(f"{r['keys_seen']}/{r['keys_sent']}" if "keys_sent" in r else "–")
            else:
                cells.append(fmt(r.get(key), digits))
        out.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    notes = []
    for r in results:
        if "error" in r:
            notes.append(f"- {r['app']}: FAILED: {r['error']}")
        if "seconds" in r:
            notes.append(f"- {r['app']}: {r['seconds']:.1f} s window, {r['updates']} updates, "
                         f"{r['rects']} rectangles, {r['mpix']:.1f} Mpix, CPU {r['cpu_s']:.2f} s; "
                         f"window {r.get('window', '?')}; encodings offered {r.get('encodings')}, "
                         f"received {r.get('received_encodings')}")
            top = list(r.get("thread_cpu_s", {}).items())[:3]
            notes.append(f"- {r['app']}: busiest threads (CPU s): "
                         + ", ".join(f"{n} {v:.2f}" for n, v in top))
    notes.append(f"- measurement floor: a bare RFB client's KeyEvents to the proxy, send() → proxy "
                 f"timestamp: p50 {fmt(floor['key_p50_ms'], 2)} ms, p99 {fmt(floor['key_p99_ms'], 2)} ms "
                 f"({floor['keys_seen']}/{floor['keys_sent']} seen)")
    notes.append(f"- load average before/after: {load[0]} / {load[1]} (2 cores, shared with "
                 "the screen source and the proxy)")
    return "\n".join(out + [""] + notes)


def settings_home(logdir, scale_to_fit):
    """A GSettings keyfile for Virtdeck's console scaling; returns its XDG_CONFIG_HOME."""
    home = os.path.join(logdir, "config-fit" if scale_to_fit else "config-1to1")
    os.makedirs(os.path.join(home, "glib-2.0", "settings"), exist_ok=True)
    with open(os.path.join(home, "glib-2.0", "settings", "keyfile"), "w") as f:
        f.write(f"[io/github/virtdeck/Virtdeck]\nconsole-scale-to-fit={str(scale_to_fit).lower()}\n")
    return home


def viewers(args, target, port, logdir, own_path=False):
    """Command, environment and window title of each viewer; Virtdeck opens the console of
    `target` (connection URI, domain name) but connects to `port`, or with `own_path` the
    way it finds itself (through its SSH tunnel to a remote display). gvncviewer connects to
    `port` and shows the screen one to one; so does `virtdeck`, while `virtdeck-fit` scales
    it to fit its window."""
    base = dict(os.environ, GSETTINGS_BACKEND="memory")
    uri, name = target

    def virtdeck(fit):
        env = dict(base, GSETTINGS_BACKEND="keyfile", XDG_CONFIG_HOME=settings_home(logdir, fit),
                   GSK_RENDERER="cairo",
                   VIRTDECK_INPUT_TIMES=os.path.join(logdir, f"virtdeck-input-times-{port}-{fit}.txt"))
        if not own_path:
            env["VIRTDECK_CONSOLE_ADDRESS"] = f"127.0.0.1:{port}"
        cmd = [args.virtdeck_bin, "--connect", uri, "--show-domain-console", name]
        return cmd, env, name

    return {
        "virtdeck": virtdeck(False),
        "virtdeck-fit": virtdeck(True),
        "gvncviewer": (["gvncviewer", f"127.0.0.1:{port - 5900}"], base, "127.0.0.1"),
    }


def start_listening(cmd):
    """Starts a helper that prints `LISTEN <port>` once it accepts connections."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if not proc.stdout.readline().startswith("LISTEN "):
        proc.terminate()
        raise RuntimeError(f"{os.path.basename(cmd[1])} did not start")
    return proc


@contextlib.contextmanager
def painting_guest(name, rows):
    """The test guest painting bands of `rows` lines; yields (its VNC port, Virtdeck's
    target: the domain on qemu:///session)."""
    say(f"booting the painting guest {name} (bands of {rows} lines)")
    guest = test_guest.Guest(name, painting=True, paint_rows=rows)
    try:
        deadline_wait("'FB: painting 1920x1080' on the guest's serial port",
                      lambda: "FB: painting 1920x1080" in guest.log(), 240, step=0.5)
        display = test_guest.virsh("vncdisplay", name).stdout.strip()
        yield 5900 + int(display.rsplit(":", 1)[1]), (test_guest.SESSION, name)
    finally:
        guest.remove()


@contextlib.contextmanager
def paced_server():
    """pacer.py: a whole new screen every 30 ms, QEMU's pace, which the TCG guest cannot
    paint. Virtdeck opens the console of test:///default's running domain `test`, whose
    address VIRTDECK_CONSOLE_ADDRESS replaces."""
    port = free_display_port()
    say(f"pacer.py on 127.0.0.1:{port}: a new whole screen every 30 ms")
    pacer = start_listening([sys.executable, os.path.join(HERE, "pacer.py"), str(port)])
    try:
        yield port, ("test:///default", "test")
    finally:
        pacer.terminate()
        pacer.wait()


@contextlib.contextmanager
def remote_guest(name, logdir):
    """The painting guest (whole screen) on a remote host (tests/remote/host.sh), its VNC
    on a UNIX socket there, which proxy.py takes over inside that host: both viewers reach
    the proxy through SSH, Virtdeck through its own tunnel to the display's socket,
    gvncviewer through `ssh -L` to the same socket (a login of its own). Yields (the local
    port of gvncviewer's tunnel, Virtdeck's target: the host's URI and the domain, the
    proxy's log)."""
    import tempfile
    import xml.etree.ElementTree as ET

    import remote

    host = remote.RemoteHost("vdbench", 71).up()
    work = tempfile.mkdtemp(prefix="vdbench-remote-", dir="/tmp")
    os.chmod(work, 0o755)
    display = os.path.join(work, "vnc.sock")
    serial = os.path.join(work, "serial.log")
    proxy_log = os.path.join(logdir, "proxy-remote.log")
    helpers = []
    try:
        say(f"booting the painting guest {name} on the remote host {host.address}")
        root = ET.fromstring(test_guest.domain_xml(name, serial, test_guest.build(),
                                                   painting=True, paint_rows=1080))
        graphics = root.find("devices/graphics")
        for attribute in ("port", "autoport", "listen"):
            graphics.attrib.pop(attribute, None)
        for listen in graphics.findall("listen"):
            graphics.remove(listen)
        ET.SubElement(graphics, "listen", type="socket", socket=display)
        domain_xml = os.path.join(work, "domain.xml")
        with open(domain_xml, "w") as f:
            f.write(ET.tostring(root, encoding="unicode"))
        os.chmod(domain_xml, 0o644)
        host.inside("virsh", "-c", "qemu:///system", "define", domain_xml)
        host.inside("virsh", "-c", "qemu:///system", "start", name)
        deadline_wait("'FB: painting 1920x1080' on the remote guest's serial port",
                      lambda: os.path.exists(serial) and "FB: painting 1920x1080" in open(serial).read(),
                      300, step=0.5)
        # The proxy takes the display's place; QEMU goes on listening under another name.
        os.rename(display, display + ".qemu")
        helpers.append(start_listening(
            [remote.HOST_SH, "exec", host.name, sys.executable, os.path.join(HERE, "proxy.py"),
             display, display + ".qemu", proxy_log]))
        port = free_display_port()
        helpers.append(subprocess.Popen(
            ["ssh", "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
             "-o", f"UserKnownHostsFile={host.state}/known_hosts", "-i", host.key,
             "-L", f"127.0.0.1:{port}:{display}", f"root@{host.address}"],
            stdin=subprocess.DEVNULL))

        def forwarded():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        deadline_wait("gvncviewer's SSH tunnel", forwarded, 30)
        say(f"remote display {display} behind proxy.py there; ssh -L on 127.0.0.1:{port}")
        yield port, (host.uri, name), proxy_log
    finally:
        for helper in reversed(helpers):
            helper.terminate()
            helper.wait()
        host.down()  # and with it the guest and the proxy
        subprocess.run(["rm", "-rf", work], check=False)


@contextlib.contextmanager
def local_proxy(source, which, logdir):
    """proxy.py on this computer in front of `source`; yields (its port, Virtdeck's target,
    its log)."""
    with source as (upstream, target):
        port = free_display_port()
        proxy_log = os.path.join(logdir, f"proxy-{which}.log")
        proxy_proc = start_listening(
            [sys.executable, os.path.join(HERE, "proxy.py"), str(port), str(upstream), proxy_log])
        try:
            say(f"screen source on port {upstream}; proxy on 127.0.0.1:{port}")
            yield port, target, proxy_log
        finally:
            proxy_proc.terminate()
            proxy_proc.wait()


def scenario(which, args, logdir):
    """Starts the screen source (`paced`, `remote`, or the guest painting bands of `which`
    lines), puts the proxy in front of it and measures each viewer through the proxy;
    returns their results and the bare client's floor."""
    if which == "remote":
        through = remote_guest(args.name, logdir)
    else:
        source = paced_server() if which == "paced" else painting_guest(args.name, int(which))
        through = local_proxy(source, which, logdir)
    with through as (port, target, proxy_log):
        proxy = ProxyLog(proxy_log)
        xtest = XTest()
        apps = viewers(args, target, port, logdir, own_path=which == "remote")
        results = []
        for app in args.apps.split():
            cmd, env, title = apps[app]
            results.append(measure_app(app, cmd, env, title, proxy, xtest, args, logdir))
        floor = bare_client_latency(port, proxy, args.keys)
        for e in proxy.errors():
            say(f"proxy: {e}")
        return results, floor, proxy.errors()


HEADINGS = {
    "paced": "A server sends a new whole screen every 30 ms (QEMU's pace)",
    "remote": "Over SSH: the guest on a remote host (tests/remote/host.sh) repaints the whole "
              "screen; proxy.py there, both viewers through SSH tunnels",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--virtdeck-bin", required=True)
    ap.add_argument("--apps", default="virtdeck gvncviewer")
    ap.add_argument("--scenarios", default="1080 64 paced remote",
                    help="one scenario each: the guest's band height (1080: the whole screen), "
                         "paced (pacer.py) or remote (the guest on a remote host, over SSH)")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--name", default=f"vdbench-{os.getpid()}-console")
    args = ap.parse_args()
    logdir = os.path.join(args.outdir, "logs")
    os.makedirs(logdir, exist_ok=True)
    # SIGTERM (e.g. from xvfb-run or a timeout) still removes the guest.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report, ok = {}, True
    for which in args.scenarios.split():
        load0 = open("/proc/loadavg").read().split()[0]
        results, floor, errors = scenario(which, args, logdir)
        load1 = open("/proc/loadavg").read().split()[0]
        report[which] = {"results": results, "bare_client": floor, "proxy_errors": errors}
        heading = HEADINGS.get(which) or (
            "The guest repaints the whole screen" if int(which) >= 1080
            else f"The guest repaints bands of {which} lines")
        print(f"### {heading}\n")
        print(table(results, floor, (load0, load1)))
        print(flush=True)
        ok = ok and all("error" not in r for r in results)
    with open(os.path.join(args.outdir, "results.json"), "w") as f:
        json.dump(report, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
