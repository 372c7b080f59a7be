//! Injected faults, the account limit, latency and concurrency.

use std::time::Instant;

use super::*;

#[tokio::test]
async fn too_many_requests_creates_nothing_and_is_consumed_once() {
    let sb = sandbox().await;
    sb.inject(
        Target::Any,
        Fault::TooManyRequests {
            retry_after: Some(7),
        },
    );
    sb.inject(Target::Any, Fault::TooManyRequests { retry_after: None });
    let first = post(&sb, Some(SANDBOX_API_KEY), &body("a")).await;
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(first.headers()["retry-after"], "7");
    assert!(first.json::<Value>().await.unwrap()["message"].is_string());
    let second = post(&sb, Some(SANDBOX_API_KEY), &body("a")).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(second.headers().get("retry-after").is_none());
    assert!(sb.webhooks().is_empty());
    assert_eq!(create(&sb, &body("a")).await.0, StatusCode::CREATED);
    assert_eq!(sb.pending_faults(), 0);
}

#[tokio::test]
async fn an_unauthorised_request_consumes_no_fault() {
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::ServerError(503));
    assert_eq!(
        post(&sb, None, &body("a")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sb.pending_faults(), 1);
}

#[tokio::test]
async fn server_errors_before_and_after_create() {
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::ServerError(503));
    let (status, answer) = create(&sb, &body("a")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer["message"].is_string());
    assert!(sb.webhooks().is_empty());

    sb.inject(Target::Any, Fault::ServerErrorAfterCreate(500));
    let (status, _) = create(&sb, &body("a")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(sb.webhooks().len(), 1);

    sb.inject(Target::Any, Fault::ServerError(42));
    assert_eq!(
        create(&sb, &body("a")).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn drop_after_create_closes_the_connection_without_an_answer() {
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::DropAfterCreate);
    let error = try_post(&sb, Some(SANDBOX_API_KEY), &body("lost"))
        .await
        .unwrap_err();
    assert!(error.status().is_none() && error.is_request(), "{error:?}");
    let webhooks = sb.webhooks();
    assert_eq!(webhooks.len(), 1);
    assert_eq!(webhooks[0].name, "lost");
    // The server is fine afterwards.
    assert_eq!(create(&sb, &body("next")).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn drop_after_create_sends_no_byte() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::DropAfterCreate);
    let body = body("raw").to_string();
    let request = format!(
        "POST /v1/webhook/create HTTP/1.1\r\nhost: x\r\nx-api-key: {SANDBOX_API_KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(sb.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(sb.webhooks().len(), 1);
}

#[tokio::test]
async fn garbage_and_missing_id_answers_still_create() {
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::GarbageBody);
    let response = post(&sb, Some(SANDBOX_API_KEY), &body("a")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    sb.inject(Target::Any, Fault::MissingId);
    let (status, answer) = create(&sb, &body("b")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["payload"]["name"], "b");
    assert!(answer["payload"].get("id").is_none());
    assert_eq!(sb.webhooks().len(), 2);
}

#[tokio::test]
async fn reject_and_redirect_create_nothing() {
    let sb = sandbox().await;
    sb.inject(
        Target::Any,
        Fault::Reject {
            status: 403,
            message: "Forbidden plan".into(),
        },
    );
    let (status, answer) = create(&sb, &body("a")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["message"], "Forbidden plan");

    let location = "https://elsewhere.example.org/v1/webhook/create";
    sb.inject(
        Target::Any,
        Fault::Redirect {
            status: 307,
            location: location.into(),
        },
    );
    let response = post(&sb, Some(SANDBOX_API_KEY), &body("a")).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(response.headers()["location"], location);
    assert!(sb.webhooks().is_empty());
}

#[tokio::test]
async fn delay_slows_one_request_down() {
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::Delay(Duration::from_millis(200)));
    let started = Instant::now();
    assert_eq!(create(&sb, &body("a")).await.0, StatusCode::CREATED);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(sb.webhooks().len(), 1);
}

#[tokio::test]
async fn name_targeted_faults_come_first_in_order() {
    let sb = sandbox().await;
    sb.inject(Target::Any, Fault::ServerError(502));
    sb.inject(
        Target::Name("b".into()),
        Fault::Reject {
            status: 409,
            message: "one".into(),
        },
    );
    sb.inject(
        Target::Name("b".into()),
        Fault::Reject {
            status: 410,
            message: "two".into(),
        },
    );
    assert_eq!(create(&sb, &body("b")).await.0, StatusCode::CONFLICT);
    assert_eq!(create(&sb, &body("a")).await.0, StatusCode::BAD_GATEWAY);
    assert_eq!(create(&sb, &body("a")).await.0, StatusCode::CREATED);
    assert_eq!(create(&sb, &body("b")).await.0, StatusCode::GONE);
    assert_eq!(create(&sb, &body("b")).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn at_most_fifty_active_webhooks_per_account() {
    let sb = start(SandboxOptions {
        api_keys: vec![SANDBOX_API_KEY.into(), OTHER_KEY.into()],
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    for i in 0..ACTIVE_LIMIT {
        assert_eq!(
            create(&sb, &body(&format!("w{i}"))).await.0,
            StatusCode::CREATED
        );
    }
    let (status, answer) = create(&sb, &body("one too many")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("50 active webhooks"));
    assert_eq!(sb.webhooks().len(), ACTIVE_LIMIT);

    let other = post(&sb, Some(OTHER_KEY), &body("other account")).await;
    assert_eq!(other.status(), StatusCode::CREATED);

    let first = sb.webhooks()[0].id.clone();
    sb.update(&first, |w| w.status = WebhookStatus::Paused);
    assert_eq!(
        create(&sb, &body("fits again")).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn latency_applies_and_concurrent_creates_are_counted() {
    let sb = sandbox().await;
    sb.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let request = client()
                .post(format!("{}/v1/webhook/create", sb.url()))
                .header("x-api-key", SANDBOX_API_KEY)
                .json(&body(&format!("w{i}")));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the latency applied"
    );
    // Handled concurrently: all five were in the sandbox at once, as it counted them.
    assert_eq!(sb.create_requests(), 5);
    assert_eq!(sb.max_in_flight_creates(), 5);
    assert_eq!(sb.in_flight_creates(), 0);
}

#[tokio::test]
async fn a_create_whose_client_gave_up_still_creates() {
    let sb = sandbox().await;
    sb.set_latency(Duration::from_millis(300));
    let sent = client()
        .post(format!("{}/v1/webhook/create", sb.url()))
        .header("x-api-key", SANDBOX_API_KEY)
        .timeout(Duration::from_millis(50))
        .json(&body("gave-up"))
        .send()
        .await;
    assert!(sent.is_err(), "the client timed out before the answer");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let names: Vec<String> = sb.webhooks().into_iter().map(|w| w.name).collect();
    assert_eq!(
        names,
        ["gave-up"],
        "a real server finishes what it received"
    );
}
