//! The write-ahead journal of an apply, whatever store keeps it: its records, how a record
//! changes a state, and how an interrupted run's records are replayed.
//!
//! Every create is preceded by an `intent` record; its answer adds a `created`, `failed` or
//! `unknown` record. At the end of the run the journal is folded into the state (one
//! conditional save) and removed. A run killed at any instant leaves the journal behind: the
//! next command replays it, so an intent without an answer becomes an `unknown` entry, never a
//! forgotten webhook. Replaying is idempotent, so a crash between folding and removal is
//! harmless.

use std::path::PathBuf;

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::state::{Recorded, Sent, State, StateError, Unknown, WebhookStatus};

/// One record of the journal (one JSON line in the local store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// First record: which state this journal belongs to.
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
        status: WebhookStatus,
        test_delivery: Option<String>,
        created_at: String,
    },
    /// Certainly nothing was created.
    Failed { name: String },
    /// The answer was lost: the webhook may exist.
    Unknown { name: String, reason: String },
}

/// What an intent without an answer is recorded as.
pub(crate) const INTERRUPTED: &str = "the run was interrupted before the answer was recorded";

/// How the reason of an intent of an apply still running elsewhere starts (then its holder).
const IN_PROGRESS: &str = "in progress by ";

/// The reason of an intent that another apply, `holder`, still has in flight.
pub(crate) fn in_progress(holder: &str) -> String {
    format!("{IN_PROGRESS}{holder}")
}

/// Who has this create in flight, if its `reason` says another apply is running it.
pub(crate) fn in_progress_by(reason: &str) -> Option<&str> {
    reason.strip_prefix(IN_PROGRESS)
}

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

    #[error("the journal `{}` is {kind}, not a regular file", path.display())]
    #[diagnostic(
        code(journal::not_regular_file),
        help("this tool only ever writes a journal as a regular file beside the state: move this one out of the way and run again; nothing was read from it or written to it, and the state was not changed")
    )]
    NotRegular { path: PathBuf, kind: &'static str },

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] Box<StateError>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Remote(Box<crate::store::remote::RemoteError>),
}

impl JournalError {
    /// Why [`crate::store::JournalWriter::append`] failed: a remote store's own error, or
    /// an I/O error on the journal at `path`.
    pub(crate) fn from_append(path: PathBuf, source: std::io::Error) -> JournalError {
        match source
            .get_ref()
            .and_then(|e| e.downcast_ref::<crate::store::remote::RemoteError>())
        {
            Some(remote) => JournalError::Remote(Box::new(remote.clone())),
            None => JournalError::Io { path, source },
        }
    }

    /// The same failure for another waiter of one group commit (an `io::Error` is not
    /// `Clone`): its path, kind and message.
    pub(crate) fn again(&self) -> JournalError {
        match self {
            JournalError::Io { path, source } => JournalError::Io {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            JournalError::Remote(e) => JournalError::Remote(e.clone()),
            other => JournalError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other(other.to_string()),
            },
        }
    }
}

/// Applies one record to a state.
pub fn fold(state: &mut State, record: Record) {
    match record {
        Record::Begin { endpoint, .. } => {
            state.bind(endpoint);
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

/// Replays the records of an interrupted run's journal (at `path`, for errors) onto `state`
/// (`None`: no state yet). Returns the state to use. A journal whose first durable record is
/// not a `Begin` sent nothing. With no state, the replayed one adopts the journal's lineage at
/// serial 0: a state that no longer exists has no version to keep.
pub(crate) fn replay(
    path: PathBuf,
    state: Option<State>,
    records: Vec<Record>,
) -> Result<State, JournalError> {
    let Some(Record::Begin { lineage, .. }) = records.first().cloned() else {
        return Ok(state.unwrap_or_default());
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
            serial: 0,
            ..State::new()
        },
    };
    for r in records {
        fold(&mut state, r);
    }
    Ok(state)
}

/// Parses a journal's lines. A torn last line is a record whose durable write never finished:
/// its request was not sent (intent) or its answer was not recorded (the intent stands).
pub(crate) fn parse_lines(path: &std::path::Path, text: &str) -> Result<Vec<Record>, JournalError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    line: i + 1,
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Stored;
    use std::path::Path;

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

    fn begin(state: &State) -> Record {
        Record::Begin {
            lineage: state.lineage.clone(),
            serial: state.serial,
            endpoint: "sandbox".into(),
        }
    }

    fn lines(records: &[Record]) -> String {
        records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect()
    }

    #[test]
    fn an_interrupted_run_replays_to_ids_and_unknowns() {
        let state = State::new();
        let mut text = lines(&[
            begin(&state),
            intent("a"),
            Record::Created {
                name: "a".into(),
                id: "id-a".into(),
                status: WebhookStatus::Active,
                test_delivery: None,
                created_at: "t".into(),
            },
            intent("b"),
            Record::Unknown {
                name: "b".into(),
                reason: "reset".into(),
            },
            intent("c"),
            intent("d"),
            Record::Failed { name: "d".into() },
        ]);
        // A torn final line is ignored.
        text.push_str("{\"op\":\"crea");
        let records = parse_lines(Path::new("j"), &text).unwrap();
        let s = replay("j".into(), None, records.clone()).unwrap();
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
        assert_eq!(replay("j".into(), Some(s.clone()), records).unwrap(), s);
    }

    #[test]
    fn a_journal_of_another_state_is_refused() {
        let records = vec![begin(&State::new())];
        assert!(matches!(
            replay("j".into(), Some(State::new()), records),
            Err(JournalError::Lineage { .. })
        ));
    }

    #[test]
    fn damage_in_the_middle_is_an_error() {
        let text = lines(&[begin(&State::new()), intent("a")]).replace("intent", "intnet")
            + "{\"op\":\"failed\",\"name\":\"a\"}\n";
        assert!(matches!(
            parse_lines(Path::new("j"), &text),
            Err(JournalError::Corrupt { line: 2, .. })
        ));
    }
}
