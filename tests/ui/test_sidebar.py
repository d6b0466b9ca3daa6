"""The connections sidebar: each row shows its connection's title, state and number of
virtual machines, and follows them as the connection changes."""

from vdui import UiTestCase, click, find_all, label_of, press, showing, wait_for

URI = "test:///default"


class ConnectionRowTest(UiTestCase):
    def shown_labels(self, sidebar):
        return [label_of(a) for a in find_all(sidebar, role="label") if showing(a)]

    def menu(self, app, window, sidebar, item):
        """Opens the row's context menu with a right click and chooses `item`."""
        def chosen():
            press(app.find("label", "Test", within=sidebar), window, "Virtdeck", button=3)
            entry = wait_for(f"menu item {item!r}", lambda: [
                m for m in find_all(app.app, role="menu item", name=item) if showing(m)],
                timeout=3)[0]
            click(entry)
            return True
        wait_for(f"{item} chosen from the row's menu", chosen)

    def test_row_follows_the_connection_state_and_its_machines(self):
        app = self.launch("--connect", URI)
        window = app.window("Virtdeck")
        sidebar = app.find(name="Connections")
        wait_for("the row connected with its machine", lambda: {
            "Test", "Connected", "1 virtual machine"} <= set(self.shown_labels(sidebar)))

        self.menu(app, window, sidebar, "Disconnect")
        wait_for("the row disconnected, without a count", lambda: (
            labels := self.shown_labels(sidebar)) and "Disconnected" in labels
            and "Connected" not in labels and "1 virtual machine" not in labels)

        # The connection's page offers Connect while it is disconnected.
        click(app.find("push button", "Connect"))
        wait_for("the row connected again", lambda: {
            "Connected", "1 virtual machine"} <= set(self.shown_labels(sidebar)))
