//! The exclusive lock on a state, whatever store keeps it: the handle a command keeps for as
//! long as it may write, and why a lock could not be taken.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

/// A store's own guard of a lock it granted, released when dropped.
pub(crate) trait Held: Send + Sync {
    /// Whether the lock is still surely this run's. The local kernel lock always is; a remote
    /// lease is not once it could have run out.
    fn check(&self) -> Result<(), LockError> {
        Ok(())
    }
}

/// A held lock on one state; released when dropped.
pub struct Lock {
    held: Box<dyn Held>,
}

impl Lock {
    pub(crate) fn new(held: Box<dyn Held>) -> Lock {
        Lock { held }
    }

    /// See [`Held::check`]: a run checks before each create it sends.
    pub(crate) fn check(&self) -> Result<(), LockError> {
        self.held.check()
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum LockError {
    #[error("the state `{state}` is locked by another run: {holder}")]
    #[diagnostic(
        code(lock::held),
        help("wait for that run to finish, or pass --lock-timeout SECONDS to wait for it; a run that was killed releases its lock at once, so there is no stale lock to remove")
    )]
    Held { state: String, holder: String },

    #[error("cannot open the lock file `{}`: {source}", path.display())]
    #[diagnostic(
        code(lock::io),
        help("check that the state's directory exists and is writable")
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the lock file `{}` is {kind}, not a regular file", path.display())]
    #[diagnostic(
        code(lock::not_regular_file),
        help("remove it (`rm '{}'`) and run again: the lock file only names the run that holds the lock, and is created again as a regular file; nothing was written to it or through it", path.display())
    )]
    NotRegular { path: PathBuf, kind: &'static str },

    #[error("the state `{state}` is locked by another run: {holder} (its lease of {lease} s was renewed {age} s ago)")]
    #[diagnostic(
        code(lock::held),
        help("wait for that run to finish, or pass --lock-timeout SECONDS to wait for it. A run that died keeps the lock only until its lease runs out: the next run then takes it over by itself, and reports that run's creates in flight as `unknown`")
    )]
    LeaseHeld {
        state: String,
        holder: String,
        lease: u64,
        age: i64,
    },

    #[error("this run's lock on `{state}` may have run out (lease {lease} s): it sends no further create")]
    #[diagnostic(
        code(lock::lost),
        help("the run could not renew its lease in time (was the runner paused, or the store unreachable?); another run may take over and will report this run's requests in flight as `unknown`. Run `saleshandy-webhooks plan` to see where things stand")
    )]
    Lost { state: String, lease: u64 },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Remote(Box<crate::store::remote::RemoteError>),

    #[error("the lock file `{}` has more than one hard link", path.display())]
    #[diagnostic(
        code(lock::hard_linked),
        help("remove it (`rm '{}'`) and run again: writing the holder into it would change the file's other names too; nothing was written to it", path.display())
    )]
    HardLinked { path: PathBuf },
}
