//! The local store's lock: an exclusive kernel lock on a regular file beside the state, held
//! for a whole command.
//!
//! The lock is `flock`-style (std's `File::try_lock`): the kernel releases it when the holder
//! exits or is killed, so a crashed run never leaves a stale lock, and renewing it does
//! nothing. The file's content names the holder (pid, host, since), for the error a second run
//! shows. The file is opened only if it is a regular file, never through a symbolic link, so
//! the holder's name is never written into another file.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::files::{open_regular, sibling, Refused};
use crate::store::lock::{Held, LockError};
use std::os::unix::fs::MetadataExt;

/// The states (by resolved path) whose lock this process holds: a save checks it is one.
static HELD: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Whether this process holds the lock of the state at `real`.
pub(super) fn is_held(real: &Path) -> bool {
    HELD.lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(real)
}

/// A held kernel lock; released when dropped.
struct KernelLock {
    file: File,
    state: PathBuf,
}

/// The kernel lock lasts as long as the process: it is always still ours.
impl Held for KernelLock {}

impl Drop for KernelLock {
    /// Clears the holder's name while the lock is still held, so that no later reader takes a
    /// finished run for the holder.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.state);
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

/// The lock file for a state file: `<state>.lock`.
pub(crate) fn lock_path(state: &Path) -> PathBuf {
    sibling(state, ".lock")
}

/// Takes the lock for the state at `real` (named `shown` in messages), waiting up to
/// `timeout` (zero: fail at once) as scaled by [`crate::clock`].
pub(super) fn acquire(
    real: &Path,
    shown: &str,
    timeout: Duration,
) -> Result<Box<dyn Held>, LockError> {
    // The wait for another run is in the test clock too, as that run's waits are; the polls
    // stay real (bounded by the wait), so a short wait never turns into a busy loop.
    let timeout = crate::clock::wait(timeout);
    let path = lock_path(real);
    let mut file = open_lock_file(&path)?;
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
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
                    state: shown.to_string(),
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
    HELD.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(real.to_path_buf());
    Ok(Box::new(KernelLock {
        file,
        state: real.to_path_buf(),
    }))
}

/// Opens (creating, mode 0600) the lock file, refusing anything but a regular file.
fn open_lock_file(path: &Path) -> Result<File, LockError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match open_regular(path, &mut options, true) {
        // Another name for the same file would be truncated and rewritten with the holder.
        Ok(Some(file)) if file.metadata().is_ok_and(|m| m.nlink() > 1) => {
            Err(LockError::HardLinked {
                path: path.to_path_buf(),
            })
        }
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(LockError::Io {
            path: path.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        }),
        Err(Refused::NotRegular(kind)) => Err(LockError::NotRegular {
            path: path.to_path_buf(),
            kind,
        }),
        Err(Refused::Io(source)) => Err(LockError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_fails_naming_the_holder_and_gets_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("w.state.json");
        let held = acquire(&state, "w", Duration::ZERO).unwrap();
        assert!(dir.path().join("w.state.json.lock").is_file());
        assert!(is_held(&state));
        let err = acquire(&state, "w", Duration::from_millis(120))
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())) && msg.contains(" since "),
            "{msg}"
        );
        drop(held);
        assert!(!is_held(&state));
        assert!(acquire(&state, "w", Duration::ZERO).is_ok());
    }

    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let _lock = acquire(&dir.path().join("s.json"), "s", Duration::ZERO).unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join("s.json.lock"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    #[test]
    fn a_linked_lock_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        std::fs::write(dir.path().join("t"), "keep").unwrap();
        std::os::unix::fs::symlink("t", lock_path(&state)).unwrap();
        assert!(matches!(
            acquire(&state, "s", Duration::ZERO),
            Err(LockError::NotRegular {
                kind: "a symbolic link",
                ..
            })
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t")).unwrap(),
            "keep"
        );
    }

    #[test]
    fn a_hard_linked_lock_file_is_refused_and_its_other_name_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        std::fs::write(dir.path().join("t"), "keep").unwrap();
        std::fs::hard_link(dir.path().join("t"), lock_path(&state)).unwrap();
        let err = acquire(&state, "s", Duration::ZERO).err().unwrap();
        assert!(matches!(err, LockError::HardLinked { .. }), "{err:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t")).unwrap(),
            "keep"
        );
    }
}
