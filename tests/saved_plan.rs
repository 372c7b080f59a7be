//! Saved plans (`plan --out FILE`, `apply FILE`) and `--max-creates`, against the sandbox.

use crate::support::{flat_output, World};

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

fn world() -> World {
    World::builder()
        .config(CONFIG)
        .env("HOOK_TOKEN", "token-one")
        .build()
}

#[test]
fn a_saved_plan_applies_exactly_once_even_when_made_before_any_state() {
    let w = world();
    let o = w.run(&["plan", "--out", "plan.json", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", flat_output(&o));
    assert!(!w.state_path().exists(), "plan writes no state");
    let saved = std::fs::read_to_string(w.path("plan.json")).unwrap();
    assert!(
        !saved.contains("token-one"),
        "no secret value in a saved plan"
    );

    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", flat_output(&o));
    assert_eq!(w.sandbox.create_requests(), 3);

    // The Terraform hole (hashicorp/terraform#24078): the same first-run plan, applied again.
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        flat_output(&o).contains("made before any state existed")
            && flat_output(&o).contains("already applied"),
        "{}",
        flat_output(&o)
    );
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "nothing sent the second time"
    );
    // The state keeps the plan's lineage, so its fingerprints stay comparable.
    let o = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", flat_output(&o));
}

#[test]
fn a_saved_plan_is_refused_when_the_state_changed_since() {
    let w = world();
    w.set_config(CONFIG.split("  - name: Replies").next().unwrap());
    assert_eq!(w.run(&["apply", "--auto-approve"]).status.code(), Some(0));
    w.set_config(CONFIG);
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    // Someone else applies in between.
    assert_eq!(w.run(&["apply", "--auto-approve"]).status.code(), Some(0));
    let requests = w.sandbox.create_requests();
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        flat_output(&o).contains("changed since this plan was made (serial"),
        "{}",
        flat_output(&o)
    );
    assert_eq!(w.sandbox.create_requests(), requests);
}

#[test]
fn a_saved_plan_is_refused_when_the_config_changed() {
    let w = world();
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    w.set_config(&CONFIG.replace("crm.example.org/replies", "crm.example.org/replies-v2"));
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        flat_output(&o).contains("the config changed since this plan was made"),
        "{}",
        flat_output(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn a_saved_plan_is_refused_when_a_secret_changed() {
    let w = world();
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    let o = w
        .cmd()
        .args(["apply", "plan.json"])
        .env("HOOK_TOKEN", "token-two")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = flat_output(&o);
    assert!(
        text.contains("secret value of Email Sent/headers/Authorization"),
        "{text}"
    );
    assert!(!text.contains("token-one") && !text.contains("token-two"));
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn two_pipelines_applying_one_plan_create_once() {
    let w = world();
    w.sandbox.set_latency(std::time::Duration::from_millis(150));
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    let spawn = || {
        w.process()
            // 3000 s on the test clock (a hundredth): 30 s of real time.
            .args(["apply", "plan.json", "--lock-timeout", "3000"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns")
    };
    let (first, second) = (spawn(), spawn());
    let codes = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let mut exit: Vec<_> = codes.iter().map(|o| o.status.code()).collect();
    exit.sort();
    assert_eq!(
        exit,
        [Some(0), Some(1)],
        "{} / {}",
        flat_output(&codes[0]),
        flat_output(&codes[1])
    );
    let refused = codes.iter().find(|o| o.status.code() == Some(1)).unwrap();
    assert!(
        flat_output(refused).contains("already applied"),
        "{}",
        flat_output(refused)
    );
    assert_eq!(w.sandbox.create_requests(), 3);
    assert_eq!(w.sandbox.webhooks().len(), 3);
}

#[test]
fn a_saved_plan_with_nothing_to_create_is_a_no_op() {
    let w = world();
    assert_eq!(w.run(&["apply", "--auto-approve"]).status.code(), Some(0));
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", flat_output(&o));
    assert!(
        flat_output(&o).contains("nothing to create"),
        "{}",
        flat_output(&o)
    );
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn max_creates_refuses_before_sending_anything() {
    let w = world();
    let o = w.run(&["apply", "--auto-approve", "--max-creates", "2"]);
    assert_eq!(o.status.code(), Some(1));
    let text = flat_output(&o);
    assert!(
        text.contains("would create 3 webhooks, more than --max-creates 2")
            && text.contains("to at least 3"),
        "{text}"
    );
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.state_path().exists());
    assert_eq!(
        w.run(&["apply", "--auto-approve", "--max-creates", "3"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn a_damaged_plan_file_is_a_clear_error() {
    let w = world();
    std::fs::write(w.path("plan.json"), "{\"kind\": \"something-else\"}").unwrap();
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        flat_output(&o).contains("cannot read the plan file")
            && flat_output(&o).contains("plan --out FILE"),
        "{}",
        flat_output(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
}
