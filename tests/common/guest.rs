//! The tiny test guest of `tests/guest/`: building it (cached), a TCG domain that boots
//! it with its serial port in a file, and reading what it reports there.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use quick_xml::Writer;

use super::fixture::{local_vnc, pc_hvm_type, qemu_domain_xml, raw_file_disk, temp_xml, text};
use super::{ensure_libvirtd, prefix, virsh, virsh_ok, DomainGuard};

/// The line the guest prints once its input reporters run.
pub const GUEST_READY: &str = "VIRTDECK-GUEST READY";

/// The kernel command line of the ISO's default menu entry.
const BASE_CMDLINE: &str = "console=tty1 console=ttyS0";
/// The guest's shell on its second serial port (see `tests/guest/init`).
pub const SERIAL_SHELL_CMDLINE: &str = "virtdeck.shell=ttyS1";

/// What `tests/guest/build.sh` built.
#[derive(Debug, Clone)]
pub struct GuestImage {
    pub iso: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

/// Builds the guest once per process (the script itself caches across runs) and fails
/// the test loudly when that is not possible.
pub fn guest_image() -> &'static GuestImage {
    static IMAGE: OnceLock<GuestImage> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build.sh");
        let out = Process::new(&script)
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} failed ({}):\n{}\n{}",
            script.display(),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        let path = |key: &str| {
            let path = stdout
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(PathBuf::from)
                .unwrap_or_else(|| panic!("build.sh printed no {key}=: {stdout}"));
            assert!(
                path.is_file(),
                "build.sh printed {key}={}, which is no file",
                path.display()
            );
            path
        };
        GuestImage {
            iso: path("GUEST_ISO"),
            kernel: path("GUEST_KERNEL"),
            initrd: path("GUEST_INITRD"),
        }
    })
}

/// The bootable ISO (GRUB, BIOS): the "local install media" of the wizard tests.
pub fn guest_iso() -> PathBuf {
    guest_image().iso.clone()
}

/// How the guest boots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GuestBoot {
    /// From the ISO as a CD-ROM, through SeaBIOS and GRUB's default entry.
    #[default]
    Cdrom,
    /// The kernel and initramfs straight from the host, with these words appended to the
    /// kernel command line (say `virtdeck.mode=fb video=1920x1080`).
    Kernel { extra_cmdline: String },
}

impl GuestBoot {
    /// The framebuffer-painting mode at 1920×1080, for console benchmarks.
    pub fn painting() -> Self {
        GuestBoot::Kernel {
            extra_cmdline: "virtdeck.mode=fb video=1920x1080".to_owned(),
        }
    }
}

/// The emulated display adapter; the guest drives both with the bochs DRM driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GuestVideo {
    #[default]
    Vga,
    Bochs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOptions {
    pub boot: GuestBoot,
    pub video: GuestVideo,
    pub memory_mib: u32,
    /// A virtio NIC on this libvirt network (the guest's `eth0`; `virtdeck.net=dhcp` gives
    /// it an address).
    pub network: Option<String>,
    /// A raw file as the first virtio disk (the guest's `/dev/vda`; `virtdeck.disk=write`
    /// overwrites its first MiB).
    pub disk: Option<PathBuf>,
    /// A second serial port, a pseudo terminal libvirt can open as a console, with a shell
    /// on it (the guest's `virtdeck.shell=ttyS1`; with [`GuestBoot::Kernel`] only).
    pub serial_shell: bool,
    /// A virtio memory balloon (the guest loads `virtio_balloon`), so that its memory can
    /// be changed while it runs; none otherwise.
    pub balloon: bool,
}

impl Default for GuestOptions {
    fn default() -> Self {
        GuestOptions {
            boot: GuestBoot::default(),
            video: GuestVideo::default(),
            memory_mib: 256,
            network: None,
            disk: None,
            serial_shell: false,
            balloon: false,
        }
    }
}

/// A TCG domain (`type='qemu'`, one vCPU) booting the test guest, its serial port written
/// to `serial_log`, VNC on 127.0.0.1 (autoport), a USB tablet and a USB keyboard.
pub fn guest_domain_xml(name: &str, serial_log: &Path, opts: &GuestOptions) -> String {
    let image = guest_image();
    let serial_log = serial_log.to_str().expect("serial log path is UTF-8");
    qemu_domain_xml(name, opts.memory_mib, |w| {
        let boot = match (&opts.boot, opts.serial_shell) {
            (GuestBoot::Kernel { extra_cmdline }, true) => GuestBoot::Kernel {
                extra_cmdline: format!("{extra_cmdline} {SERIAL_SHELL_CMDLINE}"),
            },
            (boot, _) => boot.clone(),
        };
        write_os(w, image, &boot)?;
        w.create_element("features").write_inner_content(|w| {
            w.create_element("acpi").write_empty()?;
            Ok(())
        })?;
        w.create_element("devices").write_inner_content(|w| {
            if opts.boot == GuestBoot::Cdrom {
                raw_file_disk(w, "cdrom", &image.iso.to_string_lossy(), "hdc", "ide")?;
            }
            if let Some(disk) = &opts.disk {
                raw_file_disk(w, "disk", &disk.to_string_lossy(), "vda", "virtio")?;
            }
            if let Some(network) = &opts.network {
                w.create_element("interface")
                    .with_attribute(("type", "network"))
                    .write_inner_content(|w| {
                        w.create_element("source")
                            .with_attribute(("network", network.as_str()))
                            .write_empty()?;
                        w.create_element("model")
                            .with_attribute(("type", "virtio"))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            w.create_element("controller")
                .with_attribute(("type", "usb"))
                .with_attribute(("model", "qemu-xhci"))
                .write_empty()?;
            write_serial(w, "serial", serial_log, None)?;
            write_serial(w, "console", serial_log, Some("serial"))?;
            if opts.serial_shell {
                w.create_element("serial")
                    .with_attribute(("type", "pty"))
                    .write_inner_content(|w| {
                        w.create_element("target")
                            .with_attribute(("port", "1"))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            for kind in ["tablet", "keyboard"] {
                w.create_element("input")
                    .with_attribute(("type", kind))
                    .with_attribute(("bus", "usb"))
                    .write_empty()?;
            }
            local_vnc(w)?;
            let model = match opts.video {
                GuestVideo::Vga => "vga",
                GuestVideo::Bochs => "bochs",
            };
            w.create_element("video").write_inner_content(|w| {
                // 32 MiB: room for 1920×1080 at 32 bits per pixel.
                w.create_element("model")
                    .with_attribute(("type", model))
                    .with_attribute(("vram", "32768"))
                    .write_empty()?;
                Ok(())
            })?;
            w.create_element("memballoon")
                .with_attribute(("model", if opts.balloon { "virtio" } else { "none" }))
                .write_empty()?;
            Ok(())
        })?;
        Ok(())
    })
}

fn write_os(w: &mut Writer<Vec<u8>>, image: &GuestImage, boot: &GuestBoot) -> io::Result<()> {
    w.create_element("os").write_inner_content(|w| {
        pc_hvm_type(w)?;
        match boot {
            GuestBoot::Cdrom => {
                w.create_element("boot")
                    .with_attribute(("dev", "cdrom"))
                    .write_empty()?;
            }
            GuestBoot::Kernel { extra_cmdline } => {
                text(w, "kernel", &image.kernel.to_string_lossy())?;
                text(w, "initrd", &image.initrd.to_string_lossy())?;
                // The serial console last, so that kernel messages go to the serial port.
                let cmdline = format!("{extra_cmdline} {BASE_CMDLINE}");
                text(w, "cmdline", cmdline.trim())?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// `<serial>` or `<console>` of type file on the first serial port.
fn write_serial(
    w: &mut Writer<Vec<u8>>,
    tag: &str,
    path: &str,
    target_type: Option<&str>,
) -> io::Result<()> {
    w.create_element(tag)
        .with_attribute(("type", "file"))
        .write_inner_content(|w| {
            w.create_element("source")
                .with_attribute(("path", path))
                .write_empty()?;
            let mut t = w.create_element("target");
            if let Some(kind) = target_type {
                t = t.with_attribute(("type", kind));
            }
            t.with_attribute(("port", "0")).write_empty()?;
            Ok(())
        })?;
    Ok(())
}

// ----- the serial log -----

/// The log as text so far (empty while QEMU has not created it).
pub fn serial_text(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The log's complete lines: what the guest has written up to its last line ending. A line
/// still being written (QEMU flushes the serial port in pieces) is left out, so a wait never
/// answers with half a line.
fn complete_lines(log: &str) -> &str {
    log.rfind('\n').map_or("", |end| &log[..=end])
}

/// Waits until a complete line after byte `from` of the log satisfies `pred`; returns that
/// line (without its line ending). Fails the test after `timeout` showing the log's tail.
pub fn wait_for_serial_line(
    path: &Path,
    from: usize,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let log = serial_text(path);
        let found = complete_lines(&log)
            .get(from..)
            .unwrap_or("")
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .find(|l| pred(l));
        if let Some(line) = found {
            return line.to_owned();
        }
        if Instant::now() >= deadline {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "no {what} in the serial log {} within {timeout:?}; its last lines:\n{}",
                path.display(),
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the log holds a line containing `needle`; returns that line.
pub fn wait_for_serial(path: &Path, needle: &str, timeout: Duration) -> String {
    wait_for_serial_line(path, 0, timeout, &format!("“{needle}”"), |l| {
        l.contains(needle)
    })
}

// ----- a running guest -----

/// A started test guest on `uri`, named `prefix() + tag`. Dropping it destroys and
/// undefines the domain and removes its serial log.
pub struct TestGuest {
    pub name: String,
    pub uri: String,
    pub serial_log: PathBuf,
    dir: PathBuf,
    domain: Option<DomainGuard>,
}

impl TestGuest {
    /// Defines and starts the guest; does not wait for it to boot.
    pub fn start(uri: &str, tag: &str, opts: &GuestOptions) -> TestGuest {
        let name = format!("{}{tag}", prefix());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("create the guest's log directory");
        let mut guest = TestGuest {
            serial_log: dir.join("serial.log"),
            name: name.clone(),
            uri: uri.to_owned(),
            dir,
            domain: None,
        };
        let xml = temp_xml(tag, &guest_domain_xml(&name, &guest.serial_log, opts));
        guest.domain = Some(DomainGuard {
            uri: uri.to_owned(),
            name: name.clone(),
        });
        virsh_ok(uri, &["define", &xml.to_string_lossy()]);
        virsh_ok(uri, &["start", &name]);
        guest
    }

    /// Waits for the READY line.
    pub fn wait_ready(&self, timeout: Duration) {
        wait_for_serial(&self.serial_log, GUEST_READY, timeout);
    }

    /// The log's length now: pass it to [`Self::wait_line_after`] to look only at what
    /// comes next.
    pub fn log_len(&self) -> usize {
        std::fs::metadata(&self.serial_log).map_or(0, |m| m.len() as usize)
    }

    /// Waits for a line after byte `from` that starts with one of `prefixes`.
    pub fn wait_line_after(&self, from: usize, prefixes: &[&str], timeout: Duration) -> String {
        wait_for_serial_line(
            &self.serial_log,
            from,
            timeout,
            &format!("line starting with {prefixes:?}"),
            |l| prefixes.iter().any(|p| l.starts_with(p)),
        )
    }

    /// Presses and releases one key (a Linux `KEY_*` name) through `virsh send-key`.
    pub fn send_key(&self, key: &str) {
        virsh_ok(&self.uri, &["send-key", &self.name, key]);
    }

    /// Types `text` (lower-case letters, digits and spaces) one key at a time, then Enter.
    pub fn type_line(&self, text: &str) {
        for c in text.chars() {
            let key = match c {
                ' ' => "KEY_SPACE".to_owned(),
                c if c.is_ascii_alphanumeric() => format!("KEY_{}", c.to_ascii_uppercase()),
                c => panic!("type_line cannot type {c:?}"),
            };
            self.send_key(&key);
        }
        self.send_key("KEY_ENTER");
    }

    /// Runs a command of QEMU's human monitor (HMP) in the guest's QEMU.
    pub fn monitor(&self, command: &str) -> String {
        virsh_ok(
            &self.uri,
            &["qemu-monitor-command", "--hmp", &self.name, command],
        )
    }

    /// Moves the absolute pointer (the USB tablet) to `x`, `y` in QEMU's 0–32767 range,
    /// as a VNC client's pointer events do.
    pub fn move_pointer_abs(&self, x: u32, y: u32) {
        let command = format!(
            r#"{{"execute":"input-send-event","arguments":{{"events":[
                {{"type":"abs","data":{{"axis":"x","value":{x}}}}},
                {{"type":"abs","data":{{"axis":"y","value":{y}}}}}]}}}}"#
        );
        virsh_ok(&self.uri, &["qemu-monitor-command", &self.name, &command]);
    }

    /// Whether libvirt reports the domain shut off.
    pub fn is_shut_off(&self) -> bool {
        let out = virsh(&self.uri, &["domstate", &self.name]);
        String::from_utf8_lossy(&out.stdout).trim() == "shut off"
    }
}

impl Drop for TestGuest {
    fn drop(&mut self) {
        // The daemon may have been restarted under us (other tests kill it); bring it
        // back so the domain is really removed. Not while unwinding: a second panic aborts.
        if !std::thread::panicking() {
            ensure_libvirtd();
        }
        // The domain first: QEMU holds the log open.
        drop(self.domain.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
