//! The XML page of the details: the machine's persistent domain XML in a GtkSourceView
//! with XML highlighting, as `virsh edit` shows it. Apply asks the connection's worker to
//! define it with libvirt's validation ([`EditRequest::DefineXml`]); a refusal changes
//! nothing and is shown under the text, its line marked when the message names one.
//! Revert reads the XML again. A change made elsewhere while the text has unapplied edits
//! is offered as "Reload", as on the Hardware page; one that no event told of is caught by
//! Apply, which never overwrites a configuration other than the one the text was made from.

use crate::i18n::gettext_f;
use crate::ui::backend::edit::{error_line, EditFailure, EditRequest};
use crate::ui::backend::{Request, RequestError};
use crate::ui::util::{BoundObject, ChangedElsewhereBanner, ShowsDomain};
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use sourceview5::prelude::*;
use std::cell::{Cell, RefCell};

/// The tag that marks the line an error names.
const ERROR_TAG: &str = "xml-error";

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::XmlEditorPage)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/xml_editor.ui")]
    pub struct XmlEditorPage {
        #[template_child]
        pub view: TemplateChild<sourceview5::View>,
        #[template_child]
        pub buffer: TemplateChild<sourceview5::Buffer>,
        #[template_child]
        pub banner: TemplateChild<ChangedElsewhereBanner>,
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        #[property(get, set, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// The text differs from the XML it was filled with.
        #[property(get)]
        pub dirty: Cell<bool>,
        /// Why the last Apply was refused, in words; empty when it was not.
        #[property(get)]
        pub error: RefCell<String>,
        /// The XML the text was filled with.
        pub loaded: RefCell<String>,
        /// The text is being filled from the machine: changes are not edits.
        pub filling: Cell<bool>,
    }

    impl XmlEditorPage {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            // Its changes come through the banner (`on_reload`).
            if self.domain.follow(domain.as_ref(), |_| Vec::new()) {
                let obj = self.obj();
                obj.fill("");
                obj.reload();
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for XmlEditorPage {
        const NAME: &'static str = "VdXmlEditorPage";
        type Type = super::XmlEditorPage;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            ChangedElsewhereBanner::ensure_type();
            sourceview5::View::ensure_type();
            sourceview5::Buffer::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for XmlEditorPage {
        fn constructed(&self) {
            self.parent_constructed();
            let buffer = &*self.buffer;
            if let Some(xml) = sourceview5::LanguageManager::default().language("xml") {
                buffer.set_language(Some(&xml));
            }
            buffer.set_highlight_syntax(true);
            let error = gtk::TextTag::builder()
                .name(ERROR_TAG)
                .underline(gtk::pango::Underline::Error)
                .paragraph_background("rgba(224, 27, 36, 0.15)")
                .build();
            buffer.tag_table().add(&error);
            // The colours follow the light or dark style.
            let style = adw::StyleManager::default();
            let scheme = glib::clone!(
                #[weak]
                buffer,
                move |style: &adw::StyleManager| {
                    let name = if style.is_dark() {
                        "Adwaita-dark"
                    } else {
                        "Adwaita"
                    };
                    let scheme = sourceview5::StyleSchemeManager::default().scheme(name);
                    buffer.set_style_scheme(scheme.as_ref());
                }
            );
            scheme(&style);
            style.connect_dark_notify(scheme);
        }
    }

    #[gtk::template_callbacks]
    impl XmlEditorPage {
        #[template_callback]
        fn on_changed(&self) {
            if self.filling.get() {
                return;
            }
            let dirty = self.obj().text() != *self.loaded.borrow();
            self.set_flag(&self.dirty, "dirty", dirty);
        }

        #[template_callback]
        fn on_reload(&self) {
            self.obj().reload();
        }

        #[template_callback]
        async fn on_apply(&self) {
            self.obj().apply().await;
        }

        #[template_callback(function)]
        fn not_empty(text: Option<String>) -> bool {
            text.is_some_and(|t| !t.is_empty())
        }
    }

    impl XmlEditorPage {
        pub(super) fn set_flag(&self, cell: &Cell<bool>, name: &str, value: bool) {
            if cell.replace(value) != value {
                self.obj().notify(name);
            }
        }
    }

    impl WidgetImpl for XmlEditorPage {}
    impl BoxImpl for XmlEditorPage {}
}

glib::wrapper! {
    pub struct XmlEditorPage(ObjectSubclass<imp::XmlEditorPage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl ShowsDomain for XmlEditorPage {
    fn shown(&self) -> (Option<Domain>, Option<Connection>) {
        (self.domain(), self.connection())
    }
}

impl XmlEditorPage {
    fn text(&self) -> String {
        let buffer = &*self.imp().buffer;
        let (start, end) = buffer.bounds();
        buffer.text(&start, &end, true).into()
    }

    fn set_error(&self, error: String) {
        let imp = self.imp();
        if *imp.error.borrow() != error {
            imp.error.replace(error);
            self.notify_error();
        }
    }

    /// Puts `xml` in the view as the machine's configuration: nothing unapplied, no error.
    fn fill(&self, xml: &str) {
        let imp = self.imp();
        imp.filling.set(true);
        imp.buffer.set_text(xml);
        imp.filling.set(false);
        imp.buffer.place_cursor(&imp.buffer.start_iter());
        imp.loaded.replace(xml.to_owned());
        imp.banner.set_xml(xml);
        imp.set_flag(&imp.dirty, "dirty", false);
        self.set_error(String::new());
    }

    /// Reads the machine's XML and shows it, dropping unapplied edits.
    fn reload(&self) {
        self.ask_about_shown(
            |uuid, reply| Request::Edit(EditRequest::ReadXml { uuid, reply }),
            |page, answer| match answer {
                Ok(xml) => page.fill(&xml),
                Err(error) => page.set_error(error.to_string()),
            },
        );
    }

    /// Defines the text as the machine's configuration; shows why it was refused.
    async fn apply(&self) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        let imp = self.imp();
        let (start, end) = imp.buffer.bounds();
        imp.buffer.remove_tag_by_name(ERROR_TAG, &start, &end);
        let uuid = domain.uuid();
        let xml = self.text();
        let base = imp.loaded.borrow().clone();
        let answer = connection
            .request(|reply| {
                Request::Edit(EditRequest::DefineXml {
                    uuid,
                    xml,
                    base,
                    reply,
                })
            })
            .await;
        match answer {
            Ok(()) => self.reload(),
            Err(error) => {
                if matches!(error, RequestError::Edit(EditFailure::ChangedElsewhere)) {
                    imp.banner.offer_reload();
                }
                let line = error_line(&error);
                self.set_error(match line {
                    Some(line) => gettext_f(
                        // Translators: {line} is a line number of the XML, {error} what
                        // libvirt said about it.
                        "Line {line}: {error}",
                        &[("line", &line.to_string()), ("error", &error.to_string())],
                    ),
                    None => error.to_string(),
                });
                if let Some(line) = line {
                    self.mark_line(line);
                }
            }
        }
    }

    /// Marks the line `line` (counted from 1), puts the cursor on it and scrolls to it.
    fn mark_line(&self, line: u32) {
        let imp = self.imp();
        let buffer = &*imp.buffer;
        let Some(start) = buffer.iter_at_line(line.saturating_sub(1) as i32) else {
            return;
        };
        let mut end = start;
        if !end.ends_line() {
            end.forward_to_line_end();
        }
        buffer.apply_tag_by_name(ERROR_TAG, &start, &end);
        buffer.place_cursor(&start);
        imp.view
            .scroll_to_mark(&buffer.get_insert(), 0.1, true, 0.0, 0.3);
        imp.view.grab_focus();
    }
}
