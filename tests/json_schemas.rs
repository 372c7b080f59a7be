//! `schemas/state.schema.json` and `schemas/plan.schema.json` describe what the tool writes.
//!
//! - Both schemas are valid draft 2020-12 schemas, and every property in them is described.
//! - States built in code, with plain and secret values, validate once serialised by
//!   [`State::to_json`]; a state with an extra field or a malformed fingerprint does not.
//! - The real binary's `plan --format json`, on a config and state that give all five actions
//!   and a secret header from the environment, validates, and never shows the secret.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::support::{assert_every_entry_described, bin, sent};
use jsonschema::Validator;
use saleshandy_webhooks::secret::{fingerprint, Secret};
use saleshandy_webhooks::state::{
    Fingerprint, Recorded, Sent, State, Stored, Unknown, WebhookStatus,
};
use serde_json::{json, Value};

/// The value of the environment variable `TOKEN` in the plan runs; must never be printed.
const TOKEN: &str = "tok-5ecret-9f3a7c21d0";

fn schema(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(file);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A validator for the schema `file`, checking `format` too (`date-time` for timestamps).
fn validator(file: &str) -> Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema(file))
        .unwrap_or_else(|e| panic!("{file} does not compile: {e}"))
}

/// Every schema error for `instance`, one per line; empty when it is valid.
fn errors(validator: &Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[track_caller]
fn assert_valid(validator: &Validator, instance: &Value) {
    let found = errors(validator, instance);
    assert!(
        found.is_empty(),
        "refused by the schema:\n{found}\ninstance:\n{instance:#}"
    );
}

#[track_caller]
fn assert_invalid(validator: &Validator, instance: &Value, why: &str) {
    assert!(
        !validator.is_valid(instance),
        "the schema accepts {why}:\n{instance:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// The schemas themselves

fn check_schema_file(file: &str, at_least: usize) {
    let schema = schema(file);
    jsonschema::draft202012::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("{file} is not a valid draft 2020-12 schema: {e}"));
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "{file} names its draft"
    );
    for key in ["title", "description"] {
        assert!(
            schema[key].as_str().is_some_and(|t| !t.trim().is_empty()),
            "{file} has no {key}"
        );
    }
    assert_every_entry_described(&schema, file, at_least);
}

#[test]
fn state_schema_is_valid_and_described() {
    check_schema_file("state.schema.json", 20);
}

#[test]
fn plan_schema_is_valid_and_described() {
    check_schema_file("plan.schema.json", 20);
}

// ---------------------------------------------------------------------------------------------
// The state

fn plain(s: &str) -> Stored {
    Stored::Plain(s.to_string())
}

fn secret(lineage: &str, value: &str) -> Stored {
    Stored::Secret(Fingerprint {
        fingerprint: fingerprint(lineage, &Secret::new(value.to_string())),
    })
}

fn recorded(id: &str, sent: Sent) -> Recorded {
    Recorded {
        id: id.to_string(),
        sent,
        status: WebhookStatus::Active,
        test_delivery: Some("succeeded".to_string()),
        created_at: "2026-11-27T10:00:00Z".to_string(),
    }
}

fn lost(sent: Sent) -> Unknown {
    Unknown {
        sent,
        since: "2026-11-27T10:05:00Z".to_string(),
        reason: "no answer within 30s".to_string(),
    }
}

/// A state with every kind of entry and value: recorded (active and paused, with and without a
/// test delivery result), unknown, plain and secret urls and headers, an endpoint.
fn full_state() -> State {
    let mut state = State::new();
    let key = state.lineage.clone();
    state.serial = 7;
    state.endpoint = Some("https://open-api.saleshandy.com".to_string());
    state.webhooks.insert(
        "Email Sent Webhook".to_string(),
        recorded(
            "69fb3ac1eda582171eb74826",
            sent(
                plain("https://example.org/hooks/sent"),
                &["email-sent", "email-opened"],
                vec![
                    ("X-Webhook-Source", plain("saleshandy")),
                    ("Authorization", secret(&key, "Bearer abc")),
                ],
            ),
        ),
    );
    let mut paused = recorded(
        "69fb3ac1eda582171eb74827",
        sent(
            secret(&key, "https://example.org/hooks/private-path"),
            &["reply-received"],
            vec![],
        ),
    );
    paused.status = WebhookStatus::Paused;
    paused.test_delivery = Some("failed".to_string());
    state.webhooks.insert("Replies".to_string(), paused);
    let mut no_test = recorded(
        "69fb3ac1eda582171eb74828",
        sent(
            plain("https://example.org/hooks/opened"),
            &["email-opened"],
            vec![],
        ),
    );
    no_test.test_delivery = None;
    state.webhooks.insert("Opens".to_string(), no_test);
    state.unknown.insert(
        "Lost Webhook".to_string(),
        lost(sent(
            plain("https://example.org/hooks/lost"),
            &["email-sent"],
            vec![("Authorization", secret(&key, "Bearer xyz"))],
        )),
    );
    state
}

fn state_json(state: &State) -> Value {
    serde_json::from_str(&state.to_json()).expect("the state's JSON parses")
}

#[test]
fn states_written_by_the_tool_validate() {
    let validator = validator("state.schema.json");

    // A first run's state, before anything is created.
    assert_valid(&validator, &state_json(&State::new()));

    let state = full_state();
    let value = state_json(&state);
    assert_valid(&validator, &value);
    // The instance really holds both forms of a stored value, and all optional fields.
    let text = state.to_json();
    assert!(text.contains("\"fingerprint\": \"hmac-sha256:"), "{text}");
    assert!(
        text.contains("\"X-Webhook-Source\": \"saleshandy\""),
        "{text}"
    );
    assert!(value["endpoint"].is_string() && value["unknown"]["Lost Webhook"].is_object());
    assert!(value["webhooks"]["Replies"]["test_delivery"] == "failed");
    assert!(value["webhooks"]["Opens"].get("test_delivery").is_none());
    // And the tool reads back what it wrote.
    assert_eq!(State::parse(&text, "state.json").expect("parses"), state);

    // Only unknown entries, and a recorded webhook without headers.
    let mut state = State::new();
    let key = state.lineage.clone();
    state.unknown.insert(
        "Secret URL".to_string(),
        lost(sent(
            secret(&key, "https://x.example/t"),
            &["email-sent"],
            vec![],
        )),
    );
    assert_valid(&validator, &state_json(&state));
}

/// A copy of `value` with `edit` applied to the object at `pointer`.
fn edited(
    value: &Value,
    pointer: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Value {
    let mut copy = value.clone();
    let target = copy
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"));
    edit(target);
    copy
}

/// A copy of `value` with `key` set to `new` in the object at `pointer`.
fn with(value: &Value, pointer: &str, key: &str, new: Value) -> Value {
    edited(value, pointer, |o| {
        o.insert(key.to_string(), new);
    })
}

/// A copy of `value` without `key` in the object at `pointer`.
fn without(value: &Value, pointer: &str, key: &str) -> Value {
    edited(value, pointer, |o| {
        o.remove(key);
    })
}

#[test]
fn extra_fields_are_refused_like_the_tool_refuses_them() {
    let validator = validator("state.schema.json");
    let value = state_json(&full_state());
    for pointer in [
        "",
        "/webhooks/Email Sent Webhook",
        "/webhooks/Email Sent Webhook/sent",
        "/unknown/Lost Webhook",
        "/unknown/Lost Webhook/sent",
    ] {
        let bad = with(&value, pointer, "colour", json!("blue"));
        assert_invalid(&validator, &bad, &format!("an extra field at `{pointer}`"));
        // The tool refuses it too (`deny_unknown_fields`).
        assert!(
            State::parse(&bad.to_string(), "state.json").is_err(),
            "the tool accepts an extra field at `{pointer}`"
        );
    }
}

#[test]
fn bad_fingerprints_and_shapes_are_refused() {
    let validator = validator("state.schema.json");
    let value = state_json(&full_state());
    let header = "/webhooks/Email Sent Webhook/sent/headers";
    let good = value
        .pointer(&format!("{header}/Authorization/fingerprint"))
        .and_then(Value::as_str)
        .expect("a secret header")
        .to_string();
    let hex = good.trim_start_matches("hmac-sha256:");
    for (fp, why) in [
        (format!("hmac-sha256:{}", &hex[..63]), "63 hex digits"),
        (format!("hmac-sha256:{hex}0"), "65 hex digits"),
        (
            format!("hmac-sha256:{}", hex.to_uppercase()),
            "upper-case hex",
        ),
        (format!("sha256:{hex}"), "another prefix"),
        (hex.to_string(), "no prefix"),
        (format!("hmac-sha256:{}", "g".repeat(64)), "non-hex digits"),
        (String::new(), "an empty fingerprint"),
    ] {
        let bad = with(
            &value,
            header,
            "Authorization",
            json!({ "fingerprint": fp }),
        );
        assert_invalid(&validator, &bad, &format!("a fingerprint with {why}"));
    }
    let shapes = [
        (
            json!({ "fingerprint": good, "value": "abc" }),
            "a fingerprint object with another field",
        ),
        (json!({}), "an empty object as a stored value"),
        (json!({ "value": "abc" }), "an object without a fingerprint"),
        (json!(42), "a number as a stored value"),
        (json!(null), "null as a stored value"),
    ];
    for (stored, why) in shapes {
        let bad = with(&value, header, "Authorization", stored.clone());
        assert_invalid(&validator, &bad, why);
        let bad = with(&value, "/webhooks/Opens/sent", "url", stored);
        assert_invalid(&validator, &bad, &format!("{why} (as url)"));
    }

    // Other shapes the tool never writes.
    let cases: Vec<(Value, &str)> = vec![
        (with(&value, "", "version", json!(2)), "version 2"),
        (with(&value, "", "serial", json!(-1)), "a negative serial"),
        (without(&value, "", "lineage"), "no lineage"),
        (
            without(&value, "/webhooks/Opens", "id"),
            "a webhook without id",
        ),
        (
            with(&value, "/webhooks/Opens", "id", json!("")),
            "an empty id",
        ),
        (
            with(&value, "/webhooks/Opens", "created_at", json!("yesterday")),
            "a created_at that is no timestamp",
        ),
        (
            without(&value, "/unknown/Lost Webhook", "reason"),
            "an unknown entry without reason",
        ),
        (
            with(
                &value,
                "/webhooks/Opens/sent",
                "events",
                json!("email-opened"),
            ),
            "events as a string",
        ),
    ];
    for (bad, why) in cases {
        assert_invalid(&validator, &bad, why);
    }
}

// ---------------------------------------------------------------------------------------------
// The plan

const CONFIG: &str = r#"version: 1
webhooks:
  - name: New Webhook
    url: https://example.org/hooks/new
    events: [email-sent]
    headers:
      Authorization: "Bearer ${TOKEN}"
  - name: Same Webhook
    url: https://example.org/hooks/same
    events: [email-opened, email-sent]
    headers:
      X-Webhook-Source: saleshandy
      Authorization: "Bearer ${TOKEN}"
  - name: Moved Webhook
    url: https://example.org/hooks/moved-here
    events: [reply-received]
  - name: Lost Webhook
    url: https://example.org/hooks/lost
    events: [email-sent]
"#;

/// A state against [`CONFIG`]: `Same Webhook` as the config has it (its secret header
/// fingerprinted from [`TOKEN`]), `Moved Webhook` at another url, `Old Webhook` only here,
/// `Lost Webhook` (in the config) and `Gone Lost` (not in the config) unknown.
fn plan_state() -> State {
    let mut state = State::new();
    let key = state.lineage.clone();
    state.serial = 3;
    state.endpoint = Some("https://open-api.saleshandy.com".to_string());
    state.webhooks.insert(
        "Same Webhook".to_string(),
        recorded(
            "69fb3ac1eda582171eb74826",
            sent(
                plain("https://example.org/hooks/same"),
                &["email-sent", "email-opened"],
                vec![
                    ("X-Webhook-Source", plain("saleshandy")),
                    ("Authorization", secret(&key, &format!("Bearer {TOKEN}"))),
                ],
            ),
        ),
    );
    state.webhooks.insert(
        "Moved Webhook".to_string(),
        recorded(
            "69fb3ac1eda582171eb74827",
            sent(
                plain("https://example.org/hooks/moved-away"),
                &["reply-received"],
                vec![],
            ),
        ),
    );
    state.webhooks.insert(
        "Old Webhook".to_string(),
        recorded(
            "69fb3ac1eda582171eb74828",
            sent(
                plain("https://example.org/hooks/old"),
                &["email-opened"],
                vec![("Authorization", secret(&key, "Bearer old"))],
            ),
        ),
    );
    state.unknown.insert(
        "Lost Webhook".to_string(),
        lost(sent(
            plain("https://example.org/hooks/lost"),
            &["email-sent"],
            vec![],
        )),
    );
    state.unknown.insert(
        "Gone Lost".to_string(),
        lost(sent(
            secret(&key, "https://example.org/hooks/secret-path"),
            &["email-opened"],
            vec![],
        )),
    );
    state
}

/// Runs `plan --format json` on `config` and `state` (none when `None`) with `TOKEN` set, and
/// returns its standard output as JSON after checking that it never shows the token.
fn run_plan(config: &str, state: Option<&State>) -> Value {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config_path = dir.path().join("webhooks.yaml");
    let state_path = dir.path().join("webhooks.state.json");
    fs::write(&config_path, config).expect("writing the config");
    if let Some(state) = state {
        fs::write(&state_path, state.to_json()).expect("writing the state");
    }
    let output = bin()
        .args(["plan", "--format", "json", "-c"])
        .arg(&config_path)
        .arg("--state")
        .arg(&state_path)
        .env("TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "plan failed ({}):\n{stderr}\n{stdout}",
        output.status
    );
    assert!(!stdout.contains(TOKEN), "the token is on stdout:\n{stdout}");
    assert!(!stderr.contains(TOKEN), "the token is on stderr:\n{stderr}");
    assert!(stdout.ends_with("}\n"), "no trailing newline:\n{stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"))
}

fn entry<'v>(plan: &'v Value, name: &str) -> &'v Value {
    plan["webhooks"]
        .as_array()
        .and_then(|w| w.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no entry `{name}` in:\n{plan:#}"))
}

#[test]
fn plan_with_every_action_validates_and_hides_the_secret() {
    let validator = validator("plan.schema.json");
    let plan = run_plan(CONFIG, Some(&plan_state()));
    assert_valid(&validator, &plan);

    // The run covers what the schema describes: every action, both sides, changes, steps.
    let actions: BTreeMap<&str, &str> = plan["webhooks"]
        .as_array()
        .expect("a list of webhooks")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or(""),
                e["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        actions,
        BTreeMap::from([
            ("New Webhook", "create"),
            ("Same Webhook", "unchanged"),
            ("Moved Webhook", "changed"),
            ("Old Webhook", "orphaned"),
            ("Lost Webhook", "unknown"),
            ("Gone Lost", "unknown"),
        ]),
        "{plan:#}"
    );
    assert_eq!(
        plan["summary"],
        json!({ "create": 1, "unchanged": 1, "changed": 1, "orphaned": 1, "unknown": 2 })
    );
    assert_eq!(plan["needs_person"], true);
    assert_eq!(plan["format_version"], 1);
    assert_eq!(entry(&plan, "Moved Webhook")["changes"], json!(["url"]));
    assert_eq!(
        entry(&plan, "New Webhook")["desired"]["headers"]["Authorization"],
        "(secret)"
    );
    assert_eq!(
        entry(&plan, "Same Webhook")["recorded"]["headers"]["Authorization"],
        "(secret)"
    );
    assert_eq!(entry(&plan, "Gone Lost")["recorded"]["url"], "(secret)");
    assert!(entry(&plan, "Lost Webhook")["desired"].is_object());
    assert!(entry(&plan, "Gone Lost").get("desired").is_none());
    for name in ["Moved Webhook", "Old Webhook", "Lost Webhook", "Gone Lost"] {
        assert!(entry(&plan, name)["manual_step"].is_string(), "{name}");
    }
    // No fingerprint leaks into the plan either.
    assert!(!plan.to_string().contains("hmac-sha256:"), "{plan:#}");
}

#[test]
fn first_plan_over_the_limit_validates() {
    // No state file yet, and more creates than Saleshandy's 50 active webhooks: a warning.
    let mut config = String::from("version: 1\nwebhooks:\n");
    for i in 0..51 {
        config.push_str(&format!(
            "  - name: Hook {i}\n    url: https://example.org/hooks/{i}\n    events: [email-sent]\n    headers:\n      Authorization: \"Bearer ${{TOKEN}}\"\n"
        ));
    }
    let plan = run_plan(&config, None);
    assert_valid(&validator("plan.schema.json"), &plan);
    assert_eq!(plan["summary"]["create"], 51);
    assert_eq!(plan["needs_person"], false);
    assert_eq!(
        plan["warnings"].as_array().map(Vec::len),
        Some(1),
        "{plan:#}"
    );

    // And an empty plan.
    let plan = run_plan("version: 1\nwebhooks: []\n", None);
    assert_valid(&validator("plan.schema.json"), &plan);
    assert_eq!(plan["webhooks"], json!([]));
}

#[test]
fn plan_schema_refuses_what_the_tool_never_writes() {
    let validator = validator("plan.schema.json");
    let plan = run_plan(CONFIG, Some(&plan_state()));
    let index = |name: &str| {
        plan["webhooks"]
            .as_array()
            .and_then(|w| w.iter().position(|e| e["name"] == name))
            .unwrap_or_else(|| panic!("no entry `{name}`"))
    };
    let (create, changed, orphaned) = (
        format!("/webhooks/{}", index("New Webhook")),
        format!("/webhooks/{}", index("Moved Webhook")),
        format!("/webhooks/{}", index("Old Webhook")),
    );
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&plan, "", "format_version", json!(2)),
            "format_version 2",
        ),
        (
            with(&plan, "", "extra", json!(1)),
            "an extra top-level field",
        ),
        (
            with(&plan, "/summary", "create", json!(-1)),
            "a negative count",
        ),
        (
            with(&plan, &create, "action", json!("delete")),
            "an unknown action",
        ),
        (
            with(&plan, &create, "id", json!("69fb3ac1eda582171eb74826")),
            "a create with an id",
        ),
        (
            without(&plan, &create, "desired"),
            "a create without desired",
        ),
        (
            without(&plan, &changed, "changes"),
            "a changed entry without changes",
        ),
        (
            with(&plan, &changed, "changes", json!(["colour"])),
            "an unknown change",
        ),
        (
            without(&plan, &orphaned, "manual_step"),
            "an orphan without a manual step",
        ),
        (
            with(
                &plan,
                &format!("{orphaned}/recorded"),
                "headers",
                json!({ "A": { "fingerprint": "x" } }),
            ),
            "a header value that is not a string",
        ),
    ];
    for (bad, why) in cases {
        assert_invalid(&validator, &bad, why);
    }
}

/// A config whose `Renamed Webhook` has the content of the state's `Old Name`, and a state
/// with that one and `Kept` (in the config as is).
fn rename_world() -> (&'static str, State) {
    let config = r#"version: 1
webhooks:
  - name: Kept
    url: https://example.org/hooks/kept
    events: [email-sent]
  - name: Renamed Webhook
    url: https://example.org/hooks/renamed
    events: [email-opened]
    headers:
      Authorization: "Bearer ${TOKEN}"
"#;
    let mut state = State::new();
    let key = state.lineage.clone();
    state.webhooks.insert(
        "Kept".to_string(),
        recorded(
            "69fb3ac1eda582171eb74830",
            sent(
                plain("https://example.org/hooks/kept"),
                &["email-sent"],
                vec![],
            ),
        ),
    );
    state.webhooks.insert(
        "Old Name".to_string(),
        recorded(
            "69fb3ac1eda582171eb74831",
            sent(
                plain("https://example.org/hooks/renamed"),
                &["email-opened"],
                vec![("authorization", secret(&key, &format!("Bearer {TOKEN}")))],
            ),
        ),
    );
    (config, state)
}

#[test]
fn plan_with_a_likely_rename_validates_and_the_schema_keeps_it_to_its_pair() {
    let validator = validator("plan.schema.json");
    let (config, state) = rename_world();
    let plan = run_plan(config, Some(&state));
    assert_valid(&validator, &plan);
    let rename = json!({"from": "Old Name", "to": "Renamed Webhook"});
    assert_eq!(entry(&plan, "Renamed Webhook")["action"], "create");
    assert_eq!(entry(&plan, "Renamed Webhook")["likely_rename"], rename);
    assert_eq!(entry(&plan, "Old Name")["action"], "orphaned");
    assert_eq!(entry(&plan, "Old Name")["likely_rename"], rename);
    assert!(entry(&plan, "Renamed Webhook")["manual_step"].is_string());
    assert!(entry(&plan, "Kept").get("likely_rename").is_none());
    let index = |name: &str| {
        plan["webhooks"]
            .as_array()
            .and_then(|w| w.iter().position(|e| e["name"] == name))
            .unwrap_or_else(|| panic!("no entry `{name}`"))
    };
    let (kept, create) = (
        format!("/webhooks/{}", index("Kept")),
        format!("/webhooks/{}", index("Renamed Webhook")),
    );
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&plan, &kept, "likely_rename", rename.clone()),
            "a rename on an unchanged entry",
        ),
        (
            without(&plan, &create, "likely_rename"),
            "a create with a manual step and no rename",
        ),
        (
            without(&plan, &create, "manual_step"),
            "a rename without its step",
        ),
        (
            with(&plan, &create, "likely_rename", json!({"from": "Old Name"})),
            "a rename without its new name",
        ),
    ];
    for (bad, why) in cases {
        assert_invalid(&validator, &bad, why);
    }
}

#[test]
fn plan_with_webhooks_found_deleted_validates_and_counts_them() {
    let validator = validator("plan.schema.json");
    let (config, mut state) = rename_world();
    for r in state.webhooks.values_mut() {
        r.status = WebhookStatus::Deleted;
    }
    let plan = run_plan(config, Some(&state));
    assert_valid(&validator, &plan);
    assert_eq!(entry(&plan, "Kept")["action"], "deleted");
    assert_eq!(entry(&plan, "Old Name")["action"], "deleted");
    assert!(
        entry(&plan, "Renamed Webhook")
            .get("likely_rename")
            .is_none(),
        "a webhook deleted in Saleshandy is no rename"
    );
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "unchanged": 0, "changed": 0, "orphaned": 0, "unknown": 0, "deleted": 2})
    );
    assert_eq!(plan["needs_person"], true);
    let kept = format!(
        "/webhooks/{}",
        plan["webhooks"]
            .as_array()
            .and_then(|w| w.iter().position(|e| e["name"] == "Kept"))
            .expect("an entry")
    );
    for (bad, why) in [
        (
            without(&plan, &kept, "manual_step"),
            "a deleted entry without its step",
        ),
        (
            without(&plan, &kept, "id"),
            "a deleted entry without its id",
        ),
        (
            with(&plan, "/summary", "deleted", json!(0)),
            "a zero count of deleted",
        ),
    ] {
        assert_invalid(&validator, &bad, why);
    }
}
