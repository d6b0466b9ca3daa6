//! Memory freed at the top of the heap goes back to the system for the whole run, also
//! after a large block was freed: glibc's own rule then keeps up to twice that block's
//! size resident, and reading a long list frees large blocks.
//!
//! Without the test harness: the check runs on the main thread, whose allocations come
//! from the main heap, as the window's do.

use virtdeck::libvirt::ffi::limit_malloc_arenas;

/// The resident set size of this process, KiB. Reads into a buffer on the stack: an
/// allocation here, above the blocks, would keep the heap from shrinking.
fn rss_kib() -> u64 {
    use std::io::Read;
    let mut buffer = [0u8; 128];
    let mut file = std::fs::File::open("/proc/self/statm").expect("open /proc/self/statm");
    let length = file.read(&mut buffer).expect("read /proc/self/statm");
    let statm = std::str::from_utf8(&buffer[..length]).expect("statm is text");
    let pages: u64 = statm
        .split_ascii_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm's resident pages");
    pages * 4
}

fn main() {
    freed_memory_goes_back_after_a_large_block_was_freed();
    println!("test freed_memory_goes_back_after_a_large_block_was_freed ... ok");
}

fn freed_memory_goes_back_after_a_large_block_was_freed() {
    limit_malloc_arenas(2);
    // A large block, mapped on its own and unmapped when freed.
    let large = std::hint::black_box(vec![1u8; 8 << 20]);
    drop(large);
    let before = rss_kib();
    // 6 MiB in blocks below the mapping threshold: from the top of the heap.
    let blocks: Vec<Vec<u8>> = (0..96)
        .map(|_| std::hint::black_box(vec![1u8; 64 << 10]))
        .collect();
    let during = rss_kib();
    drop(blocks);
    let after = rss_kib();
    assert!(
        during >= before + 5 * 1024,
        "the blocks were resident: {before} KiB before, {during} KiB with them"
    );
    assert!(
        after < before + 1024,
        "freed, they went back: {before} KiB before, {after} KiB after (with them {during})"
    );
}
