//! Saved plans (`plan --out FILE`, `apply FILE`) and `--max-creates`, against the sandbox.
//!
//! Every refusal is asserted whole: the message says why the plan is stale and what to do,
//! and nothing is sent.

use std::process::Output;

use crate::support::{output_text, snapshot, stderr_text, stdout_text, World};

const CONFIG: &str = "version: 1
webhooks:
  - name: Email Sent
    url: https://ingest.example.org/sent
    events: [email-sent]
    headers:
      Authorization: \"Bearer ${HOOK_TOKEN}\"
  - name: Replies
    url: https://crm.example.org/replies
    events: [reply-received]
  - name: Bounces
    url: https://alerts.example.org/bounces
    events: [email-bounced]
";

/// What the three progress lines of creating [`CONFIG`] one at a time read.
const CREATED_THREE: &str =
    "[1/3] created: Email Sent\n[2/3] created: Replies\n[3/3] created: Bounces\n";

/// What `plan --out plan.json` says on standard error.
const SAVED: &str =
    "Saved the plan to plan.json; `saleshandy-webhooks apply plan.json` applies exactly it, once.\n";

/// `plan` once everything in [`CONFIG`] is recorded.
const ALL_UNCHANGED: &str = "Plan for webhooks.yaml against webhooks.state.json

  3 unchanged webhooks not shown (-v lists them).

Plan: 0 to create, 3 unchanged, 0 changed, 0 orphaned, 0 unknown.
";

fn world() -> World {
    World::builder()
        .config(CONFIG)
        .env("HOOK_TOKEN", "token-one")
        .build()
}

/// [`CONFIG`] with only its first webhook.
fn first_only() -> &'static str {
    CONFIG.split("  - name: Replies").next().unwrap()
}

/// Neither secret value is ever printed.
#[track_caller]
fn assert_no_secret(o: &Output) {
    let all = output_text(o);
    assert!(
        !all.contains("token-one") && !all.contains("token-two"),
        "a secret was printed:\n{all}"
    );
}

#[test]
fn a_saved_plan_applies_exactly_once_even_when_made_before_any_state() {
    let w = world();
    w.plan()
        .args(["--out", "plan.json", "--detailed-exitcode"])
        .status(2)
        .stdout_snapshot("saved-plan-out-first-run")
        .stderr(SAVED)
        .run();
    assert!(!w.state_path().exists(), "plan writes no state");
    let saved = std::fs::read_to_string(w.path("plan.json")).unwrap();
    assert!(
        !saved.contains("token-one"),
        "no secret value in a saved plan"
    );

    w.test(["apply", "plan.json", "--parallelism", "1"])
        .stdout_snapshot("saved-plan-apply-first-run")
        .stderr(CREATED_THREE)
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);

    // The Terraform hole (hashicorp/terraform#24078): the same first-run plan, applied again.
    w.test(["apply", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-first-run-applied-twice")
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "nothing sent the second time"
    );
    // The state keeps the plan's lineage, so its fingerprints stay comparable.
    w.plan()
        .arg("--detailed-exitcode")
        .stdout(ALL_UNCHANGED)
        .run();
}

/// A first-run plan is tied to where its state will be: another `--state` is refused, so the
/// same plan cannot create everything again into a second state.
#[test]
fn a_saved_plan_is_refused_against_another_state_location() {
    let w = world();
    w.plan()
        .args(["--out", "plan.json"])
        .stdout_unchecked()
        .stderr(SAVED)
        .run();
    w.test(["apply", "plan.json", "--parallelism", "1"])
        .stdout_unchecked()
        .stderr(CREATED_THREE)
        .run();
    w.test(["apply", "plan.json", "--state", "elsewhere.state.json"])
        .status(1)
        .stderr_snapshot("saved-plan-other-location")
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "nothing sent the second time"
    );
    assert!(!w.path("elsewhere.state.json").exists());
}

/// A run killed mid-apply leaves a journal (committed as it is, in a CI that commits its
/// state). `plan --out` reads it without folding it; `apply PLAN` folds it first, which moves
/// the serial on: the plan still applies, and nothing is created twice.
#[test]
fn a_saved_plan_made_over_an_interrupted_journal_applies() {
    let w = World::builder()
        .config(CONFIG)
        .env("HOOK_TOKEN", "token-one")
        .latency(std::time::Duration::from_millis(400))
        .build();
    let mut child = w
        .process()
        .args(["apply", "--auto-approve", "--parallelism", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("apply starts");
    w.wait_for_a_create_in_flight(&mut child);
    child.kill().expect("killed");
    let _ = child.wait();
    assert!(
        w.path("webhooks.state.json.journal").exists(),
        "a journal is left"
    );
    w.sandbox.set_latency(std::time::Duration::ZERO);

    w.plan()
        .args(["--out", "plan.json"])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert!(
        w.path("webhooks.state.json.journal").exists(),
        "plan only reads"
    );
    let o = w
        .test(["apply", "plan.json", "--parallelism", "1"])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert!(!w.path("webhooks.state.json.journal").exists(), "folded");
    // Each name reached Saleshandy once: the one in flight when the run was killed is
    // `unknown` (not sent again), the others were created by the plan.
    for (name, ids) in w.server_by_name() {
        assert_eq!(ids.len(), 1, "{name} created once");
    }
    let state = w.state_json();
    let recorded = state["webhooks"].as_object().expect("webhooks").len();
    let unknown = state["unknown"].as_object().expect("unknown").len();
    assert_eq!(recorded + unknown, 3, "{state:#}");
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn a_saved_plan_made_against_a_state_applies_once() {
    let w = world();
    w.set_config(first_only());
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(CONFIG);
    w.plan()
        .args(["--out", "plan.json"])
        .stdout_snapshot("saved-plan-out")
        .stderr(SAVED)
        .run();
    w.test(["apply", "plan.json", "--parallelism", "1"])
        .stdout_snapshot("saved-plan-apply")
        .stderr("[1/2] created: Replies\n[2/2] created: Bounces\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
    w.test(["apply", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-applied-twice")
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "nothing sent the second time"
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_state_changed_since() {
    let w = world();
    w.set_config(first_only());
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(CONFIG);
    w.ok(&["plan", "--out", "plan.json"]);
    // Someone else applies in between.
    w.ok(&["apply", "--auto-approve"]);
    let requests = w.sandbox.create_requests();
    w.test(["apply", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-stale-state")
        .run();
    assert_eq!(w.sandbox.create_requests(), requests);
}

#[test]
fn a_saved_plan_is_refused_when_its_state_was_replaced_or_removed() {
    let w = world();
    w.set_config(first_only());
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(CONFIG);
    w.ok(&["plan", "--out", "plan.json"]);
    let state = w.state_bytes();
    let planned = w.state_json()["lineage"].as_str().unwrap().to_string();

    // Another state (another lineage) in its place.
    std::fs::remove_file(w.state_path()).unwrap();
    w.set_config(first_only());
    w.ok(&["apply", "--auto-approve"]);
    w.set_config(CONFIG);
    let requests = w.sandbox.requests().len();
    let now = w.state_json()["lineage"].as_str().unwrap().to_string();
    let o = w
        .test(["apply", "plan.json"])
        .status(1)
        .stderr_unchecked()
        .run();
    // Each lineage in its place.
    let text = stderr_text(&o)
        .replace(&planned, "[LINEAGE planned]")
        .replace(&now, "[LINEAGE now]");
    snapshot("saved-plan-other-state", &w.filtered(&text));

    // No state at all.
    std::fs::remove_file(w.state_path()).unwrap();
    w.test(["apply", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-state-missing")
        .run();
    assert_eq!(w.sandbox.requests().len(), requests, "nothing was sent");
    assert!(!w.state_path().exists());

    // With its own state back, it applies.
    std::fs::write(w.state_path(), state).unwrap();
    w.test(["apply", "plan.json", "--parallelism", "1"])
        .stdout_snapshot("saved-plan-apply")
        .stderr("[1/2] created: Replies\n[2/2] created: Bounces\n")
        .run();
}

#[test]
fn a_saved_plan_is_refused_when_the_config_changed() {
    let w = world();
    w.ok(&["plan", "--out", "plan.json"]);
    w.set_config(&CONFIG.replace("crm.example.org/replies", "crm.example.org/replies-v2"));
    w.test(["apply", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-config-changed")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn a_saved_plan_is_refused_when_a_secret_changed() {
    let w = world();
    w.ok(&["plan", "--out", "plan.json"]);
    let o = w
        .test(["apply", "plan.json"])
        .env("HOOK_TOKEN", "token-two")
        .status(1)
        .stderr_snapshot("saved-plan-secret-changed")
        .run();
    assert_no_secret(&o);
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn two_pipelines_applying_one_plan_create_once() {
    let w = world();
    w.sandbox.set_latency(std::time::Duration::from_millis(150));
    w.ok(&["plan", "--out", "plan.json"]);
    let spawn = || {
        w.process()
            // 3000 s on the test clock (a hundredth): 30 s of real time.
            .args([
                "apply",
                "plan.json",
                "--lock-timeout",
                "3000",
                "--parallelism",
                "1",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns")
    };
    let (first, second) = (spawn(), spawn());
    let mut runs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    // Which one takes the lock first varies; what each of them prints does not.
    runs.sort_by_key(|o| o.status.code());
    let [applied, refused] = &runs;
    let report = format!(
        "--- one\n{}\n--- other\n{}",
        output_text(applied),
        output_text(refused)
    );
    assert_eq!(applied.status.code(), Some(0), "{report}");
    assert_eq!(refused.status.code(), Some(1), "{report}");
    snapshot(
        "saved-plan-apply-first-run",
        &w.filtered(&stdout_text(applied)),
    );
    assert_eq!(stderr_text(applied), CREATED_THREE, "{report}");
    // The one that waited for the lock finds the state the other wrote.
    assert_eq!(stdout_text(refused), "", "{report}");
    snapshot(
        "saved-plan-first-run-applied-twice",
        &w.filtered(&stderr_text(refused)),
    );
    assert_eq!(w.sandbox.create_requests(), 3);
    assert_eq!(w.sandbox.webhooks().len(), 3);
}

#[test]
fn a_saved_plan_with_nothing_to_create_is_a_no_op() {
    let w = world();
    w.ok(&["apply", "--auto-approve"]);
    w.plan()
        .args(["--out", "plan.json"])
        .stdout(ALL_UNCHANGED)
        .stderr(SAVED)
        .run();
    w.test(["apply", "plan.json"])
        .stdout("The saved plan has nothing to create: no request was sent.\n")
        .run();
    w.test(["apply", "plan.json", "--format", "json"])
        .stdout_json(serde_json::json!({
            "format_version": 1,
            "endpoint": w.sandbox.url(),
            "state": "webhooks.state.json",
            "webhooks": [],
        }))
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn max_creates_refuses_before_sending_anything() {
    let w = world();
    // Refused before the plan is printed.
    w.apply()
        .args(["--max-creates", "2"])
        .status(1)
        .stderr_snapshot("saved-plan-max-creates")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.state_path().exists());
    w.apply()
        .args(["--max-creates", "3", "--parallelism", "1"])
        .stdout_snapshot("saved-plan-max-creates-ok")
        .stderr(CREATED_THREE)
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn a_damaged_plan_file_is_a_clear_error() {
    let w = world();
    std::fs::write(w.path("plan.json"), "{\"kind\": \"something-else\"}").unwrap();
    w.test(["apply", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-damaged")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
}

/// What `plan --out p.json` says on standard error.
const SAVED_P: &str =
    "Saved the plan to p.json; `saleshandy-webhooks apply p.json` applies exactly it, once.\n";

#[test]
fn a_plan_of_another_config_file_is_applied_with_that_config_and_its_state() {
    let w = world();
    std::fs::write(w.path("prod.yaml"), first_only()).unwrap();
    w.plan()
        .args(["-c", "prod.yaml", "--out", "p.json"])
        .stdout_unchecked()
        .stderr(SAVED_P)
        .run();

    // Another config named explicitly is refused, naming both; so is another state.
    w.test(["apply", "p.json", "-c", "webhooks.yaml"])
        .status(1)
        .stderr_snapshot("saved-plan-other-config")
        .run();
    w.test(["apply", "p.json", "--state", "webhooks.state.json"])
        .status(1)
        .stderr_snapshot("saved-plan-other-state-than-its-config")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0, "nothing was sent");

    // As the message said: `apply p.json`, nothing repeated.
    w.test(["apply", "p.json"])
        .stdout_unchecked()
        .stderr("[1/1] created: Email Sent\n")
        .run();
    assert!(w.path("prod.state.json").exists());
    assert!(
        !w.state_path().exists(),
        "webhooks.yaml's state is untouched"
    );
    assert_eq!(w.sandbox.create_requests(), 1);

    // Naming the plan's own config (another spelling of it) is fine: the state has moved on.
    w.test(["apply", "p.json", "-c", "./prod.yaml"])
        .status(1)
        .stderr_snapshot("saved-plan-own-config-applied-twice")
        .run();
    assert_eq!(w.sandbox.create_requests(), 1);
}

#[test]
fn a_plan_made_from_standard_input_needs_it_again() {
    let w = world();
    w.plan()
        .args(["-c", "-", "--out", "p.json"])
        .stdin(CONFIG)
        .stdout_unchecked()
        .stderr(SAVED_P)
        .run();
    w.test(["apply", "p.json"])
        .status(1)
        .stderr_snapshot("saved-plan-from-stdin")
        .run();
    w.test(["apply", "p.json", "-c", "webhooks.yaml"])
        .status(1)
        .stderr_snapshot("saved-plan-from-stdin-other-config")
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
    w.test(["apply", "p.json", "-c", "-", "--parallelism", "1"])
        .stdin(CONFIG)
        .stdout_unchecked()
        .stderr(CREATED_THREE)
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn show_prints_a_saved_plan_as_plan_printed_it() {
    let w = world();
    w.set_config(first_only());
    w.ok(&["apply", "--auto-approve"]);
    // One of each: unchanged, to create, changed, orphaned.
    let edited = CONFIG.replace("name: Email Sent", "name: Sent").replace(
        "https://crm.example.org/replies",
        "https://crm.example.org/v2",
    );
    std::fs::write(w.path("prod.yaml"), &edited).unwrap();
    std::fs::copy(w.state_path(), w.path("prod.state.json")).unwrap();
    w.set_config(&format!(
        "{CONFIG}  - name: Kept\n    url: https://kept.example.org/\n    events: [email-sent]\n"
    ));
    w.ok(&["apply", "--auto-approve"]);
    std::fs::copy(w.state_path(), w.path("prod.state.json")).unwrap();
    std::fs::write(
        w.path("prod.yaml"),
        format!(
            "{edited}  - name: New\n    url: https://new.example.org/\n    events: [email-sent]\n"
        ),
    )
    .unwrap();
    for (format, verbose) in [
        ("human", false),
        ("human", true),
        ("json", false),
        ("markdown", false),
    ] {
        let mut plan = w
            .plan()
            .args(["-c", "prod.yaml", "--format", format, "--out", "p.json"]);
        let mut show = w.test(["show", "p.json", "--format", format]);
        if verbose {
            plan = plan.arg("-v");
            show = show.arg("-v");
        }
        let planned = plan.stdout_unchecked().stderr(SAVED_P).run();
        let shown = show.stdout_unchecked().run();
        assert_eq!(
            stdout_text(&shown),
            stdout_text(&planned),
            "show --format {format} differs from plan"
        );
        assert_no_secret(&shown);
    }
    // The plan had one of each.
    let o = w.test(["show", "p.json"]).stdout_unchecked().run();
    snapshot("saved-plan-show", &w.filtered(&stdout_text(&o)));
    let saved = std::fs::read_to_string(w.path("p.json")).unwrap();
    assert!(
        !saved.contains("token-one"),
        "no secret value in a saved plan"
    );
    assert_eq!(
        w.sandbox.requests().len(),
        w.sandbox.create_requests(),
        "show sends nothing"
    );
}

#[test]
fn show_refuses_a_plan_saved_without_its_entries() {
    let w = world();
    w.plan()
        .args(["--out", "plan.json"])
        .stdout_unchecked()
        .stderr(SAVED)
        .run();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("plan.json")).unwrap()).unwrap();
    doc.as_object_mut().unwrap().remove("entries");
    std::fs::write(w.path("plan.json"), doc.to_string()).unwrap();
    w.test(["show", "plan.json"])
        .status(1)
        .stderr_snapshot("saved-plan-show-without-entries")
        .run();
    w.test(["show", "missing.json"])
        .status(1)
        .stderr_snapshot("saved-plan-show-missing")
        .run();
    // apply still applies it.
    w.test(["apply", "plan.json", "--parallelism", "1"])
        .stdout_unchecked()
        .stderr(CREATED_THREE)
        .run();
}
