//! Checking files on every core: an ordered parallel map over owned items on
//! scoped threads with large stacks.
//!
//! The files of a configuration are independent until they are merged, and
//! parsing them is most of what `plan` costs before its first request (a
//! 10,000-app fleet: about 0.2 s on one core). `std::thread::scope` with a
//! shared counter is all this needs: one fork-join per stage, no global pool,
//! and each thread gets the stack the recursive YAML deserializer needs
//! (rayon would add a pool and three crates for the same).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A worker panicked: a bug, which the caller reports as an internal error.
#[derive(Debug)]
pub struct Panicked;

/// `work` applied to every item, results in item order, on up to
/// `available_parallelism` threads of `stack_bytes` each (at least one; with
/// one item, one thread). A panic in `work` is returned as [`Panicked`], never
/// propagated.
pub fn map<T: Send, R: Send>(
    items: Vec<T>,
    stack_bytes: usize,
    work: impl Fn(T) -> R + Sync,
) -> Result<Vec<R>, Panicked> {
    let count = items.len();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, count.max(1));
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else {
                return done;
            };
            // Each slot is taken once (the counter hands out each index once).
            let item = slot.lock().ok().and_then(|mut s| s.take());
            if let Some(item) = item {
                done.push((i, work(item)));
            }
        }
    };
    let finished: Vec<Result<Vec<(usize, R)>, Panicked>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .filter_map(|n| {
                std::thread::Builder::new()
                    .name(format!("config-check-{n}"))
                    .stack_size(stack_bytes)
                    .spawn_scoped(scope, worker)
                    .ok()
            })
            .collect();
        let mut finished: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().map_err(|_| Panicked))
            .collect();
        // No thread could be started: the items nobody took are done here.
        if finished.is_empty() {
            finished.push(
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(worker))
                    .map_err(|_| Panicked),
            );
        }
        finished
    });
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    for batch in finished {
        for (i, r) in batch? {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    // Every index was handed out once and every worker finished.
    results
        .into_iter()
        .collect::<Option<Vec<R>>>()
        .ok_or(Panicked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = map(items, 1 << 20, |n| n * 2);
        assert_eq!(
            out.ok(),
            Some((0..1000).map(|n| n * 2).collect::<Vec<u64>>())
        );
    }

    #[test]
    fn no_items_is_no_results() {
        let out = map(Vec::<u8>::new(), 1 << 20, |n| n);
        assert_eq!(out.ok(), Some(Vec::new()));
    }

    #[test]
    #[allow(clippy::panic)]
    fn a_panic_is_returned_not_propagated() {
        let out = map(vec![1, 2, 3], 1 << 20, |n| {
            if n == 2 {
                panic!("boom");
            }
            n
        });
        assert!(out.is_err());
    }
}
