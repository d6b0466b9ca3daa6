//! The connections sidebar: "All Virtual Machines" first, then one row per connection with
//! its state and a context menu; a machine dragged from the list onto another connected
//! host's row opens Migrate… towards it.

use super::actions::connection_menu;
use super::Window;
use crate::ui::util::add_context_menu;
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use all_row::AllRow;
use connection_row::ConnectionRow;
use gtk::{gdk, gio, glib};

mod all_row;
mod connection_row;

impl Window {
    pub(super) fn bind_connections(&self, connections: &gio::ListStore) {
        let imp = self.imp();
        // Every connection's machines, following connections added, removed, connected
        // and disconnected (a disconnected one has none).
        let by_connection = gtk::MapListModel::new(Some(connections.clone()), |item| {
            item.downcast_ref::<Connection>()
                .expect("the connection list holds connections")
                .domains()
                .clone()
                .upcast()
        });
        let all = gtk::FlattenListModel::new(Some(by_connection));
        let _ = imp.all_domains.set(all.clone());
        // The sidebar: the "All Virtual Machines" row, then the connections.
        let top = gio::ListStore::new::<gtk::StringObject>();
        top.append(&gtk::StringObject::new("all"));
        let parts = gio::ListStore::new::<gio::ListModel>();
        parts.append(&top);
        parts.append(connections);
        imp.connection_list.bind_model(
            Some(&gtk::FlattenListModel::new(Some(parts))),
            glib::clone!(
                #[weak]
                all,
                #[upgrade_or_else]
                || gtk::ListBoxRow::new().upcast(),
                move |item| {
                    if item.is::<gtk::StringObject>() {
                        return AllRow::new(&all).upcast();
                    }
                    let connection = item
                        .downcast_ref::<Connection>()
                        .expect("the connection list holds connections");
                    let row = ConnectionRow::new(connection);
                    add_context_menu(&row, &connection_menu(connection), |_| {});
                    accept_dropped_machines(&row, connection);
                    row.upcast()
                }
            ),
        );
        imp.connection_list.connect_row_selected(glib::clone!(
            #[weak(rename_to = window)]
            self,
            #[weak]
            all,
            move |_, row| {
                if row.is_some_and(|r| r.is::<AllRow>()) {
                    window.show_all(&all);
                    return;
                }
                let connection = row
                    .and_then(|r| r.downcast_ref::<ConnectionRow>())
                    .and_then(ConnectionRow::connection);
                window.show_connection(connection.as_ref());
            }
        ));
        connections.connect_items_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |model, _, _, _| window.connections_changed(model)
        ));
        self.connections_changed(connections);
    }

    fn connections_changed(&self, connections: &gio::ListStore) {
        self.show_page_for(connections);
        let list = &self.imp().connection_list;
        if list.selected_row().is_none() {
            // The first connection, after "All Virtual Machines".
            if let Some(first) = list.row_at_index(1) {
                list.select_row(Some(&first));
            } else {
                self.show_connection(None);
            }
        }
    }

    /// Shows the connection with `uri` in the list.
    pub fn select_connection(&self, uri: &str) {
        let list = &self.imp().connection_list;
        let mut index = 0;
        while let Some(row) = list.row_at_index(index) {
            let shown = row
                .downcast_ref::<ConnectionRow>()
                .and_then(ConnectionRow::connection);
            if shown.is_some_and(|c| c.uri() == uri) {
                list.select_row(Some(&row));
                return;
            }
            index += 1;
        }
    }
}

/// A machine dropped on `row` goes to Migrate… towards `connection` (not onto its own host).
fn accept_dropped_machines(row: &ConnectionRow, connection: &Connection) {
    let drop = gtk::DropTarget::new(Domain::static_type(), gdk::DragAction::COPY);
    drop.connect_drop(glib::clone!(
        #[weak]
        row,
        #[weak]
        connection,
        #[upgrade_or]
        false,
        move |_, value, _, _| {
            let (Ok(domain), Some(window)) =
                (value.get::<Domain>(), row.root().and_downcast::<Window>())
            else {
                return false;
            };
            window.migrate_by_drop(&domain, &connection)
        }
    ));
    row.add_controller(drop);
}
