#!/usr/bin/python3
"""Measures Virtdeck's CPU use (its whole process tree, from /proc):

1. with one running machine selected, its Performance page hidden, shown, and hidden
   again;
2. with 200 running machines (libvirt's test driver) in the list, the CPU history
   column on and off.

Run by run.sh inside Xvfb with the AT-SPI bus; prints one line per window and asserts
nothing."""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "benches", "domain_list"))
sys.path.insert(0, os.path.join(ROOT, "tests", "ui"))
from measure import cpu_seconds  # noqa: E402  (benches/domain_list)
from make_fixture import fixture  # noqa: E402  (benches/domain_list)
from vdui import App, click, find_all, wait_for  # noqa: E402  (tests/ui)

SESSION = "qemu:///session"
SECONDS = float(os.environ.get("VD_BENCH_SECONDS", "30"))
INTERVAL = int(os.environ.get("VD_BENCH_INTERVAL", "1"))
SETTLE = 5.0


def virsh(*args):
    return subprocess.run(["virsh", "-c", SESSION, *args], capture_output=True, text=True,
                          check=True).stdout


def window_cpu(pid):
    """CPU % of one core used by `pid`'s tree over SECONDS, after SETTLE seconds."""
    time.sleep(SETTLE)
    t0, c0 = time.monotonic(), cpu_seconds(pid)
    time.sleep(SECONDS)
    t1, c1 = time.monotonic(), cpu_seconds(pid)
    return 100.0 * (c1 - c0) / (t1 - t0)


def page_switch(main, name):
    tabs = [a for a in find_all(main, name=name)
            if a.getRoleName() in ("toggle button", "page tab", "push button", "radio button")]
    click(tabs[0])


def settings_env(home, **keys):
    """The environment of an app whose GSettings hold `keys` (name → GVariant text)."""
    settings = os.path.join(home, "config", "glib-2.0", "settings")
    os.makedirs(settings, exist_ok=True)
    with open(os.path.join(settings, "keyfile"), "w") as f:
        f.write("[io/github/virtdeck/Virtdeck]\n")
        for key, value in keys.items():
            f.write(f"{key.replace('_', '-')}={value}\n")
    return {
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "GSETTINGS_BACKEND": "keyfile",
    }


def sparklines():
    count = int(os.environ.get("VD_BENCH_RUNNING", "200"))
    home = tempfile.TemporaryDirectory(prefix="vd-bench-")
    node = os.path.join(home.name, "running.xml")
    with open(node, "w") as f:
        text = fixture(count)
        for state in ("3", "5"):
            text = text.replace(f"<test:runstate>{state}</test:runstate>",
                                "<test:runstate>1</test:runstate>")
        f.write(text)
    results = {}
    for on in ("true", "false"):
        env = settings_env(os.path.join(home.name, on), stats_interval=f"uint32 {INTERVAL}",
                           cpu_sparklines=on)
        app = App("--connect", "test://" + node, env=env)
        try:
            wait_for("the list", lambda: len(app.rows()) > 10, timeout=60)
            results[on] = window_cpu(app.proc.pid)
            print(f"{count} running machines, CPU history column {'on ' if on == 'true' else 'off'}: "
                  f"{results[on]:.2f} % of a core")
        finally:
            app.quit()
    print(f"CPU history column on − off: {results['true'] - results['false']:+.2f} % of a core")
    home.cleanup()


def main():
    page()
    sparklines()


def page():
    name = f"vdbench-perf-{os.getpid()}"
    home = tempfile.TemporaryDirectory(prefix="vd-bench-")
    xml = os.path.join(home.name, "domain.xml")
    with open(xml, "w") as f:
        f.write(f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>""")
    env = settings_env(home.name, stats_interval=f"uint32 {INTERVAL}")
    virsh("create", xml)
    app = None
    try:
        app = App("--connect", SESSION, env=env)
        main_window = app.window("Virtdeck")
        app.search(name)
        wait_for("the machine running", lambda: app.rows()[0][:2] == [name, "Running"])
        pid = app.proc.pid
        binary = os.environ.get("VIRTDECK_BIN", "")
        print(f"binary: {binary}; statistics every {INTERVAL} s; windows of {SECONDS:.0f} s")
        hidden = window_cpu(pid)
        print(f"Performance page hidden: {hidden:.2f} % of a core")
        page_switch(main_window, "Performance")
        shown = window_cpu(pid)
        print(f"Performance page shown:  {shown:.2f} % of a core")
        page_switch(main_window, "Details")
        again = window_cpu(pid)
        print(f"Performance page hidden: {again:.2f} % of a core (again)")
        print(f"shown − hidden: {shown - (hidden + again) / 2:+.2f} % of a core")
    finally:
        if app:
            app.quit()
        subprocess.run(["virsh", "-c", SESSION, "destroy", name], capture_output=True)
        home.cleanup()


if __name__ == "__main__":
    main()
