//! Every host's first look before any host's full read. A long list is shown from a first
//! look (names and run states, a few calls) and then read in full (one XML read per
//! machine). With many hosts opening at once, the full reads of the hosts that opened first
//! took the cores (this process's and the daemons') from the hosts still opening, and so
//! delayed the moment every machine is listed. The workers of this process now count the
//! hosts that are opening; a worker about to read a long list in full first waits, a
//! bounded while, until none is.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long a full read waits for the other hosts' first looks at most: a host that takes
/// longer (a slow link, a password asked in the window) holds the others back no further.
pub const AT_MOST: Duration = Duration::from_secs(2);

/// The hosts opening in this process.
pub struct FirstLooks {
    opening: Mutex<usize>,
    settled: Condvar,
}

/// The process's one count.
pub static FIRST_LOOKS: FirstLooks = FirstLooks::new();

impl FirstLooks {
    pub const fn new() -> Self {
        Self {
            opening: Mutex::new(0),
            settled: Condvar::new(),
        }
    }

    fn count(&self) -> MutexGuard<'_, usize> {
        // The count stays right even if a holder panicked: it only adds and subtracts.
        self.opening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A host starts opening; it counts until the returned guard is dropped (its first
    /// look is out, or the opening failed).
    pub fn opening(&self) -> Opening<'_> {
        *self.count() += 1;
        Opening(self)
    }

    /// Waits until no host is opening, or `at_most` has passed; whether none is.
    pub fn wait_settled(&self, at_most: Duration) -> bool {
        let (count, _) = self
            .settled
            .wait_timeout_while(self.count(), at_most, |opening| *opening > 0)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *count == 0
    }
}

impl Default for FirstLooks {
    fn default() -> Self {
        Self::new()
    }
}

/// One host opening: see [`FirstLooks::opening`].
pub struct Opening<'a>(&'a FirstLooks);

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        let mut count = self.0.count();
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.0.settled.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_full_read_waits_for_the_hosts_still_opening() {
        let looks = FirstLooks::new();
        assert!(looks.wait_settled(Duration::ZERO), "nobody opening");
        let first = looks.opening();
        let second = looks.opening();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| looks.wait_settled(Duration::from_secs(30)));
            drop(first);
            std::thread::sleep(Duration::from_millis(50));
            assert!(!waiter.is_finished(), "one host still opens");
            drop(second);
            assert!(waiter.join().unwrap(), "settled once both looked");
        });
    }

    #[test]
    fn the_wait_is_bounded() {
        let looks = FirstLooks::new();
        let _stuck = looks.opening();
        let started = Instant::now();
        assert!(!looks.wait_settled(Duration::from_millis(100)));
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
