//! The lock on a remote state: an object `<state>.lock` created only if absent, naming its
//! holder and lease; renewed by compare-and-swap while the run lasts and released by one
//! (never deleted). A lock whose lease ran out is taken over by compare-and-swap.
//!
//! Expiry is judged on the store's clock alone: the lock's last write time against the write
//! time of a probe object written just now, so clock skew between runners cannot make two of
//! them both believe they hold it. The holder judges its own lease on its monotonic clock,
//! from when it sent its last successful renewal, and stops sending creates a margin before it
//! could run out. Neither judgement is what keeps the state correct: every state write is
//! conditional, so a holder that lost its lease fails its next write.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::object::{Failure, Object, Read, Stamped, Written};
use crate::store::lock::{Held, LockError};

/// What the lock object holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockBody {
    /// Who holds it, as other runs are told: pid, host, since, and the CI run when known.
    pub(crate) holder: String,
    /// How long after its last write the lock may be taken over, in seconds.
    pub(crate) lease_seconds: u64,
    /// False once the holder released it.
    pub(crate) held: bool,
    /// Unique per write (see [`Stamped`]).
    pub(crate) write: String,
}

impl Stamped for LockBody {
    fn write_id(&self) -> &str {
        &self.write
    }
}

/// The margin kept on both sides of a lease: a taker waits this much past it, a holder stops
/// this much before it.
pub(crate) fn margin(lease: Duration) -> Duration {
    (lease / 10).max(Duration::from_secs(2))
}

/// A lock this run holds, renewed in the background until dropped.
pub(crate) struct Lease {
    shared: Arc<Shared>,
    renewal: Option<tokio::task::JoinHandle<()>>,
    /// Tells the renewal to stop (between writes, never in the middle of one).
    stop: tokio::sync::watch::Sender<bool>,
}

struct Shared {
    object: Object,
    place: String,
    body: Mutex<(LockBody, String)>,
    lease: Duration,
    /// When the last successful write of the lock was sent.
    renewed: Mutex<Instant>,
    lost: AtomicBool,
}

/// Who holds a lock that is not ours, and whether its lease ran out (by the store's clock).
pub(crate) struct Found {
    pub(crate) read: Read<LockBody>,
    pub(crate) expired: bool,
    /// Seconds since its last write, by the store's clock.
    pub(crate) age: i64,
}

/// Reads the lock and judges it on the store's clock (writing a probe object beside it).
pub(crate) async fn inspect(lock: &Object, place: &str) -> Result<Option<Found>, LockError> {
    let Some(read) = lock
        .read::<LockBody>()
        .await
        .map_err(|f| failure(f, place))?
    else {
        return Ok(None);
    };
    let clock = lock.sibling(".clock");
    clock
        .overwrite(uuid::Uuid::new_v4().to_string().into_bytes())
        .await
        .map_err(|f| failure(f, place))?;
    let now = clock.modified().await.map_err(|f| failure(f, place))?;
    let age = (now - read.modified).num_seconds();
    let lease = Duration::from_secs(read.value.lease_seconds);
    let expired = !read.value.held || age >= (lease + margin(lease)).as_secs() as i64;
    Ok(Some(Found { read, expired, age }))
}

/// Takes the lock on `lock`, waiting up to `timeout` for its holder; takes over a lock whose
/// lease ran out or that was released.
pub(crate) async fn acquire(
    lock: Object,
    place: &str,
    holder: String,
    lease: Duration,
    timeout: Duration,
) -> Result<Lease, LockError> {
    let started = Instant::now();
    // The first attempt creates the lock without looking: no lock is the common case.
    let mut look = false;
    loop {
        let body = LockBody {
            holder: holder.clone(),
            lease_seconds: lease.as_secs(),
            held: true,
            write: uuid::Uuid::new_v4().to_string(),
        };
        let sent = Instant::now();
        let taking = match look {
            false => Taking::Free,
            true => inspect_for_taking(&lock, place).await?,
        };
        look = true;
        let seen = match taking {
            Taking::Free => None,
            Taking::TakeOver(etag) => Some(etag),
            Taking::Held(found) => {
                if started.elapsed() >= timeout {
                    let lease = found.read.value.lease_seconds;
                    return Err(LockError::LeaseHeld {
                        state: place.to_string(),
                        holder: crate::terminal_text::printable_line(&found.read.value.holder),
                        lease,
                        age: found.age.max(0),
                    });
                }
                tokio::time::sleep(poll(timeout)).await;
                continue;
            }
        };
        match lock.write(&body, seen.as_deref()).await {
            Ok(Written::Done(etag)) => {
                return Ok(Lease::start(lock, place, body, etag, lease, sent));
            }
            // Another run took it between our read and our write: look again.
            Ok(Written::Lost) => continue,
            Err(f) => return Err(failure(f, place)),
        }
    }
}

enum Taking {
    Free,
    TakeOver(String),
    Held(Found),
}

async fn inspect_for_taking(lock: &Object, place: &str) -> Result<Taking, LockError> {
    Ok(match inspect(lock, place).await? {
        None => Taking::Free,
        Some(f) if f.expired => Taking::TakeOver(f.read.etag),
        Some(f) => Taking::Held(f),
    })
}

/// How long to wait between looks at a held lock.
fn poll(timeout: Duration) -> Duration {
    crate::clock::wait(Duration::from_secs(1)).min(timeout.max(Duration::from_millis(10)))
}

fn failure(f: Failure, place: &str) -> LockError {
    let place = format!("{place}.lock");
    LockError::Remote(Box::new(match f {
        Failure::Store(reason) => super::RemoteError::Unreachable { place, reason },
        Failure::Invalid(reason) => super::RemoteError::LockInvalid { place, reason },
    }))
}

impl Lease {
    fn start(
        object: Object,
        place: &str,
        body: LockBody,
        etag: String,
        lease: Duration,
        sent: Instant,
    ) -> Lease {
        let shared = Arc::new(Shared {
            object,
            place: place.to_string(),
            body: Mutex::new((body, etag)),
            lease,
            renewed: Mutex::new(sent),
            lost: AtomicBool::new(false),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let renewal = crate::runtime::handle()
            .ok()
            .map(|h| h.spawn(renew_until_lost(shared.clone(), stopped)));
        Lease {
            shared,
            renewal,
            stop,
        }
    }
}

impl Shared {
    /// The lock's next write (held or released, with a fresh write id, so that its bytes and
    /// ETag differ from the last), and the ETag it is conditional on.
    fn next_write(&self, held: bool) -> (LockBody, String) {
        let (mut body, etag) = self.body.lock().unwrap_or_else(|e| e.into_inner()).clone();
        body.held = held;
        body.write = uuid::Uuid::new_v4().to_string();
        (body, etag)
    }
}

/// Rewrites the lock every third of its lease; a refused write means another run took it.
async fn renew_until_lost(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = shared.lease / 3;
    loop {
        // Woken early only to stop (the sender said so, or is gone).
        if tokio::time::timeout(every, stop.changed()).await.is_ok() {
            return;
        }
        let (body, etag) = shared.next_write(true);
        let sent = Instant::now();
        match shared.object.write(&body, Some(&etag)).await {
            Ok(Written::Done(etag)) => {
                *shared.body.lock().unwrap_or_else(|e| e.into_inner()) = (body, etag);
                *shared.renewed.lock().unwrap_or_else(|e| e.into_inner()) = sent;
            }
            Ok(Written::Lost) => {
                shared.lost.store(true, Ordering::SeqCst);
                return;
            }
            // The store did not answer: try again at the next tick; the holder's own check
            // stops its creates if the lease runs out meanwhile.
            Err(_) => {}
        }
    }
}

impl Held for Lease {
    fn check(&self) -> Result<(), LockError> {
        let renewed = *self
            .shared
            .renewed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let lease = self.shared.lease;
        if self.shared.lost.load(Ordering::SeqCst) || renewed.elapsed() + margin(lease) >= lease {
            return Err(LockError::Lost {
                state: self.shared.place.clone(),
                lease: lease.as_secs(),
            });
        }
        Ok(())
    }
}

impl Drop for Lease {
    /// Releases the lock by compare-and-swap, unless it was lost.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        let renewal = self.renewal.take();
        let shared = self.shared.clone();
        let release = async move {
            if let Some(r) = renewal {
                let _ = r.await;
            }
            if shared.lost.load(Ordering::SeqCst) {
                return;
            }
            let (body, etag) = shared.next_write(false);
            let _ = shared.object.write(&body, Some(&etag)).await;
        };
        let _ = crate::runtime::wait(release);
    }
}
