//! Where a state, its lock and its journal are kept: every read and write of them goes
//! through a [`Store`]. There are two: [`LocalStore`] (files beside the state) and
//! [`remote::RemoteStore`] (one object in an S3 bucket). The interface speaks in the terms of
//! an object store without append, rename or OS locks, which offers only a read with a
//! version tag (ETag), create-if-absent (`If-None-Match: *`) and compare-and-swap
//! (`If-Match: <etag>`).
//!
//! What each call guarantees, and how each store meets it:
//!
//! - [`Store::lock`]: at most one holder per state, named for other runs. Local: an exclusive
//!   kernel lock on `<state>.lock`, released by the kernel when the holder dies, so never
//!   stale and never renewed. Remote: a lock object created with `If-None-Match: *` naming
//!   the holder and its lease, renewed by compare-and-swap while the run lasts, released by
//!   one; a lock whose lease ran out (by the store's clock) is taken over by compare-and-swap.
//!   [`Lock::check`] tells a holder whether its lock is surely still its own.
//! - [`Store::load`]: the state (with an interrupted run's journal replayed onto it) and the
//!   [`Version`] it was read at. Local: the file's lineage and serial. Remote: a get of the
//!   object, which holds the state and the journal of the apply in flight, if any.
//! - [`Store::save`]: replaces the state only if it is still at the version the writer saw,
//!   and never leaves a mix of old and new. Local: under this process's kernel lock, compare
//!   the file's version, then temp file, fsync, rename. Remote: a put with `If-Match` on the
//!   ETag this run last saw (`If-None-Match: *` when there was none).
//! - [`Store::begin_journal`] and [`JournalWriter::append`]: a record is durable when the
//!   call returns, and records are replayed in the order they were appended. Intents are
//!   appended before their create is sent, answers after it comes. Local: an append-only file,
//!   one `write` and one `fdatasync` per call. Remote: one compare-and-swap write of the state
//!   object per call, with the answered records folded into the state and the intents still
//!   in flight listed beside it.
//! - [`Store::end_journal`]: removes the journal once its records are in a saved state.
//!
//! [`group::GroupCommit`] makes many workers' records durable with one `append` per group.
//! Callers take the version a save is conditional on from the state itself
//! ([`Version::of`]): the local store's versions are the state's own lineage and serial
//! (every save increments the serial); the remote store checks that version against what it
//! last read or wrote, then makes its write conditional on that object's ETag.

pub mod address;
pub mod group;
pub mod journal;
pub mod local;
pub mod lock;
pub mod remote;

use std::path::Path;
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;

pub use address::Address;
pub use journal::{JournalError, Record};
pub use local::LocalStore;
pub use lock::{Lock, LockError};

use crate::state::{State, StateError};

/// The version of a stored state, as the store tags it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// No state is stored yet: a save must create it.
    Absent,
    /// The stored state with this tag (local: `<lineage>#<serial>`; remote: an ETag).
    Tag(String),
}

impl Version {
    /// The version of a state as the local store tags it: its lineage and serial. A state at
    /// serial 0 was never saved (the tool's first save writes serial 1), so it is absent.
    pub fn of(state: &State) -> Version {
        match state.serial {
            0 => Version::Absent,
            serial => Version::Tag(format!("{}#{serial}", state.lineage)),
        }
    }
}

/// What [`Store::load`] found.
pub struct Loaded {
    /// The state, with any interrupted journal replayed onto it (a new one if none was stored).
    pub state: State,
    /// The version of the stored state, before any replay.
    pub version: Version,
    /// Whether a state or a journal was stored (a first run has neither).
    pub exists: bool,
    /// Whether an interrupted run's journal was found and replayed.
    pub replayed: bool,
    /// When the journal is that of an apply still running elsewhere (a remote state read
    /// without its lock): who runs it. Its creates in flight read as `unknown` meanwhile.
    pub in_progress: Option<String>,
}

/// The one way to a state, its lock and its journal; see the module doc for what each call
/// guarantees.
pub trait Store: Send + Sync {
    /// The state's name in messages (local: its path as given).
    fn name(&self) -> &str;
    /// Takes the state's lock, waiting up to `timeout` (zero: fail at once).
    fn lock(&self, timeout: Duration) -> Result<Lock, LockError>;
    /// Reads the state and replays any journal onto it. Changes nothing stored.
    fn load(&self) -> Result<Loaded, StoreError>;
    /// Saves `state` with its serial incremented, if the stored state is still at `seen`;
    /// returns the new version. Requires the lock.
    fn save(&self, state: &mut State, seen: &Version) -> Result<Version, StateError>;
    /// Starts this run's journal with `begin` as its first record: durable when this returns
    /// (local), or with the first append (remote, where it alone would replay to nothing).
    fn begin_journal(&self, begin: &Record) -> Result<Box<dyn JournalWriter>, JournalError>;
    /// Removes the journal, once what it recorded is saved in the state.
    fn end_journal(&self) -> Result<(), JournalError>;
}

/// A running apply's journal.
pub trait JournalWriter: Send {
    /// Appends `records` after every earlier one; they are durable when it returns `Ok`.
    fn append(&mut self, records: &[Record]) -> std::io::Result<()>;
    /// Where the journal is, for messages.
    fn path(&self) -> &Path;
}

/// Why a state could not be opened, locked or read.
#[derive(Debug, Error, Diagnostic)]
pub enum StoreError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(Box<StateError>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(Box<JournalError>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] LockError),
}

impl From<StateError> for StoreError {
    fn from(e: StateError) -> Self {
        StoreError::State(Box::new(e))
    }
}

impl From<JournalError> for StoreError {
    fn from(e: JournalError) -> Self {
        StoreError::Journal(Box::new(e))
    }
}

/// A state ready for a command: read, replayed, and locked if asked.
pub(crate) struct Opened {
    /// Where it is kept; saves go here.
    pub store: Box<dyn Store>,
    pub state: State,
    /// Whether a state or a journal was stored.
    pub exists: bool,
    /// Whether an interrupted run's journal was replayed (and, when locked, folded into the
    /// saved state and removed).
    pub replayed: bool,
    /// See [`Loaded::in_progress`].
    pub in_progress: Option<String>,
    pub lock: Option<Lock>,
    /// The serial the stored state had before a replayed journal was folded into it (and the
    /// serial moved on): what a read-only command such as `plan` saw.
    pub read_serial: u64,
}

impl Opened {
    /// Saves the state with its serial incremented, only if the stored state is still the
    /// one it was read at.
    pub(crate) fn save(&mut self) -> Result<(), StateError> {
        let seen = Version::of(&self.state);
        self.store.save(&mut self.state, &seen).map(|_| ())
    }
}

/// How a command that writes takes the state's lock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Locking {
    /// How long to wait for another run's lock (zero: fail at once).
    pub timeout: Duration,
    /// How long a remote lock lasts without renewal.
    pub lease: Duration,
}

/// The store that keeps the state at `address`.
pub(crate) fn connect(address: &Address, lease: Duration) -> Result<Box<dyn Store>, StoreError> {
    Ok(match address {
        Address::Local(path) => Box::new(LocalStore::open(path)?),
        Address::S3 { bucket, key } => Box::new(
            remote::RemoteStore::s3(bucket, key, lease)
                .map_err(|e| StoreError::State(Box::new(StateError::Remote(Box::new(e)))))?,
        ),
        Address::Azure { container, key } => Box::new(
            remote::RemoteStore::azure(container, key, lease)
                .map_err(|e| StoreError::State(Box::new(StateError::Remote(Box::new(e)))))?,
        ),
    })
}

/// Opens the state at `address`: with `locking`, locks it first, and folds a replayed journal
/// into the saved state; without, only reads it.
pub(crate) fn open(address: &Address, locking: Option<Locking>) -> Result<Opened, StoreError> {
    let lease = locking.map_or(Duration::from_secs(120), |l| l.lease);
    let store = connect(address, lease)?;
    let lock = locking.map(|l| store.lock(l.timeout)).transpose()?;
    let Loaded {
        mut state,
        version,
        exists,
        replayed,
        in_progress,
    } = store.load()?;
    let read_serial = state.serial;
    if replayed && lock.is_some() {
        store.save(&mut state, &version)?;
        store.end_journal()?;
    }
    Ok(Opened {
        store,
        state,
        exists,
        replayed,
        in_progress,
        lock,
        read_serial,
    })
}
