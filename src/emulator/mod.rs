//! The embedded sandbox: a faithful emulator of the Saleshandy webhook API on loopback.
//!
//! It serves `POST /v1/webhook/create` and `GET /v1/webhook/{id}` as Saleshandy's API reference
//! describes them (validation, `x-api-key` auth, 201 payloads, paused-on-failed-test-delivery,
//! the 50-active-webhooks limit), so that `apply --sandbox` works with no Saleshandy account
//! and the integration tests have a server to talk to. Every `sandbox-NAME` key is an account
//! of its own ([`SandboxOptions::open_accounts`]); tests can list other keys.
//!
//! For rehearsals it also has what only a sandbox can have: the `admin` requests under
//! `/sandbox/` (list, edit, pause, resume, delete, mark failed, queue faults) and the `page`
//! at `/` that makes them buttons; and, with [`SandboxOptions::data`], the `persist` file that
//! keeps its webhooks across restarts. Tests can also inspect what it stored and received, add
//! latency and inject faults through the [`Sandbox`] handle.
//!
//! Unknown routes get a JSON 404 before any authentication; the two API endpoints check
//! `x-api-key` first (401), and the create endpoint then applies any injected fault.
//!
//! It listens on 127.0.0.1 only and never sends traffic off this machine: a new webhook's test
//! delivery really goes out only to loopback URLs (the `delivery` module has the rules).

mod admin;
mod conn;
mod create;
mod delivery;
mod model;
mod page;
mod persist;
mod registry;
mod request_rules;
mod server;

#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use create::ACTIVE_LIMIT;
pub use model::{Fault, LastFailure, RecordedRequest, StoredWebhook, Target, WebhookStatus};
pub use persist::DataError;

use conn::{ConnHandle, KillableListener};
use registry::{Keys, Shared};

/// The well-known API key of the sandbox's default account, used by `apply --sandbox`. Any
/// other `sandbox-NAME` key is an account of its own.
pub const SANDBOX_API_KEY: &str = "sandbox-api-key";

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(#[source] std::io::Error),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// How long [`Sandbox::shutdown`] waits for open requests before cutting them (scaled by
/// [`crate::clock`], like the delivery timeout it must outlast).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How to start a sandbox.
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// API keys accepted whatever their form; each is its own account.
    pub api_keys: Vec<String>,
    /// Whether every `sandbox-NAME` key is also an account of its own (the default).
    pub open_accounts: bool,
    /// A data file to keep the webhooks in across restarts; none: they live in memory only.
    pub data: Option<PathBuf>,
    /// Whether the data file says where this sandbox listens, so that `--sandbox` runs on
    /// the same file talk to it (the `sandbox` command) instead of refusing.
    pub announce: bool,
    /// How long every request waits before it is handled.
    pub latency: Duration,
    /// The port on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// How long the test delivery of a new webhook may take before it counts as failed.
    /// The default is the production 2 s as scaled by [`crate::clock`]; tests running a
    /// sandbox in their own process can set it directly.
    pub delivery_timeout: Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            api_keys: vec![SANDBOX_API_KEY.to_owned()],
            open_accounts: true,
            data: None,
            announce: false,
            latency: Duration::ZERO,
            port: 0,
            delivery_timeout: crate::clock::wait(delivery::DELIVERY_TIMEOUT),
        }
    }
}

/// A running sandbox. [`Sandbox::shutdown`] stops it and waits; dropping it stops it in the
/// background.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Binds 127.0.0.1, reads the data file (if any) and serves the sandbox on the current tokio
/// runtime.
pub async fn start(opts: SandboxOptions) -> Result<Sandbox, StartError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port))
        .await
        .map_err(StartError::Listen)?;
    let addr = listener.local_addr().map_err(StartError::Listen)?;
    let url = format!("http://{addr}");
    let data = match &opts.data {
        Some(path) => Some(persist::DataFile::open(
            path,
            opts.announce.then_some(url.as_str()),
        )?),
        None => None,
    };
    let keys = Keys {
        listed: opts.api_keys,
        open: opts.open_accounts,
    };
    let shared = Arc::new(Shared::new(keys, opts.latency, opts.delivery_timeout, data));
    let app = axum::Router::new()
        .fallback(server::dispatch)
        .with_state(Arc::clone(&shared))
        .into_make_service_with_connect_info::<ConnHandle>();
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = axum::serve(KillableListener(listener), app).with_graceful_shutdown(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(async move {
        let _ = serve.await;
    });
    Ok(Sandbox {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

impl Sandbox {
    /// The base URL, e.g. `http://127.0.0.1:41234`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets open requests finish (up to 5 s), and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(crate::clock::wait(SHUTDOWN_GRACE), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    /// Every stored webhook of every account, in creation order.
    pub fn webhooks(&self) -> Vec<StoredWebhook> {
        self.shared.webhooks()
    }

    /// The stored webhook with this id, whatever its account (for the emulator's own tests).
    #[cfg(test)]
    pub(crate) fn webhook(&self, id: &str) -> Option<StoredWebhook> {
        self.webhooks().into_iter().find(|w| w.id == id)
    }

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// How many create requests arrived (authorised or not).
    pub fn create_requests(&self) -> usize {
        self.shared.create_requests()
    }

    /// How many create requests are being handled right now.
    pub fn in_flight_creates(&self) -> usize {
        self.shared.in_flight_creates()
    }

    /// The most create requests ever handled at once, latency and delays included.
    pub fn max_in_flight_creates(&self) -> usize {
        self.shared.max_in_flight_creates()
    }

    /// Changes how long every later request waits before it is handled.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency);
    }

    /// Queues a fault for a later create request; see [`Fault`] and [`Target`].
    pub fn inject(&self, target: Target, fault: Fault) {
        self.shared.inject(target, fault);
    }

    /// How many injected faults are still waiting for their request.
    pub fn pending_faults(&self) -> usize {
        self.shared.pending_faults()
    }

    /// Edits a stored webhook behind the tool's back (drift); false when there is no such id.
    /// The account limit does not apply: a test may make any state it needs.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut StoredWebhook)) -> bool {
        self.shared
            .change(id, usize::MAX, |w| {
                f(w);
                Ok(())
            })
            .is_ok()
    }

    /// Deletes a stored webhook behind the tool's back; false when there is no such id.
    pub fn remove(&self, id: &str) -> bool {
        self.shared.delete(id).is_ok()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Shows how many keys there are, never the keys.
impl std::fmt::Debug for SandboxOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("api_keys", &format_args!("[{} keys]", self.api_keys.len()))
            .field("open_accounts", &self.open_accounts)
            .field("data", &self.data)
            .field("announce", &self.announce)
            .field("latency", &self.latency)
            .field("port", &self.port)
            .field("delivery_timeout", &self.delivery_timeout)
            .finish()
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("url", &self.url()).finish()
    }
}

/// The current time, RFC 3339 in UTC with seconds.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
