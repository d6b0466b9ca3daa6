//! How long reading the osinfo-db takes: `cargo bench --bench osinfo`.
//! Prints the load time, the first detection (which compiles the ISO patterns), a later
//! detection and a search.

use std::path::Path;
use std::time::{Duration, Instant};

use virtdeck::spec::iso::IsoIds;
use virtdeck::spec::osinfo::{OsDb, SYSTEM_DIR};

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

fn main() {
    let runs = 5;
    let mut loads = Vec::new();
    let mut db = None;
    for _ in 0..runs {
        let (loaded, took) = time(|| OsDb::load(Path::new(SYSTEM_DIR)).expect("osinfo-db"));
        loads.push(took);
        db = Some(loaded);
    }
    let db = db.expect("at least one run");
    loads.sort();
    println!(
        "load {} OSes: median {:?} (min {:?}, max {:?}, {runs} runs)",
        db.all().len(),
        loads[runs / 2],
        loads[0],
        loads[runs - 1]
    );
    let ids = IsoIds {
        volume_id: "Debian 11.5.0 amd64 n".into(),
        ..IsoIds::default()
    };
    let (os, first) = time(|| db.detect(&ids).map(|os| os.id.clone()));
    let (_, later) = time(|| db.detect(&ids));
    println!("first detection (compiles patterns): {first:?} -> {os:?}");
    println!("later detection: {later:?}");
    let (found, search) = time(|| db.search("linux").len());
    println!("search \"linux\": {search:?} ({found} results)");
}
