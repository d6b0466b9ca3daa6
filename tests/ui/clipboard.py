"""The X clipboard as a person's other programs use it:
  /usr/bin/python3 clipboard.py TEXT      holds TEXT on the clipboard for as long as the
                                          process lives, as an editor would after Copy
                                          (prints READY once it owns it);
  /usr/bin/python3 clipboard.py --read    prints the clipboard's text as JSON (null: none);
  /usr/bin/python3 clipboard.py --window TITLE
                                          shows an empty window called TITLE, somewhere else
                                          for the keyboard focus to go (prints READY)."""

import json
import sys

import gi

gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, GLib, GObject, Gtk  # noqa: E402


def main():
    Gtk.init()
    loop = GLib.MainLoop()
    clipboard = Gdk.Display.get_default().get_clipboard()
    if sys.argv[1] == "--read":
        def done(source, result):
            try:
                text = source.read_text_finish(result)
            except GLib.Error:
                text = None
            print(json.dumps(text), flush=True)
            loop.quit()
        clipboard.read_text_async(None, done)
    elif sys.argv[1] == "--window":
        window = Gtk.Window(title=sys.argv[2])
        window.set_default_size(200, 100)
        window.present()
        print("READY", flush=True)
    else:
        value = GObject.Value(str, sys.argv[1])
        clipboard.set_content(Gdk.ContentProvider.new_for_value(value))
        print("READY", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
