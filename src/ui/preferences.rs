//! The Preferences window.

use crate::ui::Application;
use adw::prelude::*;

pub fn present(app: &Application) {
    let builder = gtk::Builder::from_resource("/io/github/virtdeck/Virtdeck/ui/preferences.ui");
    let window: adw::PreferencesWindow = builder.object("window").expect("in preferences.ui");
    let interval: gtk::SpinButton = builder.object("interval").expect("in preferences.ui");
    let scale_to_fit: gtk::Switch = builder.object("scale_to_fit").expect("in preferences.ui");
    let settings = app.settings();
    settings.bind("stats-interval", &interval, "value").build();
    settings
        .bind("console-scale-to-fit", &scale_to_fit, "active")
        .build();
    window.set_transient_for(Some(&app.main_window()));
    window.present();
}
