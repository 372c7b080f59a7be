//! The recovery paths a plan or a status report advises, followed end to end against the
//! embedded sandbox: refreshing a webhook edited in Saleshandy, renaming one, and a webhook
//! deleted there.

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

// --- renaming ----------------------------------------------------------------------------

/// [`CONFIG`] with `Replies` renamed `Reply Hook`.
fn renamed_config() -> String {
    CONFIG.replace("name: Replies", "name: Reply Hook")
}

#[test]
fn a_rename_in_the_config_is_pointed_out_and_state_mv_keeps_the_webhook() {
    let w = applied();
    let id = recorded_id(&w, "Replies");
    let ids = [("Replies".to_string(), id.clone())];
    w.set_config(&renamed_config());

    let o = w.plan().stdout_unchecked().run();
    crate::support::snapshot("recovery-rename-plan", &w.with_named_ids(&o.stdout, &ids));
    for (format, name) in [
        ("markdown", "recovery-rename-plan-markdown"),
        ("github", "recovery-rename-plan-github"),
    ] {
        let o = w.plan().args(["--format", format]).stdout_unchecked().run();
        crate::support::snapshot(name, &w.with_named_ids(&o.stdout, &ids));
    }
    let plan = plan_json(&w);
    let rename = json!({"from": "Replies", "to": "Reply Hook"});
    assert_eq!(plan["webhooks"][1]["name"], json!("Reply Hook"));
    assert_eq!(plan["webhooks"][1]["action"], json!("create"));
    assert_eq!(plan["webhooks"][1]["likely_rename"], rename);
    assert_eq!(plan["webhooks"][3]["name"], json!("Replies"));
    assert_eq!(plan["webhooks"][3]["likely_rename"], rename);
    assert!(plan["webhooks"][0].get("likely_rename").is_none());

    // Renamed in Saleshandy's UI too, then in the state: nothing to create, no drift.
    assert!(w.sandbox.update(&id, |h| h.name = "Reply Hook".into()));
    let o = w
        .state(["mv", "Replies", "Reply Hook"])
        .stdout_unchecked()
        .run();
    assert_eq!(
        w.with_named_ids(&o.stdout, &ids),
        "Moved `Replies` to `Reply Hook` (id [ID of Replies]) in webhooks.state.json. Nothing was sent: if Saleshandy still calls it `Replies`, rename it to `Reply Hook` there too (`status` reports a name that differs).\n"
    );
    assert_eq!(w.state_json()["webhooks"]["Reply Hook"]["id"], json!(id));
    assert!(w.state_json()["webhooks"].get("Replies").is_none());
    w.plan()
        .arg("--detailed-exitcode")
        .stdout(
            "Plan for webhooks.yaml against webhooks.state.json

  3 unchanged webhooks not shown (-v lists them).

Plan: 0 to create, 3 unchanged, 0 changed, 0 orphaned, 0 unknown.
",
        )
        .run();
    w.status()
        .arg("--detailed-exitcode")
        .stdout_unchecked()
        .run();
    w.apply().stdout_unchecked().run();
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "the webhook was kept, none created"
    );
}

#[test]
fn after_state_mv_status_names_the_rename_left_to_do_in_saleshandy() {
    let w = applied();
    let id = recorded_id(&w, "Replies");
    w.set_config(&renamed_config());
    // status --update-state has recorded a check: it moves with the entry.
    w.status().arg("--update-state").stdout_unchecked().run();
    w.state(["mv", "Replies", "Reply Hook"])
        .stdout_unchecked()
        .run();
    assert_eq!(w.state_json()["checks"]["Reply Hook"]["id"], json!(id));
    assert!(w.state_json()["checks"].get("Replies").is_none());
    let o = w
        .status()
        .arg("--detailed-exitcode")
        .status(2)
        .stdout_unchecked()
        .run();
    crate::support::snapshot(
        "recovery-rename-status-left-to-do",
        &w.with_named_ids(&o.stdout, &[("Reply Hook".to_string(), id.clone())]),
    );

    // Renamed there: status is clean again.
    assert!(w.sandbox.update(&id, |h| h.name = "Reply Hook".into()));
    w.status()
        .arg("--detailed-exitcode")
        .stdout_unchecked()
        .run();
}

#[test]
fn forgetting_and_importing_under_the_new_name_is_a_rename_too() {
    let w = applied();
    let id = recorded_id(&w, "Replies");
    w.set_config(&renamed_config());
    assert!(w.sandbox.update(&id, |h| h.name = "Reply Hook".into()));
    w.state(["rm", "Replies"]).stdout_unchecked().run();
    w.state(["import", "Reply Hook", &id])
        .stdout(
            "Imported `Reply Hook` (id [ID], active) into webhooks.state.json.
It matches the config: `plan` shows it as unchanged.
",
        )
        .run();
    w.status()
        .arg("--detailed-exitcode")
        .stdout_unchecked()
        .run();
}

#[test]
fn state_mv_refuses_a_taken_new_name_and_a_missing_old_one() {
    let w = applied();
    let before = w.state_bytes();
    let requests = w.sandbox.requests().len();
    w.state(["mv", "Replies", "Bounces"])
        .status(1)
        .stderr_snapshot("recovery-mv-name-taken")
        .run();
    w.state(["mv", "Replys", "Reply Hook"])
        .status(1)
        .stderr_snapshot("recovery-mv-close-name")
        .run();
    w.state(["mv", "Zebra", "Reply Hook"])
        .status(1)
        .stderr_snapshot("recovery-mv-far-name")
        .run();
    let lock = w.hold_lock();
    w.state(["mv", "Replies", "Reply Hook"])
        .status(1)
        .stderr_snapshot("recovery-mv-locked")
        .run();
    drop(lock);
    assert_eq!(w.state_bytes(), before, "nothing was written");
    assert_eq!(w.sandbox.requests().len(), requests, "nothing was sent");
}

#[test]
fn state_mv_moves_an_unknown_create_too() {
    let w = World::with_hook_token(CONFIG, TOKEN);
    w.sandbox.inject(
        saleshandy_webhooks::emulator::Target::Name("Replies".into()),
        saleshandy_webhooks::emulator::Fault::ServerError(503),
    );
    // A setup step: what an apply with an unknown outcome prints is the faults tests' business.
    w.apply()
        .status(1)
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    let unknown = w.state_json()["unknown"]["Replies"].clone();
    assert!(unknown.is_object());
    w.set_config(&renamed_config());
    w.state(["mv", "Replies", "Reply Hook"])
        .stdout("Moved the unknown create of `Replies` to `Reply Hook` in webhooks.state.json. If it exists in Saleshandy it is still called `Replies` there: look for that name.\n")
        .run();
    assert_eq!(w.state_json()["unknown"], json!({"Reply Hook": unknown}));
    assert_eq!(
        plan_json(&w)["summary"],
        json!({"create": 0, "unchanged": 2, "changed": 0, "orphaned": 0, "unknown": 1})
    );
}

// --- webhooks deleted in Saleshandy ------------------------------------------------------------

/// Another account's key: to it, every webhook of the first account looks deleted.
const OTHER_KEY: &str = "another-account-key";

#[test]
fn a_webhook_found_deleted_is_its_own_action_until_forgotten_or_restored() {
    let w = World::builder()
        .config(CONFIG)
        .api_keys(&[saleshandy_webhooks::emulator::SANDBOX_API_KEY, OTHER_KEY])
        .env("HOOK_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .build();
    w.ok(&["apply", "--auto-approve"]);
    let bounces = recorded_id(&w, "Bounces");
    let replies = recorded_id(&w, "Replies");
    assert!(w.sandbox.remove(&bounces));
    w.status().args(["--update-state"]).stdout_unchecked().run();
    // Read with the wrong key, `Replies` looks deleted too (it is not).
    w.status()
        .args(["--update-state"])
        .env("SALESHANDY_API_KEY", OTHER_KEY)
        .stdout_unchecked()
        .run();
    let ids = w.recorded_ids();
    for (format, name) in [
        ("human", "recovery-deleted-plan"),
        ("markdown", "recovery-deleted-plan-markdown"),
        ("github", "recovery-deleted-plan-github"),
    ] {
        let o = w
            .plan()
            .args(["--format", format, "--detailed-exitcode"])
            .stdout_unchecked()
            .run();
        crate::support::snapshot(name, &w.with_named_ids(&o.stdout, &ids));
    }
    let plan = plan_json(&w);
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "unchanged": 0, "changed": 0, "orphaned": 0, "unknown": 0, "deleted": 3})
    );
    assert_eq!(plan["needs_person"], json!(true));
    w.apply().stdout_unchecked().run();
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "apply creates none on its own"
    );

    // Restored (here: it never went): importing its id again records it as it is.
    let o = w
        .state(["import", "Replies", &replies])
        .stdout_unchecked()
        .run();
    assert_eq!(
        w.with_named_ids(&o.stdout, &ids),
        "Refreshed `Replies` (id [ID of Replies]) in webhooks.state.json from Saleshandy:
  status: deleted → active
It matches the config: `plan` shows it as unchanged.
"
    );
    // Gone for good: forgotten, then created again.
    w.state(["rm", "Bounces"]).stdout_unchecked().run();
    let plan = plan_json(&w);
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "unchanged": 1, "changed": 0, "orphaned": 0, "unknown": 0, "deleted": 1})
    );
    w.apply()
        .stderr("[1/1] created: Bounces\n")
        .stdout_unchecked()
        .run();
    assert_eq!(w.server_ids("Bounces").len(), 1);
}
