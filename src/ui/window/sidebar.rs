//! The connections sidebar: one row per connection with its state and a context menu.

use super::actions::connection_menu;
use super::Window;
use crate::ui::util::add_context_menu;
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use connection_row::ConnectionRow;
use gtk::{gio, glib};

mod connection_row;

impl Window {
    pub(super) fn bind_connections(&self, connections: &gio::ListStore) {
        let imp = self.imp();
        imp.connection_list.bind_model(Some(connections), |item| {
            let connection = item
                .downcast_ref::<Connection>()
                .expect("the connection list holds connections");
            let row = ConnectionRow::new(connection);
            add_context_menu(&row, &connection_menu(connection), |_| {});
            row.upcast()
        });
        imp.connection_list.connect_row_selected(glib::clone!(
            #[weak(rename_to = window)]
            self,
            #[weak]
            connections,
            move |_, row| {
                let connection = row
                    .and_then(|r| connections.item(r.index() as u32))
                    .and_downcast::<Connection>();
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
            if let Some(first) = list.row_at_index(0) {
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
