//! Installing from an ISO volume of a storage pool instead of an image file.

use super::choices::{clear, radio_row};
use super::{InstallKind, Wizard};
use crate::i18n::{gettext, gettext_f};
use crate::spec::{HostFacts, PoolVolume};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

impl Wizard {
    /// Offers the ISO volumes of the active pools, after "the image file above".
    pub(super) fn fill_volumes(&self, facts: &HostFacts) {
        let imp = self.imp();
        clear(&imp.volume_list);
        let volumes: Vec<PoolVolume> = facts.iso_volumes().cloned().collect();
        imp.volume_list.set_visible(!volumes.is_empty());
        imp.volume_group.set_description(
            volumes
                .is_empty()
                .then(|| gettext("The active storage pools hold no ISO volumes."))
                .as_deref(),
        );
        let mut choices: Vec<(gtk::CheckButton, Option<PoolVolume>)> = Vec::new();
        let rows: Vec<Option<PoolVolume>> = if volumes.is_empty() {
            Vec::new()
        } else {
            std::iter::once(None)
                .chain(volumes.into_iter().map(Some))
                .collect()
        };
        for volume in rows {
            let (label, detail) = match &volume {
                None => (gettext("None: use the image file above"), None),
                Some(v) => (
                    gettext_f(
                        // Translators: {volume} is an ISO volume in the storage pool {pool}.
                        "{volume} in pool {pool}",
                        &[("volume", &v.name), ("pool", &v.pool)],
                    ),
                    Some(v.path.clone()),
                ),
            };
            let group = choices.first().map(|(r, _)| r.clone());
            let radio = radio_row(&imp.volume_list, &label, detail.as_deref(), group.as_ref());
            radio.set_active(group.is_none());
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = wizard)]
                self,
                move |radio| {
                    if radio.is_active() {
                        wizard.volume_changed();
                    }
                }
            ));
            choices.push((radio, volume));
        }
        imp.volume_choices.replace(choices);
        self.volume_changed();
    }

    /// The ISO volume chosen instead of an image file, if any.
    pub(super) fn chosen_volume(&self) -> Option<PoolVolume> {
        self.imp()
            .volume_choices
            .borrow()
            .iter()
            .find(|(radio, _)| radio.is_active())
            .and_then(|(_, volume)| volume.clone())
    }

    /// The path of the installation image on this machine, for OS detection: the chosen
    /// volume's path when the connection is local, else the image file field. `None` when
    /// the install method takes no image or the image is on another host.
    pub(super) fn local_image_path(&self) -> Option<String> {
        let imp = self.imp();
        if self.install_kind() != InstallKind::Iso {
            return None;
        }
        match self.chosen_volume() {
            Some(volume) => {
                let local = matches!(&*imp.facts.borrow(), Some(Ok(f)) if f.paths_are_local);
                local.then_some(volume.path)
            }
            None => Some(imp.media_entry.text().trim().to_owned()),
        }
    }

    fn volume_changed(&self) {
        let imp = self.imp();
        let file = self.chosen_volume().is_none();
        imp.media_entry.set_sensitive(file);
        imp.media_browse.set_sensitive(file);
        self.check_page();
    }
}
