//! The local store: the state as a JSON file, its lock and its journal as regular files
//! beside it (beside the real file, when the given path is a symbolic link).
//!
//! - `load` reads only a regular file (never blocking on a FIFO) and replays the journal;
//!   its version is the file's lineage and serial.
//! - `save` runs under this process's kernel lock: it reads the file's version, refuses if it
//!   is not the one the writer saw, then replaces the file atomically (temp file, fsync,
//!   rename, fsync of the directory).
//! - the journal is appended and fsynced (`fdatasync`), one call per group of records.
//! - the lock is the kernel's `flock`: never stale, so renewing it does nothing.

mod files;
mod flock;
mod journal_file;
mod resolve;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use files::atomic_write;

use files::{open_regular, Refused};
use journal_file::{journal_path, JournalFile};

use super::journal::{replay, JournalError, Record};
use super::lock::{Lock, LockError};
use super::{JournalWriter, Loaded, Store, StoreError, Version};
use crate::state::{State, StateError};

/// The state at one path on this machine.
pub struct LocalStore {
    /// The path as the user gave it, for messages.
    shown: String,
    /// The file that really holds the state (see [`resolve`]).
    real: PathBuf,
}

impl LocalStore {
    /// The store of the state at `path`, resolved to the real file. Refuses a state that is
    /// not a regular file or has more than one hard link, before anything is locked or read.
    pub fn open(path: &Path) -> Result<LocalStore, StateError> {
        Ok(LocalStore {
            shown: path.display().to_string(),
            real: resolve::resolve(path)?,
        })
    }

    fn journal(&self) -> PathBuf {
        journal_path(&self.real)
    }

    /// The state file's text, if there is one.
    fn read(&self) -> Result<Option<String>, StateError> {
        use std::io::Read;
        let read = |source| StateError::Read {
            path: self.shown.clone(),
            source,
        };
        let file = match open_regular(&self.real, std::fs::OpenOptions::new().read(true), false) {
            Ok(f) => f,
            Err(Refused::NotRegular(kind)) => {
                return Err(StateError::NotRegular {
                    path: self.shown.clone(),
                    kind,
                })
            }
            Err(Refused::Io(e)) => return Err(read(e)),
        };
        let Some(mut file) = file else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(read)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StateError::Encoding {
                path: self.shown.clone(),
            })
    }

    /// The version of what the file holds now. Only the lineage and serial are decoded (the
    /// rest is checked to be JSON, not decoded), so that a save of a large state does not
    /// parse it again.
    fn current(&self) -> Result<Version, StateError> {
        #[derive(serde::Deserialize)]
        struct Header {
            lineage: String,
            serial: u64,
        }
        let Some(text) = self.read()? else {
            return Ok(Version::Absent);
        };
        match serde_json::from_str::<Header>(&text) {
            Ok(h) => Ok(Version::of(&State {
                lineage: h.lineage,
                serial: h.serial,
                ..State::new()
            })),
            // Not a state any more: report it as parsing it would, and write nothing.
            Err(_) => State::parse(&text, &self.shown).map(|s| Version::of(&s)),
        }
    }
}

impl Store for LocalStore {
    fn name(&self) -> &str {
        &self.shown
    }

    fn lock(&self, timeout: Duration) -> Result<Lock, LockError> {
        let lease = flock::acquire(&self.real, &self.shown, timeout)?;
        // Holding the lock, no write to this state is in progress: clear killed writes' temps.
        files::remove_stale_temps(&self.real);
        Ok(Lock::new(lease))
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let found = match self.read()? {
            Some(text) => Some(State::parse(&text, &self.shown)?),
            None => None,
        };
        let version = found.as_ref().map_or(Version::Absent, Version::of);
        let existed = found.is_some();
        let journal = self.journal();
        let (state, replayed) = match journal_file::read(&journal)? {
            Some(records) => (replay(journal, found, records)?, true),
            None => (found.unwrap_or_default(), false),
        };
        Ok(Loaded {
            state,
            version,
            exists: existed || replayed,
            replayed,
            in_progress: None,
        })
    }

    fn save(&self, state: &mut State, seen: &Version) -> Result<Version, StateError> {
        if !flock::is_held(&self.real) {
            return Err(StateError::NotLocked {
                path: self.shown.clone(),
            });
        }
        if &self.current()? != seen {
            return Err(StateError::Conflict {
                path: self.shown.clone(),
            });
        }
        state.serial += 1;
        atomic_write(&self.real, state.to_json().as_bytes()).map_err(|source| {
            StateError::Write {
                path: self.shown.clone(),
                source,
            }
        })?;
        Ok(Version::of(state))
    }

    fn begin_journal(&self, begin: &Record) -> Result<Box<dyn JournalWriter>, JournalError> {
        Ok(Box::new(JournalFile::create(self.journal(), begin)?))
    }

    fn end_journal(&self) -> Result<(), JournalError> {
        journal_file::remove(&self.journal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_is_locked_conditional_atomic_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.state.json");
        let store = LocalStore::open(&path).unwrap();
        let mut s = State::new();
        assert!(matches!(
            store.save(&mut s, &Version::Absent),
            Err(StateError::NotLocked { .. })
        ));
        let lock = store.lock(Duration::ZERO).unwrap();
        let v1 = store.save(&mut s, &Version::Absent).unwrap();
        let v2 = store.save(&mut s, &v1).unwrap();
        assert_ne!(v1, v2);
        // A writer that saw the first version no longer may write.
        let mut stale = s.clone();
        assert!(matches!(
            store.save(&mut stale, &v1),
            Err(StateError::Conflict { .. })
        ));
        let loaded = store.load().unwrap();
        assert_eq!((loaded.state.serial, loaded.version), (2, v2));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "the state and its lock, no temp file: {names:?}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(lock);
    }

    #[test]
    fn an_interrupted_journal_is_replayed_on_load_and_ended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let store = LocalStore::open(&path).unwrap();
        let state = State::new();
        let begin = Record::Begin {
            lineage: state.lineage.clone(),
            serial: 0,
            endpoint: "x".into(),
        };
        drop(store.begin_journal(&begin).unwrap());
        let loaded = store.load().unwrap();
        assert!(loaded.replayed && loaded.exists);
        assert_eq!(loaded.state.lineage, state.lineage);
        store.end_journal().unwrap();
        assert!(!journal_path(&path).exists());
        assert!(!store.load().unwrap().exists);
    }
}
