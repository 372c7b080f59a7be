//! `apply` against a misbehaving API: every fault the sandbox can inject, one test each,
//! asserting what a user notices — the exit code, the message, how many creates reached the
//! server, and what the state records. Also: no secret ever reaches an output or a file.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{flat, flat_output, output_text, World, THREE_HOOKS as CONFIG};
use saleshandy_webhooks::sandbox::{Fault, Target};
use serde_json::{json, Value};

const TOKEN: &str = "hook-token-value";

/// A single webhook, for faults whose cost is per request.
const ONE: &str = "version: 1
webhooks:
  - name: Only
    url: https://only.example.org/hook
    events: [task-created]
";

fn world(config: &str) -> World {
    World::with_hook_token(config, TOKEN)
}

impl World {
    fn apply_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["apply".to_string()];
        args.extend(self.files_args());
        args.push("--auto-approve".into());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn apply_faults(&self, extra: &[&str]) -> Output {
        self.cmd()
            .args(self.apply_args(extra))
            .output()
            .expect("runs")
    }

    fn plan_faults(&self, extra: &[&str]) -> Output {
        self.cmd()
            .arg("plan")
            .args(self.files_args())
            .args(extra)
            .output()
            .expect("runs")
    }

    fn import_faults(&self, name: &str, id: &str) -> Output {
        self.cmd()
            .args(["state", "import", name, id])
            .args(self.files_args())
            .output()
            .expect("runs")
    }

    fn rm_faults(&self, name: &str) -> Output {
        self.cmd()
            .args(["state", "rm", name])
            .args(self.files_args())
            .output()
            .expect("runs")
    }

    /// How many create requests named `name` reached the server.
    fn creates_of(&self, name: &str) -> usize {
        self.creates()
            .iter()
            .filter(|r| r.json().is_some_and(|b| b["name"] == name))
            .count()
    }
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_webhook_created_once() {
    let w = world(ONE);
    w.sandbox.inject(
        Target::Any,
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    let started = Instant::now();
    let o = w.apply_faults(&[]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(w.sandbox.create_requests(), 2, "one 429, then one create");
    assert_eq!(w.server_ids("Only").len(), 1, "created exactly once");
    assert!(
        took >= Duration::from_millis(950),
        "Retry-After: 1 was honoured, took {took:?}"
    );
    assert_eq!(
        w.state_json()["webhooks"]["Only"]["id"],
        json!(w.server_ids("Only")[0])
    );
    assert_eq!(w.state_json()["unknown"], json!({}));
}

#[test]
fn a_5xx_is_unknown_never_retried_nor_resent_and_plan_says_how_to_resolve_it() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Replies".into()), Fault::ServerError(503));
    let o = w.apply_faults(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let stdout = flat(&String::from_utf8_lossy(&o.stdout));
    assert!(stdout.contains("Replies unknown:"), "{stdout}");
    assert!(
        stdout.contains("2 created (0 paused), 0 failed, 1 unknown"),
        "{stdout}"
    );
    assert_eq!(w.creates_of("Replies"), 1, "a 5xx is not retried");
    assert!(w.server_ids("Replies").is_empty());
    let state = w.state_json();
    assert!(
        state["unknown"]["Replies"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("503")),
        "{state:#}"
    );
    assert!(state["webhooks"].get("Replies").is_none());
    assert!(state["webhooks"]["Email Sent"]["id"].is_string());

    let again = w.apply_faults(&[]);
    assert!(
        output_text(&again).contains("Nothing to create"),
        "{}",
        output_text(&again)
    );
    assert_eq!(w.creates_of("Replies"), 1, "an unknown is never sent again");
    assert_eq!(w.sandbox.create_requests(), 3);

    let plan = w.plan_faults(&[]);
    assert_eq!(plan.status.code(), Some(0), "{}", output_text(&plan));
    let text = flat(&String::from_utf8_lossy(&plan.stdout));
    assert!(text.contains("? Replies"), "{text}");
    assert!(
        text.contains("state import \"Replies\" ID") && text.contains("state rm \"Replies\""),
        "{text}"
    );
    assert!(
        text.contains("0 to create, 2 unchanged, 0 changed, 0 orphaned, 1 unknown"),
        "{text}"
    );
}

#[test]
fn a_dropped_answer_is_unknown_not_resent_and_state_import_resolves_it() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Email Sent".into()), Fault::DropAfterCreate);
    let o = w.apply_faults(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        flat_output(&o).contains("Email Sent unknown:"),
        "{}",
        output_text(&o)
    );
    let ids = w.server_ids("Email Sent");
    assert_eq!(ids.len(), 1, "the server has the webhook");
    assert!(w.state_json()["unknown"]["Email Sent"].is_object());
    assert!(w.state_json()["webhooks"].get("Email Sent").is_none());

    let again = w.apply_faults(&[]);
    assert!(
        output_text(&again).contains("Nothing to create"),
        "{}",
        output_text(&again)
    );
    assert_eq!(w.server_ids("Email Sent").len(), 1, "not created twice");
    assert_eq!(w.creates_of("Email Sent"), 1);

    let imported = w.import_faults("Email Sent", &ids[0]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        output_text(&imported)
    );
    let state = w.state_json();
    assert_eq!(state["webhooks"]["Email Sent"]["id"], json!(ids[0]));
    assert_eq!(state["unknown"], json!({}));
    assert_eq!(w.creates_of("Email Sent"), 1, "import sends no create");

    let plan = w.plan_faults(&["--format", "json", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", output_text(&plan));
    let v: Value = serde_json::from_slice(&plan.stdout).expect("JSON plan");
    assert_eq!(
        v["summary"],
        json!({"create": 0, "unchanged": 3, "changed": 0, "orphaned": 0, "unknown": 0}),
        "the imported webhook (secret header included) matches the config"
    );
    assert_eq!(v["needs_person"], json!(false));
}

#[test]
fn a_201_with_a_garbage_body_is_unknown() {
    let w = world(ONE);
    w.sandbox.inject(Target::Any, Fault::GarbageBody);
    let o = w.apply_faults(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["webhooks"][0]["result"], "unknown", "{v:#}");
    assert_eq!(w.sandbox.create_requests(), 1);
    assert_eq!(w.server_ids("Only").len(), 1, "it was created server-side");
    let state = w.state_json();
    assert!(state["unknown"]["Only"].is_object(), "{state:#}");
    assert!(state["webhooks"].get("Only").is_none());
}

#[test]
fn a_server_slower_than_the_timeout_is_unknown_and_not_retried() {
    let w = world(ONE);
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(3)));
    let started = Instant::now();
    let o = w.apply_faults(&["--timeout", "1"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        flat_output(&o).contains("Only unknown:"),
        "{}",
        output_text(&o)
    );
    assert!(
        took < Duration::from_secs(3),
        "gave up after the 1 s timeout, did not wait for the server or retry: {took:?}"
    );
    assert_eq!(w.sandbox.create_requests(), 1, "a timeout is not retried");
    assert!(w.state_json()["unknown"]["Only"].is_object());
}

#[test]
fn a_redirect_is_not_followed_and_the_other_host_hears_nothing() {
    let w = world(ONE);
    // A second local server that counts every connection it gets.
    let hits = Arc::new(AtomicUsize::new(0));
    let listener =
        w.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
    let elsewhere = listener.local_addr().expect("addr");
    let counter = Arc::clone(&hits);
    w.rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let location = format!("http://{elsewhere}/v1/webhook/create");
    w.sandbox.inject(
        Target::Any,
        Fault::Redirect {
            status: 307,
            location: location.clone(),
        },
    );
    let o = w.apply_faults(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let text = flat_output(&o);
    assert!(text.contains("Only failed:"), "{text}");
    assert!(
        text.contains(&location),
        "the failure names the Location: {text}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other host got no connection, hence never the key"
    );
    assert_eq!(w.sandbox.create_requests(), 1);
    assert!(w.sandbox.webhooks().is_empty());
    if w.state_path().exists() {
        let state = w.state_json();
        assert_eq!(
            (&state["webhooks"], &state["unknown"]),
            (&json!({}), &json!({}))
        );
    }
}

#[test]
fn a_huge_error_body_is_reported_as_a_short_excerpt() {
    let w = world(ONE);
    w.sandbox.inject(
        Target::Any,
        Fault::Reject {
            status: 400,
            message: "x".repeat(3_000_000),
        },
    );
    let o = w.apply_faults(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = stdout
        .lines()
        .find(|l| l.contains("Only  failed:"))
        .unwrap_or_else(|| panic!("a failure line: {}", output_text(&o)));
    assert!(line.contains("HTTP 400"), "{line}");
    assert!(
        line.chars().count() < 300,
        "the reason is an excerpt ({} chars)",
        line.chars().count()
    );
    assert!(output_text(&o).len() < 20_000, "the body is not dumped");
    assert!(w.sandbox.webhooks().is_empty());

    // The same in JSON.
    w.sandbox.inject(
        Target::Any,
        Fault::Reject {
            status: 400,
            message: "y".repeat(3_000_000),
        },
    );
    let o = w.apply_faults(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    let reason = v["webhooks"][0]["reason"].as_str().expect("a reason");
    assert!(
        reason.chars().count() < 300,
        "{} chars",
        reason.chars().count()
    );
}

#[test]
fn a_refused_connection_is_retried_then_fails_with_nothing_unknown() {
    let w = world(ONE);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let started = Instant::now();
    let o = w.apply_faults(&["--api-url", &format!("http://{closed}")]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let text = flat_output(&o);
    assert!(text.contains("could not connect"), "{text}");
    assert!(text.contains("0 unknown"), "{text}");
    assert!(
        took >= Duration::from_secs(1),
        "a request that never reached the server is retried with backoff; took {took:?}"
    );
    if w.state_path().exists() {
        let state = w.state_json();
        assert_eq!(state["unknown"], json!({}), "it certainly created nothing");
        assert_eq!(state["webhooks"], json!({}));
    }
}

// --- secrets -----------------------------------------------------------------------------

const API_KEY: &str = "sk-live-distinctive-123";
const BAD_KEY: &str = "sk-wrong-distinctive-456";
const HOOK: &str = "tok-zq81-distinctive-hook";
const ROTATED: &str = "tok-rotated-distinctive-2";
const URL_KEY: &str = "urlkey-77x-distinctive";
const SECRETS: [&str; 5] = [API_KEY, BAD_KEY, HOOK, ROTATED, URL_KEY];

const SECRET_CONFIG: &str = "version: 1
webhooks:
  - name: Secret Hook
    url: https://x.example.org/h?k=${URL_KEY}
    events: [email-sent]
    headers:
      Authorization: \"Bearer ${HOOK_TOKEN}\"
  - name: Plain Http
    url: http://plain.example.org/p?k=${URL_KEY}
    events: [reply-received]
";

fn secret_config_plus(extra: &[&str]) -> String {
    let mut c = SECRET_CONFIG.to_string();
    for name in extra {
        c.push_str(&format!(
            "  - name: {name}\n    url: https://x.example.org/{}?k=${{URL_KEY}}\n    events: [task-created]\n    headers:\n      Authorization: \"Bearer ${{HOOK_TOKEN}}\"\n",
            name.to_lowercase().replace(' ', "-")
        ));
    }
    c
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// No secret in this text.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for s in SECRETS {
        assert!(!text.contains(s), "`{s}` leaked into {what}:\n{text}");
    }
}

/// No secret in the command's output, nor in any file of the temp dir.
fn check(w: &World, label: &str, o: &Output) {
    assert_clean(&format!("stdout of {label}"), &o.stdout);
    assert_clean(&format!("stderr of {label}"), &o.stderr);
    for f in files(w.dir.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert_clean(&format!("{} after {label}", f.display()), &bytes);
    }
}

#[test]
fn no_secret_appears_in_any_output_or_file() {
    let w = World::builder()
        .config(SECRET_CONFIG)
        .api_keys(&[API_KEY])
        .key(API_KEY)
        .env("HOOK_TOKEN", HOOK)
        .env("URL_KEY", URL_KEY)
        .env("NO_COLOR", "1")
        .build();
    let config = w.config_path().display().to_string();
    let checked = |label: &str, o: Output, code: i32| {
        check(&w, label, &o);
        assert_eq!(o.status.code(), Some(code), "{label}: {}", output_text(&o));
        o
    };
    let plans = |when: &str, code: i32| {
        for format in ["human", "json", "markdown"] {
            let o = w.plan_faults(&["-v", "--format", format]);
            checked(&format!("plan {format} {when}"), o, code);
        }
    };

    for format in ["human", "json", "github"] {
        let o = w.run(&["validate", "-c", &config, "--format", format]);
        checked(&format!("validate {format}"), o, 0);
    }
    plans("before apply", 0);

    let o = checked("apply", w.apply_faults(&[]), 0);
    assert!(output_text(&o).contains("2 created"), "{}", output_text(&o));
    let stored = &w.sandbox.webhooks()[0];
    assert_eq!(
        stored.headers.get("Authorization").map(String::as_str),
        Some(format!("Bearer {HOOK}").as_str()),
        "the secret is sent to the API, and only there"
    );
    assert_eq!(
        stored.webhook_url,
        format!("https://x.example.org/h?k={URL_KEY}")
    );
    plans("after apply", 0);

    let id = w.server_ids("Secret Hook")[0].clone();
    checked("state rm", w.rm_faults("Secret Hook"), 0);
    plans("after rm", 0);
    checked("state import", w.import_faults("Secret Hook", &id), 0);
    plans("after import", 0);

    // A rotated token shows as a change, with neither value.
    for format in ["human", "json", "markdown"] {
        let o = w
            .cmd()
            .args(["plan", "-v", "-c", &config, "--state"])
            .arg(w.state_path())
            .args(["--format", format])
            .env("HOOK_TOKEN", ROTATED)
            .output()
            .expect("runs");
        let o = checked(&format!("plan {format} with a rotated token"), o, 0);
        if format == "json" {
            let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
            assert_eq!(v["summary"]["changed"], json!(1), "{v:#}");
        }
    }

    w.set_config(&secret_config_plus(&["Json One"]));
    let o = checked(
        "apply --format json",
        w.apply_faults(&["--format", "json"]),
        0,
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["webhooks"][0]["result"], "created", "{v:#}");

    // Faults whose reasons end up in the output and the state.
    w.set_config(&secret_config_plus(&[
        "Json One", "Lost", "Dropped", "Refused",
    ]));
    w.sandbox
        .inject(Target::Name("Lost".into()), Fault::ServerError(503));
    w.sandbox
        .inject(Target::Name("Dropped".into()), Fault::DropAfterCreate);
    w.sandbox.inject(
        Target::Name("Refused".into()),
        Fault::Reject {
            status: 400,
            message: "webhookUrl is blocked".into(),
        },
    );
    checked("apply with faults", w.apply_faults(&[]), 1);

    w.set_config(&secret_config_plus(&["Json One", "Bad Key"]));
    let mut bad = w.cmd();
    bad.args(w.apply_args(&[]))
        .env("SALESHANDY_API_KEY", BAD_KEY);
    let o = checked("apply with a bad key", bad.output().expect("runs"), 1);
    assert!(
        output_text(&o).contains("SALESHANDY_API_KEY"),
        "{}",
        output_text(&o)
    );

    // Killed while a create is in flight: the journal is left behind.
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(20)));
    let log = |n: &str| std::fs::File::create(w.dir.path().join(n)).expect("log file");
    let mut child = w
        .process()
        .args(w.apply_args(&[]))
        .stdout(log("killed.stdout"))
        .stderr(log("killed.stderr"))
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.sandbox.in_flight_creates() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let in_flight = w.sandbox.in_flight_creates();
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(
        in_flight, 1,
        "the create was in flight when the run was killed"
    );
    let journal = w.dir.path().join("webhooks.state.json.journal");
    assert!(journal.exists(), "the killed run left its journal");
    let journal_text = std::fs::read_to_string(&journal).expect("journal");
    assert!(journal_text.contains("Bad Key"), "{journal_text}");
    assert!(w.dir.path().join("webhooks.state.json.lock").exists());
    // Its output went to files in the temp dir, which `check` reads too.
    let killed = Output {
        status,
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    check(&w, "the killed apply", &killed);

    // The next runs replay it; still nothing leaks.
    let o = w.plan_faults(&[]);
    check(&w, "plan after the kill", &o);
    assert!(flat_output(&o).contains("? Bad Key"), "{}", output_text(&o));
    checked("apply after the kill", w.apply_faults(&[]), 0);
    assert!(!journal.exists(), "a locked run folded the journal");
}
