//! The rehearsal surface: accounts per `sandbox-NAME` key, the data file across restarts, and
//! the `/sandbox/` requests (which only this machine's own pages may make).

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

async fn with_data(path: &Path) -> Result<Sandbox, StartError> {
    start(SandboxOptions {
        data: Some(path.to_path_buf()),
        ..SandboxOptions::default()
    })
    .await
}

async fn admin(
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client().request(method, format!("{}{path}", sb.url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn every_sandbox_name_key_is_an_account_with_its_own_limit() {
    let sb = sandbox().await;
    for i in 0..ACTIVE_LIMIT {
        let (status, _) = create(&sb, &body(&format!("hook {i}"))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(
        create(&sb, &body("one more")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let other = post(&sb, Some("sandbox-team-b"), &body("b's first")).await;
    assert_eq!(other.status(), StatusCode::CREATED);
    for key in ["sandbox-", "sandbox-a b", "real-looking-key", "Sandbox-x"] {
        let refused = post(&sb, Some(key), &body("x")).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{key:?}");
    }
    let accounts: Vec<String> = sb.webhooks().into_iter().map(|w| w.api_key).collect();
    assert_eq!(
        accounts.iter().filter(|k| *k == "sandbox-team-b").count(),
        1
    );
    assert_eq!(accounts.len(), ACTIVE_LIMIT + 1);
}

#[tokio::test]
async fn the_data_file_keeps_every_change_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rehearsal.sandbox.json");
    let sb = with_data(&path).await.unwrap();
    let (_, a) = create(&sb, &body("a")).await;
    let (_, b) = create(&sb, &body("b")).await;
    let (_, c) = create(&sb, &body("c")).await;
    let id = |v: &Value| v["payload"]["id"].as_str().unwrap().to_string();
    let (a, b, c) = (id(&a), id(&b), id(&c));
    let edit = json!({"name": "a renamed", "webhookEvent": ["reply-received"]});
    let path_of = |id: &str| format!("/sandbox/webhooks/{id}");
    assert_eq!(
        admin(&sb, reqwest::Method::PATCH, &path_of(&a), Some(edit))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        admin(
            &sb,
            reqwest::Method::POST,
            &format!("{}/pause", path_of(&b)),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        admin(&sb, reqwest::Method::DELETE, &path_of(&c), None)
            .await
            .0,
        StatusCode::OK
    );
    let before = sb.webhooks();
    // A second sandbox on the file is refused while the first holds it.
    assert!(matches!(
        with_data(&path).await,
        Err(StartError::Data(DataError::InUse {
            served_at: None,
            ..
        }))
    ));
    sb.shutdown().await;
    let again = with_data(&path).await.unwrap();
    assert_eq!(again.webhooks(), before);
    let names: Vec<(String, WebhookStatus)> = before
        .iter()
        .map(|w| (w.name.clone(), w.status.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("a renamed".to_string(), WebhookStatus::Active),
            ("b".to_string(), WebhookStatus::Paused)
        ]
    );
    assert_eq!(
        get(&again, SANDBOX_API_KEY, &a).await.1["payload"]["webhookEvent"],
        json!(["reply-received"])
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
}

#[tokio::test]
async fn a_torn_last_line_is_dropped_and_a_file_that_is_not_a_sandbox_s_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sandbox.json");
    let sb = with_data(&path).await.unwrap();
    create(&sb, &body("kept")).await;
    sb.shutdown().await;
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"put\":{\"id\":\"0123");
    std::fs::write(&path, &text).unwrap();
    let sb = with_data(&path).await.unwrap();
    let names: Vec<String> = sb.webhooks().into_iter().map(|w| w.name).collect();
    assert_eq!(names, vec!["kept".to_string()]);
    sb.shutdown().await;

    let other = dir.path().join("notes.json");
    std::fs::write(&other, "{\"my\": \"notes\"}\n").unwrap();
    let refused = with_data(&other).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "`{}` line 1 is not what a sandbox writes: it does not start with a sandbox header; the file was left as it is",
            other.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "{\"my\": \"notes\"}\n"
    );

    let middle = dir.path().join("middle.sandbox.json");
    std::fs::write(
        &middle,
        "{\"saleshandySandbox\":1}\nnot json\n{\"delete\":\"x\"}\n",
    )
    .unwrap();
    let refused = with_data(&middle).await.unwrap_err().to_string();
    assert!(
        refused.starts_with(&format!(
            "`{}` line 2 is not what a sandbox writes: ",
            middle.display()
        )),
        "{refused}"
    );
}

#[tokio::test]
async fn only_this_machine_s_own_pages_may_drive_the_sandbox() {
    let sb = sandbox().await;
    let (_, created) = create(&sb, &body("a")).await;
    let id = created["payload"]["id"].as_str().unwrap().to_string();
    let pause = format!("{}/sandbox/webhooks/{id}/pause", sb.url());
    // Another site's form, in a visitor's browser.
    let foreign = client()
        .post(&pause)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    // A name that resolved to 127.0.0.1 (DNS rebinding).
    let rebound = client()
        .post(&pause)
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        sb.webhooks()[0].status,
        WebhookStatus::Active,
        "nothing changed"
    );
    // The page's own form: a redirect back to it.
    let own = client()
        .post(&pause)
        .header("origin", sb.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(own.headers()["location"], "/");
    assert_eq!(sb.webhooks()[0].status, WebhookStatus::Paused);
    assert!(
        sb.requests().iter().all(|r| r.path == "/v1/webhook/create"),
        "not API requests"
    );
}

#[tokio::test]
async fn edits_are_checked_as_creates_are_and_resume_keeps_the_limit() {
    let sb = sandbox().await;
    let (_, created) = create(&sb, &body("a")).await;
    let id = created["payload"]["id"].as_str().unwrap().to_string();
    let (status, answer) = admin(
        &sb,
        reqwest::Method::PATCH,
        &format!("/sandbox/webhooks/{id}"),
        Some(json!({"webhookUrl": "ftp://x", "webhookEvent": ["nope"], "colour": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["message"],
        "unknown field `colour` (the fields are name, webhookUrl, webhookEvent and headers); webhookUrl must be an http or https URL, not `ftp:`; webhookEvent[0] `nope` is not an accepted event"
    );
    admin(
        &sb,
        reqwest::Method::POST,
        &format!("/sandbox/webhooks/{id}/pause"),
        None,
    )
    .await;
    for i in 1..ACTIVE_LIMIT {
        create(&sb, &body(&format!("fill {i}"))).await;
    }
    create(&sb, &body("the 50th")).await;
    let (status, answer) = admin(
        &sb,
        reqwest::Method::POST,
        &format!("/sandbox/webhooks/{id}/resume"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["message"],
        "Webhook limit reached: an account can have at most 50 active webhooks"
    );
    let (status, _) = admin(
        &sb,
        reqwest::Method::POST,
        "/sandbox/webhooks/0123456789abcdef01234567/pause",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn faults_queued_over_http_are_used_by_the_next_creates() {
    let sb = sandbox().await;
    let (status, pending) = admin(
        &sb,
        reqwest::Method::POST,
        "/sandbox/faults",
        Some(json!({"fault": "rate-limit", "count": 2, "retryAfter": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let one = json!({"fault": "rate-limit", "retryAfter": 3});
    assert_eq!(pending, json!({"pending": [one, one]}));
    let first = post(&sb, Some(SANDBOX_API_KEY), &body("a")).await;
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(first.headers()["retry-after"], "3");
    let (status, answer) = admin(
        &sb,
        reqwest::Method::POST,
        "/sandbox/faults",
        Some(json!({"fault": "meltdown"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["message"],
        "fault must be rate-limit, server-error, lost-answer, garbage-201 or latency, not `meltdown`"
    );
    let (_, cleared) = admin(&sb, reqwest::Method::DELETE, "/sandbox/faults", None).await;
    assert_eq!(cleared, json!({"pending": []}));
    assert_eq!(create(&sb, &body("a")).await.0, StatusCode::CREATED);
}
