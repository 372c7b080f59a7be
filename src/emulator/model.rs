//! The sandbox's public data: stored webhooks, recorded requests, and the faults tests inject.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

pub use crate::reported::{LastFailure, WebhookStatus};

/// A webhook as the sandbox stores it, one per successful create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWebhook {
    /// 24 lowercase hex characters, unique within the sandbox.
    pub id: String,
    /// The API key that created it: each key is its own account.
    pub api_key: String,
    pub name: String,
    pub webhook_url: String,
    /// Event names, in the order they were sent.
    pub events: Vec<String>,
    pub headers: BTreeMap<String, String>,
    /// Active, or paused when the test delivery failed.
    pub status: WebhookStatus,
    /// Whether the last delivery (the test delivery on create) failed.
    pub failed: bool,
    /// Why the last delivery failed: when (RFC 3339), the destination's HTTP status (`None`
    /// when it gave no answer at all, sent as 0 on the wire) and a message.
    pub last_failure: Option<LastFailure>,
    /// When it was created, RFC 3339.
    pub created_at: String,
}

impl StoredWebhook {
    /// Whether it counts against the account's limit of active webhooks.
    pub(crate) fn is_active(&self) -> bool {
        self.status.is_active()
    }

    /// The fields that the create answer and the read answer share, as the API spells them.
    pub(super) fn common_json(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("name".into(), json!(self.name));
        map.insert("webhookUrl".into(), json!(self.webhook_url));
        map.insert("webhookEvent".into(), json!(self.events));
        map.insert("headers".into(), json!(self.headers));
        map.insert("status".into(), json!(self.status));
        map
    }

    /// The `payload` of a `GET /v1/webhook/{id}` answer.
    pub(super) fn read_json(&self) -> Value {
        let mut map = self.common_json();
        map.insert("failed".into(), json!(self.failed));
        let last = self.last_failure.as_ref().map(|f| {
            // The API always sends a number: 0 when the destination did not answer.
            let code = f.status_code.unwrap_or(0);
            json!({"failedAt": f.failed_at, "statusCode": code, "message": f.message})
        });
        map.insert("lastFailure".into(), last.unwrap_or(Value::Null));
        Value::Object(map)
    }
}

/// One HTTP request the sandbox received, exactly as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Lower-cased names; repeated headers are joined with `", "`. Includes `x-api-key`.
    pub headers: BTreeMap<String, String>,
    /// The raw body (lossily decoded as UTF-8).
    pub body: String,
    /// When it arrived (its body read, before any latency), for tests of request timing.
    pub received_at: std::time::Instant,
}

impl RecordedRequest {
    /// The value of a header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Which create request an injected [`Fault`] applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// The next create request, whatever its name.
    Any,
    /// The next create request whose body `name` equals this.
    Name(String),
}

/// Something going wrong with one create request, injected by tests.
///
/// Faults are consumed by authorised create requests only (a 401 consumes nothing), one fault
/// per request, whatever happens after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `{"message"}` and, when given, `Retry-After: <seconds>`; nothing is created.
    TooManyRequests { retry_after: Option<u64> },
    /// This status (5xx) with `{"message"}`; nothing is created.
    ServerError(u16),
    /// The webhook is created, then the answer is this status (5xx).
    ServerErrorAfterCreate(u16),
    /// The webhook is created, then the connection is closed without any HTTP response.
    DropAfterCreate,
    /// The webhook is created, then the answer is 201 with a body that is not JSON.
    GarbageBody,
    /// The webhook is created, then the answer is 201 JSON whose payload has no `id`.
    MissingId,
    /// This status (4xx) with `{"message": message}`; nothing is created.
    Reject { status: u16, message: String },
    /// This status (3xx) with `Location: location`; nothing is created.
    Redirect { status: u16, location: String },
    /// Sleep this long (on top of the latency), then handle the request normally.
    Delay(Duration),
}

impl Fault {
    /// Whether the request is answered before validation, without creating anything.
    pub(super) fn answers_early(&self) -> bool {
        matches!(
            self,
            Fault::TooManyRequests { .. }
                | Fault::ServerError(_)
                | Fault::Reject { .. }
                | Fault::Redirect { .. }
        )
    }
}
