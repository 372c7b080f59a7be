//! The recovery paths a plan or a status report advises, followed end to end against the
//! embedded sandbox: refreshing a webhook edited in Saleshandy.

use crate::support::{World, THREE_HOOKS as CONFIG};
use serde_json::{json, Value};

/// The secret header's value; never printed.
const TOKEN: &str = "recovery-token-value-5d2c";

/// A sandbox with [`CONFIG`] applied.
fn applied() -> World {
    let w = World::with_hook_token(CONFIG, TOKEN);
    w.ok(&["apply", "--auto-approve"]);
    w
}

/// The id the state records for `name`.
fn recorded_id(w: &World, name: &str) -> String {
    w.state_json()["webhooks"][name]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is recorded"))
        .to_string()
}

/// The JSON plan.
fn plan_json(w: &World) -> Value {
    let o = w.plan().args(["--format", "json"]).stdout_unchecked().run();
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

// --- refreshing a changed webhook ------------------------------------------------------------

#[test]
fn importing_the_recorded_id_again_records_the_edit_made_in_saleshandy() {
    let w = applied();
    let id = recorded_id(&w, "Bounces");
    let ids = [("Bounces".to_string(), id.clone())];
    // The config moves Bounces elsewhere and adds an event: the plan says how to follow.
    w.set_config(
        &CONFIG
            .replace(
                "https://alerts.example.org/bounces",
                "https://alerts.example.org/v2",
            )
            .replace("[email-bounced]", "[email-bounced, email-sent]"),
    );
    let o = w.plan().stdout_unchecked().run();
    crate::support::snapshot(
        "recovery-refresh-plan-changed",
        &w.with_named_ids(&o.stdout, &ids),
    );

    // Read again with nothing edited yet: the state stays byte-identical.
    let before = w.state_bytes();
    let o = w.state(["import", "Bounces", &id]).stdout_unchecked().run();
    assert_eq!(
        w.with_named_ids(&o.stdout, &ids),
        "`Bounces` (id [ID of Bounces], active) is recorded as it is in Saleshandy: nothing to do.
It differs from the config in url, events: `plan` shows it as changed.
"
    );
    assert_eq!(w.state_bytes(), before);

    // The person edits it in Saleshandy to match, then imports the same id: one step.
    assert!(w.sandbox.update(&id, |h| {
        h.webhook_url = "https://alerts.example.org/v2".into();
        h.events = vec!["email-sent".into(), "email-bounced".into()];
    }));
    let o = w.state(["import", "Bounces", &id]).stdout_unchecked().run();
    assert_eq!(
        w.with_named_ids(&o.stdout, &ids),
        "Refreshed `Bounces` (id [ID of Bounces]) in webhooks.state.json from Saleshandy:
  url: https://alerts.example.org/bounces → https://alerts.example.org/v2
  events: email-bounced → email-bounced, email-sent
It matches the config: `plan` shows it as unchanged.
"
    );
    assert_eq!(plan_json(&w)["webhooks"][2]["action"], json!("unchanged"));
    assert_eq!(w.state_json()["webhooks"]["Bounces"]["id"], json!(id));
    assert_eq!(w.sandbox.create_requests(), 3, "a refresh creates nothing");
}

#[test]
fn a_secret_edited_in_saleshandy_is_refreshed_without_being_shown() {
    let w = applied();
    let id = recorded_id(&w, "Email Sent");
    let ids = [("Email Sent".to_string(), id.clone())];
    assert!(w.sandbox.update(&id, |h| {
        h.headers
            .insert("Authorization".into(), "Bearer typed-in-the-ui".into());
        h.status = saleshandy_webhooks::emulator::WebhookStatus::Paused;
    }));
    // status advises the one step, then import does it.
    let o = w.status().stdout_unchecked().run();
    crate::support::snapshot(
        "recovery-refresh-status-advice",
        &w.with_named_ids(&o.stdout, &ids),
    );
    let o = w
        .state(["import", "Email Sent", &id])
        .stdout_unchecked()
        .run();
    assert_eq!(
        w.with_named_ids(&o.stdout, &ids),
        "Refreshed `Email Sent` (id [ID of Email Sent]) in webhooks.state.json from Saleshandy:
  headers: Authorization: (secret) → Authorization: (secret, changed)
  status: active → paused
It differs from the config in headers: `plan` shows it as changed.
"
    );
    let state = String::from_utf8_lossy(&w.state_bytes()).into_owned();
    assert!(!state.contains("typed-in-the-ui") && !state.contains(TOKEN));
    assert_eq!(
        w.state_json()["webhooks"]["Email Sent"]["status"],
        json!("paused")
    );
}
