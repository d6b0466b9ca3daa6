#!/usr/bin/python3
"""A small freedesktop Secret Service for the UI tests, on the test's session bus: Debian's
GNOME Keyring needs a login session to unlock its keyring, this one has a single, unlocked
"default" collection. It speaks the protocol Virtdeck uses (plain sessions; OpenSession,
SearchItems, Unlock, GetSecrets, ReadAlias, CreateItem, Item.Delete), and after each change
writes its items to the JSON file named on its command line, for the test to read:
[{"label": …, "attributes": {…}, "secret": …}]. Prints "ready" once it owns its name.

    tests/ui/secret_service.py STORE.json
"""

import json
import os
import sys

from gi.repository import Gio, GLib

XML = """<node>
  <interface name="org.freedesktop.Secret.Service">
    <method name="OpenSession">
      <arg type="s" direction="in"/><arg type="v" direction="in"/>
      <arg type="v" direction="out"/><arg type="o" direction="out"/>
    </method>
    <method name="SearchItems">
      <arg type="a{ss}" direction="in"/>
      <arg type="ao" direction="out"/><arg type="ao" direction="out"/>
    </method>
    <method name="Unlock">
      <arg type="ao" direction="in"/>
      <arg type="ao" direction="out"/><arg type="o" direction="out"/>
    </method>
    <method name="GetSecrets">
      <arg type="ao" direction="in"/><arg type="o" direction="in"/>
      <arg type="a{o(oayays)}" direction="out"/>
    </method>
    <method name="ReadAlias">
      <arg type="s" direction="in"/><arg type="o" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.Secret.Collection">
    <method name="CreateItem">
      <arg type="a{sv}" direction="in"/><arg type="(oayays)" direction="in"/>
      <arg type="b" direction="in"/>
      <arg type="o" direction="out"/><arg type="o" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.Secret.Item">
    <method name="Delete"><arg type="o" direction="out"/></method>
  </interface>
</node>"""

NODE = Gio.DBusNodeInfo.new_for_xml(XML)
SERVICE, COLLECTION, ITEM = NODE.interfaces
ROOT = "/org/freedesktop/secrets"
DEFAULT = ROOT + "/collection/default"


class Store:
    def __init__(self, path, bus):
        self.path = path
        self.bus = bus
        self.items = {}  # object path → (label, attributes, secret bytes, registration)
        self.sessions = 0
        self.serial = 0
        self.save()

    def save(self):
        with open(self.path + ".tmp", "w") as f:
            json.dump([
                {"label": label, "attributes": attributes, "secret": secret.decode()}
                for label, attributes, secret, _ in self.items.values()
            ], f)
        os.replace(self.path + ".tmp", self.path)

    def matching(self, wanted):
        return [p for p, (_, attrs, _, _) in self.items.items()
                if all(attrs.get(k) == v for k, v in wanted.items())]

    def service(self, method, params):
        if method == "OpenSession":
            algorithm, _ = params
            if algorithm != "plain":
                raise GLib.Error("org.freedesktop.DBus.Error.NotSupported")
            self.sessions += 1
            return GLib.Variant("(vo)", (GLib.Variant("s", ""), f"{ROOT}/session/s{self.sessions}"))
        if method == "SearchItems":
            return GLib.Variant("(aoao)", (self.matching(params[0]), []))
        if method == "Unlock":
            return GLib.Variant("(aoo)", (params[0], "/"))
        if method == "GetSecrets":
            items, session = params
            return GLib.Variant("(a{o(oayays)})", ({
                p: (session, b"", self.items[p][2], "text/plain") for p in items if p in self.items
            },))
        if method == "ReadAlias":
            return GLib.Variant("(o)", (DEFAULT if params[0] == "default" else "/",))
        raise NotImplementedError(method)

    def collection(self, method, params):
        properties, secret, replace = params
        label = properties.get("org.freedesktop.Secret.Item.Label", "")
        attributes = properties.get("org.freedesktop.Secret.Item.Attributes", {})
        old = self.matching(attributes) if replace else []
        for path in old:
            self.remove(path)
        self.serial += 1
        path = f"{DEFAULT}/i{self.serial}"
        registration = self.bus.register_object(path, ITEM, self.item_call(path), None, None)
        self.items[path] = (label, attributes, bytes(secret[2]), registration)
        self.save()
        return GLib.Variant("(oo)", (path, "/"))

    def remove(self, path):
        _, _, _, registration = self.items.pop(path)
        self.bus.unregister_object(registration)

    def item_call(self, path):
        def call(_bus, _sender, _path, _iface, method, _params, invocation):
            self.remove(path)
            self.save()
            invocation.return_value(GLib.Variant("(o)", ("/",)))
        return call


def serve(handler):
    def call(_bus, _sender, _path, _iface, method, params, invocation):
        try:
            invocation.return_value(handler(method, params.unpack()))
        except Exception as e:  # an answer, never a hang
            invocation.return_dbus_error("org.freedesktop.Secret.Error.Failed", str(e))
    return call


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION)
    store = Store(sys.argv[1], bus)
    bus.register_object(ROOT, SERVICE, serve(store.service), None, None)
    bus.register_object(DEFAULT, COLLECTION, serve(store.collection), None, None)
    loop = GLib.MainLoop()

    def acquired(*_):
        print("ready", flush=True)

    def lost(*_):
        print("the name org.freedesktop.secrets is taken", file=sys.stderr, flush=True)
        loop.quit()

    Gio.bus_own_name_on_connection(bus, "org.freedesktop.secrets", Gio.BusNameOwnerFlags.NONE,
                                   acquired, lost)
    loop.run()


if __name__ == "__main__":
    main()
