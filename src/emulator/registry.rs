//! The sandbox's shared, lock-protected state, and the operations on it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::delivery::Deliverer;
use super::model::{Fault, RecordedRequest, StoredWebhook, Target};

/// What every request handler and the [`super::Sandbox`] handle share.
pub(super) struct Shared {
    /// Each key is an account; a request with any other key is refused.
    pub api_keys: Vec<String>,
    /// Sends the test delivery of a new webhook.
    pub deliverer: Deliverer,
    state: Mutex<State>,
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

/// Everything that changes while the sandbox runs.
#[derive(Default)]
struct State {
    webhooks: Webhooks,
    /// In arrival order, the last [`MAX_RECORDED_REQUESTS`].
    requests: VecDeque<RecordedRequest>,
    faults_any: VecDeque<Fault>,
    faults_named: HashMap<String, VecDeque<Fault>>,
    latency: Duration,
    create_requests: usize,
    in_flight_creates: usize,
    max_in_flight_creates: usize,
    /// Makes every id unique, whatever the clock and the random part do.
    id_counter: u32,
}

impl Shared {
    /// Empty state serving these accounts, with this latency and test-delivery timeout.
    pub(super) fn new(
        api_keys: Vec<String>,
        latency: Duration,
        delivery_timeout: Duration,
    ) -> Shared {
        Shared {
            api_keys,
            deliverer: Deliverer::new(delivery_timeout),
            state: Mutex::new(State {
                latency,
                ..State::default()
            }),
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

    /// Stores a new webhook unless the account already has `limit` active ones.
    pub(super) fn insert(&self, webhook: StoredWebhook, limit: usize) -> Result<(), ()> {
        let mut state = self.lock();
        if state.webhooks.active(&webhook.api_key) >= limit {
            return Err(());
        }
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

    /// Changes the webhook with this id in place (its place in creation order kept).
    pub(super) fn update(&self, id: &str, f: impl FnOnce(&mut StoredWebhook)) -> bool {
        let mut state = self.lock();
        let Some(seq) = state.webhooks.by_id.get(id).copied() else {
            return false;
        };
        let Some(mut webhook) = state.webhooks.take(seq) else {
            return false;
        };
        f(&mut webhook);
        // Back under its own place, its id and its account's count as they are now.
        let w = &mut state.webhooks;
        if webhook.is_active() {
            *w.active.entry(webhook.api_key.clone()).or_default() += 1;
        }
        w.by_id.insert(webhook.id.clone(), seq);
        w.by_seq.insert(seq, webhook);
        true
    }

    pub(super) fn remove(&self, id: &str) -> bool {
        let mut state = self.lock();
        match state.webhooks.by_id.get(id).copied() {
            Some(seq) => state.webhooks.take(seq).is_some(),
            None => false,
        }
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
