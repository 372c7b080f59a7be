//! `status` end to end: the binary against the embedded sandbox on 127.0.0.1, with webhooks
//! edited, paused and deleted behind the tool's back through the sandbox's handle.
//!
//! Every report is asserted whole, in human, JSON and Markdown form, as a snapshot in which
//! each recorded webhook's id shows as `[ID of NAME]`: a report naming the wrong id fails.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::{dir_snapshot, output_text, snapshot, Test, World, THREE_HOOKS as CONFIG};
use saleshandy_webhooks::emulator::{LastFailure, RecordedRequest, WebhookStatus, SANDBOX_API_KEY};
use serde_json::{json, Value};

/// The secret header's value; never printed.
const TOKEN: &str = "hook-token-value-7f3e";
/// A secret someone types into Saleshandy's UI; never printed either.
const UI_SECRET: &str = "ui-typed-secret-91ab";

/// A sandbox on its own runtime, a temp dir with `config`, and the webhooks applied.
fn world(config: &str) -> World {
    let w = World::with_hook_token(config, TOKEN);
    w.ok(&["apply", "--auto-approve"]);
    w
}

/// The id the sandbox holds for `name`.
fn id(w: &World, name: &str) -> String {
    w.server_ids(name)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no webhook `{name}` in the sandbox"))
}

/// The reads of recorded webhooks the sandbox received, in arrival order.
fn reads(w: &World) -> Vec<RecordedRequest> {
    w.sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/v1/webhook/"))
        .collect()
}

/// Neither a secret nor a fingerprint of one is ever printed.
#[track_caller]
fn assert_no_secret(o: &Output) {
    let all = output_text(o);
    assert!(
        !all.contains(TOKEN) && !all.contains(UI_SECRET),
        "a secret was printed:\n{all}"
    );
    assert!(
        !all.contains("hmac-sha256:"),
        "a fingerprint was printed:\n{all}"
    );
}

/// Runs `t` (its exit code and standard error as it states them) and asserts its standard
/// output, ids named, against the snapshot `name`.
#[track_caller]
fn report(w: &World, t: Test, name: &str) -> Output {
    let o = t.stdout_unchecked().run();
    assert_no_secret(&o);
    snapshot(name, &w.with_named_ids(&o.stdout, &w.recorded_ids()));
    o
}

/// [`report`] with `--format json`: the document, pretty-printed, ids named, is the snapshot.
#[track_caller]
fn json_report(w: &World, t: Test, name: &str) -> Value {
    let o = t.args(["--format", "json"]).stdout_unchecked().run();
    assert_no_secret(&o);
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", output_text(&o)));
    let pretty = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
    snapshot(
        name,
        &w.with_named_ids(pretty.as_bytes(), &w.recorded_ids()),
    );
    doc
}

fn entry<'v>(doc: &'v Value, name: &str) -> &'v Value {
    doc["webhooks"]
        .as_array()
        .and_then(|w| w.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no `{name}` in {doc:#}"))
}

/// The last failure [`pause`] gives a webhook, as JSON reports it.
fn paused_failure() -> Value {
    json!({"failed_at": "2026-11-27T10:15:00Z", "status_code": 503, "message": "Service Unavailable"})
}

fn pause(w: &World, name: &str) {
    assert!(w.sandbox.update(&id(w, name), |h| {
        h.status = WebhookStatus::Paused;
        h.failed = true;
        h.last_failure = Some(LastFailure {
            failed_at: "2026-11-27T10:15:00Z".into(),
            status_code: Some(503),
            message: "Service Unavailable".into(),
        });
    }));
}

#[test]
fn all_active_is_reported_and_nothing_is_written() {
    let w = world(CONFIG);
    let before = dir_snapshot(w.dir.path());
    report(
        &w,
        w.status().arg("--detailed-exitcode"),
        "status-active-human",
    );
    assert_eq!(reads(&w).len(), 3, "one GET per recorded webhook");
    assert_eq!(reads(&w)[0].header("x-api-key"), Some(SANDBOX_API_KEY));

    let doc = json_report(&w, w.status(), "status-active-json");
    assert_eq!(entry(&doc, "Email Sent")["id"], json!(id(&w, "Email Sent")));
    report(
        &w,
        w.status().args(["--format", "markdown"]),
        "status-active-markdown",
    );
    assert_eq!(
        dir_snapshot(w.dir.path()),
        before,
        "status without --update-state wrote something"
    );
}

#[test]
fn a_paused_webhook_shows_its_last_failure_and_how_to_resume_it() {
    let w = world(CONFIG);
    pause(&w, "Replies");
    // Without --detailed-exitcode a paused webhook exits 0; with it, 2, and the same report.
    report(&w, w.status(), "status-paused-human");
    report(
        &w,
        w.status().arg("--detailed-exitcode").status(2),
        "status-paused-human",
    );
    let doc = json_report(
        &w,
        w.status().arg("--detailed-exitcode").status(2),
        "status-paused-json",
    );
    // Times show as [TIME] in snapshots: the one the API reported is checked here.
    assert_eq!(entry(&doc, "Replies")["last_failure"], paused_failure());
    report(
        &w,
        w.status().args(["--format", "markdown"]),
        "status-paused-markdown",
    );

    // Active again, but still failing deliveries: "failing", exit 2 as well.
    assert!(w
        .sandbox
        .update(&id(&w, "Replies"), |h| h.status = WebhookStatus::Active));
    report(
        &w,
        w.status().arg("--detailed-exitcode").status(2),
        "status-failing-human",
    );
    json_report(
        &w,
        w.status().arg("--detailed-exitcode").status(2),
        "status-failing-json",
    );
}

#[test]
fn fields_edited_in_saleshandy_are_drift_and_secrets_stay_hidden() {
    let w = world(CONFIG);
    assert!(w.sandbox.update(&id(&w, "Email Sent"), |h| {
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
    assert!(w.sandbox.update(&id(&w, "Bounces"), |h| {
        h.events = vec!["email-bounced".into(), "email-bounced".into()];
    }));
    report(
        &w,
        w.status().arg("--detailed-exitcode").status(2),
        "status-drift-human",
    );
    json_report(&w, w.status(), "status-drift-json");
    report(
        &w,
        w.status().args(["--format", "markdown"]),
        "status-drift-markdown",
    );
}

#[test]
fn a_webhook_deleted_in_saleshandy_is_reported_with_state_rm() {
    let w = world(CONFIG);
    assert!(w.sandbox.remove(&id(&w, "Bounces")));
    report(
        &w,
        w.status().arg("--detailed-exitcode").status(2),
        "status-deleted-human",
    );
    json_report(&w, w.status(), "status-deleted-json");
    report(
        &w,
        w.status().args(["--format", "markdown"]),
        "status-deleted-markdown",
    );
}

/// A world where `Replies` is paused, `Bounces` deleted and `Email Sent`'s URL edited; the
/// state's serial before any status.
fn troubled_world() -> (World, u64) {
    let w = world(CONFIG);
    pause(&w, "Replies");
    assert!(w.sandbox.remove(&id(&w, "Bounces")));
    assert!(w.sandbox.update(&id(&w, "Email Sent"), |h| {
        h.webhook_url = "https://ingest.example.org/moved".into();
    }));
    let serial = w.state_json()["serial"].as_u64().expect("serial");
    (w, serial)
}

#[test]
fn update_state_records_the_live_status_under_the_lock() {
    let (w, serial) = troubled_world();
    let bounces = id_in_state(&w, "Bounces");
    report(
        &w,
        w.status().arg("--update-state"),
        "status-update-state-human",
    );
    let state = w.state_json();
    assert_eq!(state["serial"], serial + 1);
    assert_eq!(state["webhooks"]["Replies"]["status"], "paused");
    assert_eq!(state["webhooks"]["Bounces"]["status"], "deleted");
    assert_eq!(state["webhooks"]["Email Sent"]["status"], "active");
    let replies = &state["checks"]["Replies"];
    assert_eq!(replies["id"], json!(id(&w, "Replies")));
    assert_eq!(replies["failed"], true);
    assert_eq!(replies["last_failure"], paused_failure());
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
    // The plan reads the updated state, points at the webhook found deleted, and does not
    // re-create it on its own.
    w.plan().stdout_snapshot("status-update-state-plan").run();

    // While another run holds the lock, --update-state fails at once (--lock-timeout 0) and
    // writes nothing; plain status still runs.
    let lock = w.hold_lock();
    w.status()
        .arg("--update-state")
        .status(1)
        .stderr_snapshot("status-update-state-locked")
        .run();
    assert_eq!(
        w.state_json()["serial"],
        serial + 1,
        "nothing written while locked"
    );
    report(&w, w.status(), "status-after-update-human");
    drop(lock);
}

/// The id the state records for `name`.
fn id_in_state(w: &World, name: &str) -> String {
    w.state_json()["webhooks"][name]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is not recorded"))
        .to_string()
}

#[test]
fn update_state_in_json_and_markdown_says_it_recorded() {
    // A fresh world each: a second --update-state within the same second records nothing new.
    let (w, serial) = troubled_world();
    let doc = json_report(
        &w,
        w.status().arg("--update-state"),
        "status-update-state-json",
    );
    assert_eq!(entry(&doc, "Replies")["last_failure"], paused_failure());
    assert_eq!(w.state_json()["serial"], serial + 1);

    let (w, serial) = troubled_world();
    report(
        &w,
        w.status().args(["--update-state", "--format", "markdown"]),
        "status-update-state-markdown",
    );
    assert_eq!(w.state_json()["serial"], serial + 1);
}

/// The most reads the sandbox had in flight at once, as far as arrival times prove it: a read
/// is still in flight `latency` after it arrived, since the sandbox waits that long first.
fn max_in_flight(reads: &[RecordedRequest], latency: Duration) -> usize {
    reads
        .iter()
        .map(|r| {
            reads
                .iter()
                .filter(|o| {
                    o.received_at <= r.received_at && r.received_at - o.received_at < latency
                })
                .count()
        })
        .max()
        .unwrap_or(0)
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
    let latency = Duration::from_millis(300);
    w.sandbox.set_latency(latency);
    report(
        &w,
        w.status().args(["--parallelism", "2"]),
        "status-six-active-human",
    );
    let two = reads(&w);
    assert_eq!(two.len(), 6);
    // Each read after the second waited for an answer, which takes the sandbox's latency.
    for (k, r) in two.iter().enumerate().skip(2) {
        assert!(
            r.received_at - two[k - 2].received_at >= latency,
            "read {k} arrived while 2 others were in flight"
        );
    }
    assert_eq!(max_in_flight(&two, latency), 2);

    // A long latency, so that the six reads surely arrive while the first is held.
    let latency = Duration::from_secs(1);
    w.sandbox.set_latency(latency);
    report(
        &w,
        w.status().args(["--parallelism", "6"]),
        "status-six-active-human",
    );
    let six = reads(&w).split_off(6);
    assert_eq!(six.len(), 6);
    assert_eq!(max_in_flight(&six, latency), 6, "six reads at once");
}

#[test]
fn status_needs_a_key_and_the_right_endpoint_and_stops_on_401() {
    let w = world(CONFIG);
    w.status()
        .env_remove("SALESHANDY_API_KEY")
        .status(1)
        .stderr_snapshot("status-no-key")
        .run();
    assert_eq!(reads(&w).len(), 0);

    // A state of the sandbox is refused against another endpoint, before any request.
    w.status()
        .args(["--api-url", "https://open-api.saleshandy.com"])
        .env("SALESHANDY_API_KEY", "k")
        .env_remove("SALESHANDY_API_URL")
        .status(1)
        .stderr_snapshot("status-endpoint-mismatch")
        .run();

    // A key the API refuses: exit 1 naming the key variable, one read sent (--parallelism 1).
    let o = w
        .status()
        .args(["--parallelism", "1"])
        .env("SALESHANDY_API_KEY", "not-the-key")
        .status(1)
        .stderr_snapshot("status-key-refused")
        .run();
    assert!(
        !output_text(&o).contains("not-the-key"),
        "the key is never printed"
    );
    assert_eq!(reads(&w).len(), 1, "the run stops at the first 401");

    // No state file: an error that says so.
    w.status()
        .args(["--state", "nowhere.state.json"])
        .status(1)
        .stderr_snapshot("status-no-state")
        .run();
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
    report(
        &w,
        w.status().arg("--detailed-exitcode"),
        "status-unknown-human",
    );
    assert_eq!(reads(&w).len(), 3, "the unknown create is not read");
    let doc = json_report(&w, w.status(), "status-unknown-json");
    assert_eq!(
        doc["unknown"],
        json!([{"name": "Lost Hook", "since": "2026-11-27T10:05:00Z"}])
    );
}

/// A config that does not validate is refused as `plan` refuses it, before any request: read
/// around, it would lose its `apiKeyEnv`, and `SALESHANDY_API_KEY` (here another account's
/// key) would read every webhook as deleted.
#[test]
fn an_invalid_config_is_refused_and_no_other_key_is_tried() {
    let config = "version: 1
apiKeyEnv: ACME_KEY
webhooks:
  - name: Replies
    url: https://crm.example.org/replies
    events: [reply-received]
";
    let w = World::builder()
        .config(config)
        .api_keys(&["key-acme-111", "key-other-222"])
        .key("key-other-222")
        .env("ACME_KEY", "key-acme-111")
        .build();
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(&config.replace("reply-received", "reply-recieved"));
    w.status()
        .status(1)
        .stderr(
            "config::event_unknown

  × unknown event `reply-recieved`
   ╭─[webhooks.yaml:6:14]
 5 │     url: https://crm.example.org/replies
 6 │     events: [reply-recieved]
   ·              ───────┬──────
   ·                     ╰── not a Saleshandy event
   ╰────
  help: did you mean `reply-received`?

config::invalid

  × `webhooks.yaml` has 1 error; nothing was done
  help: fix the errors shown above; `saleshandy-webhooks validate -c webhooks.yaml` checks the file alone
",
        )
        .run();
    assert_eq!(reads(&w).len(), 0, "no webhook is read");
}
