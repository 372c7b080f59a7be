//! `plan` end to end: the four formats, exit codes, and configs and state files that are
//! missing, invalid, corrupt or too new.

use crate::support::{self, dir_snapshot, output_text, Test, World};
use serde_json::json;

const CRM: &str = "crm-secret-value-1";
const SLACK: &str = "slack-secret-value-2";
/// One webhook of each kind against `webhooks.state.json` beside it.
const FIXTURE: &str = "tests/fixtures/plan/webhooks.yaml";
const FIXTURE_STATE: &str = "tests/fixtures/plan/webhooks.state.json";
const EXAMPLE: &str = "examples/webhooks.yaml";

/// `plan ARGS…` from the repository's root, with the fixture's secrets set.
fn plan<I, S>(args: I) -> Test
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    support::test(["plan"])
        .args(args)
        .env("CRM_TOKEN", CRM)
        .env("SLACK_TOKEN", SLACK)
}

fn assert_no_secret(o: &std::process::Output) {
    let all = output_text(o);
    assert!(
        !all.contains(CRM) && !all.contains(SLACK),
        "a secret leaked:\n{all}"
    );
}

/// A world whose `webhooks.yaml` is the example config (and no state yet).
fn example_world() -> World {
    World::new(&std::fs::read_to_string(EXAMPLE).expect("the example config"))
}

#[test]
fn human_plan_lists_every_kind_of_webhook_with_verbose() {
    // No colour without a terminal: the snapshot would show the escapes.
    let o = plan(["-c", FIXTURE, "-v"])
        .stdout_snapshot("plan-fixture-verbose")
        .run();
    assert_no_secret(&o);
}

#[test]
fn unchanged_webhooks_are_counted_not_listed_without_verbose() {
    let o = plan(["-c", FIXTURE])
        .stdout_snapshot("plan-fixture-human")
        .run();
    assert_no_secret(&o);
    // --detailed-exitcode changes the exit code alone.
    plan(["-c", FIXTURE, "--detailed-exitcode"])
        .status(2)
        .stdout_snapshot("plan-fixture-human")
        .run();
}

#[test]
fn json_plan_snapshot() {
    let o = plan(["-c", FIXTURE, "--format", "json"])
        .stdout_snapshot("plan-fixture-json")
        .run();
    assert_no_secret(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(
        v["summary"],
        json!({"create": 1, "unchanged": 1, "changed": 1, "orphaned": 1, "unknown": 1})
    );
}

#[test]
fn markdown_plan_snapshot() {
    let o = plan(["-c", FIXTURE, "--format", "markdown"])
        .stdout_snapshot("plan-fixture-markdown")
        .run();
    assert_no_secret(&o);
}

#[test]
fn github_format_annotates_each_webhook_on_its_line() {
    // Unchanged webhooks get no annotation.
    let o = plan(["-c", FIXTURE, "--format", "github"])
        .stdout_snapshot("plan-fixture-github")
        .run();
    assert_no_secret(&o);
}

#[test]
fn detailed_exitcode_is_zero_when_nothing_would_be_created() {
    // Nothing to create, but orphans and an unknown entry that need a person: still 0.
    let w = World::new("version: 1\nwebhooks: []\n");
    std::fs::copy(FIXTURE_STATE, w.state_path()).expect("copy the state");
    w.plan()
        .arg("--detailed-exitcode")
        .stdout_snapshot("plan-all-orphaned")
        .run();
}

#[test]
fn a_missing_state_is_a_first_run_and_is_not_written() {
    let w = World::builder().build();
    std::fs::copy(EXAMPLE, w.path("prod.yaml")).expect("copy");
    // The state's default name follows the config's.
    let first = w
        .test(["plan", "-c", "prod.yaml", "--detailed-exitcode"])
        .status(2)
        .stdout_snapshot("plan-first-apply")
        .run();
    // Without --detailed-exitcode, creates exit 0.
    w.test(["plan", "-c", "prod.yaml"])
        .stdout_snapshot("plan-first-apply")
        .run();
    // A state in a directory that does not exist is a first run too.
    let expected = w.filtered(&support::stdout_text(&first)).replacen(
        "against prod.state.json",
        "against nowhere/s.json",
        1,
    );
    w.test(["plan", "-c", "prod.yaml", "--state", "nowhere/s.json"])
        .stdout(expected)
        .run();
    assert_eq!(
        dir_snapshot(w.dir.path())
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>(),
        ["prod.yaml"],
        "plan never writes the state"
    );
}

/// `plan --detailed-exitcode` on the example config with `content` as its state fails with
/// the snapshot `name` on stderr, and leaves the state byte-identical with no stray files.
#[track_caller]
fn refused_state(content: &[u8], name: &str) {
    let w = example_world();
    std::fs::write(w.state_path(), content).expect("write");
    let before = dir_snapshot(w.dir.path());
    w.plan()
        .arg("--detailed-exitcode")
        .status(1)
        .stderr_snapshot(name)
        .run();
    assert_eq!(w.state_bytes(), content, "the state must be byte-identical");
    assert_eq!(dir_snapshot(w.dir.path()), before, "no stray files");
}

#[test]
fn a_corrupt_state_is_an_error_and_left_alone() {
    refused_state(
        b"{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 3,\n  \"webhooks\": {\n",
        "plan-state-truncated",
    );
    refused_state(
        b"{\"version\": 1, \"lineage\": \"x\", \"serial\": 1, \"webhooks\": {}, \"extra\": 1}\n",
        "plan-state-unknown-field",
    );
    refused_state(b"\xff\xfe{}", "plan-state-not-utf8");
    // A value of the wrong type is pointed at on its line.
    refused_state(
        b"{\n  \"version\": 1,\n  \"lineage\": 42\n}\n",
        "plan-state-wrong-type",
    );
}

#[test]
fn a_newer_state_version_is_refused() {
    refused_state(
        b"{\"version\": 2, \"lineage\": \"x\", \"serial\": 1, \"webhooks\": {}, \"new_thing\": []}\n",
        "plan-state-newer-version",
    );
}

#[test]
fn config_errors_fail_before_planning() {
    let config = "tests/fixtures/bad/event-unknown.yaml";
    let before = std::fs::read(config).expect("the fixture");
    plan(["-c", config])
        .status(1)
        .stderr_snapshot("plan-config-invalid")
        .run();
    assert_eq!(std::fs::read(config).expect("still there"), before);
}

#[test]
fn a_missing_config_is_a_clear_error() {
    let w = World::builder().build();
    w.plan()
        .status(1)
        .stderr_snapshot("plan-config-missing")
        .run();
    assert!(dir_snapshot(w.dir.path()).is_empty(), "nothing was written");
}
