//! The Hardware page's Boot Options section: every disk, CD-ROM and network interface,
//! ticked when the machine boots from it, in the order it tries them (Move Up / Move
//! Down); the firmware's boot menu; direct kernel boot (kernel, initrd, command line).
//! Its own Apply and Revert.

use super::HardwarePage;
use crate::i18n::{gettext, gettext_f};
use crate::spec::edit::boot::{BootKind, BootOptions, BootTarget, Bootable};
use crate::spec::edit::DomainEdit;
use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties, Default)]
    #[properties(wrapper_type = super::HardwareBoot)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/hardware/boot.ui")]
    pub struct HardwareBoot {
        #[template_child]
        pub devices: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub menu: TemplateChild<gtk::Switch>,
        #[template_child]
        pub kernel: TemplateChild<gtk::Entry>,
        #[template_child]
        pub initrd: TemplateChild<gtk::Entry>,
        #[template_child]
        pub cmdline: TemplateChild<gtk::Entry>,
        /// The section differs from the machine's boot options.
        #[property(get)]
        pub dirty: Cell<bool>,
        pub loaded: RefCell<BootOptions>,
        /// The devices as the section shows them now.
        pub order: RefCell<Vec<Bootable>>,
        pub filling: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HardwareBoot {
        const NAME: &'static str = "VdHardwareBoot";
        type Type = super::HardwareBoot;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            let moves = glib::VariantTy::new("(ui)").ok();
            klass.install_action("boot.move", moves, |obj, _, target| {
                if let Some((index, step)) = target.and_then(|t| t.get::<(u32, i32)>()) {
                    obj.move_device(index as usize, step);
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for HardwareBoot {}
    impl WidgetImpl for HardwareBoot {}
    impl BoxImpl for HardwareBoot {}

    #[gtk::template_callbacks]
    impl HardwareBoot {
        #[template_callback]
        fn on_changed(&self) {
            if !self.filling.get() {
                self.obj().update_dirty();
            }
        }

        #[template_callback]
        fn on_revert(&self) {
            let loaded = self.loaded.borrow().clone();
            self.obj().show(loaded);
        }

        #[template_callback]
        fn on_apply(&self) {
            let obj = self.obj().clone();
            let Some(page) = obj
                .ancestor(HardwarePage::static_type())
                .and_downcast::<HardwarePage>()
            else {
                return;
            };
            let edits = obj.edits();
            if !edits.is_empty() {
                glib::spawn_future_local(async move {
                    page.apply(edits).await;
                });
            }
        }
    }
}

glib::wrapper! {
    pub struct HardwareBoot(ObjectSubclass<imp::HardwareBoot>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl HardwareBoot {
    /// Shows the machine's boot options.
    pub fn show(&self, options: BootOptions) {
        let imp = self.imp();
        imp.filling.set(true);
        imp.menu.set_active(options.menu);
        imp.kernel.set_text(&options.kernel);
        imp.initrd.set_text(&options.initrd);
        imp.cmdline.set_text(&options.cmdline);
        imp.order.replace(options.devices.clone());
        imp.loaded.replace(options);
        imp.filling.set(false);
        self.fill_devices();
        self.update_dirty();
    }

    fn fill_devices(&self) {
        let imp = self.imp();
        let list = &imp.devices;
        while let Some(row) = list.first_child() {
            list.remove(&row);
        }
        let order = imp.order.borrow().clone();
        for (index, device) in order.iter().enumerate() {
            list.append(&self.row(index, order.len(), device));
        }
    }

    fn row(&self, index: usize, count: usize, device: &Bootable) -> gtk::Box {
        let title = match (&device.target, device.kind) {
            // Translators: {target} is the disk's name in the guest, such as vda.
            (BootTarget::Disk(t), BootKind::Disk) => gettext_f("Disk {target}", &[("target", t)]),
            // Translators: {target} is the drive's name in the guest, such as sda.
            (BootTarget::Disk(t), _) => gettext_f("CD-ROM {target}", &[("target", t)]),
            // Translators: {mac} is a MAC address such as 52:54:00:12:34:56.
            (BootTarget::Nic(mac), _) => gettext_f("Network Interface {mac}", &[("mac", mac)]),
        };
        let row = gtk::Box::builder()
            .spacing(6)
            .margin_start(12)
            .margin_end(6)
            .margin_top(6)
            .margin_bottom(6)
            .build();
        // The device's name is the check button's: "tick Disk vda".
        let check = gtk::CheckButton::builder()
            .label(&title)
            .active(device.enabled)
            .hexpand(true)
            .build();
        check.connect_toggled(glib::clone!(
            #[weak(rename_to = obj)]
            self,
            move |check| {
                if let Some(device) = obj.imp().order.borrow_mut().get_mut(index) {
                    device.enabled = check.is_active();
                }
                obj.update_dirty();
            }
        ));
        row.append(&check);
        for (label, step, possible) in [
            (gettext("Move Up"), -1, index > 0),
            (gettext("Move Down"), 1, index + 1 < count),
        ] {
            let button = gtk::Button::builder()
                .label(&label)
                .valign(gtk::Align::Center)
                .sensitive(false)
                .build();
            // An action would make the button sensitive again: only a possible move has one.
            if possible {
                button.set_action_name(Some("boot.move"));
                button.set_action_target_value(Some(&(index as u32, step).to_variant()));
            }
            button.add_css_class("flat");
            row.append(&button);
        }
        row.set_widget_name(&title);
        row
    }

    fn move_device(&self, index: usize, step: i32) {
        let imp = self.imp();
        {
            let mut order = imp.order.borrow_mut();
            let Some(other) = index.checked_add_signed(step as isize) else {
                return;
            };
            if other >= order.len() {
                return;
            }
            order.swap(index, other);
        }
        self.fill_devices();
        self.update_dirty();
    }

    /// The edits the section holds against the loaded options.
    fn edits(&self) -> Vec<DomainEdit> {
        let imp = self.imp();
        let loaded = imp.loaded.borrow();
        let mut edits = Vec::new();
        let shown = BootOptions {
            devices: imp.order.borrow().clone(),
            ..BootOptions::default()
        };
        if shown.order() != loaded.order() {
            edits.push(DomainEdit::DeviceBootOrder(shown.order()));
        }
        if imp.menu.is_active() != loaded.menu {
            edits.push(DomainEdit::BootMenu(imp.menu.is_active()));
        }
        let text = |e: &gtk::Entry| e.text().trim().to_owned();
        let kernel = (text(&imp.kernel), text(&imp.initrd), text(&imp.cmdline));
        if kernel
            != (
                loaded.kernel.clone(),
                loaded.initrd.clone(),
                loaded.cmdline.clone(),
            )
        {
            edits.push(DomainEdit::DirectKernel {
                kernel: kernel.0,
                initrd: kernel.1,
                cmdline: kernel.2,
            });
        }
        edits
    }

    fn update_dirty(&self) {
        let imp = self.imp();
        let dirty = !self.edits().is_empty();
        if imp.dirty.replace(dirty) != dirty {
            self.notify_dirty();
        }
    }
}
