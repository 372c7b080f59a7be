//! `apply` with several creates in flight at once, end to end: the binary against the
//! embedded sandbox on 127.0.0.1. What a user notices: every webhook created exactly once,
//! results reported in config order whatever order the answers came in, a 429 that slows the
//! whole run (not one worker), `--max-rps` honoured, a refused key that costs one request,
//! and output without control characters when it is not going to a terminal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{report, World};
use saleshandy_webhooks::clock::TIME_SCALE_ENV;
use saleshandy_webhooks::emulator::{Fault, RecordedRequest, Target};
use serde_json::Value;

/// A sandbox served by its own runtime while the test thread runs the binary, and a temp dir
/// holding `config`. The binary's stdout and stderr are piped (never a terminal) and colour is
/// not turned off by anything.
fn world(config: &str, latency: Duration) -> World {
    World::builder()
        .config(config)
        .latency(latency)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        // A colour terminal type: only the fact that the output is a pipe may matter.
        .env("TERM", "xterm-256color")
        .build()
}

impl World {
    /// Server-side ids by name; panics unless each name was created exactly once.
    fn ids_created_once(&self, names: &[String]) -> BTreeMap<String, String> {
        let ids = self.server_by_name();
        for name in names {
            let n = ids.get(name).map_or(0, Vec::len);
            assert_eq!(n, 1, "`{name}` exists {n} times on the server, not once");
        }
        assert_eq!(
            ids.len(),
            names.len(),
            "the server has webhooks the config does not name: {:?}",
            ids.keys().collect::<Vec<_>>()
        );
        ids.into_iter().map(|(k, mut v)| (k, v.remove(0))).collect()
    }
}

/// `n` webhooks named `Hook 00`, `Hook 01`, … in config order.
fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("Hook {i:02}")).collect()
}

fn config(names: &[String]) -> String {
    let mut s = String::from("version: 1\nwebhooks:\n");
    for (i, name) in names.iter().enumerate() {
        s.push_str(&format!(
            "  - name: {name}\n    url: https://hooks{i}.example.org/in\n    events: [email-sent]\n"
        ));
    }
    s
}

/// The name a recorded create request was for.
fn name_of(r: &RecordedRequest) -> String {
    r.json()
        .and_then(|j| j["name"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// Arrival times of `requests`, in ms after `t0`, with their names: for failure messages.
/// Asserts that consecutive create arrivals are at least 80 ms apart, as `--max-rps 10`
/// requires (100 ms, less timing noise).
fn assert_spaced_for_max_rps_10(creates: &[RecordedRequest]) {
    let t0 = creates[0].received_at;
    for pair in creates.windows(2) {
        let gap = pair[1].received_at - pair[0].received_at;
        assert!(
            gap >= Duration::from_millis(80),
            "two creates arrived {} ms apart under --max-rps 10\n{}",
            ms(gap),
            timeline(creates, t0)
        );
    }
}

fn timeline(requests: &[RecordedRequest], t0: Instant) -> String {
    requests
        .iter()
        .map(|r| {
            let at = r.received_at.saturating_duration_since(t0);
            format!("{:>6} ms  {}", ms(at), name_of(r))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Jitter: some webhooks are answered much later than others, so answers come back in an
/// order that differs from the config's.
fn inject_jitter(w: &World, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        let extra = match i % 5 {
            1 => 150,
            3 => 60,
            _ => continue,
        };
        w.sandbox.inject(
            Target::Name(name.clone()),
            Fault::Delay(Duration::from_millis(extra)),
        );
    }
}

#[test]
fn concurrent_apply_creates_each_once_and_reports_in_config_order() {
    let names = names(40);
    let latency = Duration::from_millis(50);

    // Human output.
    let w = world(&config(&names), latency);
    inject_jitter(&w, &names);
    let o = w.run(&["apply", "--auto-approve", "--parallelism", "8"]);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    let ids = w.ids_created_once(&names);
    assert_eq!(w.creates().len(), 40, "one request per webhook");
    let max = w.sandbox.max_in_flight_creates();
    assert!(
        (2..=8).contains(&max),
        "{max} creates were in flight at once; expected more than 1 and at most 8"
    );

    let created_order: Vec<String> = w.sandbox.webhooks().into_iter().map(|h| h.name).collect();
    assert_ne!(
        created_order, names,
        "precondition: the jitter should make the server create them out of config order"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let reported: Vec<(String, String)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  ✓ "))
        .map(|l| {
            let (name, id) = l
                .split_once("  created, id ")
                .unwrap_or_else(|| panic!("unexpected result line {l:?}"));
            (name.to_string(), id.trim().to_string())
        })
        .collect();
    let reported_names: Vec<&str> = reported.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        reported_names, names,
        "result lines are in config order\n{stdout}"
    );
    for (name, id) in &reported {
        assert_eq!(
            &ids[name], id,
            "the id printed for `{name}` is the server's"
        );
    }
    assert!(
        stdout.contains("Apply: 40 created (0 paused), 0 failed, 0 unknown, 0 not sent."),
        "{stdout}"
    );

    let state = w.state_json();
    let recorded = state["webhooks"].as_object().expect("webhooks map");
    assert_eq!(recorded.len(), 40, "the state records all 40");
    for (name, id) in &ids {
        assert_eq!(
            recorded[name]["id"].as_str(),
            Some(id.as_str()),
            "the state records the server's id for `{name}`"
        );
    }
    assert_eq!(state["unknown"], serde_json::json!({}));

    // The same, with `--format json`, on a fresh server.
    let w = world(&config(&names), latency);
    inject_jitter(&w, &names);
    let o = w.run(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "8",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    let ids = w.ids_created_once(&names);
    let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document on stdout");
    let results = doc["webhooks"].as_array().expect("webhooks list");
    let json_names: Vec<&str> = results.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(json_names, names, "JSON results are in config order");
    for r in results {
        let name = r["name"].as_str().unwrap_or_default();
        assert_eq!(r["result"], "created", "{r}");
        assert_eq!(r["id"].as_str(), Some(ids[name].as_str()), "{r}");
    }
    let state = w.state_json();
    for (name, id) in &ids {
        assert_eq!(state["webhooks"][name]["id"].as_str(), Some(id.as_str()));
    }
}

/// 12 webhooks, 4 at once. `Hook 04` is sent together with `Hook 01`–`Hook 03` (after the
/// `Hook 00` canary) and answered 429 with `Retry-After: 1`; its three companions are
/// answered 300 ms later, so their workers are free again well inside the second the API
/// asked for. A hold that binds every worker sends nothing in that second; a per-worker
/// backoff would send `Hook 05`… right away.
#[test]
fn a_429_burst_slows_every_worker() {
    let names = names(12);
    let latency = Duration::from_millis(20);
    let limited = "Hook 04";
    let companions = ["Hook 01", "Hook 02", "Hook 03"];
    // Answers to requests that were on the wire together with the 429'd one may come a little
    // after it; anything later than this after the 429 was answered is a new request.
    let grace = Duration::from_millis(150);
    // `Retry-After: 1` on a clock at half speed: a hold long enough to see, half as long to wait.
    const SCALE: f64 = 0.5;
    let hold = Duration::from_secs(1).mul_f64(SCALE);

    let run = |fault: Option<Fault>| {
        let w = world(&config(&names), latency);
        for c in companions {
            w.sandbox.inject(
                Target::Name(c.into()),
                Fault::Delay(Duration::from_millis(300)),
            );
        }
        if let Some(fault) = fault {
            w.sandbox.inject(Target::Name(limited.into()), fault);
        }
        let o = w
            .cmd()
            .env(TIME_SCALE_ENV, SCALE.to_string())
            .args(["apply", "--auto-approve", "--parallelism", "4"])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0), "{}", report(&o));
        assert_eq!(w.sandbox.pending_faults(), 0, "every fault was served");
        w.ids_created_once(&names);
        w
    };

    let w = run(Some(Fault::TooManyRequests {
        retry_after: Some(1),
    }));
    let creates = w.creates();
    assert_eq!(
        creates.len(),
        13,
        "12 creates and one retry of the 429'd one"
    );
    let t0 = creates[0].received_at;
    let tried: Vec<&RecordedRequest> = creates.iter().filter(|r| name_of(r) == limited).collect();
    assert_eq!(
        tried.len(),
        2,
        "`{limited}` was sent twice (429, then created)"
    );
    let t429 = tried[0].received_at;
    let answered = t429 + latency;
    let held_until = t429 + hold.mul_f64(0.95);
    let early: Vec<String> = creates
        .iter()
        .filter(|r| r.received_at > answered + grace && r.received_at < held_until)
        .map(|r| {
            format!(
                "`{}` at +{} ms after the 429'd request arrived",
                name_of(r),
                ms(r.received_at - t429)
            )
        })
        .collect();
    assert!(
        early.is_empty(),
        "after the 429 was answered, a create reached the server before the Retry-After second was over: {early:?}\ntimeline (ms after the first create):\n{}",
        timeline(&creates, t0)
    );
    let retry = tried[1].received_at - t429;
    assert!(
        retry >= hold.mul_f64(0.95),
        "the 429'd webhook was retried after {} ms",
        ms(retry)
    );

    // Control: when only the worker of `Hook 04` waits as long (what a per-worker backoff
    // would do), the other workers send the rest inside the window checked above: it can fail.
    let w = run(Some(Fault::Delay(hold)));
    let creates = w.creates();
    assert_eq!(creates.len(), 12);
    let t = creates
        .iter()
        .find(|r| name_of(r) == limited)
        .expect("sent")
        .received_at;
    let inside = creates
        .iter()
        .filter(|r| r.received_at > t + latency + grace && r.received_at < t + hold.mul_f64(0.95))
        .count();
    assert!(
        inside >= 5,
        "control: with one worker held, the others send inside the window\n{}",
        timeline(&creates, creates[0].received_at)
    );
}

#[test]
fn max_rps_spaces_requests() {
    let names = names(6);
    let w = world(&config(&names), Duration::ZERO);
    let o = w.run(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "6",
        "--max-rps",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    w.ids_created_once(&names);
    let creates = w.creates();
    assert_eq!(creates.len(), 6);
    assert_spaced_for_max_rps_10(&creates);
    let total = creates[5].received_at - creates[0].received_at;
    assert!(
        total >= Duration::from_millis(450),
        "6 creates at 10/s took {} ms",
        ms(total)
    );
}

#[test]
fn a_refused_key_with_parallelism_sends_only_one_request() {
    let names = names(10);
    let w = world(&config(&names), Duration::from_millis(20));
    w.apply()
        .env("SALESHANDY_API_KEY", "wrong-key")
        .args(["--parallelism", "8"])
        .status(1)
        .stdout_snapshot("concurrency-refused-key")
        .stderr("[1/10] failed: Hook 00\n")
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        1,
        "a refused key costs one request, whatever the parallelism"
    );
    assert!(w.sandbox.webhooks().is_empty());
    assert!(
        !w.state_path().exists(),
        "nothing created: no state written"
    );
}

/// Every command's output when it is piped, colour not turned off: what a CI log gets.
#[test]
fn non_terminal_output_has_no_escape_sequences() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let names = names(4);
    // Hook 04 is paused (its test delivery to a private address fails), Hook 05 refused,
    // Hook 06 unknown (5xx after create): every kind of result line.
    let mut cfg = config(&names);
    cfg.push_str(
        "  - name: Hook 04\n    url: https://10.0.4.2/in\n    events: [email-sent]\n  - name: Hook 05\n    url: https://hooks5.example.org/in\n    events: [email-sent]\n  - name: Hook 06\n    url: https://hooks6.example.org/in\n    events: [email-sent]\n",
    );
    let w = world(&cfg, Duration::ZERO);
    w.sandbox.inject(
        Target::Name("Hook 05".into()),
        Fault::Reject {
            status: 400,
            message: "webhookUrl is blocked".into(),
        },
    );
    w.sandbox.inject(
        Target::Name("Hook 06".into()),
        Fault::ServerErrorAfterCreate(502),
    );
    let plan_dir = tempfile::tempdir().expect("tempdir");
    for f in ["webhooks.yaml", "webhooks.state.json"] {
        std::fs::copy(fixtures.join("plan").join(f), plan_dir.path().join(f)).expect("copy");
    }
    let plan_cfg = plan_dir.path().join("webhooks.yaml").display().to_string();
    let warn = fixtures
        .join("warn/http-and-private.yaml")
        .display()
        .to_string();

    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut run = |label: &str, o: Output| outputs.push((label.to_string(), o));
    run("validate (warnings)", w.run(&["validate", "-c", &warn]));
    run(
        "plan (every action)",
        w.cmd()
            .env("CRM_TOKEN", "crm-token")
            .env("SLACK_TOKEN", "slack-token")
            .args(["plan", "-v", "-c", &plan_cfg])
            .output()
            .expect("runs"),
    );
    run("apply without approval (an error)", w.run(&["apply"]));
    let applied = w.run(&["apply", "--auto-approve", "--parallelism", "3"]);
    assert_eq!(applied.status.code(), Some(1), "{}", report(&applied));
    let applied_stdout = String::from_utf8_lossy(&applied.stdout).to_string();
    for sign in ["  ✓ Hook 00", "  ! Hook 04", "  ✗ Hook 05", "  ? Hook 06"] {
        assert!(
            applied_stdout.contains(sign),
            "{sign}\n{}",
            report(&applied)
        );
    }
    let progress = String::from_utf8_lossy(&applied.stderr).to_string();
    run("apply (human)", applied);

    // Drift and deletion behind the tool's back, for status's other signs.
    let state = w.state_json();
    let id = |n: &str| state["webhooks"][n]["id"].as_str().expect("id").to_string();
    assert!(w.sandbox.update(&id("Hook 01"), |h| h.webhook_url =
        "https://edited.example.org/".into()));
    assert!(w.sandbox.remove(&id("Hook 02")));
    run("state list", w.run(&["state", "list"]));
    run("state show", w.run(&["state", "show", "Hook 04"]));
    run("status", w.run(&["status"]));

    // A second apply in JSON: the refused one again, and a new one.
    w.set_config(&format!(
        "{cfg}  - name: Hook 07\n    url: https://hooks7.example.org/in\n    events: [email-sent]\n"
    ));
    let json = w.run(&["apply", "--auto-approve", "--format", "json"]);
    serde_json::from_slice::<Value>(&json.stdout).expect("JSON on stdout");
    run("apply --format json", json);

    // Each command really ran what it was meant to (not an early error).
    let stdout_of = |label: &str| {
        let (_, o) = outputs.iter().find(|(l, _)| l == label).expect("ran");
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    for (label, expected) in [
        ("validate (warnings)", "3 webhooks, 4 warnings"),
        (
            "plan (every action)",
            "Plan: 1 to create, 1 unchanged, 1 changed, 1 orphaned, 1 unknown.",
        ),
        ("status", "1 paused, 0 failing, 1 drifted, 1 deleted"),
        ("state list", "Hook 06"),
    ] {
        let text = stdout_of(label);
        assert!(text.contains(expected), "{label}: {expected:?} in\n{text}");
    }

    for (label, o) in &outputs {
        for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            assert!(
                !bytes.contains(&0x1b) && !bytes.contains(&b'\r'),
                "{label}: {stream} has an escape sequence or a carriage return:\n{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(
            !o.stdout.is_empty() || !o.stderr.is_empty(),
            "{label}: printed nothing"
        );
    }

    // Plain progress lines, one per create, numbered 1..=7 of 7.
    let lines: Vec<&str> = progress.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lines.len(), 7, "one progress line per create:\n{progress}");
    for (k, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("[{}/7] ", k + 1)),
            "progress line {line:?}\n{progress}"
        );
    }
    for name in &names {
        let line = format!("] created: {name}");
        assert_eq!(
            lines.iter().filter(|l| l.ends_with(&line)).count(),
            1,
            "`{name}` has one plain `created` progress line:\n{progress}"
        );
    }
    for (name, word) in [
        ("Hook 04", "created (paused)"),
        ("Hook 05", "failed"),
        ("Hook 06", "unknown"),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with(&format!("] {word}: {name}"))),
            "{name}: {word}\n{progress}"
        );
    }
}

/// `--max-rps` must hold after a 429 too: when the hold ends, the waiting workers must not
/// all fire at the same instant.
#[test]
fn max_rps_still_spaces_requests_after_a_429_hold() {
    let names = names(8);
    let w = world(&config(&names), Duration::from_millis(20));
    w.sandbox.inject(
        Target::Name("Hook 02".into()),
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    let o = w.run(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "4",
        "--max-rps",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    w.ids_created_once(&names);
    let creates = w.creates();
    assert_eq!(creates.len(), 9, "8 creates and one retry");
    assert_spaced_for_max_rps_10(&creates);
}
