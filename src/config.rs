//! Build-time configuration. Meson sets these through the environment when it runs cargo;
//! a plain `cargo build` gets the defaults, which suit running from the source tree.

/// The application id, also the GSettings schema id and the D-Bus name.
pub const APP_ID: &str = match option_env!("VIRTDECK_APP_ID") {
    Some(id) => id,
    None => "io.github.virtdeck.Virtdeck",
};

/// The version shown by `--version` and in the About window.
pub const VERSION: &str = match option_env!("VIRTDECK_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

/// The gettext domain.
pub const GETTEXT_PACKAGE: &str = "virtdeck";

/// Where meson installs the compiled translations; unset for a plain cargo build.
pub const LOCALEDIR: Option<&str> = option_env!("VIRTDECK_LOCALEDIR");

/// The GSettings schema compiled by build.rs, used when the schema is not installed
/// system-wide (running from the source tree).
pub const BUILD_SCHEMA_DIR: &str = env!("VIRTDECK_BUILD_SCHEMA_DIR");

/// Translations compiled by build.rs, used when they are not installed.
pub const BUILD_LOCALEDIR: &str = env!("VIRTDECK_BUILD_LOCALEDIR");
