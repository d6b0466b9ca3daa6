#!/usr/bin/python3
"""Many-hosts benchmark harness: Virtdeck and virt-manager connected to many hosts at once.

Run it inside an X display with a D-Bus session bus and the AT-SPI bus (run.sh sets
that up).  The "hosts" are libvirt test-driver instances served by libvirt daemons
over the remote protocol: one per fixture file (`test+unix:///…/host-NN.xml`, or
`test+ssh://…` to daemons in network namespaces), and one shared instance
(`…:///default`) that this harness fills with the same kind of domains and keeps open,
so that it can change that host while an app watches it.

For each app it
  1. launches the app connected to every host, with a fresh HOME,
  2. waits, through AT-SPI, until every host's whole list is in the app,
  3. waits until the app is idle (the domain-list benchmark's rule), reads its RSS,
  4. measures its CPU use (and the daemons') over a steady window, statistics on,
  5. defines one more domain on the shared host and times until the app shows it,
  6. removes that domain again and ends the app.

The /proc readings, AT-SPI helpers, launching and idle rule are those of
benches/domain_list/measure.py.
"""

import argparse
import importlib.util
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
from make_hosts import domain_xml, runstate  # noqa: E402


def _domain_list_harness():
    path = os.path.join(HERE, "..", "domain_list", "measure.py")
    spec = importlib.util.spec_from_file_location("domain_list_measure", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dl = _domain_list_harness()
Atspi, GLib = dl.Atspi, dl.GLib

log = dl.log
CHANGED_NAME = "vdbench-hosts-change"


# ---------------------------------------------------------------------------
# The shared host: filled and changed through this harness's own connection
# ---------------------------------------------------------------------------


class SharedHost:
    """A `…:///default` test-driver instance: every connection to it in one daemon shares
    it, so a domain defined here is seen by the apps' connections too.  It lives while
    a connection is open, so this object keeps one for the whole run."""

    def __init__(self, uri, host_index, count):
        self.uri = uri
        self.conn = libvirt.open(uri)
        started = time.monotonic()
        existing = len(self.conn.listAllDomains())  # test:///default brings one of its own
        for i in range(1, count - existing + 1):
            dom = self.conn.defineXML(domain_xml(host_index, i, runstate_element=False))
            state = runstate(i)
            if state != 5:
                dom.create()
            if state == 3:
                dom.suspend()
        self.count = len(self.conn.listAllDomains())
        log(f"shared host {uri}: {self.count} domains in {time.monotonic() - started:.1f} s")

    def add(self):
        """Defines one more domain; returns the time just before the call."""
        xml = domain_xml(99, 9999, runstate_element=False).replace(
            "h99-vm-9999", CHANGED_NAME
        )
        t = time.monotonic()
        self.conn.defineXML(xml)
        return t

    def remove(self):
        try:
            self.conn.lookupByName(CHANGED_NAME).undefine()
        except libvirt.libvirtError:
            pass

    def close(self):
        self.remove()
        self.conn.close()


# ---------------------------------------------------------------------------
# Probes: "every host's list is complete", and "the change shows"
# ---------------------------------------------------------------------------


class VirtdeckHostsProbe:
    """Each host's sidebar row carries "{N} virtual machines" once its model holds all N
    domains.  Loaded when `hosts` such labels read the expected text.  The window is
    walked (outside tables) every 0.5 s until one label is found; from then on the walks
    start at the list that holds it (the sidebar), every 0.1 s, until all the labels are
    known; after that only their text is read, every 0.1 s.  Each AT-SPI call waits for
    the app's main thread, and a walk of the whole window (about a thousand objects)
    while the app is busy listing would delay what it measures; the sidebar is a few
    dozen objects.  A host's label is hidden until its list is in, so a walk every 0.5 s
    saw the last host up to half a second late."""

    name = "Virtdeck"
    poll_interval = 0.1
    PATTERN = dl.VirtdeckProbe.PATTERN

    def __init__(self, hosts, count):
        self.hosts = hosts
        self.expected = f"{count} virtual machines"
        self.labels = []
        self.sidebar = None
        self.next_walk = 0.0
        self.seen_at = None
        self.status = "no window"

    def _walk(self, app):
        found = []

        def visit(obj, role):
            if role == Atspi.Role.LABEL:
                obj.clear_cache()
                if self.PATTERN.match(obj.get_name() or ""):
                    found.append(obj)
            return False

        root = self.sidebar or app
        root.clear_cache()
        dl.walk(root, visit)
        self.labels = found
        if found and self.sidebar is None:
            self.sidebar = self._list_of(found[0])
        self.next_walk = time.monotonic() + (0.5 if self.sidebar is None else self.poll_interval)

    @staticmethod
    def _list_of(label):
        """The nearest ancestor of `label` that is a list, or None."""
        obj = label
        try:
            while obj is not None:
                obj = obj.get_parent()
                if obj is not None and obj.get_role() == Atspi.Role.LIST:
                    return obj
        except GLib.Error:
            pass
        return None

    def texts(self):
        out = []
        for label in self.labels:
            try:
                label.clear_cache()
                out.append((label.get_name() or "").strip())
            except GLib.Error:
                out.append(None)
        self.seen_at = time.monotonic()
        return out

    def poll(self, app):
        if len(self.labels) < self.hosts and time.monotonic() >= self.next_walk:
            self._walk(app)
        texts = self.texts()
        if None in texts:
            self.labels = []
            self.sidebar = None
            return False
        done = sum(t == self.expected for t in texts)
        self.status = f"{done} of {self.hosts} hosts complete ({len(texts)} labels)"
        return done == self.hosts

    def shows(self, text):
        """Whether one of the labels reads `text` now."""
        return text in self.texts()


class VirtManagerHostsProbe(dl.VirtManagerProbe):
    """virt-manager's vm-list has one row per connection and one per domain."""

    poll_interval = 0.5

    def __init__(self, hosts, count):
        super().__init__(count)
        self.hosts = hosts
        self.total = hosts * count
        self.most = 0

    def rows(self, app):
        if self.table is None:
            self.table = dl.walk(app, self._is_vm_list)
            if self.table is None:
                return None
        self.table.clear_cache()
        return Atspi.Table.get_n_rows(self.table) - self.hosts

    def poll(self, app):
        rows = self.rows(app)
        if rows is None:
            return False
        self.seen_at = time.monotonic()
        self.most = max(self.most, rows)
        self.status = f"{max(rows, 0)} of {self.total} domain rows (most seen: {self.most})"
        return rows >= self.total


# ---------------------------------------------------------------------------
# One app
# ---------------------------------------------------------------------------


def virt_manager_settings(home, uris):
    """virt-manager takes one --connect: the hosts go into its settings instead, as a
    user's added connections (GSettings keyfile backend in the fresh HOME)."""
    path = os.path.join(home, ".config", "glib-2.0", "settings")
    os.makedirs(path, exist_ok=True)
    listed = "[" + ", ".join(f"'{u}'" for u in uris) + "]"
    with open(os.path.join(path, "keyfile"), "w") as f:
        f.write(f"[org/virt-manager/virt-manager/connections]\nuris={listed}\nautoconnect={listed}\n")
        # its CPU graph in the list, as Virtdeck's statistics: on (the default, said)
        f.write("[org/virt-manager/virt-manager/stats]\nenable-cpu-poll=true\n")


def launch(app, uris, home, logf, virtdeck_bin):
    if app == "virt-manager":
        virt_manager_settings(home, uris)
        cmd = ["virt-manager", "--no-fork"]
    else:
        cmd = [virtdeck_bin]
        for uri in uris:
            cmd += ["--connect", uri]
    env = dl.app_env(app, home)
    if app == "virt-manager":
        env["GSETTINGS_BACKEND"] = "keyfile"
    else:
        # its "domain list complete" lines time the full descriptions (details_time)
        env["RUST_LOG"] = "warn,virtdeck::ui::connection=debug"
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=logf,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


COMPLETE = re.compile(r"^(\S+Z)\s.*domain list complete")
REPLACED = re.compile(r"^(\S+Z)\s.*list replaced count=(\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def log_time(logpath, hosts, launched_at, pattern, count=None):
    """Seconds from the launch (wall clock) until the `hosts`-th line of Virtdeck's log
    matching `pattern` (with at least `count` domains, if given); None if there were
    fewer.  "list replaced" is logged when a host's list (a first look or in full) is in
    the window's model, "domain list complete" when it is in full."""
    stamps = []
    try:
        with open(logpath, errors="replace") as f:
            for line in f:
                m = pattern.match(ANSI.sub("", line))
                if m and (count is None or int(m.group(2)) >= count):
                    stamp = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
                    stamps.append(stamp.timestamp())
    except OSError:
        return None
    if len(stamps) < hosts:
        return None
    return round(sorted(stamps)[hosts - 1] - launched_at, 2)


def daemon_pids():
    """The libvirt daemons that serve the hosts: this machine's, and those of the namespace
    hosts run.sh brought up (VD_BENCH_HOLDERS: their holders' PIDs), not other people's."""

    def pid_ns(pid):
        try:
            return os.readlink(f"/proc/{pid}/ns/pid")
        except OSError:
            return None

    ours = {pid_ns(h) for h in os.environ.get("VD_BENCH_HOLDERS", "").split()} - {None}
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm in ("libvirtd", "virtproxyd") or (
                comm == "vdr-libvirtd" and pid_ns(entry) in ours
            ):
                pids.append(int(entry))
    return pids


def daemons_cpu():
    """CPU seconds of the daemon processes themselves (not of their descendants, which
    may be reparented and counted twice or lost)."""
    ticks = 0
    for pid in daemon_pids():
        try:
            f = dl._stat_fields(pid)
        except (OSError, ValueError):
            continue
        ticks += int(f[11]) + int(f[12])
    return ticks / dl.CLK_TCK


def measure(app, row, uris, shared, count, args):
    hosts = len(uris)
    probe = (
        VirtManagerHostsProbe(hosts, count)
        if app == "virt-manager"
        else VirtdeckHostsProbe(hosts, count)
    )
    load_timeout = args.vm_timeout if app == "virt-manager" else args.vd_timeout
    res = {
        "app": probe.name,
        "row": row,
        "hosts": hosts,
        "domains": hosts * count,
        "loaded_s": None,
        "details_s": None,
        "idle_s": None,
        "steady_cpu_percent": None,
        "daemons_cpu_percent": None,
        "rss_mib": None,
        "change_s": None,
        "notes": [],
    }
    home = tempfile.mkdtemp(prefix=f"vdbench-hosts-{app}-")
    logpath = os.path.join(args.logdir, f"{app}-{row}.log")
    log(f"{probe.name}, {row}: {hosts} hosts × {count}")
    limit = int(load_timeout + args.idle_timeout + args.steady_seconds + args.change_timeout + 60)

    def on_alarm(_sig, _frame):
        raise TimeoutError(f"measurement took over {limit} s")

    busy0 = dl.machine_busy_seconds()
    with open(logpath, "wb") as logf:
        t0 = time.monotonic()
        launched_at = time.time()
        proc = launch(app, uris, home, logf, args.virtdeck_bin)
    res["log"] = logpath
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        run(proc, t0, probe, load_timeout, shared, args, res)
    except TimeoutError as e:
        res["notes"].append(f"stopped: {e}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        # How busy the whole machine was (2 shared cores: other work skews the times).
        res["machine_busy_cores"] = round(
            (dl.machine_busy_seconds() - busy0) / (time.monotonic() - t0), 2
        )
        dl.stop(proc)
        if app != "virt-manager":
            res["listed_log_s"] = log_time(logpath, hosts, launched_at, REPLACED, count)
            res["details_s"] = log_time(logpath, hosts, launched_at, COMPLETE)
        if shared is not None:
            shared.remove()
        shutil.rmtree(home, ignore_errors=True)
    log(f"{probe.name}, {row}: {json.dumps(res)}")
    return res


class DaemonMeter:
    """Samples the daemons' CPU time every second in the background, so that their share
    over the app's steady window can be read afterwards."""

    def __init__(self):
        self.samples = [(time.monotonic(), daemons_cpu())]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.wait(1.0):
            self.samples.append((time.monotonic(), daemons_cpu()))

    def percent_over_last(self, seconds):
        """Stops sampling; the share of a core over the last `seconds` sampled."""
        self.stopped.set()
        self.thread.join()
        if not seconds:
            return None
        t_end, c_end = self.samples[-1]
        for t, c in reversed(self.samples):
            if t_end - t >= seconds - 0.5:
                return round(100.0 * (c_end - c) / (t_end - t), 2)
        return None


def run(proc, t0, probe, load_timeout, shared, args, res):
    """Loaded, idle, RSS and steady CPU as the domain-list benchmark measures them, then
    the change."""
    daemons = DaemonMeter()
    daemons_at_launch = daemons.samples[0][1]
    # CPU seconds spent until every list was complete: unlike the wall-clock time, not
    # stretched when other work shares the machine's cores.
    poll = probe.poll

    def poll_and_count(app_obj):
        done = poll(app_obj)
        if done and "cpu_to_list_s" not in res:
            res["cpu_to_list_s"] = round(dl.cpu_seconds(proc.pid), 2)
            res["daemons_cpu_to_list_s"] = round(daemons_cpu() - daemons_at_launch, 2)
        return done

    probe.poll = poll_and_count
    try:
        dl._measure_running(proc, t0, probe, load_timeout, args, res)
    finally:
        res["daemons_cpu_percent"] = daemons.percent_over_last(res.get("steady_seconds"))
    if shared is None or not isinstance(res["loaded_s"], float) or not dl.alive(proc.pid):
        return
    app_obj = dl.find_app(proc.pid)
    # A change on one host: one more domain on the shared host.
    expected = f"{shared.count + 1} virtual machines"
    total = res["domains"] + 1
    t_change = shared.add()
    while True:
        try:
            if isinstance(probe, VirtdeckHostsProbe):
                seen = probe.shows(expected)
            else:
                seen = (probe.rows(app_obj) or 0) >= total
        except GLib.Error:
            seen = False
        if seen:
            res["change_s"] = round(time.monotonic() - t_change, 2)
            break
        if time.monotonic() - t_change > args.change_timeout:
            res["change_s"] = f"> {args.change_timeout:.0f}"
            break
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def table(results, steady):
    fmt = dl.fmt
    lines = [
        f"| hosts | app | domains | launch → all listed (s) | all listed, app's log (s) |"
        " CPU s until listed (app + daemons) | launch → all in full (s) | launch → idle (s) |"
        f" steady CPU % ({steady}) | daemons' CPU % | RSS (MB) | change shown (s) |"
        " machine busy (cores) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                r["row"],
                r["app"],
                r["domains"],
                fmt(r["loaded_s"]),
                fmt(r.get("listed_log_s")),
                "{} + {}".format(fmt(r.get("cpu_to_list_s")), fmt(r.get("daemons_cpu_to_list_s"))),
                fmt(r.get("details_s")),
                fmt(r["idle_s"]),
                fmt(r["steady_cpu_percent"]),
                fmt(r["daemons_cpu_percent"], "{:.1f}"),
                fmt(r["rss_mib"], "{:.0f}"),
                fmt(r["change_s"]),
                fmt(r.get("machine_busy_cores")),
            )
        )
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", required=True, help="JSON file: [{row, uris, shared, count}]")
    p.add_argument("--apps", default="virtdeck virt-manager")
    p.add_argument("--virtdeck-bin", default="target/release/virtdeck")
    p.add_argument("--warm-up-fixture", default=None)
    p.add_argument("--steady-seconds", type=float, default=30)
    p.add_argument("--vm-timeout", type=float, default=300)
    p.add_argument("--vd-timeout", type=float, default=60)
    p.add_argument("--idle-timeout", type=float, default=30)
    p.add_argument("--change-timeout", type=float, default=30)
    p.add_argument("--stall-seconds", type=float, default=20)
    p.add_argument("--logdir", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    args.virtdeck_bin = os.path.abspath(args.virtdeck_bin)
    args.logdir = args.logdir or tempfile.mkdtemp(prefix="vdbench-hosts-logs-")
    os.makedirs(args.logdir, exist_ok=True)
    Atspi.init()
    # libvirt prints every error it raises; the ones handled here are expected.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    GLib.log_set_handler("dbind", GLib.LogLevelFlags.LEVEL_WARNING, lambda *_: None, None)
    Atspi.set_timeout(2000, 15000)
    with open(args.rows) as f:
        rows = json.load(f)
    apps = args.apps.split()

    if args.warm_up_fixture:
        for app in apps:
            try:
                dl.warm_up(app, 10, args.warm_up_fixture, args)
            except Exception as e:  # noqa: BLE001 - the measurements report it
                log(f"warm-up of {app} failed: {e}")
    results = []
    for row in rows:
        shared = None
        if row.get("shared"):
            shared = SharedHost(row["shared"], len(row["uris"]), row["count"])
        try:
            for app in apps:
                try:
                    results.append(
                        measure(app, row["row"], row["uris"], shared, row["count"], args)
                    )
                except Exception as e:  # noqa: BLE001 - one failure must not end the run
                    log(f"{app}, {row['row']}: {e!r}")
                    results.append(
                        {"app": app, "row": row["row"], "hosts": len(row["uris"]),
                         "domains": len(row["uris"]) * row["count"], "loaded_s": "error",
                         "idle_s": None, "steady_cpu_percent": None,
                         "daemons_cpu_percent": None, "rss_mib": None, "change_s": None,
                         "notes": [f"harness error: {e!r}"]}
                    )
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump(results, f, indent=2)
        finally:
            if shared is not None:
                shared.close()
    print(table(results, f"{args.steady_seconds:g} s"))
    if "virtdeck" in apps:
        print(
            "\nVirtdeck's \"all listed\" is every host's names and run states (a first look"
            " at lists of 200 or more), seen through AT-SPI (which lags on a busy machine) and"
            " in the app's own log; \"all in full\" is when every machine's memory, vCPUs,"
            " OS, title, tags and devices were in too (until then the search and the tag"
            " filter miss the tags not read yet). virt-manager lists each machine in full."
        )
    notes = [f"- {r['app']}, {r['row']}: {n}" for r in results for n in r.get("notes", [])]
    print("\n".join([""] + notes) if notes else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
