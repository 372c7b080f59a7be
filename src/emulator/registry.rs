//! The sandbox's shared, lock-protected state, and the operations on it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::delivery::Deliverer;
use super::model::{Fault, RecordedRequest, StoredWebhook, Target};
use super::persist::DataFile;

/// What every request handler and the [`super::Sandbox`] handle share.
pub(super) struct Shared {
    /// The keys served, each its own account.
    pub keys: Keys,
    /// Sends the test delivery of a new webhook.
    pub deliverer: Deliverer,
    state: Mutex<State>,
}

/// Which API keys are accounts.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    /// These keys, whatever their form.
    pub listed: Vec<String>,
    /// Also every key of the form `sandbox-NAME` (see [`is_sandbox_key`]).
    pub open: bool,
}

impl Keys {
    /// Whether `key` is an account of this sandbox.
    pub(super) fn accepts(&self, key: &str) -> bool {
        self.listed.iter().any(|k| k == key) || (self.open && is_sandbox_key(key))
    }
}

/// `sandbox-` then 1 to 64 letters, digits, `.`, `_` or `-`: a key any rehearsal may make up
/// for an account of its own. Nothing shaped like a real key is ever accepted (or stored).
pub(super) fn is_sandbox_key(key: &str) -> bool {
    key.strip_prefix("sandbox-").is_some_and(|name| {
        (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

/// The most requests kept for inspection: the oldest are dropped beyond it, so that a long-lived
/// sandbox holds a bounded history whatever it serves (the counters keep counting).
const MAX_RECORDED_REQUESTS: usize = 10_000;

/// The stored webhooks, indexed so that a create or a read costs the same however many the
/// sandbox holds: by creation order, by id, and each account's count of active ones.
#[derive(Default)]
struct Webhooks {
    /// By creation sequence: iteration is creation order.
    by_seq: BTreeMap<u64, StoredWebhook>,
    by_id: HashMap<String, u64>,
    /// Active webhooks per API key.
    active: HashMap<String, usize>,
    next_seq: u64,
}

impl Webhooks {
    fn insert(&mut self, webhook: StoredWebhook) {
        if let Some(seq) = self.by_id.get(&webhook.id).copied() {
            self.take(seq);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        if webhook.is_active() {
            *self.active.entry(webhook.api_key.clone()).or_default() += 1;
        }
        self.by_id.insert(webhook.id.clone(), seq);
        self.by_seq.insert(seq, webhook);
    }

    fn take(&mut self, seq: u64) -> Option<StoredWebhook> {
        let webhook = self.by_seq.remove(&seq)?;
        self.by_id.remove(&webhook.id);
        if webhook.is_active() {
            if let Some(n) = self.active.get_mut(&webhook.api_key) {
                *n = n.saturating_sub(1);
            }
        }
        Some(webhook)
    }

    fn get(&self, id: &str) -> Option<&StoredWebhook> {
        self.by_seq.get(self.by_id.get(id)?)
    }

    fn active(&self, api_key: &str) -> usize {
        self.active.get(api_key).copied().unwrap_or(0)
    }
}

impl State {
    /// Writes a change to the data file, when there is one.
    fn persist(
        &mut self,
        write: impl FnOnce(&mut DataFile) -> std::io::Result<()>,
    ) -> Result<(), Refusal> {
        match &mut self.data {
            Some(data) => write(data).map_err(|e| {
                Refusal::Storage(format!(
                    "the sandbox could not write {}: {e}",
                    data.path().display()
                ))
            }),
            None => Ok(()),
        }
    }
}

/// Why the sandbox did not make a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    NotFound,
    /// What is wrong with the change, one message per problem.
    Invalid(Vec<String>),
    /// The account would have more active webhooks than it may.
    Limit,
    /// The data file could not be written; nothing changed.
    Storage(String),
}

/// Everything that changes while the sandbox runs.
#[derive(Default)]
struct State {
    webhooks: Webhooks,
    /// Where every change is written before it is answered, with `--data`.
    data: Option<DataFile>,
    /// In arrival order, the last [`MAX_RECORDED_REQUESTS`].
    requests: VecDeque<RecordedRequest>,
    faults_any: VecDeque<Fault>,
    /// By name: the page and `GET /sandbox/faults` list them in name order.
    faults_named: BTreeMap<String, VecDeque<Fault>>,
    latency: Duration,
    create_requests: usize,
    in_flight_creates: usize,
    max_in_flight_creates: usize,
    /// Makes every id unique, whatever the clock and the random part do.
    id_counter: u32,
}

impl Shared {
    /// A sandbox serving these accounts, with this latency and test-delivery timeout, holding
    /// `webhooks` and writing its changes to `data`.
    pub(super) fn new(
        keys: Keys,
        latency: Duration,
        delivery_timeout: Duration,
        data: Option<(DataFile, Vec<StoredWebhook>)>,
    ) -> Shared {
        let mut state = State {
            latency,
            ..State::default()
        };
        if let Some((file, webhooks)) = data {
            for webhook in webhooks {
                state.webhooks.insert(webhook);
            }
            state.data = Some(file);
        }
        Shared {
            keys,
            deliverer: Deliverer::new(delivery_timeout),
            state: Mutex::new(state),
        }
    }

    /// The state; a handler that panicked while holding it leaves it usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn record(&self, request: RecordedRequest) {
        let mut state = self.lock();
        if state.requests.len() >= MAX_RECORDED_REQUESTS {
            state.requests.pop_front();
        }
        state.requests.push_back(request);
    }

    pub(super) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    pub(super) fn latency(&self) -> Duration {
        self.lock().latency
    }

    pub(super) fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Counts a create request as received and in flight until the guard drops.
    pub(super) fn begin_create(&self) -> CreateGuard<'_> {
        let mut state = self.lock();
        state.create_requests += 1;
        state.in_flight_creates += 1;
        state.max_in_flight_creates = state.max_in_flight_creates.max(state.in_flight_creates);
        CreateGuard(self)
    }

    pub(super) fn create_requests(&self) -> usize {
        self.lock().create_requests
    }

    pub(super) fn in_flight_creates(&self) -> usize {
        self.lock().in_flight_creates
    }

    pub(super) fn max_in_flight_creates(&self) -> usize {
        self.lock().max_in_flight_creates
    }

    pub(super) fn inject(&self, target: Target, fault: Fault) {
        let mut state = self.lock();
        match target {
            Target::Any => state.faults_any.push_back(fault),
            Target::Name(name) => state.faults_named.entry(name).or_default().push_back(fault),
        }
    }

    /// Takes the fault for a create request with this name: name-targeted ones first.
    pub(super) fn take_fault(&self, name: Option<&str>) -> Option<Fault> {
        let mut state = self.lock();
        let named = name
            .and_then(|n| state.faults_named.get_mut(n))
            .and_then(VecDeque::pop_front);
        named.or_else(|| state.faults_any.pop_front())
    }

    pub(super) fn pending_faults(&self) -> usize {
        let state = self.lock();
        state.faults_any.len()
            + state
                .faults_named
                .values()
                .map(VecDeque::len)
                .sum::<usize>()
    }

    pub(super) fn webhooks(&self) -> Vec<StoredWebhook> {
        self.lock().webhooks.by_seq.values().cloned().collect()
    }

    /// How many active webhooks this account has.
    pub(super) fn active_count(&self, api_key: &str) -> usize {
        self.lock().webhooks.active(api_key)
    }

    /// Stores a new webhook unless the account already has `limit` active ones; it is in the
    /// data file (when there is one) before it is stored.
    pub(super) fn insert(&self, webhook: StoredWebhook, limit: usize) -> Result<(), Refusal> {
        let mut state = self.lock();
        if state.webhooks.active(&webhook.api_key) >= limit {
            return Err(Refusal::Limit);
        }
        state.persist(|data| data.put(&webhook))?;
        state.webhooks.insert(webhook);
        Ok(())
    }

    /// The webhook with this id, if this account owns it.
    pub(super) fn get(&self, api_key: &str, id: &str) -> Option<StoredWebhook> {
        self.lock()
            .webhooks
            .get(id)
            .filter(|w| w.api_key == api_key)
            .cloned()
    }

    /// The webhook with this id, whatever its account.
    pub(super) fn find(&self, id: &str) -> Option<StoredWebhook> {
        self.lock().webhooks.get(id).cloned()
    }

    /// The webhooks of one account (or of all), in creation order.
    pub(super) fn list(&self, account: Option<&str>) -> Vec<StoredWebhook> {
        self.lock()
            .webhooks
            .by_seq
            .values()
            .filter(|w| account.is_none_or(|a| w.api_key == a))
            .cloned()
            .collect()
    }

    /// Changes the webhook with this id in place (its place in creation order kept), as `f`
    /// says; refused, and nothing changed, when `f` refuses, when it would make an account
    /// exceed `limit` active webhooks, or when the data file cannot take it.
    pub(super) fn change(
        &self,
        id: &str,
        limit: usize,
        f: impl FnOnce(&mut StoredWebhook) -> Result<(), Refusal>,
    ) -> Result<StoredWebhook, Refusal> {
        let mut state = self.lock();
        let seq = *state.webhooks.by_id.get(id).ok_or(Refusal::NotFound)?;
        let before = state.webhooks.by_seq.get(&seq).ok_or(Refusal::NotFound)?;
        let mut after = before.clone();
        f(&mut after)?;
        if after.is_active()
            && !before.is_active()
            && state.webhooks.active(&after.api_key) >= limit
        {
            return Err(Refusal::Limit);
        }
        state.persist(|data| data.put(&after))?;
        let w = &mut state.webhooks;
        w.take(seq);
        if after.is_active() {
            *w.active.entry(after.api_key.clone()).or_default() += 1;
        }
        w.by_id.insert(after.id.clone(), seq);
        w.by_seq.insert(seq, after.clone());
        Ok(after)
    }

    /// Deletes the webhook with this id.
    pub(super) fn delete(&self, id: &str) -> Result<StoredWebhook, Refusal> {
        let mut state = self.lock();
        let seq = *state.webhooks.by_id.get(id).ok_or(Refusal::NotFound)?;
        state.persist(|data| data.delete(id))?;
        state.webhooks.take(seq).ok_or(Refusal::NotFound)
    }

    /// The faults still waiting, in the order they will be taken (name-targeted ones by name).
    pub(super) fn faults(&self) -> Vec<(Target, Fault)> {
        let state = self.lock();
        let any = state.faults_any.iter().map(|f| (Target::Any, f.clone()));
        let named = state
            .faults_named
            .iter()
            .flat_map(|(n, q)| q.iter().map(|f| (Target::Name(n.clone()), f.clone())));
        any.chain(named).collect()
    }

    /// Drops every fault still waiting.
    pub(super) fn clear_faults(&self) {
        let mut state = self.lock();
        state.faults_any.clear();
        state.faults_named.clear();
    }

    /// A new id shaped like a MongoDB ObjectId: seconds, random, counter; 24 lowercase hex.
    pub(super) fn new_id(&self) -> String {
        let counter = {
            let mut state = self.lock();
            state.id_counter = state.id_counter.wrapping_add(1);
            state.id_counter
        };
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let random: String = uuid::Uuid::new_v4()
            .as_bytes()
            .iter()
            .take(5)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "{:08x}{random}{:06x}",
            seconds & 0xffff_ffff,
            counter & 0xff_ffff
        )
    }
}

/// Keeps a create request counted as in flight while it lives.
pub(super) struct CreateGuard<'a>(&'a Shared);

impl Drop for CreateGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight_creates = state.in_flight_creates.saturating_sub(1);
    }
}
