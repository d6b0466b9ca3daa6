//! The privileged network helper (`virtdeck --net-helper`) for real, in network namespaces
//! each test creates ([`Netns`]: a veth NIC with documentation addresses and the default
//! routes, its peer in a second namespace playing the LAN). The tests run as root, so the
//! helper is a plain child process — the same program and protocol as behind `pkexec`.
//!
//! - The app is killed (SIGKILL) during the countdown: the helper restores the state
//!   before at once (its input ends), well within the countdown + 2 s.
//! - Nobody answers: the helper restores the state when the countdown runs out; `keep`
//!   keeps the change past the countdown; `revert` restores at once; a rollback to a state
//!   that is back already runs no `ip` step.
//! - A step fails midway: the same, single helper process restores the state.
//! - Requests naming a missing NIC, a bad name or a shell metacharacter are refused with a
//!   sentence, and nothing changes.
//! - The bridge.conf request, in a private mount namespace whose `/etc/qemu` is a temporary
//!   directory: `allow` added, `deny` and `include` lines kept.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::net::{request, Netns, NIC_V4, VIRTDECK};
use virtdeck::host::net::bridge::plan_create;
use virtdeck::host::net::protocol::{Report, Request};
use virtdeck::host::net::{
    self, allow_bridge_for_session, create_bridge, delete_bridge, BridgeRequest, NetError, Runner,
};

/// The environment variables that make [`app_side_holds_a_change`] the app of another test.
const APP_NETNS: &str = "VDTEST_APP_NETNS";
const APP_COUNTDOWN: &str = "VDTEST_APP_COUNTDOWN";
/// The NIC that [`app_side_as_a_user`] makes a bridge from.
const APP_NIC: &str = "VDTEST_APP_NIC";

/// A short countdown, for the tests that wait for it.
const SHORT: Duration = Duration::from_secs(3);

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("vdtest-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("make a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A helper program that notes each start in `log` and then is `virtdeck` with the same
/// arguments, run through `prefix` (e.g. `unshare …`) if given.
fn counting_helper(dir: &Path, prefix: &str) -> (PathBuf, PathBuf) {
    let log = dir.join("helper-starts");
    let script = dir.join("helper.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$$ $*\" >> '{}'\nexec {prefix} '{VIRTDECK}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

fn starts(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Polls until the namespace's state is `expected`; how long it took.
fn time_until_state(ns: &Netns, expected: &str, within: Duration) -> Duration {
    let start = Instant::now();
    while ns.state() != expected {
        assert!(
            start.elapsed() < within,
            "the state is not back within {within:?}:\n{}",
            common::net::diff_lines(expected, &ns.state()).join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

fn bridged(ns: &Netns, bridge: &str) -> bool {
    ns.links().iter().any(|l| l.name == bridge)
        && common::net::addresses(&ns.link(bridge))
            .first()
            .map(String::as_str)
            == Some(NIC_V4)
}

/// Not a test of its own: the "app" of [`the_app_killed_during_the_countdown_is_rolled_back`],
/// started by it as a process of this test binary. It makes a bridge through the helper,
/// says so, and holds the pending change until it is killed.
#[test]
#[ignore = "run by the_app_killed_during_the_countdown_is_rolled_back"]
fn app_side_holds_a_change() {
    let (Ok(netns), Ok(countdown)) = (std::env::var(APP_NETNS), std::env::var(APP_COUNTDOWN))
    else {
        return;
    };
    let runner = Runner::in_netns(&netns)
        .with_helper(VIRTDECK)
        .with_confirm_within(Duration::from_secs(countdown.parse().unwrap()));
    let change = create_bridge(&runner, &BridgeRequest::new("vdnic0")).expect("create br0");
    println!("APPLIED");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(600));
    drop(change);
}

#[test]
fn the_app_killed_during_the_countdown_is_rolled_back() {
    let ns = Netns::new();
    let before = ns.state();
    let countdown = Duration::from_secs(20);
    let mut app = Command::new(std::env::current_exe().unwrap())
        .args([
            "app_side_holds_a_change",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(APP_NETNS, &ns.name)
        .env(APP_COUNTDOWN, countdown.as_secs().to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the app process");
    let mut out = BufReader::new(app.stdout.take().unwrap());
    let mut line = String::new();
    while line.trim() != "APPLIED" {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the app ended before the change was applied"
        );
    }
    assert!(bridged(&ns, "br0"), "the bridge is made");
    app.kill().expect("SIGKILL the app");
    app.wait().unwrap();
    let took = time_until_state(&ns, &before, countdown + Duration::from_secs(2));
    println!("state restored {took:?} after the app was killed (countdown {countdown:?})");
    assert!(
        took < countdown,
        "the end of the input rolls back at once, not at the deadline"
    );
}

/// Not a test of its own: the "app" of [`a_refused_authorisation_means_nothing_happened`],
/// run as user nobody, so that it asks pkexec. It prints the error it gets.
#[test]
#[ignore = "run by a_refused_authorisation_means_nothing_happened"]
fn app_side_as_a_user() {
    let Ok(nic) = std::env::var(APP_NIC) else {
        return;
    };
    let runner = Runner::host().with_helper(VIRTDECK);
    assert!(runner.escalates(), "not run as a user");
    match create_bridge(&runner, &request(&nic, &format!("{nic}br"))) {
        Ok(_) => println!("RESULT made"),
        Err(e) => println!("RESULT {e:?}\nSAID {e}"),
    }
}

/// As a user without a polkit agent, pkexec does not authorise (exit 127): the app says
/// that nothing happened, and nothing did. The NIC is a veth pair of the host's namespace.
#[test]
fn a_refused_authorisation_means_nothing_happened() {
    let nic = format!("vdt{}pk", std::process::id() % 100_000);
    common::net::ip(&[
        "link",
        "add",
        &nic,
        "type",
        "veth",
        "peer",
        "name",
        &format!("{nic}p"),
    ]);
    struct Gone(String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).status();
            let _ = Command::new("ip")
                .args(["link", "del", &format!("{}br", self.0)])
                .status();
        }
    }
    let _gone = Gone(nic.clone());
    let before = common::net::ip(&["-d", "link", "show", "dev", &nic]);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(std::env::current_exe().unwrap())
        .args(["app_side_as_a_user", "--exact", "--ignored", "--nocapture"])
        .env(APP_NIC, &nic)
        .output()
        .expect("run setpriv (util-linux)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("RESULT NotAuthorized"), "{said}");
    assert!(
        said.contains("SAID You are not allowed to change the network configuration (polkit refused), so nothing was changed."),
        "{said}"
    );
    assert_eq!(
        common::net::ip(&["-d", "link", "show", "dev", &nic]),
        before
    );
    assert!(!common::net::ip(&["link", "show"]).contains(&format!("{nic}br")));
}

#[test]
fn an_unanswered_change_is_rolled_back_by_the_helper_at_the_deadline() {
    let ns = Netns::new();
    let before = ns.state();
    let runner = ns.runner.clone().with_confirm_within(SHORT);
    let start = Instant::now();
    let change = create_bridge(&runner, &BridgeRequest::new("vdnic0")).expect("create");
    assert!(bridged(&ns, "br0"));
    // The app is alive and holds the change, but says nothing.
    let took = time_until_state(&ns, &before, SHORT + Duration::from_secs(2));
    println!(
        "restored by the helper {:?} after the start (countdown {SHORT:?})",
        start.elapsed()
    );
    assert!(
        start.elapsed() >= SHORT,
        "not before the deadline ({took:?})"
    );
    let err = change.keep().unwrap_err();
    assert_eq!(err, NetError::Expired);
    assert_eq!(
        err.to_string(),
        "The change was already undone, because it was not confirmed in time."
    );
}

#[test]
fn keep_outlives_the_countdown_revert_is_at_once_and_an_unchanged_state_takes_no_step() {
    let ns = Netns::new();
    let before = ns.state();
    let runner = ns.runner.clone().with_confirm_within(SHORT);

    // Kept: still there after the countdown.
    create_bridge(&runner, &BridgeRequest::new("vdnic0"))
        .expect("create")
        .keep()
        .expect("keep");
    std::thread::sleep(SHORT + Duration::from_secs(1));
    assert!(bridged(&ns, "br0"), "a kept change stays");
    let bridged_state = ns.state();

    // Reverted: back at once.
    let change = delete_bridge(&runner, "br0").expect("delete");
    assert!(ns.links().iter().all(|l| l.name != "br0"));
    let start = Instant::now();
    let steps = change.revert().expect("revert");
    println!("revert took {:?} and {steps} steps", start.elapsed());
    assert!(steps > 0);
    assert!(
        start.elapsed() < SHORT,
        "revert does not wait for the deadline"
    );
    ns.expect_state(&bridged_state);
    delete_bridge(&runner, "br0").unwrap().keep().unwrap();
    ns.expect_state(&before);

    // Put back by hand before the revert: the helper compares and runs nothing.
    let request = BridgeRequest::new("vdnic0");
    let links = ns.links();
    let (plan, _) = plan_create(&links, &request).unwrap();
    let change = create_bridge(&ns.runner, &request).expect("create");
    assert!(bridged(&ns, "br0"));
    let restored = net::rollback(&ns.runner, &plan.before).expect("restore by hand");
    assert!(restored > 0);
    ns.expect_state(&before);
    assert_eq!(change.revert().expect("revert"), 0, "nothing left to undo");
    ns.expect_state(&before);
}

#[test]
fn a_step_failing_midway_is_restored_by_the_same_helper() {
    let ns = Netns::new();
    let dir = TempDir::new("midway");
    let (helper, log) = counting_helper(&dir.0, "");
    let runner = ns.runner.clone().with_helper(&helper);
    // New links of this namespace get no IPv6, so the NIC's IPv6 address cannot move to
    // the bridge: the change fails after the bridge was made and the NIC joined it.
    let status = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-qw"])
        .arg("net.ipv6.conf.default.disable_ipv6=1")
        .status()
        .expect("run sysctl");
    assert!(status.success());
    let before = ns.state();
    let err = create_bridge(&runner, &BridgeRequest::new("vdnic0")).unwrap_err();
    println!("{err}");
    let NetError::RolledBack(cause) = &err else {
        panic!("not rolled back: {err}");
    };
    assert!(
        matches!(&**cause, NetError::Command { command, .. } if command.starts_with("ip addr add 2001:db8:2::2/64 dev br0")),
        "{cause}"
    );
    ns.expect_state(&before);
    let started = starts(&log);
    assert_eq!(started.len(), 1, "one helper process: {started:?}");
    assert!(started[0].ends_with(" --net-helper"), "{started:?}");
}

/// Sends `request` (a JSON line) to a fresh `virtdeck --net-helper` and returns its
/// reports and exit status.
fn ask_helper(request: &str) -> (Vec<Report>, i32) {
    let mut helper = Command::new(VIRTDECK)
        .arg("--net-helper")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the helper");
    writeln!(helper.stdin.take().unwrap(), "{request}").unwrap();
    let out = helper.wait_with_output().unwrap();
    let reports = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| Report::from_line(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (reports, out.status.code().unwrap_or(-1))
}

#[test]
fn the_helper_refuses_bad_requests_itself_and_changes_nothing() {
    let ns = Netns::new();
    let before = ns.state();
    let netns = &ns.name;
    let create = |nic: &str, bridge: &str| {
        let nic = serde_json::to_string(nic).unwrap();
        let bridge = serde_json::to_string(bridge).unwrap();
        format!(
            r#"{{"change":{{"create-bridge":{{"nic":{nic},"bridge":{bridge},"stp":false}}}},"netns":"{netns}"}}"#
        )
    };
    let cases = [
        (
            create("vdnone0", "br0"),
            "There is no network interface named “vdnone0”.",
        ),
        (
            create("vdnic0-too-long-a-name", "br0"),
            "“vdnic0-too-long-a-name” is not a usable network interface name: it is longer than 15 characters.",
        ),
        (
            create("vdnic0;reboot", "br0"),
            "“vdnic0;reboot” is not a usable network interface name: it contains “;”; use only letters, digits, “_”, “.” and “-”.",
        ),
        (
            create("vdnic0", "$(touch x)"),
            "“$(touch x)” cannot be a bridge name: the kernel does not allow “/”, “:” or spaces in it.",
        ),
        (
            create("vdnic0", "br`id`"),
            "“br`id`” cannot be a bridge name: it contains “`”; use only letters, digits, “_”, “.” and “-”.",
        ),
        (
            create("vdnic0", "lo"),
            "A network interface named “lo” already exists.",
        ),
        (
            format!(r#"{{"change":{{"delete-bridge":{{"bridge":"vdnic0"}}}},"netns":"{netns}"}}"#),
            "“vdnic0” is not a bridge.",
        ),
        (
            r#"{"change":{"delete-bridge":{"bridge":"br0"}},"netns":"vdtest-no-such-ns"}"#.to_owned(),
            "There is no network namespace named “vdtest-no-such-ns”.",
        ),
        (
            r#"ip link del vdnic0"#.to_owned(),
            "The network helper refused the request: it is not a request: expected value at line 1 column 1.",
        ),
        (
            format!(r#"{{"change":{{"delete-bridge":{{"bridge":"br0"}}}},"netns":"{netns}","countdown_secs":100000}}"#),
            "The network helper refused the request: the countdown must be 1 to 300 seconds, not 100000.",
        ),
    ];
    for (request, expected) in cases {
        let (reports, status) = ask_helper(&request);
        let [Report::Refused { error }] = reports.as_slice() else {
            panic!("{request}: {reports:?}");
        };
        assert_eq!(error.to_string(), expected, "{request}");
        assert_eq!(status, 1, "{request}");
    }
    ns.expect_state(&before);
    assert!(!Path::new("x").exists());

    // The app's own checks say the same before starting anything.
    let err = create_bridge(&ns.runner, &request("vdnic0;reboot", "br0")).unwrap_err();
    assert!(matches!(err, NetError::BadInterfaceName { .. }), "{err}");
    let err = delete_bridge(&ns.runner, "br0 && reboot").unwrap_err();
    assert!(matches!(err, NetError::BadInterfaceName { .. }), "{err}");
    ns.expect_state(&before);
}

#[test]
fn a_request_round_trips_through_the_real_helper() {
    // The same request type the app sends, parsed by the helper binary.
    let line = Request {
        change: virtdeck::host::net::protocol::Change::DeleteBridge {
            bridge: "vdnone0".into(),
        },
        netns: Some("vdtest-no-such-ns".into()),
        countdown_secs: 5,
    }
    .to_line();
    let (reports, _) = ask_helper(&line);
    assert_eq!(
        reports,
        [Report::Refused {
            error: NetError::NoSuchNetns("vdtest-no-such-ns".into())
        }]
    );
}

#[test]
fn bridge_conf_is_changed_by_the_helper_keeping_deny_and_include_lines() {
    let etc_qemu = Path::new("/etc/qemu");
    assert!(
        etc_qemu.is_dir(),
        "/etc/qemu is missing: install qemu-system-x86 (the test mounts over it privately)"
    );
    let dir = TempDir::new("bridge-conf");
    let conf = dir.0.join("qemu");
    std::fs::create_dir(&conf).unwrap();
    let old = "# site rules\ninclude /etc/qemu/site.conf\ndeny vdbad0\nallow virbr0\n";
    std::fs::write(conf.join("bridge.conf"), old).unwrap();
    // The helper sees the temporary directory as /etc/qemu, in a mount namespace of its
    // own: the host's file is never touched.
    let (helper, log) = counting_helper(
        &dir.0,
        &format!(
            "unshare -m --propagation private sh -c 'mount --bind \"$0\" /etc/qemu && exec \"$@\"' '{}'",
            conf.display()
        ),
    );
    let host_conf = std::fs::read(etc_qemu.join("bridge.conf")).ok();
    let runner = Runner::host().with_helper(&helper);

    assert!(allow_bridge_for_session(&runner, "vdbr7").expect("allow vdbr7"));
    let new = std::fs::read_to_string(conf.join("bridge.conf")).unwrap();
    assert_eq!(new, format!("{old}allow vdbr7\n"));
    assert!(
        !allow_bridge_for_session(&runner, "vdbr7").unwrap(),
        "allowed already"
    );
    let err = allow_bridge_for_session(&runner, "vdbad0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "/etc/qemu/bridge.conf denies bridge “vdbad0” (a “deny” line); remove that line to allow it."
    );
    assert_eq!(
        std::fs::read_to_string(conf.join("bridge.conf")).unwrap(),
        new
    );
    let entries: Vec<_> = std::fs::read_dir(&conf).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file is left");
    let started = starts(&log);
    assert_eq!(started.len(), 3, "{started:?}");
    assert!(started.iter().all(|s| s.ends_with(" --bridge-conf-helper")));
    assert_eq!(std::fs::read(etc_qemu.join("bridge.conf")).ok(), host_conf);
}
