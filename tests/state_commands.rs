//! `state import` and `state rm` end to end: the binary against the embedded sandbox, with the
//! state, the plan that follows, and the server's request log checked after each command.

use std::process::Output;

use crate::support::{flat, flat_output, output_text, World, THREE_HOOKS as CONFIG};
use saleshandy_webhooks::sandbox::{Fault, Target, SANDBOX_API_KEY};
use serde_json::{json, Value};

const TOKEN: &str = "state-cmd-token-value";

/// An id the sandbox never hands out (it is well formed: 24 hex characters).
const NO_SUCH_ID: &str = "0123456789abcdef01234567";

fn world(config: &str) -> World {
    World::with_hook_token(config, TOKEN)
}

impl World {
    /// Runs `command` with `-c CONFIG --state STATE`.
    fn with_files(&self, command: &[&str]) -> Output {
        self.cmd()
            .args(command)
            .args(self.files_args())
            .output()
            .expect("runs")
    }

    fn apply_state_commands(&self) -> Output {
        self.with_files(&["apply", "--auto-approve"])
    }

    fn import_state_commands(&self, name: &str, id: &str) -> Output {
        self.with_files(&["state", "import", name, id])
    }

    fn rm_state_commands(&self, name: &str) -> Output {
        self.with_files(&["state", "rm", name])
    }

    fn plan_state_commands(&self, extra: &[&str]) -> Output {
        let mut command = vec!["plan"];
        command.extend(extra);
        self.with_files(&command)
    }

    fn plan_json(&self) -> Value {
        let o = self.plan_state_commands(&["--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        serde_json::from_slice(&o.stdout).expect("one JSON document")
    }

    /// Creates a webhook straight through the API, as a person would in Saleshandy; its id.
    fn create_directly(&self, body: Value) -> String {
        let url = format!("{}/v1/webhook/create", self.sandbox.url());
        let answer: Value = self.rt.block_on(async {
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
}

/// Each webhook's action in a JSON plan.
fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["webhooks"]
        .as_array()
        .expect("webhooks")
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap_or_default().to_string(),
                w["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn action_of(plan: &Value, name: &str) -> String {
    actions(plan)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("`{name}` is in the plan: {plan:#}"))
}

// --- state import ------------------------------------------------------------------------

#[test]
fn importing_an_id_the_server_does_not_know_changes_nothing() {
    let w = world(CONFIG);

    // With no state yet: none is created.
    let o = w.import_state_commands("Replies", NO_SUCH_ID);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        flat_output(&o).contains(&format!("has no webhook with id {NO_SUCH_ID}")),
        "{}",
        output_text(&o)
    );
    assert!(!w.state_path().exists(), "no state was written");

    // With a state: it stays byte-identical.
    assert_eq!(w.apply_state_commands().status.code(), Some(0));
    w.set_config(&format!(
        "{CONFIG}  - name: Tasks\n    url: https://tasks.example.org/t\n    events: [task-created]\n"
    ));
    let before = w.state_bytes();
    let o = w.import_state_commands("Tasks", NO_SUCH_ID);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        flat_output(&o).contains("has no webhook with id"),
        "{}",
        output_text(&o)
    );
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
    let same = w.create_directly(json!({
        "name": "Email Sent",
        "webhookUrl": "https://ingest.example.org/sent",
        "webhookEvent": ["email-opened", "email-sent"],
        "headers": {"x-webhook-source": "saleshandy", "Authorization": format!("Bearer {TOKEN}")}
    }));
    let other_url = w.create_directly(json!({
        "name": "Bounces",
        "webhookUrl": "https://old-alerts.example.org/bounces",
        "webhookEvent": ["email-bounced"],
        "headers": {}
    }));
    let legacy = w.create_directly(json!({
        "name": "Legacy",
        "webhookUrl": "https://legacy.example.org/hook",
        "webhookEvent": ["email-sent"],
        "headers": {}
    }));

    let o = w.import_state_commands("Email Sent", &same);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(w.state_json()["webhooks"]["Email Sent"]["id"], json!(same));
    let plan = w.plan_json();
    assert_eq!(
        plan["summary"],
        json!({"create": 2, "unchanged": 1, "changed": 0, "orphaned": 0, "unknown": 0}),
        "event order and header case do not matter, the secret matches by fingerprint"
    );
    assert_eq!(action_of(&plan, "Email Sent"), "unchanged");

    let o = w.import_state_commands("Bounces", &other_url);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let plan = w.plan_json();
    assert_eq!(action_of(&plan, "Bounces"), "changed", "{plan:#}");

    let o = w.import_state_commands("Legacy", &legacy);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let plan = w.plan_json();
    assert_eq!(action_of(&plan, "Legacy"), "orphaned", "{plan:#}");
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "unchanged": 1, "changed": 1, "orphaned": 1, "unknown": 0})
    );
    let human = w.plan_state_commands(&[]);
    let text = flat(&String::from_utf8_lossy(&human.stdout));
    assert!(
        text.contains("~ Bounces") && text.contains("- Legacy") && text.contains("+ Replies"),
        "{text}"
    );

    // A name already recorded with another id is refused; the same id is a no-op.
    let before = w.state_bytes();
    let o = w.import_state_commands("Email Sent", &legacy);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        flat_output(&o).contains("already recorded"),
        "{}",
        output_text(&o)
    );
    assert_eq!(w.state_bytes(), before);
    let o = w.import_state_commands("Email Sent", &same);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(w.state_bytes(), before);
    // One webhook cannot be recorded under a second name: `plan` would then advise deleting
    // the first one's webhook.
    let o = w.import_state_commands("Replies", &same);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        flat_output(&o).contains("is already recorded, as `Email Sent`"),
        "{}",
        output_text(&o)
    );
    assert_eq!(w.state_bytes(), before);
    let o = w.import_state_commands("Replies", "../../etc");
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert_eq!(w.state_bytes(), before);

    assert_eq!(w.sandbox.create_requests(), 3, "only the direct creates");
    assert!(
        !String::from_utf8_lossy(&w.state_bytes()).contains(TOKEN),
        "the imported secret is stored as a fingerprint"
    );

    // Apply creates only what is missing.
    let o = w.apply_state_commands();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(w.sandbox.create_requests(), 4);
    assert_eq!(w.server_ids("Replies").len(), 1);
    assert_eq!(w.server_ids("Email Sent"), [same]);
}

// --- state rm ----------------------------------------------------------------------------

#[test]
fn removing_a_recorded_webhook_makes_the_plan_create_it_without_touching_the_server() {
    let w = world(CONFIG);
    assert_eq!(w.apply_state_commands().status.code(), Some(0));
    let id = w.state_json()["webhooks"]["Replies"]["id"].clone();
    let requests = w.sandbox.requests().len();

    let o = w.rm_state_commands("Replies");
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert!(
        output_text(&o).contains(id.as_str().expect("id")),
        "{}",
        output_text(&o)
    );
    assert!(w.state_json()["webhooks"].get("Replies").is_none());
    assert!(w.state_json()["webhooks"]["Bounces"].is_object());

    let plan = w.plan_state_commands(&["--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "would create again: {}",
        output_text(&plan)
    );
    assert!(
        flat(&String::from_utf8_lossy(&plan.stdout)).contains("+ Replies"),
        "{}",
        output_text(&plan)
    );
    assert_eq!(w.sandbox.requests().len(), requests, "no request at all");
    assert_eq!(w.sandbox.webhooks().len(), 3, "nothing deleted server-side");
}

#[test]
fn removing_an_unknown_entry_lets_the_next_apply_create_it() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Bounces".into()), Fault::ServerError(503));
    assert_eq!(w.apply_state_commands().status.code(), Some(1));
    assert!(w.state_json()["unknown"]["Bounces"].is_object());
    assert!(
        w.server_ids("Bounces").is_empty(),
        "the 503 created nothing"
    );

    let o = w.rm_state_commands("Bounces");
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(w.state_json()["unknown"], json!({}));
    assert_eq!(
        w.plan_state_commands(&["--detailed-exitcode"])
            .status
            .code(),
        Some(2)
    );

    let o = w.apply_state_commands();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let ids = w.server_ids("Bounces");
    assert_eq!(ids.len(), 1);
    assert_eq!(w.state_json()["webhooks"]["Bounces"]["id"], json!(ids[0]));
    assert_eq!(w.sandbox.create_requests(), 4);
}

#[test]
fn removing_a_name_not_in_the_state_fails_and_suggests_the_closest() {
    let w = world(CONFIG);

    let o = w.rm_state_commands("Replies");
    assert_eq!(
        o.status.code(),
        Some(1),
        "no state yet: {}",
        output_text(&o)
    );
    assert!(
        flat_output(&o).contains("no webhook named"),
        "{}",
        output_text(&o)
    );
    assert!(!w.state_path().exists(), "no state was written");

    assert_eq!(w.apply_state_commands().status.code(), Some(0));
    let before = w.state_bytes();
    let o = w.rm_state_commands("Replys");
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let text = flat_output(&o);
    assert!(text.contains("no webhook named `Replys`"), "{text}");
    assert!(
        text.contains("`Replies`"),
        "the closest name is suggested: {text}"
    );
    assert_eq!(w.state_bytes(), before);
}

// --- the lock ----------------------------------------------------------------------------

#[test]
fn both_commands_refuse_a_state_locked_by_another_run() {
    let w = world(CONFIG);
    assert_eq!(w.apply_state_commands().status.code(), Some(0));
    w.set_config(&format!(
        "{CONFIG}  - name: Tasks\n    url: https://tasks.example.org/t\n    events: [task-created]\n"
    ));
    let tasks = w.create_directly(json!({
        "name": "Tasks",
        "webhookUrl": "https://tasks.example.org/t",
        "webhookEvent": ["task-created"],
        "headers": {}
    }));
    let before = w.state_bytes();
    let requests = w.sandbox.requests().len();

    let lock_path = w.dir.path().join("webhooks.state.json.lock");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .expect("lock file");
    lock.try_lock().expect("the test holds the lock");

    for o in [
        w.import_state_commands("Tasks", &tasks),
        w.rm_state_commands("Replies"),
    ] {
        assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
        assert!(
            flat_output(&o).contains("is locked by another run"),
            "{}",
            output_text(&o)
        );
    }
    assert_eq!(w.state_bytes(), before);
    assert_eq!(
        w.sandbox.requests().len(),
        requests,
        "import asked nothing of the API"
    );

    drop(lock);
    assert_eq!(
        w.import_state_commands("Tasks", &tasks).status.code(),
        Some(0)
    );
    assert_eq!(w.rm_state_commands("Replies").status.code(), Some(0));
    assert_eq!(w.state_json()["webhooks"]["Tasks"]["id"], json!(tasks));
}
