//! Functions the templates call in `<closure>` expressions, written once. A widget class
//! binds them with `Closures::bind_template_callbacks(klass)` in its `class_init`.

use gtk::glib;

/// `not_empty`, `is_empty` and `escape`, for `<closure function="…">`.
pub struct Closures;

#[gtk::template_callbacks(functions)]
impl Closures {
    /// Whether there is text: labels with nothing to say are hidden.
    #[template_callback]
    fn not_empty(text: Option<&str>) -> bool {
        text.is_some_and(|t| !t.is_empty())
    }

    #[template_callback]
    fn is_empty(text: Option<&str>) -> bool {
        !Self::not_empty(text)
    }

    /// Plain text as markup, for titles and descriptions that are markup.
    #[template_callback]
    fn escape(text: Option<&str>) -> String {
        glib::markup_escape_text(text.unwrap_or_default()).into()
    }
}
