//! One full clone through Virtdeck's connection worker, as the Clone dialog makes it:
//! `cargo bench --bench clone_vm -- <uri> <source name> <clone name>`. Prints the wall
//! time; `benches/clone/run.sh` runs it beside `virt-clone` and measures both.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use virtdeck::libvirt::{spawn, CloneKind, CloneRequest, Request, WorkerOptions};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [uri, source, name] = args.as_slice() else {
        eprintln!("usage: clone_vm <uri> <source name> <clone name>");
        std::process::exit(2);
    };
    let uuid = virsh_uuid(uri, source);
    let started = Instant::now();
    let handle = spawn(
        uri.clone(),
        WorkerOptions {
            stats_interval: None,
            autoconnect: true,
        },
    );
    let (progress, _steps) = async_channel::unbounded();
    let answer = handle
        .ask(|reply| {
            Request::Clone(CloneRequest::Clone {
                uuid,
                name: name.clone(),
                kind: CloneKind::Full,
                progress,
                cancel: Arc::new(AtomicBool::new(false)),
                reply,
            })
        })
        .recv_blocking();
    handle.quit_and_join();
    match answer {
        Ok(_) => println!("virtdeck clone: {:.2} s", started.elapsed().as_secs_f64()),
        Err(error) => {
            eprintln!("clone failed: {error}");
            std::process::exit(1);
        }
    }
}

fn virsh_uuid(uri: &str, name: &str) -> String {
    let out = std::process::Command::new("virsh")
        .args(["-c", uri, "domuuid", name])
        .output()
        .expect("run virsh");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
