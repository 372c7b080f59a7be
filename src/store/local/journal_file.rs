//! The local store's journal: one regular file beside the state, `<state>.journal`, one JSON
//! line per record, appended and fsynced, so that persisting a create costs O(1) however
//! large the state is.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::files::{open_regular, sibling, Refused};
use crate::store::journal::{parse_lines, JournalError, Record};
use crate::store::JournalWriter;

/// The journal beside a state file: `<state>.journal`.
pub(crate) fn journal_path(state: &Path) -> PathBuf {
    sibling(state, ".journal")
}

fn refused(path: &Path, r: Refused) -> JournalError {
    match r {
        Refused::NotRegular(kind) => JournalError::NotRegular {
            path: path.to_path_buf(),
            kind,
        },
        Refused::Io(source) => JournalError::Io {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// An open journal for a running apply: appends are durable when they return.
pub(crate) struct JournalFile {
    file: File,
    path: PathBuf,
}

impl JournalFile {
    /// Starts (or truncates) the journal at `path`, mode 0600, refusing anything but a regular
    /// file, and makes `begin` durable in it.
    pub(crate) fn create(path: PathBuf, begin: &Record) -> Result<JournalFile, JournalError> {
        let mut options = OpenOptions::new();
        options.create(true).truncate(true).write(true);
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = match open_regular(&path, &mut options, true) {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(JournalError::Io {
                    path,
                    source: std::io::ErrorKind::NotFound.into(),
                })
            }
            Err(r) => return Err(refused(&path, r)),
        };
        let mut journal = JournalFile { file, path };
        journal
            .append(std::slice::from_ref(begin))
            .map_err(|source| JournalError::Io {
                path: journal.path.clone(),
                source,
            })?;
        Ok(journal)
    }
}

impl JournalWriter for JournalFile {
    /// One `write` of all the lines, then one `fdatasync`.
    fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
        let mut lines = Vec::with_capacity(records.len() * 256);
        for r in records {
            serde_json::to_writer(&mut lines, r).map_err(std::io::Error::other)?;
            lines.push(b'\n');
        }
        self.file.write_all(&lines)?;
        self.file.sync_data()?;
        Ok(())
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// The records of the journal at `path`, if there is one. Reads nothing but a regular file,
/// and never blocks on a FIFO.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<Record>>, JournalError> {
    let Some(mut file) =
        open_regular(path, OpenOptions::new().read(true), false).map_err(|r| refused(path, r))?
    else {
        return Ok(None);
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    parse_lines(path, &text).map(Some)
}

/// Removes the journal at `path` (absent already is fine).
pub(crate) fn remove(path: &Path) -> Result<(), JournalError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(JournalError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
