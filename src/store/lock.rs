//! The exclusive lock on a state, whatever store keeps it: the handle a command keeps for as
//! long as it may write, and why a lock could not be taken.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

/// A held lock on one state; released when dropped. What it holds is the store's own guard
/// (local: the kernel lock on the lock file).
pub struct Lock {
    _held: Box<dyn Send + Sync>,
}

impl Lock {
    pub(crate) fn new(held: Box<dyn Send + Sync>) -> Lock {
        Lock { _held: held }
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

    #[error("the lock file `{}` has more than one hard link", path.display())]
    #[diagnostic(
        code(lock::hard_linked),
        help("remove it (`rm '{}'`) and run again: writing the holder into it would change the file's other names too; nothing was written to it", path.display())
    )]
    HardLinked { path: PathBuf },
}
