//! A screen that shows one machine of one connection ([`ShowsDomain`]) asks the worker
//! about it one way: the answer is used only if the screen still shows that machine when it
//! arrives, so a slow answer never fills a screen that moved on to another machine.

use crate::ui::backend::{Reply, Request, RequestError};
use crate::ui::{Connection, Domain};
use gtk::glib;
use gtk::prelude::*;

pub trait ShowsDomain: IsA<glib::Object> + Clone + 'static {
    /// The machine shown and its connection, if any.
    fn shown(&self) -> (Option<Domain>, Option<Connection>);

    /// Sends the request `make` makes of the shown machine's UUID; `answered` gets its
    /// answer unless the screen shows another machine by then. Nothing is sent when no
    /// machine is shown.
    fn ask_about_shown<T: 'static>(
        &self,
        make: impl FnOnce(String, Reply<T>) -> Request + 'static,
        answered: impl FnOnce(&Self, Result<T, RequestError>) + 'static,
    ) {
        let (Some(domain), Some(connection)) = self.shown() else {
            return;
        };
        let screen = self.clone();
        glib::spawn_future_local(async move {
            let uuid = domain.uuid();
            let answer = connection.request(|reply| make(uuid, reply)).await;
            if screen.shown().0.as_ref() == Some(&domain) {
                answered(&screen, answer);
            }
        });
    }
}
