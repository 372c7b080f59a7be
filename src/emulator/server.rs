//! Routing, authentication, request recording and the read endpoint.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{request::Parts, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::conn::ConnHandle;
use super::create;
use super::model::RecordedRequest;
use super::registry::Shared;

/// The largest request body the sandbox accepts.
const BODY_LIMIT: usize = 1024 * 1024;

/// How much of a too-large body is still read (and thrown away), so that the client, still
/// sending, reliably gets the 413 rather than a reset connection.
const DRAIN_LIMIT: usize = 16 * BODY_LIMIT;

/// The header that carries the account's API key.
const API_KEY_HEADER: &str = "x-api-key";

/// What a request asks for.
enum Route {
    Create,
    Get(String),
    Unknown,
}

impl Route {
    fn of(method: &Method, path: &str) -> Route {
        match (method, path.strip_prefix("/v1/webhook/")) {
            (&Method::POST, Some("create")) => Route::Create,
            (&Method::GET, Some(id)) if !id.is_empty() && !id.contains('/') => {
                Route::Get(id.to_owned())
            }
            _ => Route::Unknown,
        }
    }
}

/// The one handler: reads the request, then hands it to [`handle`].
pub(super) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = read_body(body).await;
    // Once a request has arrived it is handled to the end in its own task, even if the client
    // goes away meanwhile — as a real server does, so a create whose answer is lost still
    // creates (the case the tool's crash safety is about).
    let task = tokio::spawn(handle(shared, conn, parts, body));
    task.await.unwrap_or_else(|_| {
        message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the sandbox failed to handle the request",
        )
    })
}

/// Handles one request that has been read: records it, applies latency, routes,
/// authenticates, answers.
async fn handle(
    shared: Arc<Shared>,
    conn: ConnHandle,
    parts: axum::http::request::Parts,
    body: Result<Bytes, BodyError>,
) -> Response {
    // The sandbox's own surface is not the API: not recorded, no latency, no fault.
    if super::admin::owns(parts.uri.path()) {
        return match body {
            Ok(body) => super::admin::handle(&shared, &parts, &body),
            Err(error) => error.response(),
        };
    }
    shared.record(recorded(&parts, body.as_deref().unwrap_or_default()));
    let route = Route::of(&parts.method, parts.uri.path());
    let _in_flight = matches!(route, Route::Create).then(|| shared.begin_create());
    tokio::time::sleep(shared.latency()).await;
    let body = match body {
        Ok(body) => body,
        Err(error) => return error.response(),
    };
    if let Route::Unknown = route {
        let text = format!("Cannot {} {}", parts.method, parts.uri.path());
        return message(StatusCode::NOT_FOUND, &text);
    }
    let Some(api_key) = authorise(&shared, &parts.headers) else {
        return message(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: missing or invalid x-api-key",
        );
    };
    match route {
        Route::Create => create::handle(&shared, &conn, &api_key, &parts.headers, &body).await,
        Route::Get(id) => read(&shared, &api_key, &id),
        Route::Unknown => message(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// Why a request body could not be used.
enum BodyError {
    TooLarge,
    Unreadable,
}

impl BodyError {
    fn response(&self) -> Response {
        match self {
            BodyError::TooLarge => {
                let text = format!("the request body is larger than {BODY_LIMIT} bytes");
                message(StatusCode::PAYLOAD_TOO_LARGE, &text)
            }
            BodyError::Unreadable => message(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            ),
        }
    }
}

/// Reads a request body of at most [`BODY_LIMIT`] bytes; a larger one is drained (up to
/// [`DRAIN_LIMIT`]) and refused.
async fn read_body(mut body: Body) -> Result<Bytes, BodyError> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame.map_err(|_| BodyError::Unreadable)?.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > DRAIN_LIMIT {
            return Err(BodyError::TooLarge);
        }
        if total <= BODY_LIMIT {
            kept.extend_from_slice(&data);
        }
    }
    if total > BODY_LIMIT {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(kept))
}

/// The account a request belongs to, when its key is one the sandbox serves.
fn authorise(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let key = headers.get(API_KEY_HEADER)?.to_str().ok()?;
    shared.keys.accepts(key).then(|| key.to_owned())
}

/// `GET /v1/webhook/{id}`.
fn read(shared: &Shared, api_key: &str, id: &str) -> Response {
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        let text = format!("Invalid webhook id `{id}`: expected 24 hexadecimal characters");
        return message(StatusCode::BAD_REQUEST, &text);
    }
    match shared.get(api_key, &id.to_ascii_lowercase()) {
        Some(webhook) => json_response(
            StatusCode::OK,
            json!({"message": "Webhook fetched successfully", "payload": webhook.read_json()}),
        ),
        None => message(StatusCode::NOT_FOUND, "Webhook not found"),
    }
}

/// A request as the tests will inspect it.
fn recorded(parts: &Parts, body: &[u8]) -> RecordedRequest {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
        received_at: std::time::Instant::now(),
    }
}

/// A JSON answer.
pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A JSON `{"message": ...}` answer.
pub(super) fn message(status: StatusCode, text: &str) -> Response {
    json_response(status, json!({ "message": text }))
}

/// The status for a code given by a test, or `fallback` when it is not a valid code.
pub(super) fn status_or(code: u16, fallback: StatusCode) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(fallback)
}

/// A response with a raw body, for the faults that answer something other than JSON.
pub(super) fn raw(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    response
}
