//! Reading every recorded webhook from the API, with bounded concurrency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::drift::compare;
use super::{Check, Health};
use crate::api::{Api, GetOutcome};
use crate::server_text::Redactor;
use crate::state::{Recorded, State, WebhookStatus};

/// What a live read of one webhook means, as a [`Health`]. Drift is found on the live
/// values as they came, then shown as safe text (`r`): the server wrote them.
pub(super) fn health(
    name: &str,
    recorded: &Recorded,
    outcome: GetOutcome,
    lineage: &str,
    r: &Redactor,
) -> Health {
    match outcome {
        GetOutcome::Found(live) => Health::Live {
            // A blank status is no status: the API's default is active.
            status: live
                .status
                .clone()
                .filter(|s| !s.is_blank())
                .unwrap_or(WebhookStatus::Active),
            failed: live.failed.unwrap_or(false),
            last_failure: live.last_failure.clone(),
            drift: compare(name, recorded, &live, lineage)
                .into_iter()
                .map(|d| d.cleaned(r))
                .collect(),
        },
        GetOutcome::NotFound => Health::Deleted,
        GetOutcome::Unauthorized { status, message } => Health::Error {
            reason: format!("HTTP {status}: {message}"),
        },
        GetOutcome::Failed { reason } => Health::Error { reason },
    }
}

/// The API refused the key: the whole run stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub status: u16,
    pub message: String,
}

/// Reads every recorded webhook, at most `parallelism` at once; rows in name order. Stops
/// sending at the first 401/403, and returns it.
pub(crate) async fn check_all(
    api: Arc<Api>,
    state: &State,
    parallelism: usize,
) -> Result<Vec<Check>, Refused> {
    let refused = AtomicBool::new(false);
    let outcomes = crate::bounded::in_order(state.webhooks.values(), parallelism, |recorded| {
        let (api, refused) = (&api, &refused);
        async move {
            // A read not yet sent when the key was refused is not sent at all.
            if refused.load(Ordering::SeqCst) {
                return None;
            }
            let outcome = api.get(&recorded.id).await;
            if matches!(outcome, GetOutcome::Unauthorized { .. }) {
                refused.store(true, Ordering::SeqCst);
            }
            Some(outcome)
        }
    })
    .await;
    let mut checks = Vec::with_capacity(outcomes.len());
    for ((name, recorded), outcome) in state.webhooks.iter().zip(outcomes) {
        let health = match outcome {
            Some(GetOutcome::Unauthorized { status, message }) => {
                return Err(Refused { status, message })
            }
            Some(o) => health(name, recorded, o, &state.lineage, api.redactor()),
            None => Health::Error {
                reason: "the check did not finish".into(),
            },
        };
        checks.push(Check {
            name: name.clone(),
            id: recorded.id.clone(),
            url: recorded.sent.url.shown().to_string(),
            health,
        });
    }
    Ok(checks)
}
