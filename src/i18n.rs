//! Translations through gettext.

use crate::config;
use gettextrs::{bind_textdomain_codeset, bindtextdomain, setlocale, textdomain, LocaleCategory};

pub use gettextrs::{gettext, ngettext, pgettext};

/// Sets the locale and binds the text domain: to the installed translations when meson
/// built this binary, else to those build.rs compiled.
pub fn init() {
    setlocale(LocaleCategory::LcAll, "");
    let dir = config::LOCALEDIR.unwrap_or(config::BUILD_LOCALEDIR);
    if let Err(e) = bindtextdomain(config::GETTEXT_PACKAGE, dir)
        .and_then(|_| bind_textdomain_codeset(config::GETTEXT_PACKAGE, "UTF-8"))
        .and_then(|_| textdomain(config::GETTEXT_PACKAGE))
    {
        tracing::warn!("translations are unavailable: {e}");
    }
}

/// Translates `msgid`, then fills its named placeholders: `{name}` becomes the value paired
/// with `"name"`. Translators may move placeholders but must keep their names.
pub fn gettext_f(msgid: &str, args: &[(&str, &str)]) -> String {
    fill(&gettext(msgid), args)
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            let key = &after[..end];
            args.iter().find(|(k, _)| *k == key).map(|(_, v)| (end, v))
        });
        match value {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fills_every_named_placeholder() {
        assert_eq!(
            fill(
                "Delete “{name}” on {host}?",
                &[("name", "vm1"), ("host", "h")]
            ),
            "Delete “vm1” on h?"
        );
    }

    #[test]
    fn unknown_placeholders_and_braces_stay() {
        assert_eq!(fill("{x} {", &[("name", "v")]), "{x} {");
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(fill("{a}{b}", &[("a", "{b}"), ("b", "x")]), "{b}x");
    }
}
