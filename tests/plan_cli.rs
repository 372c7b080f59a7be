//! `plan` end to end: the three formats (snapshots), exit codes, and state files that are
//! missing, corrupt or too new.

use std::path::Path;

use crate::support::{bin, flat, stderr_text, stdout_text};

const CRM: &str = "crm-secret-value-1";
const SLACK: &str = "slack-secret-value-2";
const FIXTURE: &str = "tests/fixtures/plan/webhooks.yaml";

fn plan(args: &[&str]) -> std::process::Output {
    bin()
        .arg("plan")
        .args(args)
        .env("CRM_TOKEN", CRM)
        .env("SLACK_TOKEN", SLACK)
        .output()
        .expect("runs")
}

fn assert_no_secret(s: &str) {
    assert!(
        !s.contains(CRM) && !s.contains(SLACK),
        "a secret leaked:\n{s}"
    );
}

#[test]
fn human_plan_snapshot() {
    let o = plan(&["-c", FIXTURE, "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_text(&o));
    let out = stdout_text(&o);
    assert_no_secret(&out);
    assert!(!out.contains('\u{1b}'), "no colour without a terminal");
    insta::assert_snapshot!("plan-human", out);
}

#[test]
fn json_plan_snapshot() {
    let o = plan(&["-c", FIXTURE, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout_text(&o);
    assert_no_secret(&out);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(
        v["summary"],
        serde_json::json!({"create": 1, "unchanged": 1, "changed": 1, "orphaned": 1, "unknown": 1})
    );
    insta::assert_snapshot!("plan-json", out);
}

#[test]
fn markdown_plan_snapshot() {
    let o = plan(&["-c", FIXTURE, "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout_text(&o);
    assert_no_secret(&out);
    insta::assert_snapshot!("plan-markdown", out);
}

#[test]
fn unchanged_webhooks_are_counted_not_listed_without_verbose() {
    let out = stdout_text(&plan(&["-c", FIXTURE]));
    assert!(!out.contains("Email Sent to Warehouse"), "{out}");
    assert!(
        out.contains("1 unchanged webhook not shown (-v lists them)."),
        "{out}"
    );
    assert!(
        out.contains("Plan: 1 to create, 1 unchanged, 1 changed, 1 orphaned, 1 unknown.\n"),
        "{out}"
    );
}

#[test]
fn detailed_exitcode_is_two_only_when_something_would_be_created() {
    assert_eq!(
        plan(&["-c", FIXTURE, "--detailed-exitcode"]).status.code(),
        Some(2)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("w.yaml");
    std::fs::write(&config, "version: 1\nwebhooks: []\n").expect("write");
    // Nothing to create, but an orphan and an unknown entry that need a person: still 0.
    let state = "tests/fixtures/plan/webhooks.state.json";
    let args = [
        "-c",
        config.to_str().expect("utf-8"),
        "--state",
        state,
        "--detailed-exitcode",
    ];
    let o = plan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stdout_text(&o));
    assert!(stdout_text(&o).contains("3 orphaned, 1 unknown"));
}

#[test]
fn without_detailed_exitcode_creates_exit_zero() {
    assert_eq!(
        plan(&[
            "-c",
            "examples/webhooks.yaml",
            "--state",
            "/nonexistent/dir/s.json"
        ])
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn a_missing_state_is_a_first_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("prod.yaml");
    std::fs::copy("examples/webhooks.yaml", &config).expect("copy");
    let o = plan(&["-c", config.to_str().expect("utf-8"), "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout_text(&o);
    assert!(
        out.contains("prod.state.json (no state yet: first apply)"),
        "{out}"
    );
    assert!(out.contains("Plan: 5 to create, 0 unchanged"), "{out}");
    assert!(
        !dir.path().join("prod.state.json").exists(),
        "plan never writes the state"
    );
}

fn corrupt_case(content: &[u8], expect: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("webhooks.state.json");
    std::fs::write(&state, content).expect("write");
    let config = dir.path().join("webhooks.yaml");
    std::fs::copy("examples/webhooks.yaml", &config).expect("copy");
    let o = plan(&["-c", config.to_str().expect("utf-8"), "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(1));
    let err = flat(&stderr_text(&o));
    assert!(err.contains(expect), "{err}");
    assert!(err.contains("has not been changed"), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(
        std::fs::read(&state).expect("still there"),
        content,
        "the state must be byte-identical"
    );
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").count() == 2,
        "no stray files"
    );
}

#[test]
fn a_corrupt_state_is_an_error_and_left_alone() {
    corrupt_case(
        b"{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 3,\n  \"webhooks\": {\n",
        "is not a valid state",
    );
    corrupt_case(
        b"{\"version\": 1, \"lineage\": \"x\", \"serial\": 1, \"webhooks\": {}, \"extra\": 1}\n",
        "unknown field `extra`",
    );
    corrupt_case(b"\xff\xfe{}", "not valid UTF-8");
}

#[test]
fn a_parse_error_shows_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("s.json");
    std::fs::write(&state, "{\n  \"version\": 1,\n  \"lineage\": 42\n}\n").expect("write");
    let o = plan(&[
        "-c",
        "examples/webhooks.yaml",
        "--state",
        state.to_str().expect("utf-8"),
    ]);
    let err = stderr_text(&o);
    assert!(err.contains("s.json:3:"), "{err}");
}

#[test]
fn a_newer_state_version_is_refused() {
    corrupt_case(b"{\"version\": 2, \"lineage\": \"x\", \"serial\": 1, \"webhooks\": {}, \"new_thing\": []}\n", "format version 2, newer than this build reads (1)");
}

#[test]
fn config_errors_fail_before_planning() {
    let o = plan(&["-c", "tests/fixtures/bad/event-unknown.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = flat(&stderr_text(&o));
    assert!(
        err.contains("did you mean `email-opened`?")
            && err.contains("has 1 error(s); nothing was done"),
        "{err}"
    );
    assert!(Path::new("tests/fixtures/bad/event-unknown.yaml").exists());
}

#[test]
fn github_format_annotates_each_webhook_on_its_line() {
    let o = plan(&["-c", FIXTURE, "--format", "github"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout_text(&o);
    assert_no_secret(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("::warning file=tests/fixtures/plan/webhooks.yaml,line=8,title=changed%3A needs a person::`Engagement to CRM` differs"), "{out}");
    assert!(lines[1].starts_with("::notice file=tests/fixtures/plan/webhooks.yaml,line=14,title=create::`Replies | Slack` will be created: https://hooks.example.org/slack/replies · reply-received"), "{out}");
    assert!(lines[2].starts_with("::warning file=tests/fixtures/plan/webhooks.yaml,line=19,title=unknown%3A needs a person::"), "{out}");
    assert!(lines[3].starts_with("::warning file=tests/fixtures/plan/webhooks.yaml,title=orphaned%3A needs a person::`Old Bounce Alerts`"), "{out}");
    assert_eq!(lines[4], "::notice title=saleshandy-webhooks plan::Plan: 1 to create, 1 unchanged, 1 changed, 1 orphaned, 1 unknown.");
    assert_eq!(lines.len(), 5, "unchanged webhooks get no annotation");
}
