//! The remote store: a state kept as one object in an S3 bucket or an Azure Blob Storage
//! container, for many CI runners.
//!
//! The object holds the state and, while an apply runs, its journal: the intents of the
//! creates in flight, written by compare-and-swap before their requests go out (one write per
//! group of them), and taken out with the answers' ids by a later one. A runner killed at any
//! instant leaves its intents in the object, where the next run on any machine finds them and
//! reports them `unknown`. Every write is conditional on the ETag this run last saw, so a run
//! that lost its lock to another fails its next write ([`RemoteError::Fenced`]).
//!
//! Before a run locks a location it checks that the store refuses a second create-if-absent
//! and a stale compare-and-swap ([`conditions`]): some S3-compatible stores ignore them.

mod clients;
mod conditions;
mod error;
mod lease;
mod object;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use error::RemoteError;

use object::{Failure, Object, Stamped, Written};

use super::journal::{fold, replay, JournalError, Record};
use super::lock::{Lock, LockError};
use super::{JournalWriter, Loaded, Store, StoreError, Version};
use crate::state::{State, StateError};

/// The format of the state object (not the state's own format version, which it holds).
const FORMAT: u32 = 1;

/// What the state object holds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    /// Marks the object as this tool's remote state, in this layout.
    saleshandy_webhooks_remote_state: u32,
    /// Unique per write (see [`object`]).
    write: String,
    /// The state, as a local state file would hold it.
    state: Box<serde_json::value::RawValue>,
    /// The running (or interrupted) apply's journal: its first record, then the intents whose
    /// answer is not yet recorded. Empty between applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    journal: Vec<Record>,
}

impl Stamped for Envelope {
    fn write_id(&self) -> &str {
        &self.write
    }
}

/// What this run last read or wrote: every write is conditional on its ETag.
#[derive(Default)]
struct Head {
    /// `None`: no object yet.
    etag: Option<String>,
    /// The state stored (without the journal replayed).
    stored: State,
    journal: Vec<Record>,
}

/// A state kept as an object in a bucket.
pub struct RemoteStore {
    shown: String,
    object: Object,
    head: Arc<Mutex<Head>>,
    /// How long this run's lock lasts without renewal.
    lease: Duration,
    /// Whether this run holds the lock (then a journal found is an interrupted run's).
    locked: std::sync::atomic::AtomicBool,
}

impl RemoteStore {
    /// The store of `s3://bucket/key`, with credentials and endpoint from the environment.
    pub(crate) fn s3(bucket: &str, key: &str, lease: Duration) -> Result<RemoteStore, RemoteError> {
        let shown = format!("s3://{bucket}/{key}");
        let store = clients::s3(bucket, &shown)?;
        Ok(RemoteStore::new(shown, store, key, lease))
    }

    /// The store of `az://container/key`, with the account and credentials from the
    /// environment.
    pub(crate) fn azure(
        container: &str,
        key: &str,
        lease: Duration,
    ) -> Result<RemoteStore, RemoteError> {
        let shown = format!("az://{container}/{key}");
        let store = clients::azure(container, &shown)?;
        Ok(RemoteStore::new(shown, store, key, lease))
    }

    fn new(
        shown: String,
        store: Arc<dyn object_store::ObjectStore>,
        key: &str,
        lease: Duration,
    ) -> RemoteStore {
        RemoteStore {
            shown,
            object: Object {
                store,
                key: object_store::path::Path::from(key),
            },
            head: Arc::default(),
            lease,
            locked: Default::default(),
        }
    }

    fn head(&self) -> std::sync::MutexGuard<'_, Head> {
        self.head.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn invalid(&self, reason: String) -> RemoteError {
        RemoteError::Invalid {
            place: self.shown.clone(),
            reason,
        }
    }

    /// Reads the object into [`Head`]: the stored state and journal, and the ETag.
    fn read(&self) -> Result<bool, StoreError> {
        let read = crate::runtime::wait(self.object.read::<Envelope>())
            .map_err(|e| remote_state(self.unreachable(e.to_string())))?;
        let read = read.map_err(|f| remote_state(self.failure(f)))?;
        let Some(read) = read else {
            *self.head() = Head::default();
            return Ok(false);
        };
        let e = read.value;
        if e.saleshandy_webhooks_remote_state != FORMAT {
            return Err(remote_state(self.invalid(format!(
                "its layout version is {}, this build reads {FORMAT}",
                e.saleshandy_webhooks_remote_state
            ))));
        }
        let stored = State::parse(e.state.get(), &self.shown)?;
        *self.head() = Head {
            etag: Some(read.etag),
            stored,
            journal: e.journal,
        };
        Ok(true)
    }

    fn unreachable(&self, reason: String) -> RemoteError {
        RemoteError::Unreachable {
            place: self.shown.clone(),
            reason,
        }
    }

    fn failure(&self, f: Failure) -> RemoteError {
        match f {
            Failure::Store(reason) => self.unreachable(reason),
            Failure::Invalid(reason) => self.invalid(reason),
        }
    }

    /// Who holds the lock, if its lease is still running by this machine's clock (read-only:
    /// a command without the lock judges only what to show, never who may write).
    fn running_apply(&self) -> Option<String> {
        let lock = self.object.sibling(".lock");
        let read = crate::runtime::wait(lock.read::<lease::LockBody>())
            .ok()?
            .ok()??;
        let age = chrono::Utc::now() - read.modified;
        let lease = chrono::Duration::seconds(read.value.lease_seconds as i64);
        (read.value.held && age < lease)
            .then(|| crate::terminal_text::printable_line(&read.value.holder))
    }

    /// Writes `stored` with `journal`, conditional on the ETag last seen.
    fn write(&self, stored: &State, journal: Vec<Record>) -> Result<(), RemoteError> {
        write_object(&self.object, &self.head, &self.shown, stored, journal)
    }
}

/// One conditional write of the state object; on success [`Head`] is what was written.
fn write_object(
    object: &Object,
    head: &Mutex<Head>,
    shown: &str,
    stored: &State,
    journal: Vec<Record>,
) -> Result<(), RemoteError> {
    let seen = head.lock().unwrap_or_else(|e| e.into_inner()).etag.clone();
    // Compact: the object is rewritten on every group of creates, and read by this tool
    // (`state pull` prints it as a state file holds it).
    let state = serde_json::to_string(stored)
        .and_then(serde_json::value::RawValue::from_string)
        .map_err(|e| RemoteError::Write {
            place: shown.to_string(),
            reason: e.to_string(),
        })?;
    let envelope = Envelope {
        saleshandy_webhooks_remote_state: FORMAT,
        write: uuid::Uuid::new_v4().to_string(),
        state,
        journal,
    };
    let written = crate::runtime::wait(object.write(&envelope, seen.as_deref())).map_err(|e| {
        RemoteError::Write {
            place: shown.to_string(),
            reason: e.to_string(),
        }
    })?;
    match written {
        Ok(Written::Done(etag)) => {
            *head.lock().unwrap_or_else(|e| e.into_inner()) = Head {
                etag: Some(etag),
                stored: stored.clone(),
                journal: envelope.journal,
            };
            Ok(())
        }
        Ok(Written::Lost) => Err(RemoteError::Fenced {
            place: shown.to_string(),
        }),
        Err(Failure::Store(reason)) | Err(Failure::Invalid(reason)) => Err(RemoteError::Write {
            place: shown.to_string(),
            reason,
        }),
    }
}

fn remote_state(e: RemoteError) -> StoreError {
    StoreError::State(Box::new(StateError::Remote(Box::new(e))))
}

impl Store for RemoteStore {
    fn name(&self) -> &str {
        &self.shown
    }

    fn lock(&self, timeout: Duration) -> Result<Lock, LockError> {
        let lock = self.object.sibling(".lock");
        // The check and the lock go out together; a lock taken on a store that failed the
        // check is released at once (by dropping it), before anything is read or written.
        let probe = self
            .object
            .sibling(&format!(".conditions-{}", uuid::Uuid::new_v4()));
        let (checked, held) = crate::runtime::wait(futures_util::future::join(
            conditions::check(&probe, &self.shown),
            lease::acquire(
                lock,
                &self.shown,
                holder(),
                self.lease,
                crate::clock::wait(timeout),
            ),
        ))
        .map_err(|e| LockError::Remote(Box::new(self.unreachable(e.to_string()))))?;
        let held = held?;
        checked?;
        self.locked.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(Lock::new(Box::new(held)))
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let exists = self.read()?;
        let (stored, journal) = {
            let h = self.head();
            (h.stored.clone(), h.journal.clone())
        };
        let version = if exists {
            Version::of(&stored)
        } else {
            Version::Absent
        };
        let replayed = !journal.is_empty();
        let in_progress = match replayed && !self.locked.load(std::sync::atomic::Ordering::SeqCst) {
            true => self.running_apply(),
            false => None,
        };
        let mut state = if replayed {
            replay(
                self.shown.clone().into(),
                exists.then_some(stored),
                journal.clone(),
            )?
        } else {
            stored
        };
        if let Some(by) = &in_progress {
            for r in &journal {
                if let Record::Intent { name, .. } = r {
                    if let Some(u) = state.unknown.get_mut(name) {
                        u.reason = super::journal::in_progress(by);
                    }
                }
            }
        }
        Ok(Loaded {
            state,
            version,
            exists: exists || replayed,
            replayed,
            in_progress,
        })
    }

    fn save(&self, state: &mut State, seen: &Version) -> Result<Version, StateError> {
        let current = {
            let h = self.head();
            match h.etag {
                None => Version::Absent,
                Some(_) => Version::of(&h.stored),
            }
        };
        if &current != seen {
            return Err(StateError::Conflict {
                path: self.shown.clone(),
            });
        }
        state.serial += 1;
        self.write(state, Vec::new())
            .map_err(|e| StateError::Remote(Box::new(e)))?;
        Ok(Version::of(state))
    }

    fn begin_journal(&self, begin: &Record) -> Result<Box<dyn JournalWriter>, JournalError> {
        let stored = self.head().stored.clone();
        let writer = RemoteJournal {
            object: self.object.clone(),
            head: self.head.clone(),
            shown: self.shown.clone(),
            place: self.shown.clone().into(),
            folded: stored,
            // Written with the first intent: alone it would change nothing a replay does.
            outstanding: vec![begin.clone()],
        };
        Ok(Box::new(writer))
    }

    fn end_journal(&self) -> Result<(), JournalError> {
        let (stored, journal) = {
            let h = self.head();
            (h.stored.clone(), h.journal.clone())
        };
        if journal.is_empty() {
            return Ok(());
        }
        self.write(&stored, Vec::new())
            .map_err(|e| JournalError::Remote(Box::new(e)))
    }
}

/// The journal of a running apply, kept in the state object: each append is one
/// compare-and-swap write of the state with the answered records folded in and the intents
/// still in flight listed.
struct RemoteJournal {
    object: Object,
    head: Arc<Mutex<Head>>,
    shown: String,
    place: std::path::PathBuf,
    folded: State,
    outstanding: Vec<Record>,
}

impl JournalWriter for RemoteJournal {
    fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
        let mut folded = self.folded.clone();
        let mut outstanding = self.outstanding.clone();
        for r in records {
            match r {
                Record::Begin { .. } | Record::Intent { .. } => outstanding.push(r.clone()),
                Record::Created { name, .. }
                | Record::Failed { name }
                | Record::Unknown { name, .. } => {
                    outstanding
                        .retain(|o| !matches!(o, Record::Intent { name: n, .. } if n == name));
                    // The intent's unknown entry comes first, so that the answer resolves it as
                    // replaying the whole journal would.
                    if let Some(intent) = self
                        .outstanding
                        .iter()
                        .chain(records.iter())
                        .find(|o| matches!(o, Record::Intent { name: n, .. } if n == name))
                    {
                        fold(&mut folded, intent.clone());
                    }
                    fold(&mut folded, r.clone());
                }
            }
        }
        if let Some(Record::Begin { endpoint, .. }) = outstanding.first() {
            folded.endpoint.get_or_insert(endpoint.clone());
        }
        write_object(
            &self.object,
            &self.head,
            &self.shown,
            &folded,
            outstanding.clone(),
        )
        .map_err(std::io::Error::other)?;
        self.folded = folded;
        self.outstanding = outstanding;
        Ok(())
    }

    fn path(&self) -> &std::path::Path {
        &self.place
    }
}

/// Who this run is, as the lock names it: pid, host, since, and the CI run when known.
fn holder() -> String {
    let mut holder = format!(
        "pid {} on {} since {}",
        std::process::id(),
        gethostname::gethostname().to_string_lossy(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    if let Some(url) = ci_run_url() {
        holder.push_str(&format!(" ({url})"));
    }
    holder
}

/// The CI run's page, from the variables GitHub Actions and GitLab CI set.
fn ci_run_url() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(run)) = (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    var("CI_JOB_URL")
}
