//! The Saleshandy client: builds the create request, and classifies every answer by what it
//! means for the account — created, certainly not created, or perhaps created (unknown).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Webhook;
use crate::error_chain::root_cause;
use crate::reported::{LastFailure, WebhookStatus};
use crate::secret::Secret;
use crate::server_text::Redactor;

/// The real API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://open-api.saleshandy.com";
/// The most of a response body that is read; the rest is ignored.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// The create request body, exactly as the API contract says. Holds clear secret values: it
/// is built just before sending and never printed or stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateBody<'a> {
    pub name: &'a str,
    pub webhook_url: &'a str,
    pub webhook_event: Vec<&'static str>,
    /// Always present, `{}` when there are none.
    pub headers: serde_json::Map<String, serde_json::Value>,
}

impl<'a> CreateBody<'a> {
    pub(crate) fn new(w: &'a Webhook) -> Self {
        CreateBody {
            name: &w.name,
            webhook_url: w.url.expose(),
            webhook_event: w.events.iter().map(|e| e.as_str()).collect(),
            headers: w
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.expose().into()))
                .collect(),
        }
    }
}

/// What the API said about one create request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CreateOutcome {
    /// 201 with an id.
    Created {
        id: String,
        status: WebhookStatus,
        test_delivery: Option<String>,
    },
    /// Certainly nothing was created (a 4xx the API explains with its JSON `message`).
    Failed { reason: String },
    /// Certainly nothing was created, and the answer is not one the Saleshandy API gives (a
    /// redirect, an HTML or other non-JSON error, 404/405 to the create path): the URL is
    /// probably not the API's, so the run sends nothing more.
    Foreign { reason: String },
    /// The request never reached the server (connection refused, DNS or TLS failure): nothing
    /// was created, and it may be retried.
    NotSent { reason: String },
    /// The key was refused: stop the whole run.
    Unauthorized { status: u16, message: String },
    /// The webhook may exist: the answer was lost, a 5xx, or a 201 without a usable id.
    Unknown { reason: String },
    /// 429: nothing created; may be retried after the given delay.
    RateLimited { retry_after: Option<Duration> },
}

#[derive(Deserialize)]
struct Envelope {
    payload: Option<Payload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    id: Option<serde_json::Value>,
    status: Option<WebhookStatus>,
    test_delivery: Option<TestDelivery>,
}

#[derive(Deserialize)]
struct TestDelivery {
    status: Option<String>,
}

/// A webhook as the API reports it. Header values may be secrets in clear: this type has no
/// `Debug` and is never printed or stored as is.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Live {
    pub id: String,
    pub name: String,
    pub webhook_url: String,
    pub webhook_event: Vec<String>,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub status: Option<WebhookStatus>,
    /// Whether the last delivery failed.
    #[serde(default)]
    pub failed: Option<bool>,
    /// The last failed delivery; a part the API leaves out is empty.
    #[serde(default, deserialize_with = "wire_failure")]
    pub last_failure: Option<LastFailure>,
}

/// Reads the API's camelCase `lastFailure`, every part of it optional.
fn wire_failure<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<LastFailure>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire {
        #[serde(default)]
        failed_at: Option<String>,
        #[serde(default)]
        status_code: Option<u16>,
        #[serde(default)]
        message: Option<String>,
    }
    Ok(Option::<Wire>::deserialize(d)?.map(|w| LastFailure {
        failed_at: w.failed_at.unwrap_or_default(),
        status_code: w.status_code,
        message: w.message.unwrap_or_default(),
    }))
}

/// What the API said about one read.
pub(crate) enum GetOutcome {
    Found(Box<Live>),
    NotFound,
    Unauthorized { status: u16, message: String },
    Failed { reason: String },
}

/// A client for one account at one base URL.
pub(crate) struct Api {
    client: reqwest::Client,
    base: Url,
    key: Secret,
    pace: Pace,
    /// Every text of an answer passes through it before it leaves this client.
    redactor: Redactor,
}

/// The request rhythm shared by every worker of one account: a hold after a 429 applies to
/// all of them, and an optional ceiling spaces requests evenly.
#[derive(Default)]
struct Pace {
    /// No request before this instant (set by a 429).
    held_until: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// The least time between two requests (`--max-rps`).
    interval: Option<Duration>,
    /// The next free request slot under `interval`.
    next_slot: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pace {
    /// Waits until this account may send its next request: after any hold from a 429, then
    /// at its own slot under the rate ceiling, booked only once the hold is over so that
    /// workers released together still go one slot apart.
    async fn wait(&self) {
        use tokio::time::{sleep_until, Instant};
        loop {
            let held = *self.held_until.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(until) = held.filter(|u| *u > Instant::now()) {
                sleep_until(until).await;
                continue;
            }
            let Some(interval) = self.interval else {
                return;
            };
            let slot = {
                let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
                let slot = next.map_or_else(Instant::now, |n| n.max(Instant::now()));
                *next = Some(slot + interval);
                slot
            };
            sleep_until(slot).await;
            // A 429 seen by another worker meanwhile holds this one back too.
            let held = *self.held_until.lock().unwrap_or_else(|e| e.into_inner());
            if held.is_none_or(|u| u <= Instant::now()) {
                return;
            }
        }
    }

    fn hold(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut held = self.held_until.lock().unwrap_or_else(|e| e.into_inner());
        *held = Some(held.map_or(until, |h| h.max(until)));
    }
}

/// This account's turn to send a create, from [`Api::turn`]: the one way to get one, so that
/// no create skips the account's pace.
pub(crate) struct Turn(());

/// Why a client could not be made.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum ApiError {
    #[error("`{url}` is not a valid API URL: {reason}")]
    #[diagnostic(
        code(api::url),
        help("pass the API's base URL, e.g. `--api-url https://open-api.saleshandy.com`")
    )]
    BadUrl { url: String, reason: String },

    #[error("the API URL `{url}` uses plain http, which would send the API key unencrypted")]
    #[diagnostic(
        code(api::insecure_url),
        help("use https; plain http is allowed only for loopback addresses (a local sandbox)")
    )]
    Insecure { url: String },

    #[error("cannot set up the HTTP client: {0}")]
    #[diagnostic(
        code(api::client),
        help("the TLS setup failed, usually because the system's CA certificates cannot be read; check the certificate store (e.g. /etc/ssl/certs), then run again")
    )]
    Client(String),
}

impl Api {
    /// A client for `base` (an `https://` URL, or `http://` on loopback) with key `key`.
    pub(crate) fn new(base: &str, key: Secret, timeout: Duration) -> Result<Api, ApiError> {
        let bad = |reason: String| ApiError::BadUrl {
            url: base.to_string(),
            reason,
        };
        let mut url = Url::parse(base).map_err(|e| bad(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(ApiError::Insecure {
                    url: base.to_string(),
                })
            }
            s => return Err(bad(format!("the scheme `{s}` is not http or https"))),
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let mut client = reqwest::Client::builder();
        // Plain http is for loopback only: through a proxy, the key would cross the network
        // in clear (https through a proxy stays encrypted end to end).
        if url.scheme() == "http" {
            client = client.no_proxy();
        }
        let client = client
            // A redirect could carry the API key to another host: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .timeout(timeout)
            .user_agent(concat!("saleshandy-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Client(e.to_string()))?;
        let redactor = Redactor::new([key.expose()]);
        Ok(Api {
            client,
            base: url,
            key,
            pace: Pace::default(),
            redactor,
        })
    }

    /// Redacts `secrets` (the config's `${VAR}` values and what they made), besides the key,
    /// from everything the server says.
    pub(crate) fn with_secrets<'a>(mut self, secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut all: Vec<&str> = secrets.into_iter().collect();
        all.push(self.key.expose());
        self.redactor = Redactor::new(all);
        self
    }

    /// What makes this account's server text safe to show and store.
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Spaces this account's requests at most `rps` per second.
    pub(crate) fn with_max_rps(mut self, rps: Option<f64>) -> Self {
        self.pace.interval = rps
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        self
    }

    /// Holds every request of this account back for `wait` (after a 429).
    pub(crate) fn hold(&self, wait: Duration) {
        self.pace.hold(wait);
    }

    /// Waits until this account may send its next request (after any 429 hold, at its slot
    /// under `--max-rps`): a create needs the turn this gives. Nothing is sent meanwhile.
    pub(crate) async fn turn(&self) -> Turn {
        self.pace.wait().await;
        Turn(())
    }

    /// Sends one create now, in the `turn` [`Api::turn`] gave.
    pub(crate) async fn create(&self, _turn: Turn, body: &CreateBody<'_>) -> CreateOutcome {
        let url = match self.base.join("v1/webhook/create") {
            Ok(u) => u,
            Err(e) => {
                return CreateOutcome::Failed {
                    reason: format!("bad API URL: {e}"),
                }
            }
        };
        let sent = self
            .client
            .post(url)
            .header("x-api-key", self.key.expose())
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            // Connect errors include DNS and TLS failures: nothing reached the API.
            Err(e) if e.is_connect() => {
                return CreateOutcome::NotSent {
                    reason: format!("could not connect to the API: {}", self.cause(&e)),
                }
            }
            Err(e) if e.is_builder() => {
                return CreateOutcome::Failed {
                    reason: format!("the request could not be built: {}", self.cause(&e)),
                }
            }
            Err(e) => {
                return CreateOutcome::Unknown {
                    reason: format!(
                        "the request was sent but no answer came back ({})",
                        self.cause(&e)
                    ),
                }
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match read_capped(response).await {
            Ok(b) => b,
            Err(e) if (200..300).contains(&status) => {
                return CreateOutcome::Unknown {
                    reason: format!(
                        "HTTP {status}, but the answer was cut off ({})",
                        self.redactor.clean(&e)
                    ),
                }
            }
            Err(_) => Vec::new(),
        };
        classify(status, &body, retry_after, location, &self.redactor)
    }

    /// An error's root cause as safe text (it may quote the server).
    fn cause(&self, e: &reqwest::Error) -> String {
        self.redactor.clean(&root_cause(e))
    }
}

impl Api {
    /// Reads one webhook with `GET /v1/webhook/{id}`.
    pub(crate) async fn get(&self, id: &str) -> GetOutcome {
        self.pace.wait().await;
        let mut url = match self.base.join("v1/webhook/") {
            Ok(u) => u,
            Err(e) => {
                return GetOutcome::Failed {
                    reason: format!("bad API URL: {e}"),
                }
            }
        };
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(id);
        }
        let response = match self
            .client
            .get(url)
            .header("x-api-key", self.key.expose())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return GetOutcome::Failed {
                    reason: self.cause(&e),
                }
            }
        };
        let status = response.status().as_u16();
        let body = read_capped(response).await.unwrap_or_default();
        classify_get(status, &body, &self.redactor)
    }
}

/// Classifies an answer. Pure, so every case is unit-tested.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    location: Option<String>,
    r: &Redactor,
) -> CreateOutcome {
    match status {
        200..=299 => match serde_json::from_slice::<Envelope>(body).ok().and_then(|e| e.payload) {
            Some(Payload { id: Some(serde_json::Value::String(id)), status, test_delivery }) if is_plausible_id(&id) => {
                CreateOutcome::Created {
                    id,
                    status: status.map_or(WebhookStatus::Active, |s| cleaned_status(s, r)),
                    test_delivery: test_delivery.and_then(|t| t.status).map(|s| r.clean(&s)),
                }
            }
            _ => CreateOutcome::Unknown {
                reason: format!("HTTP {status} without a usable webhook id: {}", excerpt(body, r)),
            },
        },
        300..=399 => CreateOutcome::Foreign {
            reason: format!(
                "HTTP {status} redirect to {}; redirects are never followed, so the API key stays with the API host. Check --api-url",
                location.map_or_else(|| "(no Location)".into(), |l| r.clean(&l))
            ),
        },
        401 | 403 => CreateOutcome::Unauthorized { status, message: api_message(body, r) },
        429 => CreateOutcome::RateLimited { retry_after },
        404 | 405 => CreateOutcome::Foreign { reason: format!("HTTP {status}: {}", api_message(body, r)) },
        400..=499 if has_message(body) => CreateOutcome::Failed { reason: format!("HTTP {status}: {}", api_message(body, r)) },
        400..=499 => CreateOutcome::Foreign { reason: format!("HTTP {status}: {}", api_message(body, r)) },
        _ => CreateOutcome::Unknown { reason: format!("HTTP {status} from the server: {}", api_message(body, r)) },
    }
}

/// Classifies an answer to `GET /v1/webhook/{id}`. Pure, like [`classify`]: the parts of a
/// live webhook that are only shown come back as safe text.
pub(crate) fn classify_get(status: u16, body: &[u8], r: &Redactor) -> GetOutcome {
    #[derive(Deserialize)]
    struct Envelope {
        payload: Live,
    }
    match status {
        200 => match serde_json::from_slice::<Envelope>(body) {
            Ok(e) => GetOutcome::Found(Box::new(e.payload.cleaned(r))),
            Err(e) => GetOutcome::Failed {
                reason: format!(
                    "HTTP 200 with an unreadable body ({})",
                    r.clean(&e.to_string())
                ),
            },
        },
        404 => GetOutcome::NotFound,
        401 | 403 => GetOutcome::Unauthorized {
            status,
            message: api_message(body, r),
        },
        _ => GetOutcome::Failed {
            reason: format!("HTTP {status}: {}", api_message(body, r)),
        },
    }
}

/// Whether `body` is an error as the API writes one: a JSON object with a string `message`.
fn has_message(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| v.get("message").is_some_and(serde_json::Value::is_string))
}

/// The API's `message`, or the first part of the body, as safe text.
fn api_message(body: &[u8], r: &Redactor) -> String {
    #[derive(Deserialize)]
    struct Message {
        message: serde_json::Value,
    }
    match serde_json::from_slice::<Message>(body) {
        Ok(Message {
            message: serde_json::Value::String(m),
        }) => r.clean(&m),
        Ok(Message { message }) => r.clean(&message.to_string()),
        Err(_) => excerpt(body, r),
    }
}

/// The first part of a body, as safe text.
fn excerpt(body: &[u8], r: &Redactor) -> String {
    let text = r.clean(&String::from_utf8_lossy(body));
    if text.is_empty() {
        return "(empty body)".into();
    }
    text
}

/// A status the server sent, as safe text: an unknown one may hold anything.
fn cleaned_status(status: WebhookStatus, r: &Redactor) -> WebhookStatus {
    match status {
        WebhookStatus::Other(s) => WebhookStatus::from(r.clean_kept(&s)),
        known => known,
    }
}

impl Live {
    /// The parts of a live webhook that are only shown, never compared, as safe text. Name,
    /// URL, events and headers stay as they came: drift compares them with what was sent,
    /// and the drift report cleans what it shows.
    fn cleaned(mut self, r: &Redactor) -> Live {
        self.status = self.status.map(|s| cleaned_status(s, r));
        if let Some(f) = self.last_failure.as_mut() {
            f.failed_at = r.clean(&f.failed_at);
            f.message = r.clean(&f.message);
        }
        self
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| root_cause(&e))? {
        let room = MAX_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY {
            break;
        }
    }
    Ok(body)
}

/// Whether `id` looks like a Saleshandy webhook id: letters and digits only (at most 64), so
/// that it is safe in a URL path and a terminal. A create answered with anything else is
/// `unknown`, and `state import` refuses it.
pub(crate) fn is_plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether the URL's host is this machine: the one case where plain http is allowed.
fn is_loopback(url: &Url) -> bool {
    url.host()
        .is_some_and(|host| crate::host::is_loopback(&host))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::classify`] with no secret to redact.
    fn classify(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        location: Option<String>,
    ) -> CreateOutcome {
        super::classify(status, body, retry_after, location, &Redactor::default())
    }

    #[test]
    fn every_server_text_is_cleaned_and_redacted() {
        let r = Redactor::new(["KEY-1", "tok/2"]);
        let body = br#"{"message":"bad \u001b[2J key KEY-1\n::error::x for https://h/?t=tok%2F2"}"#;
        assert_eq!(
            super::classify(400, body, None, None, &r),
            CreateOutcome::Failed {
                reason:
                    "HTTP 400: bad \\u{1b}[2J key (secret) : :error: :x for https://h/?t=(secret)"
                        .into()
            }
        );
        assert_eq!(
            super::classify(503, b"<h1>\x07 tok/2</h1>", None, None, &r),
            CreateOutcome::Unknown {
                reason: "HTTP 503 from the server: <h1>\\u{7} (secret)</h1>".into()
            }
        );
        let status = br#"{"payload":{"id":"abc","status":"odd\u0007","testDelivery":{"status":"x\nKEY-1"}}}"#;
        assert_eq!(
            super::classify(201, status, None, None, &r),
            CreateOutcome::Created {
                id: "abc".into(),
                status: WebhookStatus::Other("odd\\u{7}".into()),
                test_delivery: Some("x (secret)".into()),
            }
        );
        let CreateOutcome::Foreign { reason } =
            super::classify(302, b"", None, Some("https://h/KEY-1\r\nX: y".into()), &r)
        else {
            panic!("a redirect fails")
        };
        assert!(
            reason.starts_with("HTTP 302 redirect to https://h/(secret) X: y;"),
            "{reason}"
        );
    }

    #[test]
    fn created_with_and_without_a_paused_test_delivery() {
        let body = br#"{"message":"Webhook created successfully","payload":{"id":"69fb3ac1eda582171eb74826","status":"paused","testDelivery":{"status":"failed"}}}"#;
        assert_eq!(
            classify(201, body, None, None),
            CreateOutcome::Created {
                id: "69fb3ac1eda582171eb74826".into(),
                status: WebhookStatus::Paused,
                test_delivery: Some("failed".into())
            }
        );
        let active = br#"{"payload":{"id":"abc","status":"active"}}"#;
        assert!(
            matches!(classify(201, active, None, None), CreateOutcome::Created { ref status, .. } if *status == WebhookStatus::Active)
        );
    }

    #[test]
    fn a_status_the_client_does_not_know_is_kept_as_it_came() {
        let body = br#"{"payload":{"id":"abc","status":"Archived"}}"#;
        assert!(matches!(
            classify(201, body, None, None),
            CreateOutcome::Created { status: WebhookStatus::Other(ref s), .. } if s == "Archived"
        ));
        let live: Live = serde_json::from_str(
            r#"{"id":"abc","name":"n","webhookUrl":"https://x","webhookEvent":[],"status":"archived",
                "lastFailure":{"statusCode":502}}"#,
        )
        .unwrap();
        assert_eq!(live.status, Some(WebhookStatus::Other("archived".into())));
        assert_eq!(
            live.last_failure,
            Some(LastFailure {
                failed_at: String::new(),
                status_code: Some(502),
                message: String::new(),
            })
        );
        let bare: Live = serde_json::from_str(
            r#"{"id":"abc","name":"n","webhookUrl":"https://x","webhookEvent":[],"lastFailure":null}"#,
        )
        .unwrap();
        assert_eq!((bare.status, bare.last_failure), (None, None));
    }

    #[test]
    fn a_201_without_a_usable_id_is_unknown() {
        for body in [
            &b"<html>oops</html>"[..],
            br#"{"payload":{}}"#,
            br#"{"payload":{"id":""}}"#,
            br#"{"payload":{"id":42}}"#,
            b"",
        ] {
            assert!(
                matches!(
                    classify(201, body, None, None),
                    CreateOutcome::Unknown { .. }
                ),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn client_errors_fail_with_the_api_message() {
        assert_eq!(
            classify(
                400,
                br#"{"message":"webhookUrl must be a URL"}"#,
                None,
                None
            ),
            CreateOutcome::Failed {
                reason: "HTTP 400: webhookUrl must be a URL".into()
            }
        );
        assert!(
            matches!(classify(422, b"not json", None, None), CreateOutcome::Foreign { reason } if reason == "HTTP 422: not json")
        );
    }

    #[test]
    fn answers_the_api_never_gives_are_foreign() {
        for (status, body) in [
            (404, &br#"{"message":"Cannot POST /v1/webhook/create"}"#[..]),
            (405, b""),
            (400, b"<html><body>Bad Request</body></html>"),
            (422, br#"{"error":"x"}"#),
            (418, br#"{"message":7}"#),
        ] {
            assert!(
                matches!(
                    classify(status, body, None, None),
                    CreateOutcome::Foreign { .. }
                ),
                "{status} {}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            classify(409, br#"{"message":"exists"}"#, None, None),
            CreateOutcome::Failed { .. }
        ));
    }

    #[test]
    fn auth_errors_stop_the_run() {
        assert!(matches!(
            classify(401, br#"{"message":"bad key"}"#, None, None),
            CreateOutcome::Unauthorized { status: 401, .. }
        ));
        assert!(matches!(
            classify(403, b"", None, None),
            CreateOutcome::Unauthorized { status: 403, .. }
        ));
    }

    #[test]
    fn server_errors_are_unknown_and_429_is_rate_limited() {
        assert!(matches!(
            classify(502, b"<html>bad gateway</html>", None, None),
            CreateOutcome::Unknown { .. }
        ));
        let d = Some(Duration::from_secs(3));
        assert_eq!(
            classify(429, b"", d, None),
            CreateOutcome::RateLimited { retry_after: d }
        );
    }

    #[test]
    fn redirects_fail_naming_the_location() {
        let o = classify(307, b"", None, Some("http://elsewhere.example/".into()));
        assert!(
            matches!(o, CreateOutcome::Foreign { reason } if reason.contains("http://elsewhere.example/"))
        );
    }

    #[test]
    fn huge_bodies_are_cut_in_messages() {
        let body = vec![b'x'; 10_000];
        let CreateOutcome::Foreign { reason } = classify(418, &body, None, None) else {
            panic!("failed")
        };
        let cut = "x".repeat(crate::server_text::MAX_CHARS);
        assert_eq!(reason, format!("HTTP 418: {cut}…"));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let key = || Secret::new("k".into());
        let t = Duration::from_secs(5);
        assert!(Api::new("http://127.0.0.1:9", key(), t).is_ok());
        assert!(Api::new("http://localhost:9", key(), t).is_ok());
        // The one loopback rule (crate::host): `*.localhost` and IPv4-mapped loopback too.
        assert!(Api::new("http://api.localhost:9", key(), t).is_ok());
        assert!(Api::new("http://LOCALHOST.:9", key(), t).is_ok());
        assert!(Api::new("http://[::ffff:127.0.0.1]:9", key(), t).is_ok());
        assert!(Api::new("http://[::1]:9", key(), t).is_ok());
        for insecure in [
            "http://api.example.org",
            "http://localhost.example.org",
            "http://10.0.0.1",
            "http://[::ffff:10.0.0.1]",
        ] {
            assert!(
                matches!(Api::new(insecure, key(), t), Err(ApiError::Insecure { .. })),
                "{insecure}"
            );
        }
        assert!(Api::new("https://open-api.saleshandy.com", key(), t).is_ok());
        assert!(matches!(
            Api::new("ftp://x", key(), t),
            Err(ApiError::BadUrl { .. })
        ));
    }
}

/// Any answer a server may give — arbitrary bytes, arbitrary JSON, each holding a secret of
/// the run in one of the forms a server echoes — comes out as safe text: no control
/// character, no `::` or `##`, no secret, and bounded.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "S3cr/t+tok&\"x\" ü";

    fn redactor() -> Redactor {
        Redactor::new([SECRET, "api-key-1234"])
    }

    /// The secret as a server might echo it.
    fn echoed() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(SECRET.to_string()),
            Just(
                percent_encoding::utf8_percent_encode(SECRET, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            ),
            Just(
                serde_json::to_string(SECRET)
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_string()
            ),
            Just(SECRET.replace('&', "&amp;").replace('"', "&quot;")),
            Just("api-key-1234".to_string()),
        ]
    }

    /// Arbitrary text with the secret somewhere in it.
    fn text() -> impl Strategy<Value = String> {
        (
            any::<String>(),
            echoed(),
            any::<String>(),
            "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}:#\\n ]{0,12}",
        )
            .prop_map(|(a, s, b, c)| format!("{a}{c}{s}{c}{b}"))
    }

    fn assert_safe(text: &str) -> Result<(), TestCaseError> {
        prop_assert!(
            !text.chars().any(char::is_control),
            "control character in {text:?}"
        );
        prop_assert!(
            !text.contains("::") && !text.contains("##"),
            "workflow command in {text:?}"
        );
        prop_assert!(
            !text.contains("S3cr") && !text.contains("api-key-1234"),
            "secret in {text:?}"
        );
        prop_assert!(
            text.chars().count() <= 2 * crate::server_text::MAX_CHARS,
            "{} chars",
            text.chars().count()
        );
        Ok(())
    }

    fn create_texts(o: &CreateOutcome) -> Vec<String> {
        match o {
            CreateOutcome::Created {
                id,
                status,
                test_delivery,
            } => {
                let mut v = vec![id.clone(), status.as_str().to_string()];
                v.extend(test_delivery.clone());
                v
            }
            CreateOutcome::Failed { reason }
            | CreateOutcome::Foreign { reason }
            | CreateOutcome::NotSent { reason }
            | CreateOutcome::Unknown { reason } => vec![reason.clone()],
            CreateOutcome::Unauthorized { message, .. } => vec![message.clone()],
            CreateOutcome::RateLimited { .. } => Vec::new(),
        }
    }

    fn get_texts(o: &GetOutcome) -> Vec<String> {
        match o {
            GetOutcome::Found(live) => {
                let mut v: Vec<String> =
                    live.status.iter().map(|s| s.as_str().to_string()).collect();
                if let Some(f) = &live.last_failure {
                    v.push(f.failed_at.clone());
                    v.push(f.message.clone());
                }
                v
            }
            GetOutcome::NotFound => Vec::new(),
            GetOutcome::Unauthorized { message, .. } => vec![message.clone()],
            GetOutcome::Failed { reason } => vec![reason.clone()],
        }
    }

    proptest! {
        // A failure is printed with its minimal input, to be kept as a plain test: no file is
        // written beside the sources.
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_answering_a_create_or_a_read_are_safe_text(
            status in 100u16..600,
            head in proptest::collection::vec(any::<u8>(), 0..300),
            secret in echoed(),
            tail in proptest::collection::vec(any::<u8>(), 0..300),
            location in text(),
        ) {
            let body = [head, secret.into_bytes(), tail].concat();
            let r = redactor();
            for t in create_texts(&classify(status, &body, None, Some(location), &r)) {
                assert_safe(&t)?;
            }
            for t in get_texts(&classify_get(status, &body, &r)) {
                assert_safe(&t)?;
            }
        }

        #[test]
        fn any_json_answering_a_create_or_a_read_is_safe_text(
            status in prop_oneof![Just(200u16), Just(201), Just(400), Just(401), Just(422), Just(500), 100u16..600],
            message in text(),
            name in text(),
            state in text(),
            failed_at in text(),
            code in any::<Option<u16>>(),
        ) {
            let r = redactor();
            let create = serde_json::json!({
                "message": message,
                "payload": {"id": "abc123", "status": state, "testDelivery": {"status": name}},
            });
            let body = create.to_string().into_bytes();
            for t in create_texts(&classify(status, &body, None, None, &r)) {
                assert_safe(&t)?;
            }
            let live = serde_json::json!({
                "message": message,
                "payload": {
                    "id": "abc123", "name": name, "webhookUrl": message, "webhookEvent": [state],
                    "status": state, "failed": true,
                    "lastFailure": {"failedAt": failed_at, "statusCode": code, "message": message},
                },
            });
            for t in get_texts(&classify_get(status, live.to_string().as_bytes(), &r)) {
                assert_safe(&t)?;
            }
        }
    }
}
