//! Reading every recorded webhook from the API, with bounded concurrency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::drift::compare;
use super::{Check, Health};
use crate::api::{Api, GetOutcome};
use crate::state::{Recorded, State, WebhookStatus};

/// What a live read of one webhook means, as a [`Health`].
pub fn health(name: &str, recorded: &Recorded, outcome: GetOutcome, lineage: &str) -> Health {
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
            drift: compare(name, recorded, &live, lineage),
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
pub struct Refused {
    pub status: u16,
    pub message: String,
}

/// Reads every recorded webhook, at most `parallelism` at once; rows in name order. Stops
/// sending at the first 401/403, and returns it.
pub async fn check_all(
    api: Arc<Api>,
    state: &State,
    parallelism: usize,
) -> Result<Vec<Check>, Refused> {
    let limit = Arc::new(tokio::sync::Semaphore::new(parallelism.max(1)));
    let refused = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, recorded) in state.webhooks.values().enumerate() {
        let (api, limit, refused, id) = (
            api.clone(),
            limit.clone(),
            refused.clone(),
            recorded.id.clone(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            if refused.load(Ordering::SeqCst) {
                return (i, None);
            }
            let outcome = api.get(&id).await;
            if matches!(outcome, GetOutcome::Unauthorized { .. }) {
                refused.store(true, Ordering::SeqCst);
            }
            (i, Some(outcome))
        });
    }
    let mut outcomes: Vec<Option<GetOutcome>> = (0..state.webhooks.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, Some(outcome))) = joined {
            if let GetOutcome::Unauthorized { status, message } = outcome {
                return Err(Refused { status, message });
            }
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
    }
    Ok(state
        .webhooks
        .iter()
        .zip(outcomes)
        .map(|((name, recorded), outcome)| Check {
            name: name.clone(),
            id: recorded.id.clone(),
            url: recorded.sent.url.shown().to_string(),
            health: match outcome {
                Some(o) => health(name, recorded, o, &state.lineage),
                None => Health::Error {
                    reason: "the check did not finish".into(),
                },
            },
        })
        .collect())
}
