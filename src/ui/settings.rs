//! GSettings, from the installed schema or, when running from the source tree, from the
//! schema build.rs compiled.

use crate::config;

pub fn new_settings() -> gio::Settings {
    let default = gio::SettingsSchemaSource::default();
    let installed = default
        .as_ref()
        .and_then(|source| source.lookup(config::APP_ID, true));
    let schema = installed.unwrap_or_else(|| {
        gio::SettingsSchemaSource::from_directory(config::BUILD_SCHEMA_DIR, default.as_ref(), false)
            .ok()
            .and_then(|source| source.lookup(config::APP_ID, false))
            .expect("the GSettings schema is installed or compiled by build.rs")
    });
    gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None)
}
