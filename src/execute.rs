//! Executes a plan's creates, several at once, and records each outcome.
//!
//! Before a request is sent, its intent is durable in the journal ([`crate::store::journal`]);
//! when the answer comes it is followed by the id, or by a note that nothing was created. A run
//! killed at any moment therefore leaves an id or an `unknown` entry, never a webhook the state
//! forgot. Workers' records are made durable in groups ([`GroupCommit`]): one append (local:
//! one fsync) for all the records that are waiting, never a create sent before its intent.
//!
//! A signal ([`crate::interrupt`]) stops the sending: a create not yet sent is not sent (its
//! intent, if durable already, is taken back), and one in flight is recorded when its answer
//! comes, or as `unknown` if the stop abandons it first.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;

use crate::api::{Api, CreateBody, CreateOutcome};
use crate::config::{Config, Webhook};
use crate::interrupt::{Signal, Stop};
use crate::planner::Plan;
use crate::state::{State, WebhookStatus};
use crate::store::group::GroupCommit;
use crate::store::journal::{fold, JournalError, Record};
use crate::store::{Store, Version};

mod tally;
pub(crate) use tally::Tally;

/// Attempts per webhook while the API answers 429 or cannot be reached.
const MAX_ATTEMPTS: u32 = 5;
/// The longest wait honoured from a `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What happened to one planned create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Done {
    Created {
        id: String,
        status: WebhookStatus,
    },
    Failed {
        reason: String,
    },
    Unknown {
        reason: String,
    },
    /// Not sent: the run stopped before (the API refused the key, the store or the lock
    /// failed, or a signal stopped it). Nothing was created.
    NotSent,
}

impl Done {
    /// Created, but paused: Saleshandy's test delivery failed.
    pub(crate) fn is_paused(&self) -> bool {
        matches!(self, Done::Created { status, .. } if status.is_paused())
    }

    /// The result's name in `apply --format json`: `created`, `paused`, `failed`, `unknown`
    /// or `not_sent`.
    pub(crate) fn result(&self) -> &'static str {
        match self {
            Done::Created { .. } if self.is_paused() => "paused",
            Done::Created { .. } => "created",
            Done::Failed { .. } => "failed",
            Done::Unknown { .. } => "unknown",
            Done::NotSent => "not_sent",
        }
    }
}

/// The result of applying a plan.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// One per planned create, in config order.
    pub results: Vec<(String, Done)>,
    /// Set when the API refused the key; no further request was sent.
    pub unauthorized: Option<(u16, String)>,
    /// Set when the store failed or the lock was lost: no further create was sent, and this
    /// says why (a rendered error).
    pub stopped: Option<String>,
    /// Creates whose answer arrived but could not be recorded in the store.
    pub unrecorded: Vec<String>,
    /// Set when a signal stopped the run ([`crate::interrupt`]): no create was sent after it.
    pub interrupted: Option<Signal>,
}

impl Report {
    /// How many creates came to each result.
    pub(crate) fn tally(&self) -> Tally {
        Tally::of(self.results.iter().map(|(_, done)| done))
    }
}

/// How an apply runs.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Creates in flight at once for this account.
    pub parallelism: usize,
    /// A limit shared with other accounts of the same run: each request holds a permit.
    pub global: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: 4,
            global: None,
        }
    }
}

/// Where and how an apply sends its creates.
pub(crate) struct Run<'a> {
    pub api: &'a Api,
    /// How the state names the API (recorded on the first write).
    pub endpoint: &'a str,
    pub options: Options,
    pub progress: &'a dyn Progress,
    /// The state's lock, checked before each create is sent.
    pub lock: Option<&'a crate::store::Lock>,
    /// The run's graceful stop: no create is sent once it is asked for.
    pub stop: &'a Stop,
}

/// Told about each create as it finishes, for progress display. Called from many tasks.
pub(crate) trait Progress: Sync {
    fn finished(&self, name: &str, done: &Done);
    /// A line about the run as a whole (a save being tried again), on standard error.
    fn note(&self, line: &str);
}

/// Records each worker's journal records durably (in groups) and folds them into the state.
struct Recorder<'s> {
    committer: GroupCommit,
    state: Mutex<&'s mut State>,
}

impl<'s> Recorder<'s> {
    /// Returns once the intent `r` is durable, and then applies it to the state. An intent
    /// that could not be made durable is not applied: its create is not sent.
    async fn record(&self, r: Record) -> Result<(), JournalError> {
        self.committer.submit(vec![r.clone()]).await?;
        self.apply(r);
        Ok(())
    }

    /// Hands the answer `r` to the committer now, so that its worker's next intent can share
    /// its write; the future resolves once it is durable. It is applied to the state either
    /// way: an id that arrived is kept for the save at the end, which may still record it
    /// when the journal could not.
    fn record_later(
        &self,
        r: Record,
    ) -> impl std::future::Future<Output = Result<(), JournalError>> + use<'_, 's> {
        let durable = self.committer.submit(vec![r.clone()]);
        async move {
            let written = durable.await;
            self.apply(r);
            written
        }
    }

    fn apply(&self, r: Record) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        fold(&mut state, r);
    }
}

/// Creates every `create` entry of `plan`, up to `opts.parallelism` at once, journaling each
/// intent before its request and each answer after it, then folds the journal into the state
/// kept by `store` (whose lock the caller holds). Results come back in config order.
pub(crate) async fn apply(
    config: &Config,
    plan: &Plan,
    state: &mut State,
    store: &dyn Store,
    run: Run<'_>,
) -> Result<Report, JournalError> {
    let by_name: HashMap<&str, &Webhook> = config
        .webhooks
        .iter()
        .map(|w| (w.name.as_str(), w))
        .collect();
    let creates: Vec<&Webhook> = plan
        .creates()
        .filter_map(|e| by_name.get(e.name.as_str()).copied())
        .collect();
    if creates.is_empty() {
        return Ok(Report {
            results: Vec::new(),
            unauthorized: None,
            stopped: None,
            unrecorded: Vec::new(),
            interrupted: None,
        });
    }
    // What the save at the end is conditional on: the state as it was read.
    let seen = Version::of(state);
    let begin = Record::Begin {
        lineage: state.lineage.clone(),
        serial: state.serial,
        endpoint: run.endpoint.into(),
    };
    let journal = store.begin_journal(&begin)?;
    fold(state, begin);
    let lineage = state.lineage.clone();
    let recorder = Recorder {
        committer: GroupCommit::start(journal),
        state: Mutex::new(&mut *state),
    };
    let sent = send_all(&creates, &recorder, &lineage, &run).await;
    recorder.committer.finish();

    let results: Vec<(String, Done)> = sent
        .outcomes
        .into_iter()
        .map(|(i, d)| (creates[i].name.clone(), d))
        .collect();
    let unrecorded: Vec<String> = sent
        .unrecorded
        .into_iter()
        .map(|i| creates[i].name.clone())
        .collect();
    let changed = results
        .iter()
        .any(|(_, d)| matches!(d, Done::Created { .. } | Done::Unknown { .. }));
    let mut stopped = sent.stopped;
    // Nothing created and nothing unknown (e.g. the key was refused): the state stays as it was.
    // After a failed journal write the save is still tried: it may record what the journal
    // could not (a store back up, a disk with room again).
    let saved = match changed {
        true => save_persistently(store, state, &seen, run.progress).await,
        false => Ok(()),
    };
    let saved = saved.and_then(|()| store.end_journal().map_err(|e| render(&e)));
    let unrecorded = match saved {
        Ok(()) => Vec::new(),
        Err(e) => {
            stopped.get_or_insert(e);
            unrecorded
        }
    };
    Ok(Report {
        results,
        unauthorized: sent.unauthorized,
        stopped,
        unrecorded,
        interrupted: run.stop.signal(),
    })
}

/// The waits between attempts to save the state at the end of a run whose store failed (a
/// full disk, a store down): about half a minute in all, on the tool's clock.
const SAVE_RETRIES: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(15),
];

/// Saves the state, trying again (and saying so) while the store refuses: every id that
/// arrived is in `state`, and this is the last chance to record them before the run ends.
/// A conflict (another writer) is not retried.
async fn save_persistently(
    store: &dyn Store,
    state: &mut State,
    seen: &Version,
    progress: &dyn Progress,
) -> Result<(), String> {
    let mut waits = SAVE_RETRIES.iter();
    loop {
        let e = match store.save(state, seen) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match waits.next() {
            Some(wait) if e.is_transient() => {
                let wait = crate::clock::scaled(*wait, crate::clock::scale());
                progress.note(&format!(
                    "cannot save the state yet ({}); trying again in {}",
                    crate::server_text::one_line(&e.to_string()),
                    humantime::format_duration(wait)
                ));
                // Awaited, not slept: other accounts of the run and the lock's renewal go on.
                tokio::time::sleep(wait).await;
            }
            _ => return Err(render(&e)),
        }
    }
}

/// An error as the report quotes it: its message and help, on one line each.
fn render(e: &dyn miette::Diagnostic) -> String {
    match e.help() {
        Some(help) => format!("{e}\n{help}"),
        None => e.to_string(),
    }
}

/// One create's outcome by its index in the plan.
type Outcome = (usize, Done);

/// What [`send_all`] came back with.
struct Sent {
    /// In config order.
    outcomes: Vec<Outcome>,
    unauthorized: Option<(u16, String)>,
    /// Why the run stopped sending, if the store or the lock failed it.
    stopped: Option<String>,
    /// Indices of creates whose answer could not be recorded.
    unrecorded: Vec<usize>,
}

/// Sends every create (the first alone, then `parallelism` at once) and records each; returns
/// the outcomes in config order and the API's refusal of the key, if any.
async fn send_all(
    creates: &[&Webhook],
    recorder: &Recorder<'_>,
    lineage: &str,
    run: &Run<'_>,
) -> Sent {
    let stop = AtomicBool::new(false);
    let unauthorized = Mutex::new(None);
    // Every id the state holds, by name: an answer with one of them is not a new webhook's.
    let ids: Mutex<HashMap<String, String>> = Mutex::new(
        recorder
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .webhooks
            .iter()
            .map(|(name, r)| (r.id.clone(), name.clone()))
            .collect(),
    );
    let stopped: Mutex<Option<String>> = Mutex::new(None);
    let halt = |why: String| {
        stop.store(true, Ordering::SeqCst);
        stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(why);
    };
    let one = |i: usize| {
        let webhook: &Webhook = creates[i];
        let (stop, unauthorized, halt, ids) = (&stop, &unauthorized, &halt, &ids);
        async move {
            if stop.load(Ordering::SeqCst) || run.stop.signal().is_some() {
                return (i, Done::NotSent, None);
            }
            // Durable before the request goes out.
            let intent = Record::Intent {
                name: webhook.name.clone(),
                sent: crate::state::Sent::from_webhook(webhook, lineage),
                since: now(),
            };
            if let Err(e) = recorder.record(intent).await {
                halt(render(&e));
                return (i, Done::NotSent, None);
            }
            // An intent taken back: nothing was sent for it.
            let withdraw = || async {
                let _ = recorder
                    .record(Record::Failed {
                        name: webhook.name.clone(),
                    })
                    .await;
                (i, Done::NotSent, None)
            };
            // A lock that may have run out sends nothing more.
            if let Some(Err(e)) = run.lock.map(crate::store::Lock::check) {
                halt(render(&e));
                return withdraw().await;
            }
            let permit = match run.options.global.as_ref() {
                Some(g) => tokio::select! {
                    biased;
                    () = run.stop.requested() => return withdraw().await,
                    p = g.acquire() => p.ok(),
                },
                None => None,
            };
            let attempt = send(run.api, &CreateBody::new(webhook), run.stop).await;
            drop(permit);
            let outcome = match attempt {
                Attempt::Answered(outcome) => {
                    let outcome = claim_id(outcome, &webhook.name, ids);
                    // Only the server's answers trip the breaker, never the stop's abandoning.
                    if let Some(why) = breaker(&webhook.name, &outcome, run.endpoint) {
                        halt(why);
                    }
                    outcome
                }
                Attempt::Withdrawn => return withdraw().await,
                Attempt::Abandoned => CreateOutcome::Unknown {
                    reason: ABANDONED.into(),
                },
            };
            if let CreateOutcome::Unauthorized { status, message } = &outcome {
                stop.store(true, Ordering::SeqCst);
                let mut u = unauthorized.lock().unwrap_or_else(|e| e.into_inner());
                u.get_or_insert((*status, message.clone()));
            }
            let (answer, done) = answer(&webhook.name, outcome);
            // Not awaited here: the worker's next intent can then share the answer's write.
            let recorded = recorder.record_later(answer).boxed_local();
            run.progress.finished(&webhook.name, &done);
            (i, done, Some(recorded))
        }
    };
    // The first create goes alone: a refused key then stops the run after one request, as
    // it would one at a time. The rest go `parallelism` at once.
    let mut sent = vec![one(0).await];
    sent.extend(crate::bounded::in_order(1..creates.len(), run.options.parallelism, one).await);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(sent.len());
    let mut unrecorded = Vec::new();
    for (i, done, recorded) in sent {
        if let Some(Err(e)) = match recorded {
            Some(r) => Some(r.await),
            None => None,
        } {
            halt(render(&e));
            unrecorded.push(i);
        }
        outcomes.push((i, done));
    }
    Sent {
        outcomes,
        unauthorized: unauthorized.into_inner().unwrap_or_else(|e| e.into_inner()),
        stopped: stopped.into_inner().unwrap_or_else(|e| e.into_inner()),
        unrecorded,
    }
}

/// A create answered with an id that another webhook already has is `unknown`: the API
/// repeated itself, so whether this create made a webhook cannot be told. Otherwise the id is
/// claimed for `name`.
fn claim_id(
    outcome: CreateOutcome,
    name: &str,
    ids: &Mutex<HashMap<String, String>>,
) -> CreateOutcome {
    let CreateOutcome::Created { id, .. } = &outcome else {
        return outcome;
    };
    let mut ids = ids.lock().unwrap_or_else(|e| e.into_inner());
    match ids.get(id) {
        Some(other) => CreateOutcome::Unknown {
            reason: format!(
                "the API answered with id {id}, which `{}` already has; the webhook may or may not exist",
                crate::terminal_text::printable_line(other)
            ),
        },
        None => {
            ids.insert(id.clone(), name.to_string());
            outcome
        }
    }
}

/// Why no further create may be sent after `outcome` (the first answer that leaves a create
/// unknown, that is not the API's, or the API that cannot be reached): each further create
/// would only add a webhook in doubt or the same failure, so they are not sent, and a re-run
/// sends them. The reason's second line says what to check.
fn breaker(name: &str, outcome: &CreateOutcome, endpoint: &str) -> Option<String> {
    let name = crate::terminal_text::printable_line(name);
    let next = "the next apply sends the creates that were not sent";
    Some(match outcome {
        CreateOutcome::Unknown { .. } if endpoint == crate::account::SANDBOX_ENDPOINT => format!(
            "the answer to `{name}` left it unknown, and each further create could add another webhook in doubt\nResolve the unknown ones as `saleshandy-webhooks plan` says (`saleshandy-webhooks sandbox list` shows what the sandbox holds); {next}"
        ),
        CreateOutcome::Unknown { .. } => format!(
            "the answer to `{name}` left it unknown, and each further create could add another webhook in doubt\nCheck that `{endpoint}` is the Saleshandy API (--api-url, or SALESHANDY_API_URL) and that it is healthy; resolve the unknown ones as `saleshandy-webhooks plan` says; {next}"
        ),
        CreateOutcome::Foreign { .. } => format!(
            "the answer to `{name}` is not one the Saleshandy API gives\nCheck that `{endpoint}` is the Saleshandy API's base URL (--api-url, or SALESHANDY_API_URL; by default https://open-api.saleshandy.com); nothing was created, and {next}"
        ),
        CreateOutcome::NotSent { .. } => format!(
            "`{endpoint}` could not be reached for `{name}` after {MAX_ATTEMPTS} attempts\nCheck the API URL (--api-url, or SALESHANDY_API_URL) and the network; nothing was created, and {next}"
        ),
        CreateOutcome::RateLimited { .. } => format!(
            "the API kept answering 429 Too Many Requests for `{name}`\nWait a while, or apply with a lower --max-rps; {next}"
        ),
        CreateOutcome::Created { .. }
        | CreateOutcome::Failed { .. }
        | CreateOutcome::Unauthorized { .. } => return None,
    })
}

/// The journal record of a create's outcome, and what it means for the run.
fn answer(name: &str, outcome: CreateOutcome) -> (Record, Done) {
    let failed = || Record::Failed { name: name.into() };
    match outcome {
        CreateOutcome::Created {
            id,
            status,
            test_delivery,
        } => (
            Record::Created {
                name: name.into(),
                id: id.clone(),
                status: status.clone(),
                test_delivery,
                created_at: now(),
            },
            Done::Created { id, status },
        ),
        CreateOutcome::Failed { reason } | CreateOutcome::Foreign { reason } => {
            (failed(), Done::Failed { reason })
        }
        CreateOutcome::RateLimited { .. } => (
            failed(),
            Done::Failed {
                reason: format!(
                    "the API kept answering 429 Too Many Requests after {MAX_ATTEMPTS} attempts"
                ),
            },
        ),
        CreateOutcome::NotSent { reason } => (
            failed(),
            Done::Failed {
                reason: format!("{reason} (after {MAX_ATTEMPTS} attempts)"),
            },
        ),
        CreateOutcome::Unauthorized { status, message } => (
            failed(),
            Done::Failed {
                reason: format!("HTTP {status}: {message}"),
            },
        ),
        CreateOutcome::Unknown { reason } => (
            Record::Unknown {
                name: name.into(),
                reason: reason.clone(),
            },
            Done::Unknown { reason },
        ),
    }
}

/// Why a create abandoned in flight is `unknown`.
const ABANDONED: &str = "a signal stopped the run before the answer came";

/// What became of one create's attempts.
enum Attempt {
    /// The last attempt's answer.
    Answered(CreateOutcome),
    /// A stop came before any attempt could have created anything: nothing was created.
    Withdrawn,
    /// A stop abandoned the attempt in flight: whether it created the webhook is unknown.
    Abandoned,
}

/// Sends one create, retrying only what certainly created nothing: a 429, or a request that
/// never reached the server (connection refused, DNS or TLS failure). Once `stop` is asked for
/// no attempt is sent: the create is withdrawn; an attempt in flight is raced against the
/// stop's abandoning it.
async fn send(api: &Api, body: &CreateBody<'_>, stop: &Stop) -> Attempt {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let turn = tokio::select! {
            biased;
            () = stop.requested() => return Attempt::Withdrawn,
            turn = api.turn() => turn,
        };
        let Some(in_flight) = stop.start() else {
            return Attempt::Withdrawn;
        };
        let outcome = tokio::select! {
            biased;
            outcome = api.create(turn, body) => outcome,
            () = stop.abandoned() => return Attempt::Abandoned,
        };
        drop(in_flight);
        match &outcome {
            _ if attempt >= MAX_ATTEMPTS => return Attempt::Answered(outcome),
            // A 429 holds back every worker of the account, not only this one.
            CreateOutcome::RateLimited { retry_after } => api.hold(backoff(attempt, *retry_after)),
            CreateOutcome::NotSent { .. } => {
                tokio::select! {
                    biased;
                    () = stop.requested() => return Attempt::Withdrawn,
                    () = tokio::time::sleep(backoff(attempt, None)) => {}
                }
            }
            _ => return Attempt::Answered(outcome),
        }
    }
}

/// The wait before attempt `attempt + 1`: the server's `Retry-After` (capped), or exponential
/// backoff from 500 ms with up to 50 % jitter; shortened only by a test clock
/// ([`crate::clock`]).
pub(crate) fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = f64::from(nanos % 1000) / 2000.0;
    retry_wait(attempt, retry_after, jitter, crate::clock::scale())
}

/// [`backoff`] with its inputs given: `jitter` is the fraction of the exponential step added
/// (0 to 0.5), and `scale` the clock factor (1 in production), applied after the cap so that a
/// scaled `Retry-After` is still the server's wait, only shorter.
fn retry_wait(attempt: u32, retry_after: Option<Duration>, jitter: f64, scale: f64) -> Duration {
    let wait = match retry_after {
        Some(d) => d.min(MAX_RETRY_AFTER),
        None => {
            let base = Duration::from_millis(500) * 2u32.saturating_pow(attempt.saturating_sub(1));
            base + base.mul_f64(jitter)
        }
    };
    crate::clock::scaled(wait, scale)
}

/// The current time as RFC 3339 UTC, to the second.
pub(crate) fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_from_500_ms_with_up_to_half_again_of_jitter() {
        let waits: Vec<Duration> = (1..=4).map(|a| retry_wait(a, None, 0.0, 1.0)).collect();
        assert_eq!(waits, [ms(500), ms(1000), ms(2000), ms(4000)]);
        assert_eq!(retry_wait(2, None, 0.5, 1.0), ms(1500));
        for attempt in 1..MAX_ATTEMPTS {
            let d = backoff(attempt, None);
            let base = retry_wait(attempt, None, 0.0, 1.0);
            assert!(d >= base && d <= base + base / 2, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(
            retry_wait(1, Some(s(3)), 0.5, 1.0),
            s(3),
            "no jitter on Retry-After"
        );
        assert_eq!(retry_wait(3, Some(s(3600)), 0.0, 1.0), MAX_RETRY_AFTER);
        assert_eq!(
            retry_wait(1, Some(Duration::ZERO), 0.0, 1.0),
            Duration::ZERO
        );
    }

    #[test]
    fn a_test_clock_shrinks_backoff_and_retry_after_alike() {
        let s = Duration::from_secs;
        assert_eq!(retry_wait(1, None, 0.0, 0.01), ms(5));
        assert_eq!(retry_wait(4, None, 0.5, 0.01), ms(60));
        assert_eq!(retry_wait(1, Some(s(1)), 0.0, 0.01), ms(10));
        // The cap is the server's wait as the tool allows it, so it shrinks with the clock.
        assert_eq!(retry_wait(1, Some(s(3600)), 0.0, 0.01), ms(600));
        // Five attempts of connection-refused backoff: about 9 s for real, under 0.1 s here.
        let total: Duration = (1..MAX_ATTEMPTS)
            .map(|a| retry_wait(a, None, 0.5, 0.01))
            .sum();
        assert!(total <= ms(113), "{total:?}");
    }
}
