"""Drives the real Virtdeck window through AT-SPI and X input.

Runs inside tests/ui/session.sh: an Xvfb display, a D-Bus session bus and the AT-SPI bus.
"""

import os
import re
import subprocess
import tempfile
import time
import unittest

import pyatspi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("VIRTDECK_BIN", os.path.join(ROOT, "target", "debug", "virtdeck"))
ARTIFACTS = os.environ.get("VIRTDECK_ARTIFACTS", os.path.join(ROOT, "target", "ui-artifacts"))
DEADLINE = float(os.environ.get("VIRTDECK_UI_DEADLINE", "20"))


class AppExited(AssertionError):
    """The app under test is gone: waiting any longer cannot help."""


def wait_for(what, condition, timeout=DEADLINE, step=0.1):
    """Polls `condition` until it returns something truthy; fails with `what` otherwise."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except AppExited:
            raise
        except Exception:  # the tree changes under our feet while the app works
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def walk(node):
    """Every accessible below `node`, depth first; nodes that vanish are passed over."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        yield current
        try:
            stack.extend(reversed([c for c in current]))
        except Exception:
            continue


def label_of(acc):
    """The accessible name as a person reads it. GTK 4.8 names a button whose label has a
    mnemonic "_Add Add"; this gives "Add"."""
    name = acc.name or ""
    half = len(name) // 2
    if "_" in name and name[:half].replace("_", "") == name[half + 1:]:
        return name[half + 1:]
    return name


def find_all(node, role=None, name=None, contains=None):
    found = []
    for acc in walk(node):
        try:
            if role and acc.getRoleName() != role:
                continue
            label = label_of(acc)
            if name is not None and label != name:
                continue
            if contains is not None and contains not in label:
                continue
            found.append(acc)
        except Exception:
            continue
    return found


def sensitive(acc):
    try:
        return acc.getState().contains(pyatspi.STATE_SENSITIVE)
    except Exception:
        return False


def showing(acc):
    """GTK 4.8 reports `visible` (not `showing`) for widgets inside a window."""
    try:
        return acc.getState().contains(pyatspi.STATE_VISIBLE)
    except Exception:
        return False


def click(acc):
    """Activates a widget the way a screen reader would: the first action of it or of the
    first widget inside it that has one (a GtkMenuButton acts through its inner button)."""
    for node in walk(acc):
        try:
            action = node.queryAction()
            if action.nActions > 0:
                action.doAction(0)
                return
        except NotImplementedError:
            continue
    raise AssertionError(f"{acc.getRoleName()} {acc.name!r} has no action")


def press(acc, window, title, button=1, from_left=12):
    """Clicks the middle of `acc` with the X pointer (`button` 3: a right click), as a
    person would: GTK 4.8 offers no AT-SPI action on check buttons and switches. `window`
    is the accessible of the X window called `title` that holds `acc`. The click is at most
    `from_left` pixels from its left edge (past a text view's line numbers, say)."""
    wid, x, y = point_of(acc, window, title, from_left)
    subprocess.run(["xdotool", "mousemove", "--window", wid, str(x), str(y), "click", str(button)],
                   check=True)


def point_of(acc, window, title, from_left=12):
    """The X window called `title` that holds `acc` (`window` is its accessible), and the
    point in it where a person would click `acc`: at most `from_left` pixels from its left
    edge."""
    # Only shown windows: an open (or once opened) popover is a window of the same name.
    literal = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", title)
    ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{literal}$"],
                         capture_output=True, text=True).stdout.split()
    if not ids:
        raise AssertionError(f"no X window called {title!r}")
    frame = window.queryComponent().getExtents(pyatspi.WINDOW_COORDS)

    def geometry_of(wid):
        shell = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wid],
                               capture_output=True, text=True).stdout
        return dict(line.split("=", 1) for line in shell.split())

    # Several X windows may carry the title (a popover's surface, a window of an app that
    # is still going away): the one is as large as the frame plus its shadow.
    def fits(geometry):
        extra_w = int(geometry.get("WIDTH", -1)) - frame.width
        extra_h = int(geometry.get("HEIGHT", -1)) - frame.height
        return 0 <= extra_w <= 200 and 0 <= extra_h <= 200

    found = [(wid, geometry_of(wid)) for wid in ids]
    wid, geometry = next(((w, g) for w, g in reversed(found) if fits(g)), found[-1])
    # The X window is larger than the frame by the client-side shadow around it.
    dx = (int(geometry["WIDTH"]) - frame.width) // 2
    dy = (int(geometry["HEIGHT"]) - frame.height) // 2
    # A widget that was just shown (a row after the list was filtered) may not be laid
    # out yet: wait until it has a place inside the window.
    def placed():
        box = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        inside = (box.width > 0 and box.height > 0 and box.x >= 0 and box.y >= 0
                  and box.x + box.width <= frame.width and box.y + box.height <= frame.height)
        return box if inside else None

    box = wait_for(f"{acc.getRoleName()} {acc.name!r} laid out in the window", placed)
    x, y = box.x + dx + min(box.width // 2, from_left), box.y + dy + box.height // 2
    return wid, x, y


def _has_editable_text(acc):
    try:
        acc.queryEditableText()
        return True
    except NotImplementedError:
        return False


def screenshot(name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"{name}.png")
    subprocess.run(["import", "-window", "root", path], check=False)
    return path


def label_texts(node):
    return [label_of(a) for a in find_all(node, role="label")]


class App:
    """One running virtdeck process and its accessible tree."""

    def __init__(self, *args, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([BINARY, *args], env=full_env)
        # A cold start (first run of a fresh build, a busy machine) can take longer than
        # finding a widget in a running app.
        self.app = wait_for("virtdeck on the accessibility bus", self._find_app, timeout=2 * DEADLINE)

    def _find_app(self):
        code = self.proc.poll()
        if code is not None:
            # Not worth waiting for: say so at once (a display that cannot be opened, a
            # second instance that handed its arguments over, a crash).
            raise AppExited(f"virtdeck exited with status {code} before it showed a window")
        for app in pyatspi.Registry.getDesktop(0):
            if app is not None and app.get_process_id() == self.proc.pid:
                return app
        return None

    def window(self, title="Virtdeck"):
        return wait_for(
            f"window {title!r}",
            lambda: next(
                (w for w in find_all(self.app, name=title) if w.getRoleName() in ("frame", "dialog")),
                None,
            ),
        )

    def find_all_windows(self, title):
        """The shown windows called `title` (none once closed)."""
        return [
            w for w in find_all(self.app, name=title)
            if w.getRoleName() in ("frame", "dialog") and showing(w)
        ]

    def find(self, role=None, name=None, contains=None, visible=True, within=None):
        """Waits for one matching widget (below `within`, default anywhere) and returns it."""

        def look():
            found = find_all(within or self.app, role=role, name=name, contains=contains)
            if visible:
                found = [a for a in found if showing(a)]
            return found[0] if found else None

        return wait_for(f"{role or 'widget'} named {name or contains!r}", look)

    def rows(self):
        """The shown rows of the virtual machine list, as lists of their cells' texts."""
        view = self.find(name="Virtual machines", role="tree table")
        lists = [c for c in view if c.getRoleName() == "list"]
        return [
            label_texts(row)
            for row in find_all(lists[0], role="table row")
            if showing(row)
        ] if lists else []

    def search(self, text):
        """Types `text` into the list's search field."""
        self.fill("Search virtual machines", text)

    def fill(self, name, text, within=None):
        """Replaces the text of the field called `name` with `text`."""
        entry = self.find(name=name, within=within)
        editable = next(
            (a for a in walk(entry) if _has_editable_text(a)), None
        )
        if editable is None:
            raise AssertionError(f"the field {name!r} offers no editable text")
        editable.queryEditableText().setTextContents(text)

    def quit(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class UiTestCase(unittest.TestCase):
    """Gives each test its own settings and state directories and screenshots failures."""

    def setUp(self):
        self.home = tempfile.TemporaryDirectory(prefix="vd-ui-")
        self.env = {
            "XDG_CONFIG_HOME": os.path.join(self.home.name, "config"),
            "XDG_DATA_HOME": os.path.join(self.home.name, "data"),
            "GSETTINGS_BACKEND": "keyfile",
        }
        self.apps = []

    def launch(self, *args):
        app = App(*args, env=self.env)
        self.apps.append(app)
        return app

    def run_once(self, *args, timeout=20):
        """Runs a second virtdeck to completion, as a second launch from a shell would."""
        env = dict(os.environ)
        env.update(self.env)
        return subprocess.run(
            [BINARY, *args], env=env, timeout=timeout, capture_output=True, text=True
        )

    def tearDown(self):
        result = self._outcome.result
        if any(test is self for test, _ in result.errors + result.failures):
            print("screenshot:", screenshot(self.id()))
        for app in self.apps:
            app.quit()
        self.home.cleanup()


def keys_to(title, *keys):
    """Presses `keys` (xdotool key names) in the shown X window called `title`, focused
    first, as a person at the keyboard would."""
    wid = wait_for(f"the X window {title!r}", lambda: subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(title)}$"],
        capture_output=True, text=True).stdout.split())[-1]
    subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=True)
    for key in keys:
        subprocess.run(["xdotool", "key", key], check=True)


def open_details_page(app, main, machine, state, page):
    """Searches for `machine`, waits until the list says it is `state` and switches its
    details to the page called `page` ("Hardware", "XML", …)."""
    app.search(machine)
    wait_for(f"the machine {state}", lambda: app.rows()[0][:2] == [machine, state])
    tabs = [a for a in find_all(main, name=page)
            if a.getRoleName() in ("toggle button", "page tab", "push button", "radio button")]
    if not tabs:
        raise AssertionError(f"no {page} switch in the details")
    click(tabs[0])


def drag(source, target, window, title):
    """Drags `source` onto `target` (both in the X window called `title`, whose accessible
    is `window`) with the X pointer, in small steps, as a person would."""
    wid, x0, y0 = point_of(source, window, title)
    _, x1, y1 = point_of(target, window, title)

    def move(x, y):
        subprocess.run(["xdotool", "mousemove", "--window", wid, str(x), str(y)], check=True)

    move(x0, y0)
    subprocess.run(["xdotool", "mousedown", "1"], check=True)
    steps = 20
    for i in range(1, steps + 1):
        move(x0 + (x1 - x0) * i // steps, y0 + (y1 - y0) * i // steps)
        time.sleep(0.05)
    time.sleep(0.2)
    subprocess.run(["xdotool", "mouseup", "1"], check=True)


def wheel_over(acc, window, title, clicks):
    """Turns the mouse wheel `clicks` notches down (up when negative) with the pointer over
    `acc` — a label, say, which passes the wheel to the page it scrolls — as a person
    scrolls a long page to what is below the fold."""
    wid, x, y = point_of(acc, window, title)
    subprocess.run(["xdotool", "mousemove", "--window", wid, str(x), str(y)], check=True)
    button = "5" if clicks > 0 else "4"
    for _ in range(abs(clicks)):
        subprocess.run(["xdotool", "click", button], check=True)
        time.sleep(0.05)


def text_of(view):
    """All the text of an accessible with a text interface (a text view, a field's text)."""
    text = view.queryText()
    return text.getText(0, text.characterCount)


def entry_text(entry):
    """The text of a field (its inner text widget's, where it has one)."""
    for node in walk(entry):
        try:
            return text_of(node)
        except NotImplementedError:
            continue
    raise AssertionError(f"the field {entry.name!r} has no text")
