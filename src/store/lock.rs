//! The exclusive lock on a state, whatever store keeps it: who holds it, and the handle a
//! command keeps for as long as it may write.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

/// A lock a store granted. Implementations release it when dropped.
pub trait Lease: Send + Sync {
    /// Who holds it, as other runs are told: pid, host, since when.
    fn holder(&self) -> &str;
    /// Where the lock is kept, for messages (local: the lock file).
    fn place(&self) -> PathBuf;
    /// Extends it before it would go stale. A lock that never goes stale (the local kernel
    /// lock) does nothing; a remote lease with an expiry rewrites it, conditional on still
    /// being the holder, and fails if it was lost.
    fn renew(&mut self) -> Result<(), LockError>;
}

/// A held lock on one state; released when dropped (or by [`Lock::release`]).
pub struct Lock {
    lease: Box<dyn Lease>,
}

impl Lock {
    pub(crate) fn new(lease: Box<dyn Lease>) -> Lock {
        Lock { lease }
    }

    /// Who holds it: this run.
    pub fn holder(&self) -> &str {
        self.lease.holder()
    }

    /// Where the lock is kept (local: the lock file).
    pub fn path(&self) -> PathBuf {
        self.lease.place()
    }

    /// See [`Lease::renew`].
    pub fn renew(&mut self) -> Result<(), LockError> {
        self.lease.renew()
    }

    /// Releases it now.
    pub fn release(self) {}
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
}
