//! Shared helpers of the libvirt integration tests: the `test:///` node fixture generator,
//! the libvirt daemon, `virsh`, and waiting for worker events.
#![allow(dead_code)]

pub mod bus;
pub mod console;
pub mod edit;
pub mod fixture;
pub mod guest;
pub mod net;
pub mod remote;
pub mod rfb;
pub mod specs;
pub mod vnet;

use std::path::PathBuf;
use std::process::{Command as Process, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use virtdeck::libvirt::{
    spawn, ConnectionHandle, ConnectionState, DomainInfo, Event, Reply, Request, RequestError,
    StatsHistory, WorkerOptions,
};

/// The daemon-backed URI of the tests. As root, libvirt sends `qemu:///session` to the
/// system daemon, which it does not start on demand: [`ensure_libvirtd`] does.
pub const SESSION_URI: &str = "qemu:///session";

/// Worker options for tests: connect at once, no statistics.
pub fn quiet_options() -> WorkerOptions {
    WorkerOptions {
        stats_interval: None,
        autoconnect: true,
    }
}

/// A name prefix unique to this test process, so that parallel runs never touch each
/// other's domains.
pub fn prefix() -> String {
    format!("vdtest-{}-", std::process::id())
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `test:///<absolute path>`.
pub fn test_uri(path: &std::path::Path) -> String {
    assert!(path.is_absolute(), "{} is not absolute", path.display());
    format!("test://{}", path.display())
}

// ----- virsh -----

pub fn virsh(uri: &str, args: &[&str]) -> Output {
    Process::new("virsh")
        .arg("-q")
        .arg("-c")
        .arg(uri)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("virsh is required for these tests and could not run: {e}"))
}

/// Runs virsh and returns its stdout, failing the test with its stderr if it fails.
pub fn virsh_ok(uri: &str, args: &[&str]) -> String {
    let out = virsh(uri, args);
    assert!(
        out.status.success(),
        "virsh -c {uri} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asks the worker and waits for the answer; fails the test if none comes within
/// `timeout`.
pub fn ask_within<T: Send + 'static>(
    handle: &virtdeck::libvirt::ConnectionHandle,
    timeout: Duration,
    make: impl FnOnce(virtdeck::libvirt::Reply<T>) -> virtdeck::libvirt::Request,
) -> Result<T, virtdeck::libvirt::RequestError> {
    let answer = handle.ask(make);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(answer.recv_blocking());
    });
    rx.recv_timeout(timeout)
        .expect("the worker answers within the timeout")
}

/// Destroys and undefines a domain when dropped, so that a failing test leaves nothing
/// behind; also removes the XML file [`fixture::temp_xml`] wrote for it.
pub struct DomainGuard {
    pub uri: String,
    pub name: String,
}

impl DomainGuard {
    /// A guard for the tiny TCG domain `<prefix><tag>` on the session connection; nothing
    /// exists yet.
    pub fn session(tag: &str) -> Self {
        Self {
            uri: SESSION_URI.into(),
            name: format!("{}{tag}", prefix()),
        }
    }

    /// Makes the tiny domain with virsh: `define` (persistent, shut off) or `create`
    /// (transient, running).
    pub fn virsh_tiny(&self, verb: &str) {
        let tag = self.name.strip_prefix(&prefix()).unwrap_or(&self.name);
        let xml = fixture::temp_xml(tag, &fixture::tiny_qemu_domain_xml(&self.name, None));
        virsh_ok(&self.uri, &[verb, xml.to_str().expect("UTF-8 path")]);
    }
}

impl Drop for DomainGuard {
    fn drop(&mut self) {
        let _ = virsh(&self.uri, &["destroy", &self.name]);
        // Snapshots and a saved state would make a plain undefine fail.
        let _ = virsh(
            &self.uri,
            &[
                "undefine",
                "--nvram",
                "--snapshots-metadata",
                "--managed-save",
                &self.name,
            ],
        );
        let _ = virsh(&self.uri, &["undefine", "--nvram", &self.name]);
        let _ = virsh(&self.uri, &["undefine", &self.name]);
        let _ = std::fs::remove_file(std::env::temp_dir().join(format!("{}.xml", self.name)));
    }
}

/// Destroys a transient storage pool when dropped (its directory too).
pub struct PoolGuard {
    pub uri: String,
    pub name: String,
    pub dir: PathBuf,
}

impl PoolGuard {
    /// A transient directory pool `<prefix><tag>` on the session connection, in a new
    /// directory of its own.
    pub fn session_dir(tag: &str) -> Self {
        ensure_libvirtd();
        let name = format!("{}{tag}", prefix());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("create the pool directory");
        let guard = Self {
            uri: SESSION_URI.into(),
            name,
            dir,
        };
        let target = guard.dir.to_str().expect("UTF-8 path");
        virsh_ok(
            &guard.uri,
            &["pool-create-as", &guard.name, "dir", "--target", target],
        );
        guard
    }

    /// Makes a 1 MiB raw volume called `name`; returns its path.
    pub fn create_volume(&self, name: &str) -> PathBuf {
        virsh_ok(
            &self.uri,
            &["vol-create-as", &self.name, name, "1M", "--format", "raw"],
        );
        let path = self.dir.join(name);
        assert!(path.exists(), "{} was not made", path.display());
        path
    }

    /// The names of the pool's volumes, as `virsh vol-list` gives them after a refresh.
    pub fn volumes(&self) -> Vec<String> {
        virsh_ok(&self.uri, &["pool-refresh", &self.name]);
        let mut names: Vec<String> = virsh_ok(&self.uri, &["vol-list", &self.name])
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }
}

impl Drop for PoolGuard {
    fn drop(&mut self) {
        let _ = virsh(&self.uri, &["pool-destroy", &self.name]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ----- iproute2 -----

// ----- the libvirt daemon -----

fn daemon_answers() -> bool {
    virsh(SESSION_URI, &["uri"]).status.success()
}

/// Makes sure the daemon behind [`SESSION_URI`] runs: starts `virtlogd` and `libvirtd`
/// when nothing answers (also after one that was still shutting down has exited). Fails
/// the test loudly when they are missing or do not come up.
pub fn ensure_libvirtd() {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let timeout = Duration::from_secs(30);
    let deadline = Instant::now() + timeout;
    while !daemon_answers() {
        assert!(
            Instant::now() < deadline,
            "the libvirt daemon did not answer within {timeout:?}"
        );
        if pids_of("virtlogd").is_empty() {
            run_daemon("virtlogd");
        }
        if pids_of("libvirtd").is_empty() {
            run_daemon("libvirtd");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run_daemon(name: &str) {
    let path = ["/usr/sbin", "/usr/bin", "/sbin"]
        .iter()
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} is not installed (install libvirt-daemon-system)"));
    let status = Process::new(&path)
        .arg("-d")
        .status()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", path.display()));
    assert!(status.success(), "{} -d failed: {status}", path.display());
}

/// Process ids whose command name is exactly `comm`.
pub fn pids_of(comm: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == comm)
        })
        .collect()
}

/// Kills the libvirt daemon (SIGKILL, as if it crashed) and waits until it is gone.
/// Returns the killed process ids.
pub fn kill_libvirtd() -> Vec<u32> {
    signal_libvirtd("KILL", Duration::from_secs(10))
}

/// Sends `signal` (`KILL`, `TERM`) to the libvirt daemon and waits up to `timeout` until
/// it is gone. Returns its process ids.
pub fn signal_libvirtd(signal: &str, timeout: Duration) -> Vec<u32> {
    let pids = pids_of("libvirtd");
    assert!(!pids.is_empty(), "no libvirtd process to stop");
    for pid in &pids {
        let status = Process::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }
    wait_for("libvirtd to exit", timeout, || {
        pids.iter()
            .all(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
    });
    pids
}

// ----- waiting -----

/// Polls `cond` every 20 ms until it holds; fails the test after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Receives worker events until one satisfies `pred`, which it returns; fails the test
/// after `timeout`, listing the events that did arrive.
pub fn expect_event(
    events: &async_channel::Receiver<Event>,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        match events.try_recv() {
            Ok(event) if pred(&event) => return event,
            Ok(event) => seen.push(summary(&event)),
            Err(async_channel::TryRecvError::Closed) => {
                panic!("event channel closed while waiting for {what}; saw {seen:#?}")
            }
            Err(async_channel::TryRecvError::Empty) => {
                assert!(
                    Instant::now() < deadline,
                    "no {what} within {timeout:?}; saw {seen:#?}"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// Asks the worker a request and waits for its answer; fails the test when none comes
/// within 30 s.
pub fn ask<T: Send + 'static>(
    handle: &ConnectionHandle,
    make: impl FnOnce(Reply<T>) -> Request,
) -> Result<T, RequestError> {
    let answer = handle.ask(make);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(answer.recv_blocking());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the worker answers within the timeout")
}

/// Feeds the statistics samples of domain `uuid` into a [`StatsHistory`] until `done` says
/// it holds what the test waits for (`what`); fails the test after `timeout`. The worker
/// must be sampling (`Command::SetStatsInterval`).
pub fn history_until(
    handle: &ConnectionHandle,
    uuid: &str,
    timeout: Duration,
    what: &str,
    done: impl Fn(&StatsHistory) -> bool,
) -> StatsHistory {
    let mut history = StatsHistory::default();
    let deadline = Instant::now() + timeout;
    while !done(&history) {
        assert!(
            Instant::now() < deadline,
            "no {what} within {timeout:?}: {history:?}"
        );
        let Ok(Event::Stats(stats)) = handle.events.recv_blocking() else {
            continue;
        };
        if let Some((_, st)) = stats.iter().find(|(u, _)| *u == uuid) {
            history.push(st);
        }
    }
    history
}

/// No series of `history` holds a negative value (a rate from counters that went back).
pub fn assert_no_negative(history: &StatsHistory) {
    for series in virtdeck::libvirt::Series::ALL {
        assert!(
            history
                .series(series)
                .iter()
                .all(|v| v.is_nan() || v >= 0.0),
            "{series:?} went negative: {history:?}"
        );
    }
}

/// A short description of an event for failure messages.
pub fn summary(event: &Event) -> String {
    match event {
        Event::Listed(list) => format!("Listed({} domains)", list.len()),
        Event::Snapshot(list) => format!("Snapshot({} domains)", list.len()),
        Event::DomainAdded(d) => format!("DomainAdded({} {:?})", d.name, d.state),
        Event::DomainChanged(d) => format!("DomainChanged({} {:?})", d.name, d.state),
        Event::Stats(s) => format!("Stats({} domains)", s.len()),
        other => format!("{other:?}"),
    }
}

/// Starts a worker on `uri` and waits for it to connect and send its first snapshot.
pub fn connect_and_snapshot(
    uri: &str,
    options: WorkerOptions,
) -> (ConnectionHandle, Vec<DomainInfo>) {
    let timeout = Duration::from_secs(10);
    let handle = spawn(uri.to_owned(), options);
    expect_event(&handle.events, timeout, "Connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    let Event::Snapshot(list) = expect_event(&handle.events, timeout, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    }) else {
        unreachable!()
    };
    (handle, list)
}
