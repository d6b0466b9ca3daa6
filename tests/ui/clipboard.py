"""Holds text on the X clipboard for as long as its process lives, as a person's editor
would after Copy:  /usr/bin/python3 clipboard.py TEXT  (prints READY once it owns it)."""

import sys

import gi

gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, GLib, GObject, Gtk  # noqa: E402


def main():
    Gtk.init()
    value = GObject.Value(str, sys.argv[1])
    Gdk.Display.get_default().get_clipboard().set_content(
        Gdk.ContentProvider.new_for_value(value))
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
