//! Saved plans (`plan --out FILE`, `apply FILE`) and `--max-creates`, against the sandbox.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use saleshandy_webhooks::sandbox::{self, Sandbox, SandboxOptions, SANDBOX_API_KEY};

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

struct World {
    _rt: tokio::runtime::Runtime,
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = rt
            .block_on(sandbox::start(SandboxOptions::default()))
            .expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("webhooks.yaml"), CONFIG).expect("config");
        World {
            _rt: rt,
            sandbox,
            dir,
        }
    }

    fn cmd(&self, args: &[&str], token: &str) -> Command {
        let mut c = Command::cargo_bin("saleshandy-webhooks").expect("binary");
        c.current_dir(self.dir.path())
            .args(args)
            .env("SALESHANDY_API_KEY", SANDBOX_API_KEY)
            .env("SALESHANDY_API_URL", self.sandbox.url())
            .env("HOOK_TOKEN", token);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args, "token-one").output().expect("runs")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn out(o: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    text.split('\n')
        .map(|l| l.trim_start().trim_start_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_saved_plan_applies_exactly_once_even_when_made_before_any_state() {
    let w = World::new();
    let o = w.run(&["plan", "--out", "plan.json", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        !w.path("webhooks.state.json").exists(),
        "plan writes no state"
    );
    let saved = std::fs::read_to_string(w.path("plan.json")).unwrap();
    assert!(
        !saved.contains("token-one"),
        "no secret value in a saved plan"
    );

    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(w.sandbox.create_requests(), 3);

    // The Terraform hole (hashicorp/terraform#24078): the same first-run plan, applied again.
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("made before any state existed") && out(&o).contains("already applied"),
        "{}",
        out(&o)
    );
    assert_eq!(
        w.sandbox.create_requests(),
        3,
        "nothing sent the second time"
    );
    // The state keeps the plan's lineage, so its fingerprints stay comparable.
    let o = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

#[test]
fn a_saved_plan_is_refused_when_the_state_changed_since() {
    let w = World::new();
    std::fs::write(
        w.path("webhooks.yaml"),
        CONFIG.split("  - name: Replies").next().unwrap(),
    )
    .unwrap();
    assert_eq!(w.run(&["apply", "--auto-approve"]).status.code(), Some(0));
    std::fs::write(w.path("webhooks.yaml"), CONFIG).unwrap();
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
        out(&o).contains("changed since this plan was made (serial"),
        "{}",
        out(&o)
    );
    assert_eq!(w.sandbox.create_requests(), requests);
}

#[test]
fn a_saved_plan_is_refused_when_the_config_changed() {
    let w = World::new();
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    std::fs::write(
        w.path("webhooks.yaml"),
        CONFIG.replace("crm.example.org/replies", "crm.example.org/replies-v2"),
    )
    .unwrap();
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("the config changed since this plan was made"),
        "{}",
        out(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn a_saved_plan_is_refused_when_a_secret_changed() {
    let w = World::new();
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    let o = w
        .cmd(&["apply", "plan.json"], "token-two")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = out(&o);
    assert!(
        text.contains("secret value of Email Sent/headers/Authorization"),
        "{text}"
    );
    assert!(!text.contains("token-one") && !text.contains("token-two"));
    assert_eq!(w.sandbox.requests().len(), 0);
}

#[test]
fn two_pipelines_applying_one_plan_create_once() {
    let w = World::new();
    w.sandbox.set_latency(std::time::Duration::from_millis(150));
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_saleshandy-webhooks"))
            .current_dir(w.dir.path())
            .args(["apply", "plan.json", "--lock-timeout", "30"])
            .env("SALESHANDY_API_KEY", SANDBOX_API_KEY)
            .env("SALESHANDY_API_URL", w.sandbox.url())
            .env("HOOK_TOKEN", "token-one")
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
        out(&codes[0]),
        out(&codes[1])
    );
    let refused = codes.iter().find(|o| o.status.code() == Some(1)).unwrap();
    assert!(out(refused).contains("already applied"), "{}", out(refused));
    assert_eq!(w.sandbox.create_requests(), 3);
    assert_eq!(w.sandbox.webhooks().len(), 3);
}

#[test]
fn a_saved_plan_with_nothing_to_create_is_a_no_op() {
    let w = World::new();
    assert_eq!(w.run(&["apply", "--auto-approve"]).status.code(), Some(0));
    assert_eq!(
        w.run(&["plan", "--out", "plan.json"]).status.code(),
        Some(0)
    );
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("nothing to create"), "{}", out(&o));
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn max_creates_refuses_before_sending_anything() {
    let w = World::new();
    let o = w.run(&["apply", "--auto-approve", "--max-creates", "2"]);
    assert_eq!(o.status.code(), Some(1));
    let text = out(&o);
    assert!(
        text.contains("would create 3 webhooks, more than --max-creates 2")
            && text.contains("to at least 3"),
        "{text}"
    );
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.path("webhooks.state.json").exists());
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
    let w = World::new();
    std::fs::write(w.path("plan.json"), "{\"kind\": \"something-else\"}").unwrap();
    let o = w.run(&["apply", "plan.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("cannot read the plan file") && out(&o).contains("plan --out FILE"),
        "{}",
        out(&o)
    );
    assert_eq!(w.sandbox.requests().len(), 0);
}
