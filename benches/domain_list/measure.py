#!/usr/bin/python3
"""Domain-list benchmark harness: Virtdeck and virt-manager on libvirt's test driver.

Run it inside an X display with a D-Bus session bus and the AT-SPI bus (run.sh sets
that up).  For every fixture size and every app it

  1. launches the app on `test:///FIXTURE` with a fresh HOME and in-memory GSettings,
  2. waits, through AT-SPI, until the whole domain list is loaded,
  3. waits until the app's CPU use falls below 2 % of a core over a 1 s window,
  4. reads VmRSS, then measures CPU use over a steady window (30 s by default),
  5. kills the app.

It prints a Markdown table and, with --json, writes every measurement to a file.

Needs Debian's /usr/bin/python3 (python3-pyatspi, python3-gi).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
from make_fixture import domain_name  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
IDLE_PERCENT = 2.0  # "idle" means below this share of one core…
IDLE_WINDOW = 1.0  # …over this many seconds
STALL_PERCENT = 5.0  # while waiting for the list: "doing nothing but answer our polls"
SAMPLE_STEP = 0.25  # CPU sampling step while waiting for idle


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# /proc readings
# ---------------------------------------------------------------------------


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 is the state)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read().decode("ascii", "replace")
    return data[data.rindex(")") + 2 :].split()


def process_tree(root):
    """`root` and all its living descendants, from a scan of /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_seconds(root):
    """CPU time (user + system) used so far by `root` and its descendants.

    Counts utime+stime of every living process of the tree plus cutime+cstime, which
    hold the time of children that have already exited and been reaped, so the sum
    only grows while processes come and go.
    """
    ticks = 0
    for pid in process_tree(root):
        try:
            f = _stat_fields(pid)
        except (OSError, ValueError):
            continue
        # state=0 ppid=1 … utime=11 stime=12 cutime=13 cstime=14
        ticks += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return ticks / CLK_TCK


def memory_kib(root, fields=("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")):
    """Summed /proc/PID/status memory fields (KiB) of `root` and its descendants."""
    total = dict.fromkeys(fields, 0)
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    key = line.split(":", 1)[0]
                    if key in total:
                        total[key] += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return total


def rss_kib(root):
    """Summed VmRSS (KiB) of `root` and its descendants."""
    return memory_kib(root, ("VmRSS",))["VmRSS"]


def alive(pid):
    try:
        state = _stat_fields(pid)[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class CpuMeter:
    """Keeps (time, cpu seconds) samples of a process tree."""

    def __init__(self, pid):
        self.pid = pid
        self.samples = []
        self.sample()

    def sample(self):
        self.samples.append((time.monotonic(), cpu_seconds(self.pid)))
        return self.samples[-1]

    def percent_since(self, since):
        """CPU % of one core over the most recent samples covering `since` seconds."""
        t_end, c_end = self.samples[-1]
        for t, c in reversed(self.samples):
            if t_end - t >= since:
                return 100.0 * (c_end - c) / (t_end - t), t
        return None, None


# ---------------------------------------------------------------------------
# AT-SPI
# ---------------------------------------------------------------------------


def pump():
    """Let libatspi handle the D-Bus signals that arrived in the meantime."""
    ctx = GLib.MainContext.default()
    for _ in range(1000):
        if not ctx.iteration(False):
            break


def find_app(pid):
    """The AT-SPI application object of process `pid`, or None."""
    pump()
    desktop = Atspi.get_desktop(0)
    desktop.clear_cache()
    for i in range(desktop.get_child_count()):
        try:
            app = desktop.get_child_at_index(i)
            if app is not None and app.get_process_id() == pid:
                return app
        except GLib.Error:
            continue
    return None


# Containers of list rows: walking them would touch every row, which is slow and is
# not where the labels we look for live.
ROW_CONTAINERS = {
    Atspi.Role.TABLE,
    Atspi.Role.TREE_TABLE,
    Atspi.Role.TREE,
    Atspi.Role.TABLE_ROW,
}


def walk(root, visit, skip=ROW_CONTAINERS, limit=5000):
    """Depth-first search below `root`; returns the first object for which
    visit(obj, role) is true, or None.

    Every AT-SPI call is a D-Bus round trip served by the app's main thread, so each
    object costs only its role, its child count and its children (visit may ask
    more).  Subtrees of roles in `skip` are not entered, though the containers
    themselves are visited.  At most `limit` objects are looked at.
    """
    stack, seen = [root], 0
    while stack and seen < limit:
        obj = stack.pop()
        seen += 1
        try:
            role = obj.get_role()
            if visit(obj, role):
                return obj
            if role in skip:
                continue
            n = obj.get_child_count()
            stack.extend(obj.get_child_at_index(i) for i in range(n - 1, -1, -1))
        except GLib.Error:
            continue
    return None


class VirtManagerProbe:
    """virt-manager's list is a GtkTreeView ("vm-list") that exposes every row.

    The list is loaded when its last row is there and its name cell names the
    last domain.  Only the row count and that one row are read on each poll; the
    whole table is read (rarely) only if the last row holds another name.
    """

    name = "virt-manager"
    poll_interval = 0.5

    def __init__(self, count):
        self.count = count
        self.last = domain_name(count, count)
        self.table = None
        self.last_full_scan = 0.0
        self.status = "no window"

    def _is_vm_list(self, obj, role):
        return role == Atspi.Role.TREE_TABLE and (obj.get_name() or "") in (
            "vm-list",
            "",
        )

    @staticmethod
    def _cell_names(cell):
        names = [cell.get_name() or ""]
        for i in range(cell.get_child_count()):
            names.append(cell.get_child_at_index(i).get_name() or "")
        return names

    def _row_has(self, row, name):
        cell = Atspi.Table.get_accessible_at(self.table, row, 0)
        if cell is None:
            return False
        return any(n.split("\n", 1)[0].strip() == name for n in self._cell_names(cell))

    def poll(self, app):
        if self.table is None:
            self.table = walk(app, self._is_vm_list)
            if self.table is None:
                return False
        self.table.clear_cache()
        rows = Atspi.Table.get_n_rows(self.table)
        # one row for the connection, then one per domain
        self.status = f"{max(rows - 1, 0)} of {self.count} rows"
        if rows < self.count + 1:
            return False
        if self._row_has(rows - 1, self.last):
            return True
        now = time.monotonic()
        if now - self.last_full_scan < 10:
            return False
        self.last_full_scan = now
        return any(self._row_has(r, self.last) for r in range(rows))


class VirtdeckProbe:
    """Virtdeck's list is virtualized; its connections sidebar row carries a label
    "{N} virtual machines" once its model holds all N domains.

    Each AT-SPI call costs the app's main thread a little, and a walk over the whole
    window tens of milliseconds, so the search is tiered:
      - every poll (0.1 s): read the text of the labels seen in lists (the sidebar)
        and, once found, of the count label itself;
      - every 0.5 s: walk those lists again for labels (rows come and go, and GTK
        leaves hidden widgets out of the tree), and walk the whole window again
        at once if a list is gone;
      - on a backing-off schedule (0.2 s, 0.4 s, … then every 5 s): walk the whole
        window except the insides of tables, for the label and for lists.
    """

    name = "Virtdeck"
    poll_interval = 0.1
    LIST_WALK_GAP = 0.5
    FULL_WALK_MAX_GAP = 5.0
    PATTERN = re.compile(r"^\s*(\d+) virtual machines?\s*$")

    def __init__(self, count):
        self.count = count
        self.expected = f"{count} virtual machine" + ("" if count == 1 else "s")
        self.label = None  # the count label, once seen
        self.lists = []  # lists (outside tables) seen by the last full walk
        self.list_labels = []  # labels inside them
        self.next_list_walk = 0.0
        self.full_walk_gap = 0.2
        self.next_full_walk = 0.0
        self.last_full_walk = None
        self.previous_full_walk = None
        self.found_by = None
        self.detection = None
        self.seen_at = None  # when the text last read was answered
        self.status = "no window"

    def _text(self, obj):
        """The current accessible name of `obj`, or None if it is gone."""
        try:
            obj.clear_cache()
            text = (obj.get_name() or "").strip()
        except GLib.Error:
            return None
        self.seen_at = time.monotonic()
        return text

    def _walk_lists(self):
        """Collects the labels in the known lists; False if a list is gone."""
        labels = []

        def visit(obj, role):
            if role == Atspi.Role.LABEL:
                labels.append(obj)
            return False

        intact = True
        for lst in self.lists:
            try:
                lst.clear_cache()
                if lst.get_role() != Atspi.Role.LIST:
                    intact = False
                    continue
            except GLib.Error:
                intact = False
                continue
            walk(lst, visit, limit=300)
        self.list_labels = labels[:100]
        self.next_list_walk = time.monotonic() + self.LIST_WALK_GAP
        return intact

    def _full_walk(self, app):
        lists = []

        def visit(obj, role):
            if role == Atspi.Role.LIST and len(lists) < 10:
                lists.append(obj)
            return role == Atspi.Role.LABEL and bool(self.PATTERN.match(self._text(obj) or ""))

        now = time.monotonic()
        self.previous_full_walk, self.last_full_walk = self.last_full_walk, now
        self.next_full_walk = now + self.full_walk_gap
        self.full_walk_gap = min(2 * self.full_walk_gap, self.FULL_WALK_MAX_GAP)
        app.clear_cache()
        label = walk(app, visit)
        if label is None:
            self.lists = lists
            self._walk_lists()
        return label

    def poll(self, app):
        fresh = self.label is None
        text = None
        if self.label is not None:
            text = self._text(self.label)
            if text is None or not self.PATTERN.match(text):
                self.label, text, fresh = None, None, True
        if self.label is None:
            if time.monotonic() >= self.next_list_walk and not self._walk_lists():
                self.next_full_walk = 0.0
            for obj in self.list_labels:
                t = self._text(obj)
                if t is not None and self.PATTERN.match(t):
                    self.label, text, self.found_by = obj, t, "sidebar label"
                    break
        if self.label is None and time.monotonic() >= self.next_full_walk:
            self.label = self._full_walk(app)
            if self.label is not None:
                self.found_by = "full walk"
                text = (self.label.get_name() or "").strip()
        if self.label is None or text is None:
            self.label = None
            self.status = 'no "… virtual machines" label'
            return False
        self.status = f'label "{text}"'
        if text != self.expected:
            return False
        # A label that shows up with its final text on a scheduled full walk may
        # have been there since the walk before.
        self.detection = self.found_by if fresh else "label text"
        return True


# ---------------------------------------------------------------------------
# One measurement
# ---------------------------------------------------------------------------


def app_command(app, uri, virtdeck_bin):
    if app == "virt-manager":
        return ["virt-manager", "--no-fork", "--connect", uri]
    return [virtdeck_bin, "--connect", uri]


def app_env(app, home):
    env = dict(os.environ)
    for var in ("NO_AT_BRIDGE", "GTK_A11Y"):
        env.pop(var, None)
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
        XDG_STATE_HOME=os.path.join(home, ".local", "state"),
        GSETTINGS_BACKEND="memory",
    )
    if app == "virt-manager":
        env["GTK_MODULES"] = ":".join(
            m for m in (os.environ.get("GTK_MODULES", ""), "gail", "atk-bridge") if m
        )
    # Virtdeck picks its renderer itself (cairo without a GPU), as it does for users.
    for name in ("GSK_RENDERER", "GDK_DEBUG"):
        env.pop(name, None)
    return env


def launch(cmd, app, home, logf):
    """Starts the app in its own process group, output to `logf`."""
    return subprocess.Popen(
        cmd,
        env=app_env(app, home),
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=logf,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc):
    """Ends the app and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            pass


def measure(app, count, fixture, args):
    """Measures one app on one fixture; returns a dict of results."""
    uri = "test://" + os.path.abspath(fixture)
    probe = VirtManagerProbe(count) if app == "virt-manager" else VirtdeckProbe(count)
    load_timeout = args.vm_timeout if app == "virt-manager" else args.vd_timeout
    res = {
        "app": probe.name,
        "domains": count,
        "uri": uri,
        "loaded_s": None,
        "idle_s": None,
        "steady_cpu_percent": None,
        "rss_mib": None,
        "load_timeout_s": load_timeout,
        "notes": [],
    }
    home = tempfile.mkdtemp(prefix=f"vdbench-{app}-{count}-")
    logpath = os.path.join(args.logdir, f"{app}-{count}.log")
    cmd = app_command(app, uri, args.virtdeck_bin)
    log(f"{probe.name} × {count}: {' '.join(cmd)}")
    busy0, session0 = machine_busy_seconds(), cpu_seconds(args.session_root)
    with open(logpath, "wb") as logf:
        t0 = time.monotonic()
        res["launched_at"] = time.time()
        proc = launch(cmd, app, home, logf)
    res["log"] = logpath
    # Hard bound on the whole measurement, whatever happens on the AT-SPI side.
    limit = int(load_timeout + args.idle_timeout + args.steady_seconds + 60)

    def on_alarm(_sig, _frame):
        raise TimeoutError(f"measurement took over {limit} s")

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        _measure_running(proc, t0, probe, load_timeout, args, res)
    except TimeoutError as e:
        res["notes"].append(f"stopped: {e}")
        if res["loaded_s"] is None:
            res["loaded_s"] = f"> {time.monotonic() - t0:.0f}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_handler)
        # What the rest of the machine did meanwhile (other builds or tests skew
        # wall-clock times on 2 cores): all CPU time but that of this session
        # (Xvfb, the buses, the AT-SPI registry, this harness and the app).
        other = machine_busy_seconds() - busy0 - (cpu_seconds(args.session_root) - session0)
        res["other_load_cores"] = round(max(other, 0.0) / (time.monotonic() - t0), 2)
        stop(proc)
        shutil.rmtree(home, ignore_errors=True)
    log(f"{probe.name} × {count}: {json.dumps(res)}")
    return res


def machine_busy_seconds():
    """CPU time spent by the whole machine, all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal …
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK


def warm_up(app, count, fixture, args, limit=20.0):
    """Launches the app once without measuring, until its list is loaded (at most
    `limit` seconds).  The first launch of a program in a fresh display session
    maps many more file pages (tens of MB more RSS) and reads cold caches; after
    this every measured launch starts from the same, warm state."""
    uri = "test://" + os.path.abspath(fixture)
    probe = VirtManagerProbe(count) if app == "virt-manager" else VirtdeckProbe(count)
    home = tempfile.mkdtemp(prefix=f"vdbench-warmup-{app}-")
    log(f"warming up {probe.name}")
    with open(os.path.join(args.logdir, f"{app}-warmup.log"), "wb") as logf:
        t0 = time.monotonic()
        proc = launch(app_command(app, uri, args.virtdeck_bin), app, home, logf)
    try:
        app_obj = None
        while time.monotonic() - t0 < limit and alive(proc.pid):
            try:
                app_obj = app_obj or find_app(proc.pid)
                if app_obj is not None and probe.poll(app_obj):
                    time.sleep(1.0)
                    break
            except GLib.Error:
                pass
            time.sleep(probe.poll_interval)
    finally:
        stop(proc)
        shutil.rmtree(home, ignore_errors=True)


def _measure_running(proc, t0, probe, load_timeout, args, res):
    pid = proc.pid
    meter = CpuMeter(pid)
    app_obj = None
    deadline = t0 + load_timeout
    last_status = None

    # 1. launch → loaded
    while True:
        now = time.monotonic()
        if not alive(pid):
            res["notes"].append(f"exited with {proc.poll()} before the list was loaded")
            return
        if app_obj is None:
            app_obj = find_app(pid)
            if app_obj is not None:
                probe.status = "window, no list yet"
        if app_obj is not None:
            try:
                if probe.poll(app_obj):
                    # when the app answered with the final state, if the probe knows
                    seen_at = getattr(probe, "seen_at", None) or time.monotonic()
                    res["loaded_s"] = round(seen_at - t0, 2)
                    detection = getattr(probe, "detection", None)
                    if detection:
                        res["detected_by"] = detection
                    before = getattr(probe, "previous_full_walk", None)
                    if detection == "full walk" and before and seen_at - before > 0.5:
                        res["notes"].append(
                            "label first seen, complete, by a full walk; the walk before, at"
                            f" {before - t0:.2f} s, did not find it"
                        )
                    break
            except GLib.Error as e:
                # a busy app may not answer in time: try again on the next poll
                probe.status = f"AT-SPI: {e.message}"
        if probe.status != last_status:
            last_status = probe.status
            log(f"  {now - t0:7.2f} s  {probe.status}")
        meter.sample()
        pct, _ = meter.percent_since(args.stall_seconds)
        if app_obj is not None and pct is not None and pct < STALL_PERCENT:
            res["notes"].append(
                f"gave up waiting after {now - t0:.0f} s: under {STALL_PERCENT:g} % CPU for"
                f" {args.stall_seconds:.0f} s"
                f" and not loaded ({probe.status})"
            )
            res["loaded_s"] = f"not loaded ({probe.status})"
            break
        if now >= deadline:
            res["loaded_s"] = f"> {load_timeout:.0f}"
            res["notes"].append(f"not loaded after {load_timeout:.0f} s ({probe.status})")
            break
        time.sleep(max(0.0, probe.poll_interval - (time.monotonic() - now)))
    loaded_at = time.monotonic()

    # 2. loaded → idle: the first 1 s window under 2 % of a core
    meter = CpuMeter(pid)
    idle_deadline = loaded_at + args.idle_timeout
    while True:
        time.sleep(SAMPLE_STEP)
        if not alive(pid):
            res["notes"].append(f"exited with {proc.poll()} while waiting for idle")
            return
        t, _ = meter.sample()
        pct, window_start = meter.percent_since(IDLE_WINDOW)
        if pct is not None and pct < IDLE_PERCENT:
            res["idle_s"] = round(window_start - t0, 2)
            break
        if t >= idle_deadline:
            res["idle_s"] = f"> {t - t0:.0f}"
            res["notes"].append(
                f"never under {IDLE_PERCENT:g} % CPU over {IDLE_WINDOW:g} s within"
                f" {args.idle_timeout:.0f} s after loading"
            )
            break

    # 3. RSS after loading
    mem = memory_kib(pid)
    res["rss_mib"] = round(mem["VmRSS"] / 1024, 1)
    res["memory_mib"] = {k: round(v / 1024, 1) for k, v in mem.items()}

    # 4. steady CPU
    meter = CpuMeter(pid)
    t_start, c_start = meter.samples[0]
    per_second = []
    while time.monotonic() - t_start < args.steady_seconds:
        time.sleep(1.0)
        if not alive(pid):
            res["notes"].append(f"exited with {proc.poll()} during the steady window")
            return
        prev_t, prev_c = meter.samples[-1]
        t, c = meter.sample()
        per_second.append(round(100.0 * (c - prev_c) / (t - prev_t), 1))
    t_end, c_end = meter.samples[-1]
    res["steady_cpu_percent"] = round(100.0 * (c_end - c_start) / (t_end - t_start), 2)
    res["steady_seconds"] = round(t_end - t_start, 1)
    res["steady_per_second"] = per_second
    res["rss_end_mib"] = round(rss_kib(pid) / 1024, 1)
    res["processes"] = len(process_tree(pid))


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def fmt(value, unit_fmt="{:.2f}"):
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        return unit_fmt.format(value)
    return str(value)


def table(results, steady_label):
    lines = [
        f"| domains | app | launch → loaded (s) | launch → idle (s) | steady CPU % ({steady_label})"
        " | RSS (MB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        idle = fmt(r["idle_s"])
        steady = r.get("steady_cpu_percent")
        if (
            isinstance(r["idle_s"], float)
            and isinstance(steady, float)
            and steady >= 2 * IDLE_PERCENT
        ):
            idle += " ¹"
        lines.append(
            "| {} | {} | {} | {} | {} | {} |".format(
                r["domains"],
                r["app"],
                fmt(r["loaded_s"]),
                idle,
                fmt(steady, "{:.1f}"),
                fmt(r["rss_mib"], "{:.0f}"),
            )
        )
    if any(" ¹ |" in line for line in lines):
        lines.append("")
        lines.append(
            f"¹ a quiet {IDLE_WINDOW:g} s window between bursts of work, not lasting idleness:"
            " see the steady CPU."
        )
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fixture-dir", required=True, help="holds domains-N.xml files")
    p.add_argument("--sizes", default="10 200 1000")
    p.add_argument("--apps", default="virtdeck virt-manager")
    p.add_argument("--virtdeck-bin", default="target/release/virtdeck")
    p.add_argument("--steady-seconds", type=float, default=30)
    p.add_argument("--vm-timeout", type=float, default=240, help="virt-manager load bound")
    p.add_argument("--vd-timeout", type=float, default=60, help="Virtdeck load bound")
    p.add_argument("--idle-timeout", type=float, default=30)
    p.add_argument(
        "--stall-seconds",
        type=float,
        default=20,
        help="stop waiting for the list once the app has been under 5 %% CPU this long",
    )
    p.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="do not launch each app once, unmeasured, before measuring",
    )
    p.add_argument("--logdir", default=None)
    p.add_argument("--json", default=None, help="write all results here")
    args = p.parse_args()

    args.virtdeck_bin = os.path.abspath(args.virtdeck_bin)
    # The process that holds the display session (run.sh's xvfb-run), else this one.
    args.session_root = int(os.environ.get("VD_BENCH_SESSION_PID") or os.getpid())
    args.logdir = args.logdir or tempfile.mkdtemp(prefix="vdbench-logs-")
    os.makedirs(args.logdir, exist_ok=True)
    Atspi.init()
    # libatspi asks every GTK 4 app for an AT-SPI cache that GTK 4 does not serve at
    # the path it expects, and warns each time; that is noise here.
    GLib.log_set_handler("dbind", GLib.LogLevelFlags.LEVEL_WARNING, lambda *_: None, None)
    # A busy app may take a while to answer; never block longer than this.
    Atspi.set_timeout(2000, 15000)

    sizes = [int(s) for s in args.sizes.split()]
    apps = args.apps.split()
    unknown = set(apps) - {"virtdeck", "virt-manager"}
    if unknown:
        p.error(f"unknown app(s): {' '.join(sorted(unknown))}")
    results = []

    def save():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)

    def failed(app, count, why):
        return {
            "app": "Virtdeck" if app == "virtdeck" else app,
            "domains": count,
            "loaded_s": why,
            "idle_s": None,
            "steady_cpu_percent": None,
            "rss_mib": None,
            "notes": [],
        }

    if args.warm_up:
        small = min(sizes)
        for app in apps:
            if app != "virtdeck" or os.access(args.virtdeck_bin, os.X_OK):
                try:
                    warm_up(
                        app, small, os.path.join(args.fixture_dir, f"domains-{small}.xml"), args
                    )
                except Exception as e:  # noqa: BLE001 - the measurement reports it
                    log(f"warm-up of {app} failed: {e}")
    for count in sizes:
        fixture = os.path.join(args.fixture_dir, f"domains-{count}.xml")
        for app in apps:
            if app == "virtdeck" and not os.access(args.virtdeck_bin, os.X_OK):
                results.append(failed(app, count, "no binary"))
                results[-1]["notes"].append(f"{args.virtdeck_bin} missing")
            else:
                try:
                    results.append(measure(app, count, fixture, args))
                except Exception as e:  # noqa: BLE001 - one failure must not end the run
                    log(f"{app} × {count} failed: {e!r}")
                    results.append(failed(app, count, "error"))
                    results[-1]["notes"].append(f"harness error: {e!r}")
            save()

    print(table(results, f"{args.steady_seconds:g} s"))
    for r in results:
        if r.get("other_load_cores", 0) >= 0.25:
            r["notes"].append(
                f"other processes kept {r['other_load_cores']:.2f} of {os.cpu_count()} cores"
                " busy during this measurement: its times are skewed"
            )
    save()
    notes = [(r["app"], r["domains"], n) for r in results for n in r.get("notes", [])]
    if notes:
        print()
        for app, count, note in notes:
            print(f"- {app} × {count}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
