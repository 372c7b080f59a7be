//! Bounded concurrency with results in input order: the one way the tool runs many requests
//! at once (apply's creates, status's reads, the probe's URLs).

use std::future::Future;

use futures_util::stream::{self, StreamExt};

/// Runs `f` on every item, at most `limit` (at least 1) at once, and returns the outputs in
/// the items' order. A slot is taken up again as soon as any future finishes, whatever the
/// order they finish in, so one slow item never holds the others back; `f` is called for an
/// item only when its slot is free.
pub(crate) async fn in_order<I, F, Fut>(items: I, limit: usize, mut f: F) -> Vec<Fut::Output>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future,
{
    let mut done: Vec<(usize, Fut::Output)> = stream::iter(items.into_iter().enumerate())
        .map(|(i, item)| {
            let run = f(item);
            async move { (i, run.await) }
        })
        .buffer_unordered(limit.max(1))
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, output)| output).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Items come back in input order, never more than `limit` run at once, and a slow item
    /// does not hold a slot the others need: item 0 finishes only once item 5 has, which
    /// happens only if items 1 to 5 all went through the second slot meanwhile.
    #[tokio::test]
    async fn order_is_kept_the_limit_holds_and_a_slow_item_blocks_nothing() {
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let last_done = tokio::sync::Notify::new();
        let finished = std::sync::Mutex::new(Vec::new());
        let run = in_order(0..6u64, 2, |i| {
            let (running, most, last_done, finished) = (&running, &most, &last_done, &finished);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                match i {
                    0 => last_done.notified().await,
                    5 => last_done.notify_one(),
                    _ => tokio::task::yield_now().await,
                }
                running.fetch_sub(1, Ordering::SeqCst);
                finished.lock().unwrap_or_else(|e| e.into_inner()).push(i);
                i * 10
            }
        });
        // Only a watchdog against a hang (head-of-line blocking would deadlock here), not a
        // bound on how long it may take.
        let out = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("item 0 waited for item 5, which never ran");
        assert_eq!(out, [0, 10, 20, 30, 40, 50]);
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(
            *finished.lock().unwrap_or_else(|e| e.into_inner()),
            [1, 2, 3, 4, 5, 0]
        );
    }

    #[tokio::test]
    async fn a_limit_of_zero_runs_one_at_a_time_and_nothing_gives_nothing() {
        let out = in_order(["a", "b"], 0, |s| async move { s.len() }).await;
        assert_eq!(out, [1, 1]);
        let none: Vec<u8> = in_order(Vec::<u8>::new(), 4, |b| async move { b }).await;
        assert!(none.is_empty());
    }
}
