//! The sandbox's "Saleshandy UI": what a person does in Saleshandy's Integrations page, and
//! the faults a rehearsal injects, as an HTTP surface that exists only here — never in the
//! API the tool talks to.
//!
//! JSON, under `/sandbox/`:
//!
//! | Request | What it does |
//! |---|---|
//! | `GET /sandbox/webhooks[?account=KEY]` | `{"webhooks": [...]}`, every account's or one's, in creation order |
//! | `GET /sandbox/webhooks/ID` | one webhook |
//! | `PATCH /sandbox/webhooks/ID` | edits any of `name`, `webhookUrl`, `webhookEvent`, `headers` (checked as a create checks them) |
//! | `POST /sandbox/webhooks/ID/pause`, `.../resume` | pauses it; resumes it (within the account's 50 active) |
//! | `POST /sandbox/webhooks/ID/fail` | marks its last delivery failed: `{"statusCode": 500, "message": "..."}`, both optional (0: no answer) |
//! | `DELETE /sandbox/webhooks/ID` (or `POST .../delete`) | deletes it |
//! | `POST /sandbox/faults` | queues `count` (1 to 1000) faults for the next creates: `{"fault": KIND, "count", "retryAfter", "status", "delayMs", "name"}` |
//! | `GET /sandbox/faults`, `DELETE /sandbox/faults` | the faults still waiting; drops them |
//!
//! The fault kinds: `rate-limit` (429, `Retry-After: retryAfter` when given), `server-error`
//! (`status`, 500 to 599, default 503; nothing created), `lost-answer` (created, then the
//! connection closes without an answer), `garbage-201` (created, then a 201 that is not JSON),
//! `latency` (`delayMs` more before the create is handled). With `name`, a fault waits for the
//! create of that name.
//!
//! `GET /` is the page ([`super::page`]); its forms post to the same actions and are answered
//! with a redirect back to it. Every answer is refused (403) unless the request's `Host` is
//! this machine and, when the browser sends an `Origin`, it is the page's own: another web
//! site cannot drive the sandbox from a visitor's browser.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{header, request::Parts, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::create::ACTIVE_LIMIT;
use super::model::{Fault, LastFailure, StoredWebhook, Target, WebhookStatus};
use super::page;
use super::registry::{Refusal, Shared};
use super::request_rules::{self, Edit};
use super::server::{json_response, message};

/// The most faults one request may queue.
const MAX_FAULTS: u64 = 1000;

/// Whether a request is for this surface rather than the API.
pub(super) fn owns(path: &str) -> bool {
    path == "/" || path == "/sandbox" || path.starts_with("/sandbox/")
}

/// A change a person makes to one webhook.
enum Action {
    Edit,
    Pause,
    Resume,
    Fail,
    Delete,
}

/// Handles a request for this surface.
pub(super) fn handle(shared: &Shared, parts: &Parts, body: &[u8]) -> Response {
    if let Err(why) = same_machine(&parts.headers) {
        return message(StatusCode::FORBIDDEN, &why);
    }
    let form = is_form(&parts.headers);
    let path = parts.uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let answer = match (&parts.method, segments.as_slice()) {
        (&Method::GET, [""]) | (&Method::GET, []) => return page_answer(shared),
        (&Method::GET, ["sandbox", "webhooks"]) => Ok(list(shared, parts.uri.query())),
        (&Method::GET, ["sandbox", "webhooks", id]) => shared
            .find(id)
            .map(|w| webhook_json(&w))
            .ok_or(Refusal::NotFound),
        (&Method::PATCH, ["sandbox", "webhooks", id]) => act(shared, id, Action::Edit, body, form),
        (&Method::DELETE, ["sandbox", "webhooks", id]) => {
            act(shared, id, Action::Delete, body, form)
        }
        (&Method::POST, ["sandbox", "webhooks", id, action]) => match action_named(action) {
            Some(action) => act(shared, id, action, body, form),
            None => return not_found(parts),
        },
        (&Method::GET, ["sandbox", "faults"]) => Ok(pending(shared)),
        (&Method::POST, ["sandbox", "faults"]) => {
            queue_faults(shared, body, form).map(|()| pending(shared))
        }
        (&Method::DELETE, ["sandbox", "faults"]) => {
            shared.clear_faults();
            Ok(pending(shared))
        }
        _ => return not_found(parts),
    };
    match (answer, form) {
        (Ok(_), true) => see_other("/"),
        (Ok(value), false) => json_response(StatusCode::OK, value),
        (Err(refusal), true) => page::refused(status_of(&refusal), &reason(&refusal)),
        (Err(refusal), false) => message(status_of(&refusal), &reason(&refusal)),
    }
}

fn page_answer(shared: &Shared) -> Response {
    let html = page::render(&shared.list(None), &shared.faults());
    let mut response = (StatusCode::OK, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn not_found(parts: &Parts) -> Response {
    let text = format!(
        "Cannot {} {} (the sandbox's own requests are listed at GET /)",
        parts.method,
        parts.uri.path()
    );
    message(StatusCode::NOT_FOUND, &text)
}

fn action_named(name: &str) -> Option<Action> {
    Some(match name {
        "edit" => Action::Edit,
        "pause" => Action::Pause,
        "resume" => Action::Resume,
        "fail" => Action::Fail,
        "delete" => Action::Delete,
        _ => return None,
    })
}

/// Refuses a request that does not come from this machine's own pages: a `Host` that is not
/// loopback (DNS rebinding), or an `Origin` that is not the sandbox's (another site's form).
fn same_machine(headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let own = format!("http://{host}");
    if !crate::host::is_loopback_url(&own) {
        return Err(format!(
            "the sandbox answers only requests to 127.0.0.1 or localhost, not to `{}`",
            crate::server_text::one_line(host)
        ));
    }
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) if origin != own => Err(format!(
            "a page from `{}` may not change the sandbox",
            crate::server_text::one_line(origin)
        )),
        _ => Ok(()),
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn see_other(location: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, header::HeaderValue::from_static(location));
    response
}

fn status_of(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
        Refusal::Limit => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn reason(refusal: &Refusal) -> String {
    match refusal {
        Refusal::NotFound => "Webhook not found".to_string(),
        Refusal::Invalid(problems) => problems.join("; "),
        Refusal::Limit => format!(
            "Webhook limit reached: an account can have at most {ACTIVE_LIMIT} active webhooks"
        ),
        Refusal::Storage(why) => why.clone(),
    }
}

/// A webhook as this surface shows it: the read answer's fields, its account and creation.
pub(super) fn webhook_json(w: &StoredWebhook) -> Value {
    let mut value = w.read_json();
    if let Value::Object(map) = &mut value {
        map.insert("account".into(), json!(w.api_key));
        map.insert("createdAt".into(), json!(w.created_at));
    }
    value
}

fn list(shared: &Shared, query: Option<&str>) -> Value {
    let account = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "account")
            .map(|(_, v)| v.into_owned())
    });
    let webhooks: Vec<Value> = shared
        .list(account.as_deref())
        .iter()
        .map(webhook_json)
        .collect();
    json!({ "webhooks": webhooks })
}

/// Applies one person's action to a webhook.
fn act(
    shared: &Shared,
    id: &str,
    action: Action,
    body: &[u8],
    form: bool,
) -> Result<Value, Refusal> {
    let changed = match action {
        Action::Delete => shared.delete(id)?,
        Action::Edit => {
            let fields = fields(body, form)?;
            let edit = match form {
                true => request_rules::edit_request(&form_edit(&fields)),
                false => request_rules::edit_request(&fields),
            }
            .map_err(Refusal::Invalid)?;
            shared.change(id, ACTIVE_LIMIT, |w| {
                apply_edit(w, edit);
                Ok(())
            })?
        }
        Action::Pause => shared.change(id, ACTIVE_LIMIT, |w| {
            w.status = WebhookStatus::Paused;
            Ok(())
        })?,
        Action::Resume => shared.change(id, ACTIVE_LIMIT, |w| {
            w.status = WebhookStatus::Active;
            Ok(())
        })?,
        Action::Fail => {
            let failure = failure(&fields(body, form)?)?;
            shared.change(id, ACTIVE_LIMIT, |w| {
                w.failed = true;
                w.last_failure = Some(failure);
                Ok(())
            })?
        }
    };
    Ok(webhook_json(&changed))
}

fn apply_edit(w: &mut StoredWebhook, edit: Edit) {
    if let Some(name) = edit.name {
        w.name = name;
    }
    if let Some(url) = edit.webhook_url {
        w.webhook_url = url;
    }
    if let Some(events) = edit.events {
        w.events = events;
    }
    if let Some(headers) = edit.headers {
        w.headers = headers;
    }
}

/// A request's fields: its JSON object (none: empty), or its form as strings.
fn fields(body: &[u8], form: bool) -> Result<Map<String, Value>, Refusal> {
    if form {
        return Ok(url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect());
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Refusal::Invalid(vec![
            "the request body must be a JSON object".into(),
        ])),
        Err(e) => Err(Refusal::Invalid(vec![format!(
            "the request body is not valid JSON: {e}"
        )])),
    }
}

/// The page's edit form as the JSON fields it stands for: events separated by commas or
/// blanks, one `Name: value` header per line.
fn form_edit(fields: &Map<String, Value>) -> Map<String, Value> {
    let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut edit = Map::new();
    for key in ["name", "webhookUrl"] {
        if fields.contains_key(key) {
            edit.insert(key.into(), json!(text(key).trim()));
        }
    }
    if fields.contains_key("webhookEvent") {
        let events: Vec<&str> = text("webhookEvent")
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .collect();
        edit.insert("webhookEvent".into(), json!(events));
    }
    if fields.contains_key("headers") {
        let mut headers = Map::new();
        for line in text("headers").lines().filter(|l| !l.trim().is_empty()) {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            headers.insert(name.trim().into(), json!(value.trim()));
        }
        edit.insert("headers".into(), Value::Object(headers));
    }
    edit
}

/// The failure a `fail` action records: now, with the status code and message given.
fn failure(fields: &Map<String, Value>) -> Result<LastFailure, Refusal> {
    let code = match fields.get("statusCode") {
        None | Some(Value::Null) => 500,
        Some(Value::String(s)) if s.trim().is_empty() => 500,
        Some(v) => number(v)
            .filter(|c| *c == 0 || (100..=599).contains(c))
            .ok_or_else(|| {
                Refusal::Invalid(vec![
                    "statusCode must be 0 (no answer) or an HTTP status from 100 to 599".into(),
                ])
            })?,
    };
    let message = match fields.get("message").and_then(Value::as_str).map(str::trim) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ if code == 0 => "the destination did not answer".to_string(),
        _ => format!("the destination answered HTTP {code}"),
    };
    Ok(LastFailure {
        failed_at: super::now_rfc3339(),
        status_code: (code != 0).then_some(code as u16),
        message,
    })
}

/// A whole number given as JSON or as a form's text.
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Queues the faults a request describes.
fn queue_faults(shared: &Shared, body: &[u8], form: bool) -> Result<(), Refusal> {
    let fields = fields(body, form)?;
    let invalid = |m: String| Refusal::Invalid(vec![m]);
    let get = |k: &str| {
        fields
            .get(k)
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
    };
    let whole = |k: &str, range: std::ops::RangeInclusive<u64>, default: u64| match get(k) {
        None => Ok(default),
        Some(v) => number(v).filter(|n| range.contains(n)).ok_or_else(|| {
            invalid(format!(
                "{k} must be a whole number from {} to {}",
                range.start(),
                range.end()
            ))
        }),
    };
    let kind = get("fault").and_then(Value::as_str).unwrap_or_default();
    let fault = match kind {
        "rate-limit" => Fault::TooManyRequests {
            retry_after: match get("retryAfter") {
                None => None,
                Some(_) => Some(whole("retryAfter", 0..=3600, 0)?),
            },
        },
        "server-error" => Fault::ServerError(whole("status", 500..=599, 503)? as u16),
        "lost-answer" => Fault::DropAfterCreate,
        "garbage-201" => Fault::GarbageBody,
        "latency" => Fault::Delay(Duration::from_millis(whole("delayMs", 1..=60_000, 1000)?)),
        other => {
            return Err(invalid(format!(
            "fault must be rate-limit, server-error, lost-answer, garbage-201 or latency, not `{}`",
            crate::server_text::one_line(other)
        )))
        }
    };
    let count = whole("count", 1..=MAX_FAULTS, 1)?;
    let target = match get("name").and_then(Value::as_str) {
        Some(name) => Target::Name(name.to_string()),
        None => Target::Any,
    };
    for _ in 0..count {
        shared.inject(target.clone(), fault.clone());
    }
    Ok(())
}

fn pending(shared: &Shared) -> Value {
    let faults: Vec<Value> = shared
        .faults()
        .iter()
        .map(|(target, fault)| fault_json(target, fault))
        .collect();
    json!({ "pending": faults })
}

/// A waiting fault as `GET /sandbox/faults` lists it.
pub(super) fn fault_json(target: &Target, fault: &Fault) -> Value {
    let mut map: BTreeMap<&str, Value> = BTreeMap::new();
    let kind = match fault {
        Fault::TooManyRequests { retry_after } => {
            if let Some(s) = retry_after {
                map.insert("retryAfter", json!(s));
            }
            "rate-limit"
        }
        Fault::ServerError(code) => {
            map.insert("status", json!(code));
            "server-error"
        }
        Fault::ServerErrorAfterCreate(code) => {
            map.insert("status", json!(code));
            "server-error-after-create"
        }
        Fault::DropAfterCreate => "lost-answer",
        Fault::GarbageBody => "garbage-201",
        Fault::MissingId => "missing-id",
        Fault::Reject { status, .. } => {
            map.insert("status", json!(status));
            "reject"
        }
        Fault::Redirect { status, .. } => {
            map.insert("status", json!(status));
            "redirect"
        }
        Fault::Delay(d) => {
            map.insert("delayMs", json!(d.as_millis() as u64));
            "latency"
        }
    };
    map.insert("fault", json!(kind));
    if let Target::Name(name) = target {
        map.insert("name", json!(name));
    }
    json!(map)
}
