//! `status` end to end: the binary against the embedded sandbox on 127.0.0.1, with webhooks
//! edited, paused and deleted behind the tool's back through the sandbox's handle.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{
    bin, dir_snapshot, flat, output_text, stdout_text, World, THREE_HOOKS as CONFIG,
};
use saleshandy_webhooks::sandbox::{LastFailure, SANDBOX_API_KEY};
use serde_json::{json, Value};

/// The secret header's value; never printed.
const TOKEN: &str = "hook-token-value-7f3e";
/// A secret someone types into Saleshandy's UI; never printed either.
const UI_SECRET: &str = "ui-typed-secret-91ab";

/// A sandbox on its own runtime, a temp dir with `config`, and the webhooks applied.
fn world(config: &str) -> World {
    let w = World::with_hook_token(config, TOKEN);
    let o = w.run(&["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "apply: {}", output_text(&o));
    w
}

impl World {
    /// Runs `status` with `extra`, checking that no secret is printed.
    fn status_status(&self, extra: &[&str]) -> Output {
        let o = self.run(&[&["status"], extra].concat());
        let all = output_text(&o);
        assert!(
            !all.contains(TOKEN) && !all.contains(UI_SECRET),
            "a secret was printed:\n{all}"
        );
        assert!(
            !all.contains("hmac-sha256:"),
            "a fingerprint was printed:\n{all}"
        );
        o
    }

    fn status_json(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let o = self.status_status(&[&["--format", "json"], extra].concat());
        let doc = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", output_text(&o)));
        (o.status.code(), doc)
    }

    fn id(&self, name: &str) -> String {
        self.server_ids(name)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no webhook `{name}` in the sandbox"))
    }

    fn gets(&self) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/v1/webhook/"))
            .count()
    }
}

fn entry<'v>(doc: &'v Value, name: &str) -> &'v Value {
    doc["webhooks"]
        .as_array()
        .and_then(|w| w.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no `{name}` in {doc:#}"))
}

fn pause(w: &World, name: &str) {
    assert!(w.sandbox.update(&w.id(name), |h| {
        h.status = "paused".into();
        h.failed = true;
        h.last_failure = Some(LastFailure {
            failed_at: "2026-11-27T10:15:00Z".into(),
            status_code: 503,
            message: "Service Unavailable".into(),
        });
    }));
}

#[test]
fn all_active_is_reported_and_nothing_is_written() {
    let w = world(CONFIG);
    let before = dir_snapshot(w.dir.path());
    let o = w.status_status(&["--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let out = stdout_text(&o);
    for name in ["Email Sent", "Replies", "Bounces"] {
        let id = w.id(name);
        assert!(
            out.contains(&format!("  ✓ {name}  (active, id {id})")),
            "{out}"
        );
    }
    assert!(
        out.contains(
            "Status: 3 checked: 3 ok, 0 paused, 0 failing, 0 drifted, 0 deleted, 0 unreadable."
        ),
        "{out}"
    );
    assert_eq!(w.gets(), 3, "one GET per recorded webhook");
    let get = w
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .expect("a GET");
    assert_eq!(get.header("x-api-key"), Some(SANDBOX_API_KEY));
    assert_eq!(
        dir_snapshot(w.dir.path()),
        before,
        "status without --update-state wrote something"
    );

    let (code, doc) = w.status_json(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["needs_attention"], false);
    assert_eq!(doc["summary"]["ok"], 3);
    let sent = entry(&doc, "Email Sent");
    assert_eq!(sent["health"], "active");
    assert_eq!(sent["status"], "active");
    assert_eq!(sent["failed"], false);
    assert_eq!(sent["last_failure"], Value::Null);
    assert_eq!(sent["drift"], json!([]));
    assert_eq!(sent["id"], json!(w.id("Email Sent")));
}

#[test]
fn a_paused_webhook_shows_its_last_failure_and_how_to_resume_it() {
    let w = world(CONFIG);
    pause(&w, "Replies");
    let o = w.status_status(&[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "without --detailed-exitcode: {}",
        output_text(&o)
    );
    let out = stdout_text(&o);
    let id = w.id("Replies");
    assert!(
        out.contains(&format!("  ! Replies  (paused, id {id})")),
        "{out}"
    );
    assert!(
        out.contains("last failure: 2026-11-27T10:15:00Z: HTTP 503, Service Unavailable"),
        "{out}"
    );
    assert!(
        flat(&out).contains(
            "Make sure https://crm.example.org/replies answers, then resume it in Saleshandy"
        ),
        "{out}"
    );
    assert!(out.contains("1 paused"), "{out}");

    let o = w.status_status(&["--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));

    let (code, doc) = w.status_json(&["--detailed-exitcode"]);
    assert_eq!(code, Some(2));
    let r = entry(&doc, "Replies");
    assert_eq!(r["health"], "paused");
    assert_eq!(r["status"], "paused");
    assert_eq!(r["failed"], true);
    assert_eq!(
        r["last_failure"],
        json!({"failed_at": "2026-11-27T10:15:00Z", "status_code": 503, "message": "Service Unavailable"})
    );
    assert!(r["next_steps"][0]
        .as_str()
        .unwrap_or("")
        .contains("resume it in Saleshandy"));
    assert_eq!(doc["summary"]["paused"], 1);
    assert_eq!(doc["needs_attention"], true);

    // Active again, but still failing deliveries: "failing", exit 2 as well.
    assert!(w.sandbox.update(&id, |h| h.status = "active".into()));
    let (code, doc) = w.status_json(&["--detailed-exitcode"]);
    assert_eq!(code, Some(2));
    assert_eq!(entry(&doc, "Replies")["health"], "failing");
    assert_eq!(doc["summary"]["failing"], 1);
}

#[test]
fn fields_edited_in_saleshandy_are_drift_and_secrets_stay_hidden() {
    let w = world(CONFIG);
    assert!(w.sandbox.update(&w.id("Email Sent"), |h| {
        h.name = "Email Sent (edited)".into();
        h.webhook_url = "https://ingest.example.org/sent-v2".into();
        h.events = vec!["email-sent".into()];
        h.headers
            .insert("X-Webhook-Source".into(), "edited-in-ui".into());
        h.headers
            .insert("Authorization".into(), format!("Bearer {UI_SECRET}"));
        h.headers.insert("X-Extra".into(), UI_SECRET.into());
    }));
    // Header-name case and event order do not count as drift.
    assert!(w.sandbox.update(&w.id("Bounces"), |h| {
        h.events = vec!["email-bounced".into(), "email-bounced".into()];
    }));
    let o = w.status_status(&["--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    let out = stdout_text(&o);
    let id = w.id("Email Sent (edited)");
    assert!(
        out.contains(&format!(
            "  ~ Email Sent  (drifted: name, url, events, headers; active, id {id})"
        )),
        "{out}"
    );
    assert!(
        out.contains("name: Email Sent → Email Sent (edited)"),
        "{out}"
    );
    assert!(
        out.contains("url: https://ingest.example.org/sent → https://ingest.example.org/sent-v2"),
        "{out}"
    );
    assert!(
        out.contains("events: email-opened, email-sent → email-sent"),
        "{out}"
    );
    assert!(
        out.contains(
            "      headers:\n        Authorization: (secret) → (secret, changed)\n        X-Extra: (absent) → (secret)\n        X-Webhook-Source: saleshandy → edited-in-ui\n"
        ),
        "{out}"
    );
    assert!(
        flat(&out).contains("Rename it back to `Email Sent`"),
        "{out}"
    );
    assert!(
        flat(&out).contains(&format!(
            "`saleshandy-webhooks state import \"Email Sent\" {id}`"
        )),
        "{out}"
    );
    assert!(out.contains("  ✓ Bounces"), "{out}");
    assert!(out.contains("1 drifted"), "{out}");

    let (_, doc) = w.status_json(&[]);
    let e = entry(&doc, "Email Sent");
    assert_eq!(e["health"], "drifted");
    let fields: Vec<&str> = e["drift"]
        .as_array()
        .expect("drift")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "url", "events", "headers"]);
    assert_eq!(
        e["drift"][1],
        json!({"field": "url", "recorded": "https://ingest.example.org/sent", "live": "https://ingest.example.org/sent-v2"})
    );

    let md = stdout_text(&w.status_status(&["--format", "markdown"]));
    assert!(
        md.starts_with("### Saleshandy webhooks: live status"),
        "{md}"
    );
    assert!(
        md.contains("| | Webhook | Id | Status | Last failure | Drift |"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| ✏️ | Email Sent | {id} | active |  | name, url, events, headers |"
        )),
        "{md}"
    );
    assert!(
        md.contains(
            "| url | https://ingest.example.org/sent | https://ingest.example.org/sent-v2 |"
        ),
        "{md}"
    );
    assert!(md.contains("#### Details"), "{md}");
}

#[test]
fn a_webhook_deleted_in_saleshandy_is_reported_with_state_rm() {
    let w = world(CONFIG);
    let id = w.id("Bounces");
    assert!(w.sandbox.remove(&id));
    let o = w.status_status(&["--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    let out = stdout_text(&o);
    assert!(
        out.contains(&format!(
            "  ✗ Bounces  (deleted in Saleshandy (HTTP 404), id {id})"
        )),
        "{out}"
    );
    assert!(
        flat(&out).contains("`saleshandy-webhooks state rm \"Bounces\"`"),
        "{out}"
    );
    assert!(out.contains("1 deleted"), "{out}");
    let (_, doc) = w.status_json(&[]);
    let b = entry(&doc, "Bounces");
    assert_eq!(b["health"], "deleted");
    assert_eq!(b["status"], Value::Null);
    assert_eq!(doc["summary"]["deleted"], 1);
    assert_eq!(doc["summary"]["ok"], 2);
}

#[test]
fn update_state_records_the_live_status_under_the_lock() {
    let w = world(CONFIG);
    pause(&w, "Replies");
    let bounces = w.id("Bounces");
    assert!(w.sandbox.remove(&bounces));
    assert!(w.sandbox.update(&w.id("Email Sent"), |h| {
        h.webhook_url = "https://ingest.example.org/moved".into();
    }));
    let serial = w.state_json()["serial"].as_u64().expect("serial");

    let o = w.status_status(&["--update-state"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert!(
        stdout_text(&o).contains("Recorded the live status in webhooks.state.json."),
        "{}",
        output_text(&o)
    );
    let state = w.state_json();
    assert_eq!(state["serial"], serial + 1);
    assert_eq!(state["webhooks"]["Replies"]["status"], "paused");
    assert_eq!(state["webhooks"]["Bounces"]["status"], "deleted");
    assert_eq!(state["webhooks"]["Email Sent"]["status"], "active");
    let replies = &state["checks"]["Replies"];
    assert_eq!(replies["id"], json!(w.id("Replies")));
    assert_eq!(replies["failed"], true);
    assert_eq!(
        replies["last_failure"],
        json!({"failed_at": "2026-11-27T10:15:00Z", "status_code": 503, "message": "Service Unavailable"})
    );
    assert!(replies["checked_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(state["checks"]["Email Sent"]["drift"], json!(["url"]));
    assert_eq!(state["checks"]["Bounces"]["id"], json!(bounces));
    let raw = std::fs::read_to_string(w.state_path()).expect("state");
    assert!(
        !raw.contains(TOKEN) && !raw.contains("moved"),
        "no secret and no drifted value is stored:\n{raw}"
    );

    // The state the tool wrote is valid for the schema and for the tool.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/state.schema.json"),
        )
        .expect("schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&state)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let plan = bin()
        .current_dir(w.dir.path())
        .arg("plan")
        .env("HOOK_TOKEN", TOKEN)
        .output()
        .expect("runs");
    assert_eq!(
        plan.status.code(),
        Some(0),
        "plan reads the updated state: {}",
        output_text(&plan)
    );
    // The plan points at the webhook found deleted, and does not re-create it on its own.
    let text = flat(&output_text(&plan));
    assert!(
        text.contains("`Bounces` was found deleted in Saleshandy")
            && text.contains("state rm \"Bounces\""),
        "{text}"
    );
    assert!(text.contains("Plan: 0 to create"), "{text}");

    // While another run holds the lock, --update-state waits and then fails; plain status runs.
    let lock = saleshandy_webhooks::lock::acquire(&w.state_path(), Duration::ZERO).expect("lock");
    let o = w.status_status(&["--update-state"]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert_eq!(
        w.state_json()["serial"],
        serial + 1,
        "nothing written while locked"
    );
    assert_eq!(w.status_status(&[]).status.code(), Some(0));
    drop(lock);
}

#[test]
fn reads_are_bounded_by_parallelism() {
    let mut config = String::from("version: 1\nwebhooks:\n");
    for i in 0..6 {
        config.push_str(&format!(
            "  - name: Hook {i}\n    url: https://example.org/hooks/{i}\n    events: [email-sent]\n"
        ));
    }
    let w = world(&config);
    w.sandbox.set_latency(Duration::from_millis(300));
    let timed = |p: &str| {
        let start = Instant::now();
        let o = w.status_status(&["--parallelism", p]);
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        start.elapsed()
    };
    let two = timed("2");
    assert!(
        two >= Duration::from_millis(900),
        "6 reads of 300 ms, 2 at a time, took {two:?}"
    );
    let six = timed("6");
    assert!(
        six < two,
        "6 at a time ({six:?}) is not faster than 2 ({two:?})"
    );
    assert_eq!(w.gets(), 12);
}

#[test]
fn status_needs_a_key_and_the_right_endpoint_and_stops_on_401() {
    let w = world(CONFIG);
    let o = w
        .cmd()
        .arg("status")
        .env_remove("SALESHANDY_API_KEY")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("SALESHANDY_API_KEY"),
        "{}",
        output_text(&o)
    );
    assert_eq!(w.gets(), 0);

    // A state of the sandbox is refused against another endpoint, before any request.
    let o = bin()
        .current_dir(w.dir.path())
        .args(["status", "--api-url", "https://open-api.saleshandy.com"])
        .env("SALESHANDY_API_KEY", "k")
        .env_remove("SALESHANDY_API_URL")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("belongs to"),
        "{}",
        output_text(&o)
    );

    // A key the API refuses: exit 1 naming the key, at most `--parallelism` reads sent.
    let o = w
        .cmd()
        .args(["status", "--parallelism", "1"])
        .env("SALESHANDY_API_KEY", "not-the-key")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        output_text(&o).contains("refused the key")
            && output_text(&o).contains("SALESHANDY_API_KEY"),
        "{}",
        output_text(&o)
    );
    assert!(
        !output_text(&o).contains("not-the-key"),
        "the key is never printed"
    );
    assert_eq!(w.gets(), 1, "the run stops at the first 401");

    // No state file: an error that says so.
    let o = w.run(&["status", "--state", "nowhere.state.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("no state file"),
        "{}",
        output_text(&o)
    );
}

#[test]
fn unknown_creates_are_listed_but_not_checked() {
    let w = world(CONFIG);
    let mut state = w.state_json();
    state["unknown"]["Lost Hook"] = json!({
        "sent": {"url": "https://example.org/lost", "events": ["email-sent"], "headers": {}},
        "since": "2026-11-27T10:05:00Z",
        "reason": "no answer within 30s"
    });
    std::fs::write(
        w.state_path(),
        serde_json::to_string_pretty(&state).expect("JSON"),
    )
    .expect("write");
    let o = w.status_status(&["--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let out = stdout_text(&o);
    assert!(
        out.contains(
            "  ? Lost Hook  (unknown create since 2026-11-27T10:05:00Z: no id, not checked)"
        ),
        "{out}"
    );
    assert!(out.contains("; 1 unknown create not checked."), "{out}");
    assert_eq!(w.gets(), 3);
    let (_, doc) = w.status_json(&[]);
    assert_eq!(
        doc["unknown"],
        json!([{"name": "Lost Hook", "since": "2026-11-27T10:05:00Z"}])
    );
}
