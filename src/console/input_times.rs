//! An optional record of when key presses reach the console, for the console benchmark
//! (`benches/console`): with `VIRTDECK_INPUT_TIMES=FILE` set, every key press the console
//! widget receives from GTK appends `SECONDS KEYSYM` to FILE, SECONDS on the
//! `CLOCK_MONOTONIC` clock, the clock the benchmark's proxy stamps the bytes with. Unset,
//! nothing is recorded and this costs one check of a static.

use std::fs::File;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

/// The variable naming the file.
pub const VARIABLE: &str = "VIRTDECK_INPUT_TIMES";

static LOG: LazyLock<Option<Mutex<File>>> = LazyLock::new(|| {
    let path = std::env::var_os(VARIABLE)?;
    match File::options().create(true).append(true).open(&path) {
        Ok(file) => Some(Mutex::new(file)),
        Err(e) => {
            tracing::warn!("{VARIABLE}: {}: {e}", path.to_string_lossy());
            None
        }
    }
});

/// The time now on `CLOCK_MONOTONIC`, in seconds, when recording; else `None`.
pub fn now() -> Option<f64> {
    LOG.as_ref()?;
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).ok()?;
    Some(now.tv_sec() as f64 + now.tv_nsec() as f64 / 1e9)
}

/// Records that a press of `keysym` arrived at `seconds` (from [`now`]). Called once the
/// key is sent, so that writing the record does not delay it.
pub fn key_pressed(seconds: f64, keysym: u32) {
    let Some(log) = LOG.as_ref() else {
        return;
    };
    if let Ok(mut file) = log.lock() {
        let _ = writeln!(file, "{seconds:.9} {keysym}");
    }
}
