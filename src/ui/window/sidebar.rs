//! The connections sidebar: one row per connection with its state and a context menu.

use super::actions::connection_menu;
use super::Window;
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

impl Window {
    pub(super) fn bind_connections(&self, connections: &gio::ListStore) {
        let imp = self.imp();
        imp.connection_list.bind_model(Some(connections), |item| {
            let connection = item
                .downcast_ref::<Connection>()
                .expect("the connection list holds connections");
            connection_row(connection).upcast()
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
            if row.widget_name() == uri {
                list.select_row(Some(&row));
                return;
            }
            index += 1;
        }
    }
}

fn dim_label(connection: &Connection, property: &str) -> gtk::Label {
    let label = gtk::Label::builder()
        .xalign(0.0)
        .wrap(true)
        .css_classes(["dim-label", "caption"])
        .build();
    connection
        .bind_property(property, &label, "label")
        .sync_create()
        .build();
    connection
        .bind_property(property, &label, "visible")
        .transform_to(|_, text: String| Some(!text.is_empty()))
        .sync_create()
        .build();
    label
}

fn connection_row(connection: &Connection) -> gtk::ListBoxRow {
    let title = gtk::Label::builder()
        .label(connection.title())
        .xalign(0.0)
        .wrap(true)
        .css_classes(["heading"])
        .build();
    let content = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(2)
        .margin_top(6)
        .margin_bottom(6)
        .build();
    content.append(&title);
    content.append(&dim_label(connection, "status"));
    content.append(&dim_label(connection, "summary"));
    let row = gtk::ListBoxRow::builder()
        .child(&content)
        .name(connection.uri())
        .tooltip_text(connection.uri())
        .build();

    crate::ui::util::add_context_menu(&row, &connection_menu(connection), |_| {});
    row
}
