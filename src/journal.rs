//! The write-ahead journal of an apply: one JSON line per event, appended and fsynced, so that
//! persisting a create costs O(1) however large the state is.
//!
//! Every create is preceded by an `intent` line; its answer adds a `created`, `failed` or
//! `unknown` line. At the end of the run the journal is folded into the state (one atomic
//! write) and removed. A run killed at any instant leaves the journal behind: the next command
//! replays it, so an intent without an answer becomes an `unknown` entry, never a forgotten
//! webhook. Replaying is idempotent, so a crash between folding and removal is harmless.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::state::{Recorded, Sent, State, StateError, Unknown};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// First line: which state this journal belongs to.
    Begin {
        lineage: String,
        serial: u64,
        endpoint: String,
    },
    /// A create is about to be sent.
    Intent {
        name: String,
        sent: Sent,
        since: String,
    },
    /// The API answered with an id.
    Created {
        name: String,
        id: String,
        status: String,
        test_delivery: Option<String>,
        created_at: String,
    },
    /// Certainly nothing was created.
    Failed { name: String },
    /// The answer was lost: the webhook may exist.
    Unknown { name: String, reason: String },
}

/// What an intent without an answer is recorded as.
pub const INTERRUPTED: &str = "the run was interrupted before the answer was recorded";

#[derive(Debug, Error, Diagnostic)]
pub enum JournalError {
    #[error("cannot use the journal `{}`: {source}", path.display())]
    #[diagnostic(
        code(journal::io),
        help("check that the state's directory is writable; the state file is intact")
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the journal `{}` is damaged at line {line}: {reason}", path.display())]
    #[diagnostic(
        code(journal::corrupt),
        help("it records creates of an interrupted apply and was not changed; inspect it, add any created ids to the state with `state import`, then remove it")
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("the journal `{}` belongs to another state (lineage {journal}, the state has {state})", path.display())]
    #[diagnostic(
        code(journal::lineage),
        help("the state file was replaced after an apply was interrupted; restore the state that goes with the journal, or resolve its entries by hand and remove it")
    )]
    Lineage {
        path: PathBuf,
        journal: String,
        state: String,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] Box<StateError>),
}

/// The journal beside a state file: `<state>.journal`.
pub fn journal_path(state: &Path) -> PathBuf {
    crate::state::sibling(state, ".journal")
}

/// An open journal for a running apply.
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Starts a journal for `state`, which will be saved at `state_path`.
    pub fn begin(
        state_path: &Path,
        state: &State,
        endpoint: &str,
    ) -> Result<Journal, JournalError> {
        let path = journal_path(state_path);
        let mut options = OpenOptions::new();
        options.create(true).truncate(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(|source| JournalError::Io {
            path: path.clone(),
            source,
        })?;
        let mut journal = Journal { file, path };
        journal.append(&Record::Begin {
            lineage: state.lineage.clone(),
            serial: state.serial,
            endpoint: endpoint.to_string(),
        })?;
        Ok(journal)
    }

    /// Appends a record and makes it durable before returning.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(record).map_err(|e| io(std::io::Error::other(e)))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)
    }

    /// Folds the run into the state file (when `changed`) and removes the journal.
    pub fn finish(
        self,
        state: &mut State,
        state_path: &Path,
        changed: bool,
    ) -> Result<(), JournalError> {
        if changed {
            state.save(state_path).map_err(Box::new)?;
        }
        std::fs::remove_file(&self.path).map_err(|source| JournalError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Applies one record to a state.
pub fn fold(state: &mut State, record: Record) {
    match record {
        Record::Begin { endpoint, .. } => {
            state.endpoint.get_or_insert(endpoint);
        }
        Record::Intent { name, sent, since } => {
            state.unknown.insert(
                name,
                Unknown {
                    sent,
                    since,
                    reason: INTERRUPTED.into(),
                },
            );
        }
        Record::Created {
            name,
            id,
            status,
            test_delivery,
            created_at,
        } => {
            if let Some(u) = state.unknown.remove(&name) {
                state.webhooks.insert(
                    name,
                    Recorded {
                        id,
                        sent: u.sent,
                        status,
                        test_delivery,
                        created_at,
                    },
                );
            }
        }
        Record::Failed { name } => {
            state.unknown.remove(&name);
        }
        Record::Unknown { name, reason } => {
            if let Some(u) = state.unknown.get_mut(&name) {
                u.reason = reason;
            }
        }
    }
}

/// Replays a journal left by an interrupted run onto `state` (`None`: no state file yet).
/// Returns the state to use and whether a journal was found. Changes nothing on disk.
pub fn recover(state_path: &Path, state: Option<State>) -> Result<(State, bool), JournalError> {
    let path = journal_path(state_path);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((state.unwrap_or_default(), false))
        }
        Err(source) => return Err(JournalError::Io { path, source }),
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| JournalError::Io {
            path: path.clone(),
            source,
        })?;
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            // A torn last line is a record whose fsync never finished: its request was not
            // sent (intent) or its answer was not recorded (the intent stands).
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path,
                    line: i + 1,
                    reason: e.to_string(),
                })
            }
        }
    }
    let Some(Record::Begin {
        lineage, serial, ..
    }) = records.first().cloned()
    else {
        // Killed before the first line was durable: nothing was sent.
        return Ok((state.unwrap_or_default(), records.is_empty()));
    };
    let mut state = match state {
        Some(s) if s.lineage != lineage => {
            return Err(JournalError::Lineage {
                path,
                journal: lineage,
                state: s.lineage,
            });
        }
        Some(s) => s,
        None => State {
            lineage,
            serial,
            ..State::new()
        },
    };
    for r in records {
        fold(&mut state, r);
    }
    Ok((state, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Stored;

    fn sent() -> Sent {
        Sent {
            url: Stored::Plain("https://a.example.org".into()),
            events: vec!["email-sent".into()],
            headers: Default::default(),
        }
    }

    fn intent(name: &str) -> Record {
        Record::Intent {
            name: name.into(),
            sent: sent(),
            since: "t".into(),
        }
    }

    fn created(name: &str, id: &str) -> Record {
        Record::Created {
            name: name.into(),
            id: id.into(),
            status: "active".into(),
            test_delivery: None,
            created_at: "t".into(),
        }
    }

    #[test]
    fn an_interrupted_run_replays_to_ids_and_unknowns() {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("s.json");
        let state = State::new();
        let mut j = Journal::begin(&state_path, &state, "sandbox").unwrap();
        for r in [
            intent("a"),
            created("a", "id-a"),
            intent("b"),
            Record::Unknown {
                name: "b".into(),
                reason: "reset".into(),
            },
            intent("c"),
            intent("d"),
            Record::Failed { name: "d".into() },
        ] {
            j.append(&r).unwrap();
        }
        drop(j);
        // A torn final line is ignored.
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal_path(&state_path))
            .unwrap()
            .write_all(b"{\"op\":\"crea")
            .unwrap();
        let (s, found) = recover(&state_path, None).unwrap();
        assert!(found);
        assert_eq!(
            s.lineage, state.lineage,
            "a first run adopts the journal's lineage"
        );
        assert_eq!(s.webhooks["a"].id, "id-a");
        assert_eq!(s.unknown["b"].reason, "reset");
        assert_eq!(s.unknown["c"].reason, INTERRUPTED);
        assert!(!s.unknown.contains_key("d") && !s.webhooks.contains_key("d"));
        assert_eq!(s.endpoint.as_deref(), Some("sandbox"));
        // Replaying onto the folded state changes nothing.
        let (again, _) = recover(&state_path, Some(s.clone())).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn a_journal_of_another_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("s.json");
        drop(Journal::begin(&state_path, &State::new(), "x").unwrap());
        assert!(matches!(
            recover(&state_path, Some(State::new())),
            Err(JournalError::Lineage { .. })
        ));
    }

    #[test]
    fn damage_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("s.json");
        let mut j = Journal::begin(&state_path, &State::new(), "x").unwrap();
        j.append(&intent("a")).unwrap();
        drop(j);
        let p = journal_path(&state_path);
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("intent", "intnet");
        std::fs::write(&p, format!("{text}{{\"op\":\"failed\",\"name\":\"a\"}}\n")).unwrap();
        assert!(matches!(
            recover(&state_path, None),
            Err(JournalError::Corrupt { line: 2, .. })
        ));
    }

    #[test]
    fn finishing_folds_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("s.json");
        let mut state = State::new();
        let j = Journal::begin(&state_path, &state, "x").unwrap();
        j.finish(&mut state, &state_path, true).unwrap();
        assert!(!journal_path(&state_path).exists());
        assert_eq!(State::load(&state_path).unwrap().unwrap().serial, 1);
    }
}
