//! Ctrl-C (SIGINT) and SIGTERM during `apply`'s creates: no new create after the signal, the
//! creates in flight answered within the grace (or recorded as `unknown`), every result and a
//! summary printed, exit 130 or 143. A second signal stops waiting at once. Elsewhere a
//! signal still ends the process at once.
//!
//! Each test holds a create in flight with the sandbox's `Fault::Delay` and signals the real
//! process; waits are generous deadlines, never a bound on how fast the tool must be.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use saleshandy_webhooks::clock::TIME_SCALE_ENV;
use saleshandy_webhooks::emulator::{Fault, Target};
use serde_json::{json, Value};

use crate::support::{hooks, report, snapshot, stdout_text, World};

/// How long a test waits for something the tool does on its own: far longer than it takes.
const PATIENCE: Duration = Duration::from_secs(60);

/// The binary running in `w`, its standard error read as it comes.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Running {
    /// Starts `args` in `w`; `scale` is the tool's clock factor (`1`: real time).
    fn start(w: &World, args: &[&str], scale: &str) -> Running {
        let mut command = w.process();
        command.args(args).env(TIME_SCALE_ENV, scale);
        Running::spawn(command)
    }

    /// Starts `command`, its output piped.
    fn spawn(mut command: std::process::Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let kept = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                kept.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&text);
            }
        });
        Running {
            child,
            stderr,
            reader,
        }
    }

    /// Sends `signal` to the process.
    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with a pid this test spawned and has not yet reaped.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits until standard error holds `text`; fails if the process ends first.
    fn wait_for_stderr(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.stderr_so_far().contains(text) {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "the process ended ({status}) before printing {text:?}:\n{}",
                    self.stderr_so_far()
                );
            }
            assert!(Instant::now() < deadline, "no {text:?} within {PATIENCE:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr_so_far(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits for the process to end; its whole output.
    fn finish(self) -> Output {
        let mut output = self.child.wait_with_output().expect("the binary runs");
        self.reader.join().expect("the stderr reader");
        output.stderr = self
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .into();
        output
    }
}

/// Waits until `n` creates are held by the sandbox at once.
fn wait_for_creates_in_flight(w: &World, run: &mut Running, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while w.sandbox.in_flight_creates() < n {
        if let Some(status) = run.child.try_wait().expect("try_wait") {
            panic!("the apply ended ({status}) before {n} creates were in flight");
        }
        assert!(Instant::now() < deadline, "no {n} creates in flight");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The state's `webhooks` and `unknown` names.
fn recorded_and_unknown(w: &World) -> (Vec<String>, Vec<String>) {
    let state = w.state_json();
    let names = |key: &str| -> Vec<String> {
        state[key]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    (names("webhooks"), names("unknown"))
}

#[test]
fn sigint_lets_the_create_in_flight_answer_and_sends_no_other() {
    let w = World::builder()
        .config(&hooks(5))
        .env("NO_COLOR", "1")
        .build();
    // The first create goes alone: while it is held, none of the others has started.
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(2)));
    // Real time, so that the grace (5 s) outlasts the held create.
    let mut run = Running::start(&w, &["apply", "--auto-approve", "--parallelism", "2"], "1");
    w.wait_for_a_create_in_flight(&mut run.child);
    run.signal(libc::SIGINT);
    let o = run.finish();

    assert_eq!(o.status.code(), Some(130), "{}", report(&o));
    snapshot("signals-sigint-apply", &w.filtered(&stdout_text(&o)));
    assert_eq!(
        w.filtered(&String::from_utf8_lossy(&o.stderr)),
        "Interrupted (SIGINT): no new create will be sent; waiting up to [DURATION] for the 1 create in flight to answer. Press Ctrl-C again to stop waiting.\n[1/5] created: Hook 1\n"
    );
    assert_eq!(
        w.creates().len(),
        1,
        "no create reached the sandbox after the signal"
    );
    let ids = w.server_ids("Hook 1");
    assert_eq!(ids.len(), 1);
    let state = w.state_json();
    assert_eq!(state["webhooks"]["Hook 1"]["id"], json!(ids[0]));
    assert_eq!(
        recorded_and_unknown(&w),
        (vec!["Hook 1".to_string()], Vec::new())
    );
    assert!(
        !w.path("webhooks.state.json.journal").exists(),
        "the journal was folded into the state"
    );

    // What the summary says: a re-run creates the rest, and only them.
    w.apply()
        .args(["--parallelism", "2"])
        .stdout_snapshot("signals-sigint-apply-again")
        .stderr_unchecked()
        .run();
    assert_eq!(w.creates().len(), 5);
    for i in 1..=5 {
        assert_eq!(w.server_ids(&format!("Hook {i}")).len(), 1, "Hook {i}");
    }
}

#[test]
fn sigterm_past_the_grace_records_the_create_in_flight_as_unknown() {
    let w = World::builder()
        .config(&hooks(4))
        .env("NO_COLOR", "1")
        .build();
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(3)));
    // The test clock: a grace of 50 ms, far shorter than the held create.
    let mut run = Running::start(&w, &["apply", "--auto-approve"], "0.01");
    w.wait_for_a_create_in_flight(&mut run.child);
    run.signal(libc::SIGTERM);
    let o = run.finish();

    assert_eq!(o.status.code(), Some(143), "{}", report(&o));
    snapshot("signals-sigterm-apply", &w.filtered(&stdout_text(&o)));
    assert_eq!(
        w.filtered(&String::from_utf8_lossy(&o.stderr)),
        "Interrupted (SIGTERM): no new create will be sent; waiting up to [DURATION] for the 1 create in flight to answer. A second signal stops waiting.
No answer within [DURATION]: the create in flight is recorded as unknown.
[1/4] unknown: Hook 1
"
    );
    assert_eq!(
        w.creates().len(),
        1,
        "no create reached the sandbox after the signal"
    );
    assert_eq!(
        recorded_and_unknown(&w),
        (Vec::new(), vec!["Hook 1".to_string()]),
        "the create in flight is not lost"
    );
    assert_eq!(
        w.state_json()["unknown"]["Hook 1"]["reason"],
        json!("a signal stopped the run before the answer came")
    );
    w.plan().stdout_snapshot("signals-sigterm-plan").run();
}

#[test]
fn a_second_sigint_stops_waiting_and_the_json_says_it_was_interrupted() {
    let w = World::new(&hooks(3));
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(30)));
    // Real time: only the second signal ends the wait before the 5 s grace.
    let mut run = Running::start(&w, &["apply", "--auto-approve", "--format", "json"], "1");
    w.wait_for_a_create_in_flight(&mut run.child);
    run.signal(libc::SIGINT);
    // Two signals that arrive together may be delivered as one: the second follows the
    // first's line.
    run.wait_for_stderr("Press Ctrl-C again to stop waiting.\n");
    run.signal(libc::SIGINT);
    let o = run.finish();

    assert_eq!(o.status.code(), Some(130), "{}", report(&o));
    assert_eq!(
        w.filtered(&String::from_utf8_lossy(&o.stderr)),
        "Interrupted (SIGINT): no new create will be sent; waiting up to [DURATION] for the 1 create in flight to answer. Press Ctrl-C again to stop waiting.
Stopped waiting (SIGINT again): the create in flight is recorded as unknown; a third signal exits at once.
"
    );
    let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(
        doc,
        json!({
            "format_version": 1,
            "endpoint": w.sandbox.url(),
            "state": "webhooks.state.json",
            "webhooks": [
                {
                    "name": "Hook 1",
                    "result": "unknown",
                    "reason": "a signal stopped the run before the answer came",
                },
                {"name": "Hook 2", "result": "not_sent"},
                {"name": "Hook 3", "result": "not_sent"},
            ],
            "interrupted": "SIGINT",
        })
    );
    assert_eq!(w.creates().len(), 1);
    assert_eq!(
        recorded_and_unknown(&w),
        (Vec::new(), vec!["Hook 1".to_string()])
    );
    // The lock was released: the next run goes ahead, and sends nothing for the unknown.
    w.apply().stdout_unchecked().stderr_unchecked().run();
    assert_eq!(w.creates().len(), 3);
    assert_eq!(
        recorded_and_unknown(&w),
        (
            vec!["Hook 2".to_string(), "Hook 3".to_string()],
            vec!["Hook 1".to_string()]
        )
    );
}

#[test]
fn a_create_waiting_out_a_429_is_not_sent_again_after_a_signal() {
    let w = World::builder()
        .config(&hooks(2))
        .env("NO_COLOR", "1")
        .build();
    w.sandbox.inject(
        Target::Any,
        Fault::TooManyRequests {
            retry_after: Some(30),
        },
    );
    // Real time: the tool waits out the 30 s Retry-After, during which the signal comes.
    let mut run = Running::start(&w, &["apply", "--auto-approve"], "1");
    let deadline = Instant::now() + PATIENCE;
    while w.sandbox.create_requests() == 0 || w.sandbox.in_flight_creates() > 0 {
        assert!(
            run.child.try_wait().expect("try_wait").is_none(),
            "apply ended"
        );
        assert!(Instant::now() < deadline, "no 429 answered");
        std::thread::sleep(Duration::from_millis(10));
    }
    run.signal(libc::SIGINT);
    let o = run.finish();

    assert_eq!(o.status.code(), Some(130), "{}", report(&o));
    snapshot(
        "signals-sigint-during-retry-after",
        &w.filtered(&stdout_text(&o)),
    );
    // The 429 may still be on its way back when the signal comes: the line then counts it.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with("Interrupted (SIGINT): no new create will be sent;")
            && stderr.lines().count() == 1,
        "{}",
        report(&o)
    );
    assert_eq!(
        w.creates().len(),
        1,
        "the 429 was not retried after the signal"
    );
    assert!(w.sandbox.webhooks().is_empty());
    assert!(
        !w.state_path().exists(),
        "nothing was created or is unknown: no state written"
    );
    assert!(!w.path("webhooks.state.json.journal").exists());
}

#[test]
fn every_account_stops_on_one_signal() {
    const KEYS: [&str; 2] = ["key-acme-111", "key-bolt-222"];
    let w = World::builder()
        .api_keys(&KEYS)
        .no_key()
        .env("NO_COLOR", "1")
        .build();
    std::fs::create_dir(w.path("clients")).expect("clients/");
    for name in ["acme", "bolt"] {
        let mut text = format!(
            "version: 1\napiKeyEnv: {}_SALESHANDY_KEY\nwebhooks:\n",
            name.to_uppercase()
        );
        for i in 1..=3 {
            text.push_str(&format!(
                "  - name: {name} hook {i}\n    url: https://{name}.example.org/{i}\n    events: [email-sent]\n"
            ));
        }
        std::fs::write(w.path(&format!("clients/{name}.yaml")), text).expect("config");
    }
    // Each account's first create goes alone: both are held at once.
    for _ in 0..2 {
        w.sandbox
            .inject(Target::Any, Fault::Delay(Duration::from_secs(2)));
    }
    let mut command = w.process();
    command
        .args(["apply", "-c", "clients", "--auto-approve"])
        .env("ACME_SALESHANDY_KEY", KEYS[0])
        .env("BOLT_SALESHANDY_KEY", KEYS[1])
        .env(TIME_SCALE_ENV, "1");
    let mut run = Running::spawn(command);
    wait_for_creates_in_flight(&w, &mut run, 2);
    run.signal(libc::SIGINT);
    let o = run.finish();

    assert_eq!(o.status.code(), Some(130), "{}", report(&o));
    snapshot("signals-accounts-apply", &w.filtered(&stdout_text(&o)));
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The two answers come in either order: their progress lines without the counter.
    let mut lines: Vec<&str> = stderr.lines().collect();
    for line in &mut lines[1..] {
        *line = line.split_once("] ").map_or(*line, |(_, rest)| rest);
    }
    lines[1..].sort_unstable();
    assert_eq!(
        lines,
        [
            "Interrupted (SIGINT): no new create will be sent; waiting up to 5s for the 2 creates in flight to answer. Press Ctrl-C again to stop waiting.",
            "created: acme hook 1",
            "created: bolt hook 1",
        ],
        "{}",
        report(&o)
    );
    assert_eq!(w.creates().len(), 2, "one create per account, then none");
    for name in ["acme", "bolt"] {
        let state: Value = serde_json::from_slice(
            &std::fs::read(w.path(&format!("clients/{name}.state.json"))).expect("state"),
        )
        .expect("JSON");
        let recorded: Vec<&String> = state["webhooks"]
            .as_object()
            .expect("webhooks")
            .keys()
            .collect();
        assert_eq!(recorded, [&format!("{name} hook 1")], "{name}");
    }
}

#[test]
fn a_signal_outside_the_creates_still_ends_the_process_at_once() {
    let w = World::builder()
        .config(&hooks(1))
        .env("NO_COLOR", "1")
        .build();
    w.ok(&["apply", "--auto-approve"]);
    // `status` reads the webhook back; the sandbox holds the read.
    w.sandbox.set_latency(Duration::from_secs(30));
    let mut run = Running::start(&w, &["status"], "0.01");
    let deadline = Instant::now() + PATIENCE;
    while !w.sandbox.requests().iter().any(|r| r.method == "GET") {
        assert!(
            run.child.try_wait().expect("try_wait").is_none(),
            "status ended"
        );
        assert!(Instant::now() < deadline, "no read reached the sandbox");
        std::thread::sleep(Duration::from_millis(10));
    }
    run.signal(libc::SIGINT);
    let o = run.finish();
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGINT),
        "killed by the signal, as without a handler: {}",
        report(&o)
    );
    assert_eq!(stdout_text(&o), "");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}
