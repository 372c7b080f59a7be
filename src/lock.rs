//! An exclusive OS lock on a file beside the state, held for a whole command.
//!
//! The lock is `flock`-style (std's `File::try_lock`): the kernel releases it when the holder
//! exits or is killed, so a crashed run never leaves a stale lock. The file's content names
//! the holder (pid, host, since), for the error a second run shows.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use miette::Diagnostic;
use thiserror::Error;

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    /// Clears the holder's name while the lock is still held, so that no later reader takes a
    /// finished run for the holder.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// How often a run waiting for the lock tries it again.
const POLL: Duration = Duration::from_millis(50);
/// How long a run that failed to take the lock waits for the holder's name.
const HOLDER_WAIT: Duration = Duration::from_millis(300);

/// Who holds the lock, as the holder wrote it. The holder writes its name just after taking
/// the lock, so a reader that comes in between sees nothing (or, after a killed holder, an
/// old name): wait briefly for a name whose process is alive.
fn holder(file: &mut File) -> String {
    let deadline = Instant::now() + crate::clock::wait(HOLDER_WAIT);
    loop {
        let mut text = String::new();
        let _ = file.seek(SeekFrom::Start(0));
        let _ = file.read_to_string(&mut text);
        let text = text.trim().to_string();
        let pid = text
            .strip_prefix("pid ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(is_alive) || Instant::now() >= deadline {
            return if text.is_empty() {
                "a run that has not said who it is yet".to_string()
            } else {
                text
            };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a process exists (always true where that cannot be told).
fn is_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
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
}

/// The lock file for a state file: `<state>.lock`.
pub fn lock_path(state: &Path) -> PathBuf {
    crate::state::sibling(state, ".lock")
}

/// Takes the lock for `state`, waiting up to `timeout` (zero: fail at once) as scaled by
/// [`crate::clock`].
pub fn acquire(state: &Path, timeout: Duration) -> Result<Lock, LockError> {
    // The wait for another run is in the test clock too, as that run's waits are; the polls
    // stay real (bounded by the wait), so a short wait never turns into a busy loop.
    let timeout = crate::clock::wait(timeout);
    let path = lock_path(state);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(io)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                std::thread::sleep(POLL.min(timeout))
            }
            Err(TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                return Err(LockError::Held {
                    state: state.display().to_string(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    let me = format!(
        "pid {} on {} since {}",
        std::process::id(),
        gethostname::gethostname().to_string_lossy(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    file.set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(me.as_bytes()))
        .map_err(io)?;
    let _ = file.sync_all();
    Ok(Lock { file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_fails_naming_the_holder_and_gets_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("w.state.json");
        let held = acquire(&state, Duration::ZERO).unwrap();
        assert_eq!(held.path(), dir.path().join("w.state.json.lock"));
        let err = acquire(&state, Duration::from_millis(120)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())) && msg.contains(" since "),
            "{msg}"
        );
        drop(held);
        assert!(acquire(&state, Duration::ZERO).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(&dir.path().join("s.json"), Duration::ZERO).unwrap();
        assert_eq!(
            std::fs::metadata(lock.path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
