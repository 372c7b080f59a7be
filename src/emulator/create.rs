//! `POST /v1/webhook/create`: faults, validation, the account limit, the test delivery.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::conn::ConnHandle;
use super::delivery::{Delivery, Outcome};
use super::model::{Fault, LastFailure, StoredWebhook, WebhookStatus};
use super::registry::{Refusal, Shared};
use super::request_rules::{self, CreateRequest};
use super::server::{json_response, message, raw, status_or};

/// At most this many active webhooks per account.
pub const ACTIVE_LIMIT: usize = 50;

/// Handles an authorised create request.
pub(super) async fn handle(
    shared: &Shared,
    conn: &ConnHandle,
    api_key: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let fault = shared.take_fault(request_rules::name_hint(body).as_deref());
    if let Some(Fault::Delay(extra)) = fault {
        tokio::time::sleep(extra).await;
    }
    if let Some(fault) = fault.as_ref().filter(|f| f.answers_early()) {
        return early_answer(fault);
    }
    let request = match request_rules::create_request(headers, body) {
        Ok(request) => request,
        Err(problems) => return message(StatusCode::BAD_REQUEST, &problems.join("; ")),
    };
    if shared.active_count(api_key) >= ACTIVE_LIMIT {
        return limit_reached();
    }
    let webhook = create(shared, api_key, request).await;
    match shared.insert(webhook.clone(), ACTIVE_LIMIT) {
        Ok(()) => {}
        Err(Refusal::Storage(why)) => return message(StatusCode::INTERNAL_SERVER_ERROR, &why),
        Err(_) => return limit_reached(),
    }
    answer(conn, &webhook, fault)
}

/// Runs the test delivery and builds the webhook it decides the status of.
async fn create(shared: &Shared, api_key: &str, request: CreateRequest) -> StoredWebhook {
    let id = shared.new_id();
    let outcome = shared
        .deliverer
        .deliver(&Delivery {
            id: &id,
            name: &request.name,
            url: &request.webhook_url,
            headers: &request.headers,
        })
        .await;
    let now = super::now_rfc3339();
    let last_failure = match outcome {
        Outcome::Succeeded => None,
        Outcome::Failed {
            status_code,
            message,
        } => Some(LastFailure {
            failed_at: now.clone(),
            // The deliverer says 0 for no HTTP answer at all.
            status_code: (status_code != 0).then_some(status_code),
            message,
        }),
    };
    StoredWebhook {
        id,
        api_key: api_key.to_owned(),
        name: request.name,
        webhook_url: request.webhook_url,
        events: request.events,
        headers: request.headers,
        status: if last_failure.is_some() {
            WebhookStatus::Paused
        } else {
            WebhookStatus::Active
        },
        failed: last_failure.is_some(),
        last_failure,
        created_at: now,
    }
}

/// The answer to a request that created `webhook`, as the fault (if any) would have it.
fn answer(conn: &ConnHandle, webhook: &StoredWebhook, fault: Option<Fault>) -> Response {
    match fault {
        Some(Fault::ServerErrorAfterCreate(code)) => server_error(code),
        Some(Fault::DropAfterCreate) => {
            // Every read and write on the connection now fails: hyper closes it without
            // writing this response.
            conn.kill();
            message(StatusCode::INTERNAL_SERVER_ERROR, "connection dropped")
        }
        Some(Fault::GarbageBody) => raw(
            StatusCode::CREATED,
            "text/html; charset=utf-8",
            Bytes::from_static(b"<html><body>Webhook created... probably</body></html>"),
        ),
        Some(Fault::MissingId) => {
            let mut payload = created_payload(webhook);
            if let Value::Object(map) = &mut payload {
                map.remove("id");
            }
            created(payload)
        }
        _ => created(created_payload(webhook)),
    }
}

/// The `payload` of a 201 answer.
fn created_payload(webhook: &StoredWebhook) -> Value {
    let mut map = webhook.common_json();
    let delivery = if webhook.failed {
        "failed"
    } else {
        "succeeded"
    };
    map.insert("testDelivery".into(), json!({ "status": delivery }));
    Value::Object(map)
}

fn created(payload: Value) -> Response {
    json_response(
        StatusCode::CREATED,
        json!({"message": "Webhook created successfully", "payload": payload}),
    )
}

/// The answer of a fault that creates nothing.
fn early_answer(fault: &Fault) -> Response {
    match fault {
        Fault::TooManyRequests { retry_after } => {
            let mut response = message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests, please try again later",
            );
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
            }
            response
        }
        Fault::ServerError(code) => server_error(*code),
        Fault::Reject {
            status,
            message: text,
        } => message(status_or(*status, StatusCode::BAD_REQUEST), text),
        Fault::Redirect { status, location } => {
            let mut response = message(status_or(*status, StatusCode::TEMPORARY_REDIRECT), "Moved");
            if let Ok(value) = HeaderValue::from_str(location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        _ => server_error(500),
    }
}

fn server_error(code: u16) -> Response {
    message(
        status_or(code, StatusCode::INTERNAL_SERVER_ERROR),
        "Internal server error",
    )
}

pub(super) fn limit_reached() -> Response {
    let text = format!(
        "Webhook limit reached: an account can have at most {ACTIVE_LIMIT} active webhooks"
    );
    message(StatusCode::UNPROCESSABLE_ENTITY, &text)
}
