//! Executes a plan's creates, one at a time, and records each outcome.
//!
//! Before a request is sent, its intent is in the journal ([`crate::journal`]); when the
//! answer comes it is followed by the id, or by a note that nothing was created. A run killed
//! at any moment therefore leaves an id or an `unknown` entry, never a webhook the state forgot.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::api::{Api, CreateBody, CreateOutcome};
use crate::config::Config;
use crate::journal::{self, Journal, JournalError, Record};
use crate::plan::Plan;
use crate::state::{Sent, State};

/// Attempts per webhook while the API answers 429 or cannot be reached.
const MAX_ATTEMPTS: u32 = 5;
/// The longest wait honoured from a `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What happened to one planned create.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Created {
        id: String,
        status: String,
    },
    Failed {
        reason: String,
    },
    Unknown {
        reason: String,
    },
    /// Not sent: the run stopped before (the API refused the key).
    NotSent,
}

impl Done {
    pub fn is_paused(&self) -> bool {
        matches!(self, Done::Created { status, .. } if status == "paused")
    }
}

/// The result of applying a plan.
#[derive(Debug, Clone)]
pub struct Report {
    /// One per planned create, in config order.
    pub results: Vec<(String, Done)>,
    /// Set when the API refused the key; no further request was sent.
    pub unauthorized: Option<(u16, String)>,
}

/// Creates every `create` entry of `plan`, journaling each intent before its request and
/// each answer after it, then folds the journal into the state at `path`.
pub async fn apply(
    config: &Config,
    plan: &Plan,
    state: &mut State,
    path: &Path,
    api: &Api,
    endpoint: &str,
) -> Result<Report, JournalError> {
    let mut results = Vec::new();
    let mut unauthorized = None;
    if plan.summary.create == 0 {
        return Ok(Report {
            results,
            unauthorized,
        });
    }
    let mut journal = Journal::begin(path, state, endpoint)?;
    journal::fold(
        state,
        Record::Begin {
            lineage: state.lineage.clone(),
            serial: state.serial,
            endpoint: endpoint.into(),
        },
    );
    let mut changed = false;
    for entry in plan.creates() {
        let Some(webhook) = config.webhooks.iter().find(|w| w.name == entry.name) else {
            continue;
        };
        if unauthorized.is_some() {
            results.push((entry.name.clone(), Done::NotSent));
            continue;
        }
        let name = entry.name.clone();
        let intent = Record::Intent {
            name: name.clone(),
            sent: Sent::from_webhook(webhook, &state.lineage),
            since: now(),
        };
        journal.append(&intent)?;
        journal::fold(state, intent);
        let (record, done) = match send(api, &CreateBody::new(webhook)).await {
            CreateOutcome::Created { id, status, test_delivery } => (
                Record::Created { name: name.clone(), id: id.clone(), status: status.clone(), test_delivery, created_at: now() },
                Done::Created { id, status },
            ),
            CreateOutcome::Failed { reason } => (Record::Failed { name: name.clone() }, Done::Failed { reason }),
            CreateOutcome::RateLimited { .. } => (
                Record::Failed { name: name.clone() },
                Done::Failed { reason: format!("the API kept answering 429 Too Many Requests after {MAX_ATTEMPTS} attempts") },
            ),
            CreateOutcome::NotSent { reason } => (
                Record::Failed { name: name.clone() },
                Done::Failed { reason: format!("{reason} (after {MAX_ATTEMPTS} attempts)") },
            ),
            CreateOutcome::Unauthorized { status, message } => {
                unauthorized = Some((status, message.clone()));
                (Record::Failed { name: name.clone() }, Done::Failed { reason: format!("HTTP {status}: {message}") })
            }
            CreateOutcome::Unknown { reason } => {
                (Record::Unknown { name: name.clone(), reason: reason.clone() }, Done::Unknown { reason })
            }
        };
        changed |= matches!(record, Record::Created { .. } | Record::Unknown { .. });
        journal.append(&record)?;
        journal::fold(state, record);
        results.push((name, done));
    }
    // Nothing created and nothing unknown (e.g. the key was refused): the state stays as it was.
    journal.finish(state, path, changed)?;
    Ok(Report {
        results,
        unauthorized,
    })
}

/// Sends one create, retrying only what certainly created nothing: a 429, or a request that
/// never reached the server (connection refused, DNS or TLS failure).
async fn send(api: &Api, body: &CreateBody<'_>) -> CreateOutcome {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = api.create(body).await;
        let wait = match &outcome {
            CreateOutcome::RateLimited { retry_after } => backoff(attempt, *retry_after),
            CreateOutcome::NotSent { .. } => backoff(attempt, None),
            _ => return outcome,
        };
        if attempt >= MAX_ATTEMPTS {
            return outcome;
        }
        tokio::time::sleep(wait).await;
    }
}

/// The wait before attempt `attempt + 1`: the server's `Retry-After` (capped), or exponential
/// backoff from 500 ms with up to 50 % jitter.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(d) = retry_after {
        return d.min(MAX_RETRY_AFTER);
    }
    let base = Duration::from_millis(500) * 2u32.saturating_pow(attempt.saturating_sub(1));
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// The current time as RFC 3339 UTC, to the second.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
