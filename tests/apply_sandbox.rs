//! `apply` end to end over real sockets: the binary against the embedded sandbox on 127.0.0.1.

mod support;

use std::path::Path;
use std::process::Output;

use saleshandy_webhooks::sandbox::{Fault, Target, SANDBOX_API_KEY};
use serde_json::json;
use support::{bin, output_text, World, THREE_HOOKS as CONFIG};

const TOKEN: &str = "hook-token-value";

/// A sandbox on its own runtime, and a temp dir with `config`; commands get `HOOK_TOKEN`.
fn world(config: &str) -> World {
    World::builder()
        .config(config)
        .env("HOOK_TOKEN", TOKEN)
        .build()
}

impl World {
    fn apply_with(&self, key: &str, extra: &[&str]) -> Output {
        self.cmd()
            .arg("apply")
            .args(extra)
            .env("SALESHANDY_API_KEY", key)
            .output()
            .expect("runs")
    }

    fn apply(&self, extra: &[&str]) -> Output {
        self.apply_with(SANDBOX_API_KEY, extra)
    }
}

#[test]
fn a_fresh_apply_creates_each_webhook_once_and_a_second_sends_nothing() {
    let w = world(CONFIG);
    let o = w.apply(&["--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
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
    let text = output_text(&o);
    assert!(
        text.contains("Apply: 3 created (0 paused), 0 failed, 0 unknown, 0 not sent."),
        "{text}"
    );
    assert!(
        !text.contains(TOKEN)
            && !std::fs::read_to_string(w.state_path())
                .unwrap()
                .contains(TOKEN)
    );

    let again = w.apply(&["--auto-approve"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(output_text(&again).contains("Nothing to create: no request was sent."));
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "the second apply sent nothing"
    );
}

#[test]
fn the_body_sent_matches_the_contract_field_by_field() {
    let w = world(CONFIG);
    assert_eq!(w.apply(&["--auto-approve"]).status.code(), Some(0));
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
    let o = w.apply(&["--auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        output_text(&o).contains("Replies  failed: HTTP 400: webhookUrl is blocked"),
        "{}",
        output_text(&o)
    );
    let state = w.state_json();
    assert!(
        state["webhooks"]["Email Sent"]["id"].is_string()
            && state["webhooks"]["Bounces"]["id"].is_string()
    );
    assert!(
        state["webhooks"].get("Replies").is_none() && state["unknown"].get("Replies").is_none()
    );

    let o = w.apply(&["--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
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
    let o = w.apply_with("wrong-key", &["--auto-approve"]);
    assert_eq!(o.status.code(), Some(1));
    let text = output_text(&o);
    assert!(
        text.contains("SALESHANDY_API_KEY") && text.contains("no further request was sent"),
        "{text}"
    );
    assert!(!text.contains("wrong-key"), "the key is never printed");
    assert_eq!(w.sandbox.create_requests(), 1);
    assert!(!w.state_path().exists(), "no state was left behind");

    // With an existing state, it stays byte-identical.
    assert_eq!(w.apply(&["--auto-approve"]).status.code(), Some(0));
    w.set_config(&format!(
        "{CONFIG}  - name: More\n    url: https://x.example.org/m\n    events: [task-created]\n"
    ));
    let before = w.state_bytes();
    assert_eq!(
        w.apply_with("wrong-key", &["--auto-approve"]).status.code(),
        Some(1)
    );
    assert_eq!(w.state_bytes(), before);
}

#[test]
fn a_missing_key_is_an_error_before_any_request() {
    let w = world(CONFIG);
    let o = w.apply_with("", &["--auto-approve"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("SALESHANDY_API_KEY is not set"),
        "{}",
        output_text(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn the_key_can_come_from_a_file() {
    let w = world(CONFIG);
    let key_file = w.dir.path().join("key");
    std::fs::write(&key_file, format!("{SANDBOX_API_KEY}\n")).unwrap();
    let o = w.apply_with(
        "",
        &[
            "--auto-approve",
            "--api-key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
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
    let o = w.apply(&["--auto-approve"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "paused is a warning: {}",
        output_text(&o)
    );
    let text = output_text(&o);
    assert!(
        text.contains("Local  created but PAUSED") && text.contains("resumed in Saleshandy"),
        "{text}"
    );
    assert_eq!(w.state_json()["webhooks"]["Local"]["status"], "paused");

    let w = world(&config);
    let o = w.apply(&["--auto-approve", "--require-active"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn without_a_terminal_apply_needs_auto_approve_and_sends_nothing() {
    let w = world(CONFIG);
    let o = w.apply(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("--auto-approve"),
        "{}",
        output_text(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.state_path().exists());
}

#[test]
fn json_results_list_every_create() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Bounces".into()), Fault::MissingId);
    let o = w.apply(&["--auto-approve", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    let results: Vec<_> = v["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(results, ["created", "created", "unknown"]);
    assert!(w.state_json()["unknown"]["Bounces"]["reason"]
        .as_str()
        .unwrap()
        .contains("without a usable webhook id"));
}

#[test]
fn a_sandbox_state_cannot_be_used_against_another_endpoint() {
    let w = world(CONFIG);
    let o = bin()
        .current_dir(w.dir.path())
        .args(["apply", "--sandbox", "--auto-approve"])
        .env("HOOK_TOKEN", TOKEN)
        // An exported API URL neither conflicts with --sandbox nor is used by it.
        .env("SALESHANDY_API_URL", w.sandbox.url())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
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
    let o = w.apply(&["--auto-approve"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("belongs to sandbox"),
        "{}",
        output_text(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
    assert_eq!(w.state_bytes(), before);
}

#[test]
fn plain_http_is_refused_for_a_non_loopback_api() {
    let w = world(CONFIG);
    let o = bin()
        .current_dir(w.dir.path())
        .args([
            "apply",
            "--auto-approve",
            "--api-url",
            "http://api.example.org",
        ])
        .env("SALESHANDY_API_KEY", "k")
        .env("HOOK_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("plain http"),
        "{}",
        output_text(&o)
    );
    assert!(!Path::new(&w.state_path()).exists());
}
