//! `state import` and `state rm` end to end: the binary against the embedded sandbox, with the
//! state, the plan that follows, and the server's request log checked after each command.
//!
//! Refusals are run on the default (relative) file names: an absolute temp path would change
//! where the error message wraps from one machine to the next.

use crate::support::{snapshot, World, THREE_HOOKS as CONFIG};
use saleshandy_webhooks::emulator::{Fault, Target, SANDBOX_API_KEY};
use serde_json::{json, Value};

const TOKEN: &str = "state-cmd-token-value";

/// An id the sandbox never hands out (it is well formed: 24 hex characters).
const NO_SUCH_ID: &str = "0123456789abcdef01234567";

/// [`CONFIG`] and one more webhook, `Tasks`.
fn with_tasks() -> String {
    format!(
        "{CONFIG}  - name: Tasks\n    url: https://tasks.example.org/t\n    events: [task-created]\n"
    )
}

fn world(config: &str) -> World {
    World::with_hook_token(config, TOKEN)
}

/// Creates a webhook straight through the API, as a person would in Saleshandy; its id.
fn create_directly(w: &World, body: Value) -> String {
    let url = format!("{}/v1/webhook/create", w.sandbox.url());
    let answer: Value = w.rt.block_on(async {
        let response = reqwest::Client::new()
            .post(url)
            .header("x-api-key", SANDBOX_API_KEY)
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.expect("JSON answer")
    });
    answer["payload"]["id"].as_str().expect("an id").to_string()
}

/// The JSON plan (its ids vary: callers look at actions and the summary).
fn plan_json(w: &World) -> Value {
    let o = w.plan().args(["--format", "json"]).stdout_unchecked().run();
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

fn action_of(plan: &Value, name: &str) -> String {
    plan["webhooks"]
        .as_array()
        .expect("webhooks")
        .iter()
        .find(|w| w["name"] == name)
        .and_then(|w| w["action"].as_str())
        .unwrap_or_else(|| panic!("`{name}` is in the plan: {plan:#}"))
        .to_string()
}

// --- state import ------------------------------------------------------------------------

#[test]
fn importing_an_id_the_server_does_not_know_changes_nothing() {
    let w = world(CONFIG);

    // With no state yet: none is created.
    w.state(["import", "Replies", NO_SUCH_ID])
        .status(1)
        .stderr_snapshot("state-import-not-found")
        .run();
    assert!(!w.state_path().exists(), "no state was written");

    // With a state: it stays byte-identical.
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(&with_tasks());
    let before = w.state_bytes();
    w.state(["import", "Tasks", NO_SUCH_ID])
        .status(1)
        .stderr_snapshot("state-import-not-found")
        .run();
    assert_eq!(w.state_bytes(), before, "the state is byte-identical");
    assert_eq!(w.sandbox.create_requests(), 3, "import never creates");
    let last = w.sandbox.requests().pop().expect("a request");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", format!("/v1/webhook/{NO_SUCH_ID}").as_str())
    );
}

#[test]
fn importing_existing_webhooks_records_them_as_unchanged_changed_or_orphaned() {
    let w = world(CONFIG);
    let same = create_directly(
        &w,
        json!({
            "name": "Email Sent",
            "webhookUrl": "https://ingest.example.org/sent",
            "webhookEvent": ["email-opened", "email-sent"],
            "headers": {"x-webhook-source": "saleshandy", "Authorization": format!("Bearer {TOKEN}")}
        }),
    );
    let other_url = create_directly(
        &w,
        json!({
            "name": "Bounces",
            "webhookUrl": "https://old-alerts.example.org/bounces",
            "webhookEvent": ["email-bounced"],
            "headers": {}
        }),
    );
    let legacy = create_directly(
        &w,
        json!({
            "name": "Legacy",
            "webhookUrl": "https://legacy.example.org/hook",
            "webhookEvent": ["email-sent"],
            "headers": {}
        }),
    );

    // -c and --state name the files, as for the other commands.
    w.state(["import", "Email Sent", &same])
        .args(w.files_args())
        .stdout(
            "Imported `Email Sent` (id [ID], active) into [DIR]/webhooks.state.json.
It matches the config: `plan` shows it as unchanged.
",
        )
        .run();
    assert_eq!(w.state_json()["webhooks"]["Email Sent"]["id"], json!(same));
    let plan = plan_json(&w);
    assert_eq!(
        plan["summary"],
        json!({"create": 2, "unchanged": 1, "changed": 0, "orphaned": 0, "unknown": 0}),
        "event order and header case do not matter, the secret matches by fingerprint"
    );
    assert_eq!(action_of(&plan, "Email Sent"), "unchanged");

    w.state(["import", "Bounces", &other_url])
        .stdout(
            "Imported `Bounces` (id [ID], active) into webhooks.state.json.
It differs from the config in url: `plan` shows it as changed.
",
        )
        .run();
    assert_eq!(action_of(&plan_json(&w), "Bounces"), "changed");

    w.state(["import", "Legacy", &legacy])
        .stdout(
            "Imported `Legacy` (id [ID], active) into webhooks.state.json.
It is not in the config: `plan` shows it as orphaned.
",
        )
        .run();
    let plan = plan_json(&w);
    assert_eq!(action_of(&plan, "Legacy"), "orphaned");
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "unchanged": 1, "changed": 1, "orphaned": 1, "unknown": 0})
    );
    w.plan().stdout_snapshot("state-import-plan").run();

    // A name already recorded with another id is refused.
    let before = w.state_bytes();
    let ids = [
        ("Email Sent".to_string(), same.clone()),
        ("Legacy".to_string(), legacy.clone()),
    ];
    let o = w
        .state(["import", "Email Sent", &legacy])
        .status(1)
        .stderr_unchecked()
        .run();
    snapshot(
        "state-import-name-taken",
        &w.with_named_ids(&o.stderr, &ids),
    );
    assert_eq!(w.state_bytes(), before);
    // The same id again is read again: unchanged there, so nothing is written.
    w.state(["import", "Email Sent", &same])
        .stdout(
            "`Email Sent` (id [ID], active) is recorded as it is in Saleshandy: nothing to do.
It matches the config: `plan` shows it as unchanged.
",
        )
        .run();
    assert_eq!(w.state_bytes(), before);
    // One webhook cannot be recorded under a second name: `plan` would then advise deleting
    // the first one's webhook.
    let o = w
        .state(["import", "Replies", &same])
        .status(1)
        .stderr_unchecked()
        .run();
    snapshot("state-import-id-taken", &w.with_named_ids(&o.stderr, &ids));
    assert_eq!(w.state_bytes(), before);
    let requests = w.sandbox.requests().len();
    w.state(["import", "Replies", "../../etc"])
        .status(1)
        .stderr_snapshot("state-import-bad-id")
        .run();
    assert_eq!(w.state_bytes(), before);
    assert_eq!(
        w.sandbox.requests().len(),
        requests,
        "an impossible id is not sent"
    );

    assert_eq!(w.sandbox.create_requests(), 3, "only the direct creates");
    assert!(
        !String::from_utf8_lossy(&w.state_bytes()).contains(TOKEN),
        "the imported secret is stored as a fingerprint"
    );

    // Apply creates only what is missing.
    w.apply()
        .stdout_snapshot("state-import-then-apply")
        .stderr("[1/1] created: Replies\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 4);
    assert_eq!(w.server_ids("Replies").len(), 1);
    assert_eq!(w.server_ids("Email Sent"), [same]);
}

// --- state rm ----------------------------------------------------------------------------

#[test]
fn removing_a_recorded_webhook_makes_the_plan_create_it_without_touching_the_server() {
    let w = world(CONFIG);
    w.ok(&["apply", "--auto-approve"]);
    let id = w.state_json()["webhooks"]["Replies"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let requests = w.sandbox.requests().len();

    let o = w
        .state(["rm", "Replies"])
        .args(w.files_args())
        .stdout_unchecked()
        .run();
    // The id it names is the one that was recorded.
    assert_eq!(
        w.with_named_ids(&o.stdout, &[("Replies".to_string(), id.clone())]),
        "Forgot `Replies` (id [ID of Replies]). The webhook itself still exists in Saleshandy unless you deleted it there; if it is in the config, the next apply creates it again.\n"
    );
    assert!(w.state_json()["webhooks"].get("Replies").is_none());
    assert!(w.state_json()["webhooks"]["Bounces"].is_object());

    // The plan would create it again.
    w.plan()
        .arg("--detailed-exitcode")
        .status(2)
        .stdout_snapshot("state-rm-plan")
        .run();
    assert_eq!(w.sandbox.requests().len(), requests, "no request at all");
    assert_eq!(w.sandbox.webhooks().len(), 3, "nothing deleted server-side");
}

#[test]
fn removing_an_unknown_entry_lets_the_next_apply_create_it() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Bounces".into()), Fault::ServerError(503));
    // A setup step: what an apply with an unknown outcome prints is the faults tests' business.
    w.apply()
        .status(1)
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert!(w.state_json()["unknown"]["Bounces"].is_object());
    assert!(
        w.server_ids("Bounces").is_empty(),
        "the 503 created nothing"
    );

    w.state(["rm", "Bounces"])
        .stdout("Forgot the unknown create of `Bounces`. If it is in the config, the next apply creates it again.\n")
        .run();
    assert_eq!(w.state_json()["unknown"], json!({}));
    w.plan()
        .arg("--detailed-exitcode")
        .status(2)
        .stdout_snapshot("state-rm-unknown-plan")
        .run();

    w.apply()
        .stdout_snapshot("state-rm-unknown-then-apply")
        .stderr("[1/1] created: Bounces\n")
        .run();
    let ids = w.server_ids("Bounces");
    assert_eq!(ids.len(), 1);
    assert_eq!(w.state_json()["webhooks"]["Bounces"]["id"], json!(ids[0]));
    assert_eq!(w.sandbox.create_requests(), 4);
}

#[test]
fn removing_a_name_not_in_the_state_fails_and_suggests_the_closest() {
    let w = world(CONFIG);

    w.state(["rm", "Replies"])
        .status(1)
        .stderr_snapshot("state-rm-no-state")
        .run();
    assert!(!w.state_path().exists(), "no state was written");

    w.ok(&["apply", "--auto-approve"]);
    let before = w.state_bytes();
    w.state(["rm", "Replys"])
        .status(1)
        .stderr_snapshot("state-rm-unknown-name")
        .run();
    assert_eq!(w.state_bytes(), before);

    // A name far from every recorded one gets no guess.
    w.state(["rm", "Zebra"])
        .status(1)
        .stderr_snapshot("state-rm-far-name")
        .run();
    assert_eq!(w.state_bytes(), before);
}

#[test]
fn removing_a_name_already_forgotten_suggests_no_other_webhook() {
    let w = world(&crate::support::hooks(12));
    w.ok(&["apply", "--auto-approve"]);
    w.state(["rm", "Hook 1"]).stdout_unchecked().run();
    let before = w.state_bytes();
    // `Hook 12` holds it whole and is one edit away, but it is another webhook.
    w.state(["rm", "Hook 1"])
        .status(1)
        .stderr_snapshot("state-rm-already-forgotten")
        .run();
    // A typo of a recorded name still gets it.
    w.state(["rm", "Hok 12"])
        .status(1)
        .stderr_snapshot("state-rm-typo-with-a-number")
        .run();
    assert_eq!(w.state_bytes(), before);

    let w = world(CONFIG);
    w.ok(&["apply", "--auto-approve"]);
    w.state(["rm", "Sent"])
        .status(1)
        .stderr_snapshot("state-rm-part-of-a-name")
        .run();
}

// --- the lock ----------------------------------------------------------------------------

#[test]
fn both_commands_refuse_a_state_locked_by_another_run() {
    let w = world(CONFIG);
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(&with_tasks());
    let tasks = create_directly(
        &w,
        json!({
            "name": "Tasks",
            "webhookUrl": "https://tasks.example.org/t",
            "webhookEvent": ["task-created"],
            "headers": {}
        }),
    );
    let before = w.state_bytes();
    let requests = w.sandbox.requests().len();

    let lock = w.hold_lock();
    w.state(["import", "Tasks", &tasks])
        .status(1)
        .stderr_snapshot("state-import-locked")
        .run();
    w.state(["rm", "Replies"])
        .status(1)
        .stderr_snapshot("state-rm-locked")
        .run();
    assert_eq!(w.state_bytes(), before);
    assert_eq!(
        w.sandbox.requests().len(),
        requests,
        "import asked nothing of the API"
    );

    drop(lock);
    w.state(["import", "Tasks", &tasks])
        .args(w.files_args())
        .stdout(
            "Imported `Tasks` (id [ID], active) into [DIR]/webhooks.state.json.
It matches the config: `plan` shows it as unchanged.
",
        )
        .run();
    w.state(["rm", "Replies"])
        .args(w.files_args())
        .stdout("Forgot `Replies` (id [ID]). The webhook itself still exists in Saleshandy unless you deleted it there; if it is in the config, the next apply creates it again.\n")
        .run();
    assert_eq!(w.state_json()["webhooks"]["Tasks"]["id"], json!(tasks));
}
