//! Tags in the list: a filter by one tag (the tag button's menu lists the tags in use),
//! and grouping by tag, which sorts the machines by their first tag before the column's
//! order and shows the Tags column first, so that each group reads under its tag.

use super::DomainList;
use crate::i18n::gettext;
use crate::ui::backend::tags;
use crate::ui::Domain;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};

/// What a tag's link in the Tags column starts with; the tag follows, escaped.
const TAG_LINK: &str = "tag:";

/// The Tags column's markup for tags shown as `shown` ("db, web"): each tag a link.
fn tag_links(shown: &str) -> String {
    tags::split_shown(shown)
        .map(|tag| {
            format!(
                "<a href=\"{TAG_LINK}{}\">{}</a>",
                glib::markup_escape_text(&glib::Uri::escape_string(tag, None, false)),
                glib::markup_escape_text(tag)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl DomainList {
    pub(super) fn setup_tags(&self) {
        let imp = self.imp();
        let list = self.downgrade();
        let filter = gtk::CustomFilter::new(move |item| {
            let Some(list) = list.upgrade() else {
                return true;
            };
            let tag = list.imp().tag.borrow();
            tag.is_empty()
                || item
                    .downcast_ref::<Domain>()
                    .is_some_and(|d| tags::has(&d.tags(), &tag))
        });
        imp.filters.append(filter.clone());
        let _ = imp.tag_filter.set(filter);

        let list = self.downgrade();
        let group = gtk::CustomSorter::new(move |a, b| {
            let grouped = list.upgrade().is_some_and(|l| l.grouped());
            match (a.downcast_ref::<Domain>(), b.downcast_ref::<Domain>()) {
                (Some(a), Some(b)) if grouped => tags::group_order(&a.tags(), &b.tags()).into(),
                _ => gtk::Ordering::Equal,
            }
        });
        let sorter = gtk::MultiSorter::new();
        sorter.append(group.clone());
        if let Some(columns) = imp.view.sorter() {
            sorter.append(columns);
        }
        imp.sort.set_sorter(Some(&sorter));
        let _ = imp.group_sorter.set(group);

        // The menu lists the tags in use when it opens.
        imp.tag_button.set_create_popup_func(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |button| button.set_menu_model(Some(&list.tag_menu()))
        ));
    }

    /// The Tags column: each tag is a link that filters the list by it.
    pub(super) fn setup_tags_column(&self) {
        let list = self.downgrade();
        let factory = self.imp().cells.factory(
            Some("tags"),
            move || {
                let label = super::cell_label(16);
                label.set_use_markup(true);
                let list = list.clone();
                label.connect_activate_link(move |_, uri| {
                    let (Some(list), Some(tag)) = (list.upgrade(), uri.strip_prefix(TAG_LINK))
                    else {
                        return glib::Propagation::Proceed;
                    };
                    list.set_tag(glib::Uri::unescape_string(tag, None::<&str>).unwrap_or_default());
                    glib::Propagation::Stop
                });
                label
            },
            |label, domain| {
                if let Some(domain) = domain {
                    label.set_label(&tag_links(&domain.tags()));
                }
            },
        );
        self.imp().tags_column.set_factory(Some(&factory));
    }

    /// "All Machines", each tag in use, and "Group by Tag".
    fn tag_menu(&self) -> gio::Menu {
        let choices = gio::Menu::new();
        let all = gio::MenuItem::new(Some(&gettext("All Machines")), None);
        all.set_action_and_target_value(Some("list.tag"), Some(&"".to_variant()));
        choices.append_item(&all);
        for tag in self.tags_in_use() {
            // Underscores in a tag are its own, not mnemonics.
            let item = gio::MenuItem::new(Some(&tag.replace('_', "__")), None);
            item.set_action_and_target_value(Some("list.tag"), Some(&tag.to_variant()));
            choices.append_item(&item);
        }
        let menu = gio::Menu::new();
        menu.append_section(None, &choices);
        let grouping = gio::Menu::new();
        grouping.append(Some(&gettext("_Group by Tag")), Some("list.group-by-tag"));
        menu.append_section(None, &grouping);
        menu
    }

    /// The tags in use among every machine the list could show (whatever the filters).
    fn tags_in_use(&self) -> Vec<String> {
        let Some(model) = self.imp().filter.model() else {
            return Vec::new();
        };
        let shown: Vec<String> = model.iter::<Domain>().flatten().map(|d| d.tags()).collect();
        tags::in_use(shown.iter().map(String::as_str))
    }

    /// Grouped, the machines are sorted by tag and the Tags column comes first.
    pub(super) fn show_grouped(&self) {
        let imp = self.imp();
        let position = if self.grouped() {
            0
        } else {
            imp.view.columns().n_items().saturating_sub(1)
        };
        imp.view.insert_column(position, &imp.tags_column);
        if let Some(group) = imp.group_sorter.get() {
            group.changed(gtk::SorterChange::Different);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tag_links;

    #[test]
    fn each_tag_is_a_link_with_its_text_escaped() {
        assert_eq!(
            tag_links("db, a&b c"),
            "<a href=\"tag:db\">db</a>, <a href=\"tag:a%26b%20c\">a&amp;b c</a>"
        );
        assert_eq!(tag_links(""), "");
    }
}
