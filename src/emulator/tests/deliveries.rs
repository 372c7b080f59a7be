//! The test delivery on create: real only on loopback, never off the machine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::HeaderMap;

use super::*;

/// What a destination received: the headers and the JSON body of each request.
type Hits = Arc<Mutex<Vec<(BTreeMap<String, String>, Value)>>>;

/// A tiny local webhook destination answering every request with one status.
struct Receiver {
    port: u16,
    hits: Hits,
}

async fn receiver(status: u16) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits: Hits = Arc::default();
    let seen = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
        let seen = Arc::clone(&seen);
        async move {
            let headers = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            seen.lock()
                .unwrap()
                .push((headers, serde_json::from_str(&body).unwrap()));
            axum::http::StatusCode::from_u16(status).unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { port, hits }
}

fn body_for(url: &str) -> Value {
    with("webhookUrl", json!(url))
}

#[tokio::test]
async fn a_loopback_url_that_answers_2xx_is_active() {
    let sb = sandbox().await;
    let rx = receiver(204).await;
    for url in [
        format!("http://127.0.0.1:{}/hook", rx.port),
        format!("http://localhost:{}/hook", rx.port),
    ] {
        let (status, answer) = create(&sb, &body_for(&url)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(answer["payload"]["status"], "active", "{url}");
        assert_eq!(answer["payload"]["testDelivery"]["status"], "succeeded");
    }
    let hits = rx.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 2);
    let (headers, payload) = &hits[0];
    assert_eq!(headers["x-webhook-source"], "saleshandy");
    assert_eq!(payload["event"], "webhook-test");
    let id = sb.webhooks()[0].id.clone();
    assert_eq!(payload["webhookId"], id.as_str());
}

#[tokio::test]
async fn a_loopback_url_that_answers_otherwise_is_paused() {
    let sb = sandbox().await;
    for code in [500, 302, 404] {
        let rx = receiver(code).await;
        let url = format!("http://127.0.0.1:{}/hook", rx.port);
        let (status, answer) = create(&sb, &body_for(&url)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(answer["payload"]["status"], "paused");
        assert_eq!(answer["payload"]["testDelivery"]["status"], "failed");
        assert_eq!(
            rx.hits.lock().unwrap().len(),
            1,
            "redirects are not followed"
        );
        let id = answer["payload"]["id"].as_str().unwrap();
        let failure = sb.webhook(id).unwrap().last_failure.unwrap();
        assert_eq!(failure.status_code, Some(code));
        let (_, read) = get(&sb, SANDBOX_API_KEY, id).await;
        assert_eq!(read["payload"]["failed"], true);
        assert_eq!(read["payload"]["lastFailure"]["statusCode"], code);
        assert!(read["payload"]["lastFailure"]["failedAt"].is_string());
    }
}

#[tokio::test]
async fn a_loopback_url_that_refuses_connections_is_paused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sb = sandbox().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let (status, answer) = create(&sb, &body_for(&url)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["payload"]["status"], "paused");
    let stored = &sb.webhooks()[0];
    assert!(stored.failed);
    let failure = stored.last_failure.as_ref().unwrap();
    assert_eq!(failure.status_code, None, "no HTTP answer");
    let (_, read) = get(&sb, SANDBOX_API_KEY, &stored.id).await;
    assert_eq!(
        read["payload"]["lastFailure"]["statusCode"], 0,
        "0 on the wire"
    );
    assert!(
        failure.message.contains("could not connect"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn a_loopback_url_that_never_answers_times_out_and_is_paused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sb = start(SandboxOptions {
        delivery_timeout: Duration::from_millis(200),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let started = Instant::now();
    let (_, answer) = create(&sb, &body_for(&format!("http://127.0.0.1:{port}/"))).await;
    assert_eq!(answer["payload"]["status"], "paused");
    let took = started.elapsed();
    // A lower bound only: the sandbox's own wait; how much longer it took is the machine's.
    assert!(
        took >= Duration::from_millis(200),
        "waited the timeout it was given: {took:?}"
    );
    let failure = sb.webhooks()[0].last_failure.clone().unwrap();
    assert!(
        failure.message.contains("timed out after 200ms"),
        "{}",
        failure.message
    );
    drop(listener);
}

#[test]
fn the_default_delivery_timeout_is_the_production_one_on_the_test_clock() {
    assert_eq!(
        crate::emulator::delivery::DELIVERY_TIMEOUT,
        Duration::from_secs(2)
    );
    assert_eq!(
        SandboxOptions::default().delivery_timeout,
        crate::clock::wait(Duration::from_secs(2))
    );
}

#[tokio::test]
async fn a_private_host_is_paused_without_any_traffic() {
    let sb = sandbox().await;
    for url in [
        "http://10.255.255.1/hook",
        "https://printer.local/hook",
        "https://[fd00::1]/hook",
    ] {
        let (status, answer) = create(&sb, &body_for(url)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(answer["payload"]["status"], "paused", "{url}");
    }
    // The reason is the address rule, decided before any connection (a connection attempt
    // would end in a timeout or a refusal, with another message).
    let reasons: Vec<String> = sb
        .webhooks()
        .into_iter()
        .map(|w| w.last_failure.map(|f| f.message).unwrap_or_default())
        .collect();
    for (reason, host) in reasons
        .iter()
        .zip(["10.255.255.1", "printer.local", "[fd00::1]"])
    {
        assert!(
            reason.starts_with(&format!("could not connect to {host}: ")),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn the_resolver_knows_only_loopback_names() {
    use reqwest::dns::Resolve;
    let resolver = crate::emulator::delivery::LoopbackResolver;
    let addrs: Vec<_> = resolver
        .resolve("app.localhost".parse().unwrap())
        .await
        .unwrap()
        .collect();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    assert!(resolver
        .resolve("example.org".parse().unwrap())
        .await
        .is_err());
}
