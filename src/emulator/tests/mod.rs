//! The sandbox over real sockets on 127.0.0.1, with a reqwest client.

mod deliveries;
mod faults;
mod rehearsal;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

const OTHER_KEY: &str = "other-account-key";

async fn sandbox() -> Sandbox {
    start(SandboxOptions::default()).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A valid create body for a public URL (no traffic, always active).
fn body(name: &str) -> Value {
    json!({
        "name": name,
        "webhookUrl": "https://hooks.example.org/sent",
        "webhookEvent": ["email-sent", "email-opened"],
        "headers": {"X-Webhook-Source": "saleshandy"},
    })
}

async fn post(sb: &Sandbox, key: Option<&str>, body: &Value) -> reqwest::Response {
    try_post(sb, key, body).await.unwrap()
}

async fn try_post(
    sb: &Sandbox,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    let mut request = client()
        .post(format!("{}/v1/webhook/create", sb.url()))
        .json(body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await
}

/// Creates with the sandbox key; the status and the JSON answer.
async fn create(sb: &Sandbox, body: &Value) -> (StatusCode, Value) {
    let response = post(sb, Some(SANDBOX_API_KEY), body).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn get(sb: &Sandbox, key: &str, id: &str) -> (StatusCode, Value) {
    let response = client()
        .get(format!("{}/v1/webhook/{id}", sb.url()))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn is_object_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[tokio::test]
async fn create_answers_201_and_echoes_the_fields() {
    let sb = sandbox().await;
    let (status, answer) = create(&sb, &body("Email Sent Webhook")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["message"], "Webhook created successfully");
    let payload = &answer["payload"];
    let id = payload["id"].as_str().unwrap();
    assert!(is_object_id(id), "{id}");
    assert_eq!(payload["name"], "Email Sent Webhook");
    assert_eq!(payload["webhookUrl"], "https://hooks.example.org/sent");
    assert_eq!(
        payload["webhookEvent"],
        json!(["email-sent", "email-opened"])
    );
    assert_eq!(
        payload["headers"],
        json!({"X-Webhook-Source": "saleshandy"})
    );
    assert_eq!(payload["status"], "active");
    assert_eq!(payload["testDelivery"], json!({"status": "succeeded"}));

    let (_, second) = create(&sb, &body("Email Sent Webhook")).await;
    assert_ne!(
        second["payload"]["id"], payload["id"],
        "create is not idempotent"
    );
    let stored = sb.webhook(id).unwrap();
    assert_eq!(stored.api_key, SANDBOX_API_KEY);
    assert_eq!(stored.events, vec!["email-sent", "email-opened"]);
    assert!(stored.is_active() && !stored.failed && stored.last_failure.is_none());
    assert_eq!(sb.webhooks().len(), 2);
    assert_eq!(sb.create_requests(), 2);
}

#[tokio::test]
async fn requests_are_recorded_as_received() {
    let sb = sandbox().await;
    create(&sb, &body("a")).await;
    let requests = sb.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/webhook/create")
    );
    assert_eq!(request.header("X-Api-Key"), Some(SANDBOX_API_KEY));
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(request.json().unwrap(), body("a"));
}

#[tokio::test]
async fn every_invalid_field_is_a_400_naming_it() {
    let sb = sandbox().await;
    let cases: Vec<(Value, &str)> = vec![
        (without("name"), "name is required"),
        (with("name", json!("  ")), "name must not be empty"),
        (with("name", json!(7)), "name must be a string"),
        (without("webhookUrl"), "webhookUrl is required"),
        (
            with("webhookUrl", json!("/hooks")),
            "webhookUrl must be a valid absolute",
        ),
        (
            with("webhookUrl", json!("https:///x")),
            "webhookUrl must be a valid absolute",
        ),
        (
            with("webhookUrl", json!("ftp://example.org/x")),
            "webhookUrl must be an http or https URL",
        ),
        (
            with("webhookUrl", json!("https://u:p@example.org")),
            "webhookUrl must not contain",
        ),
        (without("webhookEvent"), "webhookEvent is required"),
        (
            with("webhookEvent", json!([])),
            "webhookEvent must list at least one event",
        ),
        (
            with("webhookEvent", json!("email-sent")),
            "webhookEvent must be an array",
        ),
        (
            with("webhookEvent", json!(["email-snet"])),
            "`email-snet` is not an accepted event",
        ),
        (
            with("webhookEvent", json!([3])),
            "webhookEvent[0] must be a string",
        ),
        (
            with("webhookEvent", json!(["email-sent", "email-sent"])),
            "more than once",
        ),
        (
            without("headers"),
            "headers is required (pass {} when there are none)",
        ),
        (with("headers", json!(null)), "headers is required"),
        (with("headers", json!(["a"])), "headers must be an object"),
        (
            with("headers", json!({"X-A": 1})),
            "headers.X-A must be a string",
        ),
        (
            with("headers", json!({"X A": "1"})),
            "not a valid HTTP header name",
        ),
        (
            with("headers", json!({"X-A": "a\nb"})),
            "must not contain a line break",
        ),
        (
            with("headers", json!({"X-A": "1", "x-a": "2"})),
            "more than once",
        ),
        (with("extra", json!(1)), "unknown field `extra`"),
        (json!([1, 2]), "must be a JSON object"),
    ];
    for (request, expected) in cases {
        let response = post(&sb, Some(SANDBOX_API_KEY), &request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{request}");
        let answer: Value = response.json().await.unwrap();
        let text = answer["message"].as_str().unwrap();
        assert!(text.contains(expected), "{request}: {text}");
    }
    assert!(sb.webhooks().is_empty());
}

#[tokio::test]
async fn all_problems_are_reported_together() {
    let sb = sandbox().await;
    let (status, answer) = create(&sb, &json!({"name": "", "webhookEvent": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let text = answer["message"].as_str().unwrap();
    for field in ["name", "webhookUrl", "webhookEvent", "headers"] {
        assert!(text.contains(field), "{text}");
    }
}

#[tokio::test]
async fn malformed_json_and_wrong_content_type_are_400() {
    let sb = sandbox().await;
    let url = format!("{}/v1/webhook/create", sb.url());
    for (content_type, raw) in [
        ("application/json", &b"{\"name\": "[..]),
        ("application/json", &b"\xff\xfe"[..]),
        ("text/plain", &br#"{"name":"a"}"#[..]),
    ] {
        let response = client()
            .post(&url)
            .header("x-api-key", SANDBOX_API_KEY)
            .header("content-type", content_type)
            .body(raw.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let answer: Value = response.json().await.unwrap();
        assert!(answer["message"].is_string());
    }
    let huge = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let response = post(&sb, Some(SANDBOX_API_KEY), &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401() {
    let sb = sandbox().await;
    for key in [None, Some("wrong"), Some("")] {
        let response = post(&sb, key, &body("a")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let answer: Value = response.json().await.unwrap();
        assert!(answer["message"].as_str().unwrap().contains("x-api-key"));
    }
    let (status, _) = get(&sb, "wrong", "0123456789abcdef01234567").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(sb.webhooks().is_empty());
    assert_eq!(sb.create_requests(), 3);
}

#[tokio::test]
async fn each_key_is_its_own_account() {
    let sb = start(SandboxOptions {
        api_keys: vec![SANDBOX_API_KEY.into(), OTHER_KEY.into()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let (_, answer) = create(&sb, &body("mine")).await;
    let id = answer["payload"]["id"].as_str().unwrap();
    assert_eq!(get(&sb, SANDBOX_API_KEY, id).await.0, StatusCode::OK);
    let (status, answer) = get(&sb, OTHER_KEY, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["message"], "Webhook not found");
}

#[tokio::test]
async fn get_reads_one_webhook() {
    let sb = sandbox().await;
    let (_, created) = create(&sb, &body("a")).await;
    let id = created["payload"]["id"].as_str().unwrap();
    let (status, answer) = get(&sb, SANDBOX_API_KEY, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["message"], "Webhook fetched successfully");
    let payload = &answer["payload"];
    assert_eq!(payload["id"], id);
    assert_eq!(payload["name"], "a");
    assert_eq!(payload["webhookUrl"], "https://hooks.example.org/sent");
    assert_eq!(
        payload["webhookEvent"],
        json!(["email-sent", "email-opened"])
    );
    assert_eq!(
        payload["headers"],
        json!({"X-Webhook-Source": "saleshandy"})
    );
    assert_eq!(payload["status"], "active");
    assert_eq!(payload["failed"], false);
    assert_eq!(payload["lastFailure"], Value::Null);

    let (status, _) = get(&sb, SANDBOX_API_KEY, "0123456789abcdef01234567").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "create"] {
        let (status, answer) = get(&sb, SANDBOX_API_KEY, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(answer["message"].as_str().unwrap().contains("24"));
    }
}

#[tokio::test]
async fn changes_behind_the_tools_back_show_in_get() {
    let sb = sandbox().await;
    let (_, created) = create(&sb, &body("a")).await;
    let id = created["payload"]["id"].as_str().unwrap();
    assert!(sb.update(id, |w| {
        w.status = WebhookStatus::Paused;
        w.webhook_url = "https://elsewhere.example.org/".into();
    }));
    let (_, answer) = get(&sb, SANDBOX_API_KEY, id).await;
    assert_eq!(answer["payload"]["status"], "paused");
    assert_eq!(
        answer["payload"]["webhookUrl"],
        "https://elsewhere.example.org/"
    );
    assert!(sb.remove(id));
    assert!(!sb.remove(id));
    assert!(!sb.update(id, |_| {}));
    assert_eq!(get(&sb, SANDBOX_API_KEY, id).await.0, StatusCode::NOT_FOUND);
}

/// The account's active count follows pauses, resumes and deletions (it is kept, not
/// recounted), and the webhooks stay in creation order through edits.
#[tokio::test]
async fn the_active_limit_follows_pauses_and_deletions_and_order_is_kept() {
    let sb = sandbox().await;
    let mut ids = Vec::new();
    for i in 0..crate::emulator::create::ACTIVE_LIMIT {
        let (status, answer) = create(&sb, &body(&format!("h{i}"))).await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
        ids.push(answer["payload"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        create(&sb, &body("over")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A paused one frees a place; resuming it takes the place back.
    assert!(sb.update(&ids[3], |w| w.status = WebhookStatus::Paused));
    let (status, answer) = create(&sb, &body("in its place")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        create(&sb, &body("over")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(sb.remove(answer["payload"]["id"].as_str().unwrap()));
    assert!(sb.update(&ids[3], |w| w.status = WebhookStatus::Active));
    assert_eq!(
        create(&sb, &body("over")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A deleted one frees a place.
    assert!(sb.remove(&ids[0]));
    assert_eq!(create(&sb, &body("last")).await.0, StatusCode::CREATED);
    let names: Vec<String> = sb.webhooks().into_iter().map(|w| w.name).collect();
    let mut expected: Vec<String> = (1..crate::emulator::create::ACTIVE_LIMIT)
        .map(|i| format!("h{i}"))
        .collect();
    expected.push("last".into());
    assert_eq!(names, expected, "creation order, edits kept in place");
}

#[tokio::test]
async fn anything_else_is_a_json_404() {
    let sb = sandbox().await;
    for (method, path) in [
        (reqwest::Method::GET, "/v1"),
        (reqwest::Method::GET, "/sandbox/nothing-here"),
        (reqwest::Method::PUT, "/sandbox/webhooks"),
        (reqwest::Method::GET, "/v1/webhooks"),
        (reqwest::Method::PUT, "/v1/webhook/create"),
        (
            reqwest::Method::DELETE,
            "/v1/webhook/0123456789abcdef01234567",
        ),
        (reqwest::Method::POST, "/v1/webhook/create/"),
    ] {
        let response = client()
            .request(method.clone(), format!("{}{path}", sb.url()))
            .header("x-api-key", SANDBOX_API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["message"].is_string());
    }
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sb = sandbox().await;
    let url = sb.url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    sb.shutdown().await;
    assert!(client().get(format!("{url}/")).send().await.is_err());
}

/// The valid body without one field.
fn without(field: &str) -> Value {
    let mut value = body("a");
    value.as_object_mut().unwrap().remove(field);
    value
}

/// The valid body with one field replaced or added.
fn with(field: &str, replacement: Value) -> Value {
    let mut value = body("a");
    value[field] = replacement;
    value
}
