//! `sandbox list | edit | pause | resume | delete | fail | fault`: what a person does in
//! Saleshandy's UI, done to a sandbox through its own HTTP surface (`/sandbox/…`, which only
//! the sandbox has), for rehearsing what `status` and `state import` are for.
//!
//! They reach a sandbox on this machine only: `--sandbox-url` must be plain http to loopback,
//! and `--data FILE` uses the sandbox serving that file or the file itself. What the sandbox
//! answers is server text: it is cleaned before it is printed.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::account::Rehearsal;
use crate::cli::{FaultKind, ListFormat, SandboxAt, SandboxCommand};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::server_text::one_line;
use crate::ui::{print, Ui};

/// How long a sandbox may take to answer one of these requests.
const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn run(command: &SandboxCommand, _ui: Ui) -> Result<Outcome, Error> {
    let text = crate::runtime::block_on(operate(command))??;
    print(&text)?;
    Ok(Outcome::Success)
}

/// Runs one command against its sandbox and says what it did.
async fn operate(command: &SandboxCommand) -> Result<String, Error> {
    let at = match command {
        SandboxCommand::List(a) => &a.at,
        SandboxCommand::Edit(a) => &a.at,
        SandboxCommand::Pause(a) | SandboxCommand::Resume(a) | SandboxCommand::Delete(a) => &a.at,
        SandboxCommand::Fail(a) => &a.at,
        SandboxCommand::Fault(a) => &a.at,
    };
    let sandbox = Target::attach(at).await?;
    let result = request(command, &sandbox.url()).await;
    sandbox.finish().await;
    result
}

/// The sandbox a command acts on.
enum Target {
    Url(String),
    File(Rehearsal),
}

impl Target {
    async fn attach(at: &SandboxAt) -> Result<Target, Error> {
        if let Some(file) = &at.data {
            return Ok(Target::File(Rehearsal::attach_existing(file).await?));
        }
        let url = at.sandbox_url.trim_end_matches('/').to_string();
        if let Some(reason) = not_local(&url) {
            return Err(Error::SandboxNotLocal {
                url: crate::terminal_text::printable_line(&url),
                reason,
            });
        }
        Ok(Target::Url(url))
    }

    fn url(&self) -> String {
        match self {
            Target::Url(url) => url.clone(),
            Target::File(r) => r.url(),
        }
    }

    async fn finish(self) {
        if let Target::File(r) = self {
            r.finish().await;
        }
    }
}

/// Why `url` cannot be a sandbox's, if it cannot.
fn not_local(url: &str) -> Option<&'static str> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("it is not a URL");
    };
    if parsed.scheme() != "http" {
        return Some("a sandbox is served over plain http");
    }
    if !crate::host::is_loopback_url(url) {
        return Some("it is not on this machine (127.0.0.1, ::1 or localhost)");
    }
    if parsed.path() != "/" || parsed.query().is_some() || !parsed.username().is_empty() {
        return Some("give only the sandbox's address, e.g. http://127.0.0.1:8080");
    }
    None
}

/// Sends the command's request and describes the answer.
async fn request(command: &SandboxCommand, base: &str) -> Result<String, Error> {
    use reqwest::Method;
    let webhook = |id: &str, action: &str| {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        match action {
            "" => format!("{base}/sandbox/webhooks/{id}"),
            _ => format!("{base}/sandbox/webhooks/{id}/{action}"),
        }
    };
    match command {
        SandboxCommand::List(a) => {
            let mut url = format!("{base}/sandbox/webhooks");
            if let Some(account) = &a.account {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("account", account)
                    .finish();
                url = format!("{url}?{q}");
            }
            let answer = call(Method::GET, &url, None).await?;
            let webhooks = answer
                .get("webhooks")
                .and_then(Value::as_array)
                .ok_or_else(not_a_sandbox)?;
            Ok(match a.format {
                ListFormat::Json => {
                    let cleaned = clean(&json!({ "webhooks": webhooks }));
                    let mut text = serde_json::to_string_pretty(&cleaned).unwrap_or_default();
                    text.push('\n');
                    text
                }
                ListFormat::Human => list_text(webhooks, a.account.as_deref()),
            })
        }
        SandboxCommand::Edit(a) => {
            let mut body = Map::new();
            if let Some(name) = &a.name {
                body.insert("name".into(), json!(name));
            }
            if let Some(url) = &a.url {
                body.insert("webhookUrl".into(), json!(url));
            }
            if let Some(events) = &a.events {
                let events: Vec<&str> = events.iter().map(|e| e.trim()).collect();
                body.insert("webhookEvent".into(), json!(events));
            }
            if a.no_headers || !a.header.is_empty() {
                let headers: Map<String, Value> = a
                    .header
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                body.insert("headers".into(), Value::Object(headers));
            }
            if body.is_empty() {
                return Err(Error::SandboxRefused {
                    message: "nothing to change".into(),
                    help: "give --name, --url, --events, --header or --no-headers".into(),
                });
            }
            let w = call(
                Method::PATCH,
                &webhook(&a.id, ""),
                Some(Value::Object(body)),
            )
            .await?;
            let changed = [
                (a.name.is_some(), "name"),
                (a.url.is_some(), "URL"),
                (a.events.is_some(), "events"),
                (a.no_headers || !a.header.is_empty(), "headers"),
            ]
            .iter()
            .filter(|(given, _)| *given)
            .map(|(_, what)| *what)
            .collect::<Vec<_>>()
            .join(", ");
            Ok(format!(
                "Edited webhook {} ({changed}): `saleshandy-webhooks status` now reports the drift.\n{}",
                field(&w, "id"),
                details(&w)
            ))
        }
        SandboxCommand::Pause(a) => {
            let w = call(Method::POST, &webhook(&a.id, "pause"), None).await?;
            Ok(format!(
                "Paused webhook {} ({}): `saleshandy-webhooks status` now reports it paused.\n",
                field(&w, "id"),
                field(&w, "name")
            ))
        }
        SandboxCommand::Resume(a) => {
            let w = call(Method::POST, &webhook(&a.id, "resume"), None).await?;
            Ok(format!(
                "Resumed webhook {} ({}): it is active again.\n",
                field(&w, "id"),
                field(&w, "name")
            ))
        }
        SandboxCommand::Delete(a) => {
            let w = call(Method::DELETE, &webhook(&a.id, ""), None).await?;
            Ok(format!(
                "Deleted webhook {} ({}): `saleshandy-webhooks status` now reports it deleted.\n",
                field(&w, "id"),
                field(&w, "name")
            ))
        }
        SandboxCommand::Fail(a) => {
            let mut body = json!({ "statusCode": a.status_code });
            if let Some(message) = &a.message {
                body["message"] = json!(message);
            }
            let w = call(Method::POST, &webhook(&a.id, "fail"), Some(body)).await?;
            Ok(format!(
                "Marked the last delivery of webhook {} ({}) failed: `saleshandy-webhooks status` now reports the failure.\n{}",
                field(&w, "id"),
                field(&w, "name"),
                failure_line(&w).unwrap_or_default()
            ))
        }
        SandboxCommand::Fault(a) => {
            let kind = match a.kind {
                FaultKind::RateLimit => "rate-limit",
                FaultKind::ServerError => "server-error",
                FaultKind::LostAnswer => "lost-answer",
                FaultKind::Garbage201 => "garbage-201",
                FaultKind::Latency => "latency",
            };
            let mut body = json!({ "fault": kind, "count": a.count });
            for (key, value) in [
                ("retryAfter", a.retry_after),
                ("status", a.status.map(u64::from)),
                ("delayMs", a.delay_ms),
            ] {
                if let Some(v) = value {
                    body[key] = json!(v);
                }
            }
            if let Some(name) = &a.name {
                body["name"] = json!(name);
            }
            let answer = call(Method::POST, &format!("{base}/sandbox/faults"), Some(body)).await?;
            let waiting = answer
                .get("pending")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let for_whom = match &a.name {
                Some(name) => format!("the next creates of `{}`", one_line(name)),
                None => "the next creates".to_string(),
            };
            Ok(format!(
                "Queued {} {kind} for {for_whom}; {} waiting in all.\n",
                crate::render::text::count(a.count as usize, "fault"),
                waiting
            ))
        }
    }
}

/// One request to the sandbox's own surface; its JSON answer, or why it failed.
async fn call(method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value, Error> {
    let base = url.split("/sandbox/").next().unwrap_or(url).to_string();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| unreachable(&base, &e))?;
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| unreachable(&base, &e))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| unreachable(&base, &e))?;
    let json: Option<Value> = serde_json::from_str(&text).ok();
    if status.is_success() {
        return json.filter(Value::is_object).ok_or_else(not_a_sandbox);
    }
    let message = json
        .as_ref()
        .and_then(|j| j.get("message"))
        .and_then(Value::as_str)
        .map(one_line)
        .ok_or_else(not_a_sandbox)?;
    let help = match status.as_u16() {
        404 => "`saleshandy-webhooks sandbox list` shows the ids it holds",
        422 => "pause or delete another webhook of this account first",
        403 => "the sandbox answers only requests made to 127.0.0.1 or localhost",
        400 => "fix the value it names and run the command again",
        _ => "run the command again; if it keeps failing, restart the sandbox",
    };
    Err(Error::SandboxRefused {
        message: format!("{message} (HTTP {})", status.as_u16()),
        help: help.to_string(),
    })
}

fn unreachable(url: &str, e: &reqwest::Error) -> Error {
    Error::SandboxUnreachable {
        url: url.to_string(),
        reason: one_line(&crate::error_chain::one_line(e)),
        help: "start one with `saleshandy-webhooks sandbox` (it listens on 127.0.0.1:8080), or name it with --sandbox-url URL or --data FILE".to_string(),
    }
}

fn not_a_sandbox() -> Error {
    Error::SandboxRefused {
        message: "the answer is not a sandbox's".into(),
        help: "check that --sandbox-url names a `saleshandy-webhooks sandbox`".into(),
    }
}

/// Every string in `value` cleaned as server text is (objects' keys included).
fn clean(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(one_line(s)),
        Value::Array(items) => Value::Array(items.iter().map(clean).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (one_line(k), clean(v))).collect())
        }
        other => other.clone(),
    }
}

/// A string field of a webhook, cleaned to print.
fn field(w: &Value, key: &str) -> String {
    one_line(w.get(key).and_then(Value::as_str).unwrap_or_default())
}

/// The name, URL, events and header names of a webhook, a line each.
fn details(w: &Value) -> String {
    let events: Vec<String> = w
        .get("webhookEvent")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(one_line).collect())
        .unwrap_or_default();
    let headers: Vec<String> = w
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.keys().map(|k| one_line(k)).collect())
        .unwrap_or_default();
    let headers = match headers.is_empty() {
        true => "none".to_string(),
        false => headers.join(", "),
    };
    format!(
        "  name:    {}\n  url:     {}\n  events:  {}\n  headers: {headers}\n",
        field(w, "name"),
        field(w, "webhookUrl"),
        events.join(", ")
    )
}

/// `  last failure: HTTP 500 at T: message`, when its last delivery failed.
fn failure_line(w: &Value) -> Option<String> {
    let f = w.get("lastFailure").filter(|f| f.is_object())?;
    let answer = match f.get("statusCode").and_then(Value::as_u64) {
        Some(code) if code > 0 => format!("HTTP {code}"),
        _ => "no HTTP answer".to_string(),
    };
    Some(format!(
        "  last failure: {answer} at {}: {}\n",
        field(f, "failedAt"),
        field(f, "message")
    ))
}

/// The human list: per account, a line per webhook (id, status, name, URL) and its last
/// failure.
fn list_text(webhooks: &[Value], account: Option<&str>) -> String {
    if webhooks.is_empty() {
        return match account {
            Some(a) => format!("The sandbox holds no webhook for {}.\n", one_line(a)),
            None => "The sandbox holds no webhook yet.\n".to_string(),
        };
    }
    let mut accounts: Vec<String> = Vec::new();
    for w in webhooks {
        let a = field(w, "account");
        if !accounts.contains(&a) {
            accounts.push(a);
        }
    }
    let width = |key: &str| {
        webhooks
            .iter()
            .map(|w| field(w, key).chars().count())
            .max()
            .unwrap_or(0)
    };
    let (status_w, name_w) = (width("status").max(6), width("name").max(4));
    let mut out = String::new();
    for (i, a) in accounts.iter().enumerate() {
        let of: Vec<&Value> = webhooks
            .iter()
            .filter(|w| field(w, "account") == *a)
            .collect();
        let active = of.iter().filter(|w| field(w, "status") == "active").count();
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Account {a}: {}, {active} active",
            crate::render::text::count(of.len(), "webhook")
        );
        for w in of {
            let _ = writeln!(
                out,
                "  {}  {:status_w$}  {:name_w$}  {}",
                field(w, "id"),
                field(w, "status"),
                field(w, "name"),
                field(w, "webhookUrl"),
            );
            if let Some(line) = failure_line(w) {
                out.push_str("  ");
                out.push_str(&line);
            }
        }
    }
    out
}
