//! Executes a plan's creates, one at a time, and records each outcome in the state.
//!
//! Before a request is sent, its intent is saved as an `unknown` entry; when the answer comes
//! it is replaced by the id, or removed when nothing was certainly created. A run killed at any
//! moment therefore leaves an id or an `unknown` entry, never a webhook the state forgot.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::api::{Api, CreateBody, CreateOutcome};
use crate::config::Config;
use crate::plan::Plan;
use crate::state::{Recorded, Sent, State, StateError, Unknown};

/// Attempts per webhook while the API answers 429.
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

/// Creates every `create` entry of `plan`, saving `state` to `path` around each request.
/// `endpoint` is recorded in the state on its first write.
pub async fn apply(
    config: &Config,
    plan: &Plan,
    state: &mut State,
    path: &Path,
    api: &Api,
    endpoint: &str,
) -> Result<Report, StateError> {
    let mut results = Vec::new();
    let mut unauthorized = None;
    for entry in plan.creates() {
        let Some(webhook) = config.webhooks.iter().find(|w| w.name == entry.name) else {
            continue;
        };
        if unauthorized.is_some() {
            results.push((entry.name.clone(), Done::NotSent));
            continue;
        }
        let sent = Sent::from_webhook(webhook, &state.lineage);
        state.endpoint.get_or_insert_with(|| endpoint.to_string());
        state.unknown.insert(
            entry.name.clone(),
            Unknown {
                sent: sent.clone(),
                since: now(),
                reason: "the run stopped before the answer was recorded".into(),
            },
        );
        state.save(path)?;
        let outcome = send(api, &CreateBody::new(webhook)).await;
        let done = match outcome {
            CreateOutcome::Created {
                id,
                status,
                test_delivery,
            } => {
                state.unknown.remove(&entry.name);
                state.webhooks.insert(
                    entry.name.clone(),
                    Recorded {
                        id: id.clone(),
                        sent,
                        status: status.clone(),
                        test_delivery,
                        created_at: now(),
                    },
                );
                Done::Created { id, status }
            }
            CreateOutcome::Failed { reason } => {
                state.unknown.remove(&entry.name);
                Done::Failed { reason }
            }
            CreateOutcome::RateLimited { .. } => {
                state.unknown.remove(&entry.name);
                Done::Failed { reason: format!("the API kept answering 429 Too Many Requests after {MAX_ATTEMPTS} attempts") }
            }
            CreateOutcome::Unauthorized { status, message } => {
                state.unknown.remove(&entry.name);
                unauthorized = Some((status, message.clone()));
                Done::Failed {
                    reason: format!("HTTP {status}: {message}"),
                }
            }
            CreateOutcome::Unknown { reason } => {
                if let Some(u) = state.unknown.get_mut(&entry.name) {
                    u.reason = reason.clone();
                }
                Done::Unknown { reason }
            }
        };
        state.save(path)?;
        results.push((entry.name.clone(), done));
    }
    Ok(Report {
        results,
        unauthorized,
    })
}

/// Sends one create, retrying only 429s (which certainly created nothing).
async fn send(api: &Api, body: &CreateBody<'_>) -> CreateOutcome {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = api.create(body).await;
        match outcome {
            CreateOutcome::RateLimited { retry_after } if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt, retry_after)).await;
            }
            other => return other,
        }
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
