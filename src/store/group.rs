//! Group commit: many workers' journal records made durable with one append per group.
//!
//! A worker hands its records to the committer and awaits their durability; the committer,
//! a thread of its own, takes everything pending, appends it in one call (local: one `write`,
//! one `fdatasync`) and then wakes every worker of that group. Records that arrive while an
//! append is in progress form the next group. So a worker's intent is durable before its
//! create is sent, however many others share the append, and no worker blocks the async
//! runtime while the disk works. Once an append fails, every later commit fails too: what
//! follows a record that may not be durable must not be sent.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::journal::{JournalError, Record};
use super::JournalWriter;

/// Records handed over together, and who waits for them.
struct Pending {
    records: Vec<Record>,
    durable: oneshot::Sender<Result<(), JournalError>>,
}

/// The committer of one running journal.
pub(crate) struct GroupCommit {
    queue: Option<mpsc::Sender<Pending>>,
    committer: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts a committer for `journal`.
    pub(crate) fn start(journal: Box<dyn JournalWriter>) -> GroupCommit {
        let (queue, pending) = mpsc::channel();
        let committer = std::thread::spawn(move || commit_groups(journal, pending));
        GroupCommit {
            queue: Some(queue),
            committer: Some(committer),
        }
    }

    /// Hands `records` to the committer now, so that they join the next group; the future
    /// resolves once they are durable. A caller that need not wait goes on meanwhile, and
    /// what it hands over next can share the same write.
    pub(crate) fn submit(
        &self,
        records: Vec<Record>,
    ) -> impl std::future::Future<Output = Result<(), JournalError>> + use<> {
        let stopped = || JournalError::Io {
            path: Default::default(),
            source: std::io::Error::other("the journal's committer stopped"),
        };
        let (durable, done) = oneshot::channel();
        let sent = match self.queue.as_ref() {
            Some(queue) => queue.send(Pending { records, durable }).is_ok(),
            None => false,
        };
        async move {
            if !sent {
                return Err(stopped());
            }
            done.await.map_err(|_| stopped())?
        }
    }

    /// Stops the committer once everything handed to it is written.
    pub(crate) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        drop(self.queue.take());
        if let Some(committer) = self.committer.take() {
            let _ = committer.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The committer's loop: waits for records, takes all that are pending, appends them at once,
/// and tells each waiter; ends when every sender is gone.
fn commit_groups(mut journal: Box<dyn JournalWriter>, pending: mpsc::Receiver<Pending>) {
    let mut failed: Option<JournalError> = None;
    while let Ok(first) = pending.recv() {
        let mut group = vec![first];
        group.extend(pending.try_iter());
        let mut batch = Vec::with_capacity(group.len());
        let mut waiters = Vec::with_capacity(group.len());
        for p in group {
            batch.extend(p.records);
            waiters.push(p.durable);
        }
        if failed.is_none() {
            if let Err(source) = journal.append(&batch) {
                failed = Some(JournalError::from_append(
                    journal.path().to_path_buf(),
                    source,
                ));
            }
        }
        for w in waiters {
            let _ = w.send(match &failed {
                Some(e) => Err(e.again()),
                None => Ok(()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    /// A journal that takes 20 ms per append and remembers what it was given.
    struct Slow {
        appended: Arc<Mutex<Vec<Vec<Record>>>>,
        fail_after: usize,
        path: PathBuf,
    }

    impl JournalWriter for Slow {
        fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
            std::thread::sleep(Duration::from_millis(20));
            let mut a = self.appended.lock().unwrap();
            if a.len() >= self.fail_after {
                return Err(std::io::Error::other("disk full"));
            }
            a.push(records.to_vec());
            Ok(())
        }
        fn path(&self) -> &Path {
            &self.path
        }
    }

    fn failed(name: usize) -> Record {
        Record::Failed {
            name: format!("w{name}"),
        }
    }

    fn commit_all(gc: &GroupCommit, n: usize) -> Vec<Result<(), JournalError>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(futures_util::future::join_all(
            (0..n).map(|i| gc.submit(vec![failed(i)])),
        ))
    }

    #[test]
    fn records_that_wait_together_share_one_append() {
        let appended = Arc::new(Mutex::new(Vec::new()));
        let gc = GroupCommit::start(Box::new(Slow {
            appended: appended.clone(),
            fail_after: usize::MAX,
            path: "j".into(),
        }));
        let results = commit_all(&gc, 16);
        assert!(results.iter().all(Result::is_ok));
        gc.finish();
        let groups = appended.lock().unwrap().clone();
        assert!(groups.len() < 16, "16 records in {} appends", groups.len());
        let all: Vec<Record> = groups.into_iter().flatten().collect();
        assert_eq!(all, (0..16).map(failed).collect::<Vec<_>>(), "in order");
    }

    #[test]
    fn after_a_failed_append_nothing_more_is_durable() {
        let appended = Arc::new(Mutex::new(Vec::new()));
        let gc = GroupCommit::start(Box::new(Slow {
            appended: appended.clone(),
            fail_after: 0,
            path: "j".into(),
        }));
        let results = commit_all(&gc, 3);
        assert!(results
            .iter()
            .all(|r| matches!(r, Err(JournalError::Io { path, .. }) if path == Path::new("j"))));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(gc.submit(vec![failed(9)])).is_err());
        assert!(appended.lock().unwrap().is_empty());
    }
}
