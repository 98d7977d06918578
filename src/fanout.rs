//! Running one future per server instance with a limit on how many run at
//! once (`--parallelism`), keeping the results in input order.
//!
//! `futures`' `buffered` keeps the order too, but a finished future that is
//! not yet first keeps its slot: one slow server at the head holds the
//! places of every later one that already finished, and a fleet plan at
//! `--parallelism 10` runs well below 10 at a time. Here a new future starts
//! as soon as any other ends, and the order is restored at the end.

use std::future::Future;

use futures_util::stream::{self, StreamExt};

/// The outputs of `futures`, in their order, with at most `limit` (at least
/// one) running at any time.
pub async fn in_order<F: Future>(
    futures: impl IntoIterator<Item = F>,
    limit: usize,
) -> Vec<F::Output> {
    let mut done: Vec<(usize, F::Output)> = stream::iter(futures.into_iter().enumerate())
        .map(|(i, f)| async move { (i, f.await) })
        .buffer_unordered(limit.max(1))
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, output)| output).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;

    #[test]
    fn a_slow_first_future_does_not_hold_the_places_of_later_ones() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let running = Cell::new(0usize);
        let most = Cell::new(0usize);
        let finished = Cell::new(0usize);
        let seen_by_first = Cell::new(0usize);
        // The first waits until the 20 others have finished (or 5 s): they
        // must get through the 2 other places meanwhile. With `buffered`
        // they could not start, and the first would see 2 of them at most.
        let futures = (0..21u64).map(|i| {
            let (running, most, finished, seen_by_first) =
                (&running, &most, &finished, &seen_by_first);
            async move {
                running.set(running.get() + 1);
                most.set(most.get().max(running.get()));
                if i == 0 {
                    let started = std::time::Instant::now();
                    while finished.get() < 20 && started.elapsed() < Duration::from_secs(5) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    seen_by_first.set(finished.get());
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    finished.set(finished.get() + 1);
                }
                running.set(running.get() - 1);
                i
            }
        });
        let out = rt.block_on(in_order(futures, 3));
        assert_eq!(out, (0..21).collect::<Vec<_>>(), "outputs in input order");
        assert_eq!(most.get(), 3, "never more than the limit at once");
        assert_eq!(seen_by_first.get(), 20);
    }
}
