//! Validation of a create request, with one human message per problem, naming the field.

use std::collections::{BTreeMap, HashSet};

use axum::http::{header, HeaderMap};
use serde_json::{Map, Value};

use crate::config::rules::{check_url, header_value_problem, is_header_token, UrlIssue};
use crate::event::Event;

/// The four fields of `POST /v1/webhook/create`, all required.
pub(super) const FIELDS: [&str; 4] = ["name", "webhookUrl", "webhookEvent", "headers"];

/// A create request that passed validation.
#[derive(Debug)]
pub(super) struct CreateRequest {
    pub name: String,
    pub webhook_url: String,
    pub events: Vec<String>,
    pub headers: BTreeMap<String, String>,
}

/// Validates the content type and body of a create request; every problem found, when any.
pub(super) fn create_request(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CreateRequest, Vec<String>> {
    if !is_json(headers) {
        return Err(vec!["Content-Type must be application/json".into()]);
    }
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(vec!["the request body must be a JSON object".into()]),
        Err(e) => return Err(vec![format!("the request body is not valid JSON: {e}")]),
    };
    let mut problems = unknown_fields(&object);
    let name = name(&object).map_err(|p| problems.push(p)).ok();
    let webhook_url = webhook_url(&object).map_err(|p| problems.push(p)).ok();
    let events = events(&object).map_err(|p| problems.extend(p)).ok();
    let custom_headers = custom_headers(&object).map_err(|p| problems.extend(p)).ok();
    match (name, webhook_url, events, custom_headers) {
        (Some(name), Some(webhook_url), Some(events), Some(headers)) if problems.is_empty() => {
            Ok(CreateRequest {
                name,
                webhook_url,
                events,
                headers,
            })
        }
        _ => Err(problems),
    }
}

/// A change to a stored webhook (the sandbox's "UI"): any of the create request's fields,
/// each checked as a create checks it.
#[derive(Debug, Default)]
pub(super) struct Edit {
    pub name: Option<String>,
    pub webhook_url: Option<String>,
    pub events: Option<Vec<String>>,
    pub headers: Option<BTreeMap<String, String>>,
}

/// Validates a change given as a JSON object of some of the create request's fields.
pub(super) fn edit_request(object: &Map<String, Value>) -> Result<Edit, Vec<String>> {
    let mut problems = unknown_fields(object);
    if object.is_empty() {
        problems.push("nothing to change: give name, webhookUrl, webhookEvent or headers".into());
    }
    let has = |field: &str| object.contains_key(field);
    let edit = Edit {
        name: has("name")
            .then(|| name(object).map_err(|p| problems.push(p)).ok())
            .flatten(),
        webhook_url: has("webhookUrl")
            .then(|| webhook_url(object).map_err(|p| problems.push(p)).ok())
            .flatten(),
        events: has("webhookEvent")
            .then(|| events(object).map_err(|p| problems.extend(p)).ok())
            .flatten(),
        headers: has("headers")
            .then(|| custom_headers(object).map_err(|p| problems.extend(p)).ok())
            .flatten(),
    };
    if problems.is_empty() {
        Ok(edit)
    } else {
        Err(problems)
    }
}

/// One problem per field that is not one of [`FIELDS`].
fn unknown_fields(object: &Map<String, Value>) -> Vec<String> {
    object
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .map(|k| {
            format!(
                "unknown field `{k}` (the fields are name, webhookUrl, webhookEvent and headers)"
            )
        })
        .collect()
}

/// The name of a create request, loosely, for choosing a name-targeted fault.
pub(super) fn name_hint(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut object)) => match object.remove("name") {
            Some(Value::String(name)) => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the request says its body is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// A required field, or the message saying it is missing.
fn required<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    hint: &str,
) -> Result<&'a Value, String> {
    match object.get(field) {
        Some(Value::Null) | None => Err(format!("{field} is required{hint}")),
        Some(value) => Ok(value),
    }
}

fn name(object: &Map<String, Value>) -> Result<String, String> {
    match required(object, "name", "")? {
        Value::String(name) if name.trim().is_empty() => Err("name must not be empty".into()),
        Value::String(name) => Ok(name.clone()),
        other => Err(format!("name must be a string, not {}", kind(other))),
    }
}

fn webhook_url(object: &Map<String, Value>) -> Result<String, String> {
    let url = match required(object, "webhookUrl", "")? {
        Value::String(url) => url,
        other => return Err(format!("webhookUrl must be a string, not {}", kind(other))),
    };
    match check_url(url).into_iter().find(|issue| !issue.is_warning()) {
        None => Ok(url.clone()),
        Some(UrlIssue::Scheme(scheme)) => Err(format!(
            "webhookUrl must be an http or https URL, not `{scheme}:`"
        )),
        Some(UrlIssue::Credentials) => {
            Err("webhookUrl must not contain a user name or password".into())
        }
        Some(UrlIssue::Invalid(why)) => Err(format!(
            "webhookUrl must be a valid absolute http or https URL with a host: {why}"
        )),
        Some(other) => Err(format!("webhookUrl is not usable: {other:?}")),
    }
}

fn events(object: &Map<String, Value>) -> Result<Vec<String>, Vec<String>> {
    let items = match required(object, "webhookEvent", "").map_err(|p| vec![p])? {
        Value::Array(items) if items.is_empty() => {
            return Err(vec!["webhookEvent must list at least one event".into()])
        }
        Value::Array(items) => items,
        other => {
            return Err(vec![format!(
                "webhookEvent must be an array of event names, not {}",
                kind(other)
            )])
        }
    };
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut events = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(name) if Event::parse(name).is_none() => problems.push(format!(
                "webhookEvent[{i}] `{name}` is not an accepted event"
            )),
            Value::String(name) if !seen.insert(name.as_str()) => {
                problems.push(format!("webhookEvent lists `{name}` more than once"))
            }
            Value::String(name) => events.push(name.clone()),
            other => problems.push(format!(
                "webhookEvent[{i}] must be a string, not {}",
                kind(other)
            )),
        }
    }
    if problems.is_empty() {
        Ok(events)
    } else {
        Err(problems)
    }
}

fn custom_headers(object: &Map<String, Value>) -> Result<BTreeMap<String, String>, Vec<String>> {
    let entries =
        match required(object, "headers", " (pass {} when there are none)").map_err(|p| vec![p])? {
            Value::Object(entries) => entries,
            other => {
                return Err(vec![format!(
                    "headers must be an object of header names to string values, not {}",
                    kind(other)
                )])
            }
        };
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut headers = BTreeMap::new();
    for (name, value) in entries {
        match header_problem(name, value) {
            Some(problem) => problems.push(problem),
            None if !seen.insert(name.to_ascii_lowercase()) => problems.push(format!(
                "headers has `{name}` more than once (header names ignore case)"
            )),
            None => {
                headers.insert(name.clone(), value.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    if problems.is_empty() {
        Ok(headers)
    } else {
        Err(problems)
    }
}

/// What is wrong with one custom header, if anything.
fn header_problem(name: &str, value: &Value) -> Option<String> {
    let Value::String(text) = value else {
        return Some(format!(
            "headers.{name} must be a string, not {}",
            kind(value)
        ));
    };
    if !is_header_token(name) {
        return Some(format!("headers: `{name}` is not a valid HTTP header name"));
    }
    header_value_problem(text).map(|p| format!("headers.{name} must not contain {p}"))
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
