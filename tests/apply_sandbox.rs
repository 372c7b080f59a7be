//! `apply` end to end over real sockets: the binary against the embedded sandbox on 127.0.0.1.

use crate::support::{output_text, Test, World, THREE_HOOKS as CONFIG};
use saleshandy_webhooks::emulator::{Fault, Target, SANDBOX_API_KEY};
use serde_json::json;

const TOKEN: &str = "hook-token-value";

/// A sandbox on its own runtime, and a temp dir with `config`; commands get `HOOK_TOKEN`.
fn world(config: &str) -> World {
    World::builder()
        .config(config)
        .env("HOOK_TOKEN", TOKEN)
        .build()
}

impl World {
    /// `apply --auto-approve` with `key` as `SALESHANDY_API_KEY` (empty: unset).
    fn apply_with_key(&self, key: &str) -> Test {
        let t = self.apply();
        if key.is_empty() {
            t.env_remove("SALESHANDY_API_KEY")
        } else {
            t.env("SALESHANDY_API_KEY", key)
        }
    }
}

/// What a first apply of [`CONFIG`] prints on standard output, in config order.
const CREATED_THREE: &str =
    "Plan for webhooks.yaml against webhooks.state.json (no state yet: first apply)

  + Email Sent  (will be created)
      + url: https://ingest.example.org/sent
      + events:
      +   - email-opened
      +   - email-sent
      + headers:
      +   Authorization: (secret)
      +   X-Webhook-Source: saleshandy

  + Replies  (will be created)
      + url: https://crm.example.org/replies
      + events:
      +   - reply-received

  + Bounces  (will be created)
      + url: https://alerts.example.org/bounces
      + events:
      +   - email-bounced

Plan: 3 to create, 0 unchanged, 0 changed, 0 orphaned, 0 unknown.

Creating 3 webhooks in http://127.0.0.1:[PORT]…

  ✓ Email Sent  created, id [ID]
  ✓ Replies  created, id [ID]
  ✓ Bounces  created, id [ID]

Apply: 3 created (0 paused), 0 failed, 0 unknown, 0 not sent. State: webhooks.state.json
";

#[test]
fn a_fresh_apply_creates_each_webhook_once_and_a_second_sends_nothing() {
    let w = world(CONFIG);
    w.apply()
        .args(["--parallelism", "1"])
        .stdout(CREATED_THREE)
        .stderr("[1/3] created: Email Sent\n[2/3] created: Replies\n[3/3] created: Bounces\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
    let names: Vec<String> = w.sandbox.webhooks().into_iter().map(|h| h.name).collect();
    assert_eq!(names, ["Email Sent", "Replies", "Bounces"]);
    let state = w.state_json();
    for hook in w.sandbox.webhooks() {
        assert_eq!(
            state["webhooks"][&hook.name]["id"],
            json!(hook.id),
            "the state records the id the server gave"
        );
    }
    assert_eq!(state["unknown"], json!({}));
    assert!(!std::fs::read_to_string(w.state_path())
        .unwrap()
        .contains(TOKEN));

    w.apply()
        .stdout(
            "Plan for webhooks.yaml against webhooks.state.json

  3 unchanged webhooks not shown (-v lists them).

Plan: 0 to create, 3 unchanged, 0 changed, 0 orphaned, 0 unknown.

Nothing to create: no request was sent.
",
        )
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "the second apply sent nothing"
    );
}

#[test]
fn the_body_sent_matches_the_contract_field_by_field() {
    let w = world(CONFIG);
    w.ok(&["apply", "--auto-approve"]);
    let requests = w.sandbox.requests();
    let first = &requests[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/v1/webhook/create")
    );
    assert_eq!(first.header("x-api-key"), Some(SANDBOX_API_KEY));
    assert!(first
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(
        first.json().expect("JSON body"),
        json!({
            "name": "Email Sent",
            "webhookUrl": "https://ingest.example.org/sent",
            "webhookEvent": ["email-sent", "email-opened"],
            "headers": {"X-Webhook-Source": "saleshandy", "Authorization": format!("Bearer {TOKEN}")}
        })
    );
    assert_eq!(
        requests[1].json().expect("JSON")["headers"],
        json!({}),
        "headers is {{}} when there are none"
    );
}

#[test]
fn a_rejected_webhook_leaves_the_others_created_and_a_reapply_creates_only_it() {
    let w = world(CONFIG);
    w.sandbox.inject(
        Target::Name("Replies".into()),
        Fault::Reject {
            status: 400,
            message: "webhookUrl is blocked".into(),
        },
    );
    w.apply()
        .args(["--parallelism", "1"])
        .status(1)
        .stdout_snapshot("apply-one-rejected")
        .stderr("[1/3] created: Email Sent\n[2/3] failed: Replies\n[3/3] created: Bounces\n")
        .run();
    let state = w.state_json();
    assert!(
        state["webhooks"]["Email Sent"]["id"].is_string()
            && state["webhooks"]["Bounces"]["id"].is_string()
    );
    assert!(
        state["webhooks"].get("Replies").is_none() && state["unknown"].get("Replies").is_none()
    );

    w.apply()
        .stdout_snapshot("apply-only-the-rejected-again")
        .stderr("[1/1] created: Replies\n")
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        4,
        "only the rejected one was sent again"
    );
    assert_eq!(w.sandbox.webhooks().len(), 3);
}

#[test]
fn a_bad_key_stops_after_the_first_request_and_leaves_the_state_alone() {
    let w = world(CONFIG);
    let refused = w
        .apply_with_key("wrong-key")
        .status(1)
        .stdout_snapshot("apply-wrong-key")
        .stderr("[1/3] failed: Email Sent\n")
        .run();
    assert!(
        !output_text(&refused).contains("wrong-key"),
        "the key is never printed"
    );
    assert_eq!(w.sandbox.create_requests(), 1);
    assert!(!w.state_path().exists(), "no state was left behind");

    // With an existing state, it stays byte-identical.
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(&format!(
        "{CONFIG}  - name: More\n    url: https://x.example.org/m\n    events: [task-created]\n"
    ));
    let before = w.state_bytes();
    w.apply_with_key("wrong-key")
        .status(1)
        .stdout_snapshot("apply-wrong-key-with-state")
        .stderr("[1/1] failed: More\n")
        .run();
    assert_eq!(w.state_bytes(), before);
}

#[test]
fn a_missing_key_is_an_error_before_any_request() {
    let w = world(CONFIG);
    w.apply_with_key("")
        .status(1)
        .stderr_snapshot("apply-key-unset")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn the_key_can_come_from_a_file() {
    let w = world(CONFIG);
    let key_file = w.dir.path().join("key");
    std::fs::write(&key_file, format!("{SANDBOX_API_KEY}\n")).unwrap();
    w.apply_with_key("")
        .args(["--parallelism", "1", "--api-key-file"])
        .arg(&key_file)
        .stdout(CREATED_THREE)
        .stderr("[1/3] created: Email Sent\n[2/3] created: Replies\n[3/3] created: Bounces\n")
        .run();
}

#[test]
fn paused_webhooks_are_reported_and_fail_under_require_active() {
    // A loopback port nobody listens on: the sandbox's test delivery fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!("version: 1\nwebhooks:\n  - name: Local\n    url: http://127.0.0.1:{port}/hook\n    events: [email-sent]\n");
    let w = world(&config);
    // Paused is a warning: exit 0.
    w.apply()
        .stdout_snapshot("apply-paused")
        .stderr_snapshot("apply-paused-stderr")
        .run();
    assert_eq!(w.state_json()["webhooks"]["Local"]["status"], "paused");

    let w = world(&config);
    let o = w
        .apply()
        .args(["--format", "json"])
        .stdout_unchecked()
        .stderr_snapshot("apply-paused-json-stderr")
        .run();
    let id = &w.sandbox.webhooks()[0].id;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("one JSON document"),
        json!({
            "format_version": 1,
            "endpoint": w.sandbox.url(),
            "state": "webhooks.state.json",
            "webhooks": [{"name": "Local", "result": "paused", "id": id}],
        })
    );

    let w = world(&config);
    w.apply()
        .arg("--require-active")
        .status(1)
        .stdout_snapshot("apply-paused-require-active")
        .stderr_snapshot("apply-paused-stderr")
        .run();
}

#[test]
fn without_a_terminal_apply_needs_auto_approve_and_sends_nothing() {
    let w = world(CONFIG);
    w.test(["apply"])
        .status(1)
        .stdout_snapshot("apply-no-terminal-plan")
        .stderr_snapshot("apply-no-terminal")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.state_path().exists());
}

#[test]
fn json_results_list_every_create() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Bounces".into()), Fault::MissingId);
    w.apply()
        .args(["--format", "json", "--parallelism", "1"])
        .status(1)
        .stdout_json_snapshot("apply-json-unknown")
        .run();
    assert!(w.state_json()["unknown"]["Bounces"]["reason"]
        .as_str()
        .unwrap()
        .contains("without a usable webhook id"));
}

#[test]
fn a_sandbox_state_cannot_be_used_against_another_endpoint() {
    let w = world(CONFIG);
    // An exported API URL neither conflicts with --sandbox nor is used by it.
    w.test(["apply", "--sandbox", "--auto-approve", "--parallelism", "1"])
        .stdout(CREATED_THREE.replace(
            "Creating 3 webhooks in http://127.0.0.1:[PORT]…",
            "Creating 3 webhooks in the embedded sandbox (kept in webhooks.sandbox.json)…",
        ))
        .stderr("[1/3] created: Email Sent\n[2/3] created: Replies\n[3/3] created: Bounces\n")
        .run();
    assert_eq!(w.state_json()["endpoint"], "sandbox");
    assert_eq!(
        w.sandbox.requests().len(),
        0,
        "the embedded sandbox got the creates"
    );
    let before = w.state_bytes();
    w.set_config(&format!(
        "{CONFIG}  - name: More\n    url: https://x.example.org/m\n    events: [task-created]\n"
    ));
    w.apply()
        .status(1)
        .stderr_snapshot("apply-endpoint-mismatch")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
    assert_eq!(w.state_bytes(), before);
}

#[test]
fn plain_http_is_refused_for_a_non_loopback_api() {
    let w = world(CONFIG);
    w.apply()
        .args(["--api-url", "http://api.example.org"])
        .env("SALESHANDY_API_KEY", "k")
        .status(1)
        .stdout(
            CREATED_THREE
                .split("\nCreating")
                .next()
                .unwrap()
                .to_string()
                + "\nCreating 3 webhooks in http://api.example.org…\n",
        )
        .stderr_snapshot("apply-plain-http")
        .run();
    assert!(!w.state_path().exists());
}

/// Every numeric option is range-checked before anything runs: a value that would overflow
/// or stall (a parallelism of 2^64-1, a rate of 1e-30 per second) is refused, saying what
/// is allowed, and nothing is sent.
#[test]
fn numeric_options_out_of_range_are_refused_with_what_is_allowed() {
    let w = world(CONFIG);
    for (command, option, value, allowed) in [
        (
            "apply",
            "--parallelism",
            "18446744073709551615",
            "expected a whole number from 1 to 256",
        ),
        (
            "apply",
            "--parallelism",
            "0",
            "expected a whole number from 1 to 256",
        ),
        (
            "status",
            "--parallelism",
            "1000",
            "expected a whole number from 1 to 256",
        ),
        (
            "apply",
            "--max-rps",
            "1e-30",
            "expected a number of requests per second from 0.01 to 10000",
        ),
        (
            "apply",
            "--max-rps",
            "NaN",
            "expected a number of requests per second from 0.01 to 10000",
        ),
        ("apply", "--timeout", "0", "0 is not in 1..=3600"),
        (
            "apply",
            "--lock-timeout",
            "99999999999",
            "99999999999 is not in 0..=86400",
        ),
        ("apply", "--lock-lease", "1", "1 is not in 5..=3600"),
    ] {
        let placeholder = match option {
            "--max-rps" => "<RPS>",
            "--parallelism" => "<N>",
            _ => "<SECONDS>",
        };
        w.test([command, option, value])
            .status(2)
            .stderr(format!(
                "error: invalid value '{value}' for '{option} {placeholder}': {allowed}\n\nFor more information, try '--help'.\n"
            ))
            .run();
    }
    assert_eq!(w.sandbox.requests().len(), 0);
}

/// An API URL with a password, a query or a fragment is refused before anything is sent or
/// written: they would be stored in the state as its endpoint and printed. The error shows
/// the URL without them.
#[test]
fn an_api_url_with_userinfo_query_or_fragment_is_refused_without_showing_them() {
    let w = world(CONFIG);
    let url = w.sandbox.url();
    let (scheme, rest) = url.split_once("://").expect("a URL");
    for (name, given) in [
        ("userinfo", format!("{scheme}://user:pw-8841@{rest}")),
        ("query", format!("{url}/?token=tk-8841")),
        ("fragment", format!("{url}/#frag-8841")),
    ] {
        let t = w.apply().env("SALESHANDY_API_URL", &given).status(1);
        t.stderr_snapshot(&format!("api-url-with-{name}")).run();
    }
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.state_path().exists());
}

/// Plain http (loopback only) never goes through a proxy from the environment, which would
/// receive the API key in clear; the creates go straight to the sandbox.
#[test]
fn plain_http_to_loopback_bypasses_any_proxy() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    proxy.set_nonblocking(true).expect("non-blocking");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("address"));
    let w = world(CONFIG);
    w.apply()
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdout(CREATED_THREE)
        .stderr_unchecked()
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy received a connection"
    );
}
