//! Blocking work on this computer (`ip`, NetworkManager, `/proc`, the OS database, an ISO
//! image) off the GTK main thread. libvirt is not asked this way: it has the connection's
//! worker.

use gtk::gio;

/// Runs the blocking `f` on gio's thread pool and gives its result back on the main
/// loop; `None` when it panicked (which is logged).
pub async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match gio::spawn_blocking(f).await {
        Ok(value) => Some(value),
        Err(_) => {
            tracing::error!("a background task panicked");
            None
        }
    }
}
