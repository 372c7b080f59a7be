//! End-to-end timings of the release binary on generated inputs: `cargo bench --bench cli`.
//!
//! Each case runs the command several times and prints the median and the fastest wall time,
//! which is what a user waits for (process start, file read, parse, validate, print).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EVENTS: &[&str] = &[
    "email-sent",
    "email-opened",
    "reply-received",
    "email-bounced",
    "task-created",
];

/// A config with `n` distinct, valid webhooks.
fn config(n: usize) -> String {
    let mut s = String::with_capacity(n * 160);
    s.push_str("version: 1\nwebhooks:\n");
    for i in 0..n {
        let events = &EVENTS[..1 + i % EVENTS.len()];
        s.push_str(&format!(
            "  - name: Webhook {i}\n    url: https://hooks{}.example.org/saleshandy/{i}\n    events: [{}]\n    headers:\n      X-Webhook-Source: saleshandy\n",
            i % 7,
            events.join(", ")
        ));
    }
    s
}

/// A state recording every webhook of `config(n)` as created.
fn state_for(n: usize) -> String {
    let text = config(n);
    let loaded = saleshandy_webhooks::config::load(&text, &|_| None);
    let config = loaded.config.expect("generated config is valid");
    let mut state = saleshandy_webhooks::state::State::new();
    for (i, w) in config.webhooks.iter().enumerate() {
        state.webhooks.insert(
            w.name.clone(),
            saleshandy_webhooks::state::Recorded {
                id: format!("{i:024x}"),
                sent: saleshandy_webhooks::state::Sent::from_webhook(w, &state.lineage),
                status: "active".into(),
                test_delivery: Some("succeeded".into()),
                created_at: "2026-11-27T10:00:00Z".into(),
            },
        );
    }
    state.to_json()
}

fn time(args: &[&str], dir: &Path, runs: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_saleshandy-webhooks"))
                .args(args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("binary runs");
            let elapsed = start.elapsed();
            assert!(status.success(), "{args:?} failed");
            elapsed
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0])
}

fn report(case: &str, (median, min): (Duration, Duration)) {
    println!(
        "{case:<40} median {:>8.1} ms   min {:>8.1} ms",
        ms(median),
        ms(min)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo test --benches` runs this too; only do the work under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    report("--version", time(&["--version"], dir.path(), 20));
    for n in [1, 1_000, 10_000, 100_000] {
        let file = format!("w{n}.yaml");
        std::fs::write(dir.path().join(&file), config(n)).expect("write config");
        let runs = if n >= 100_000 { 3 } else { 10 };
        report(
            &format!("validate, {n} webhooks"),
            time(&["validate", "-c", &file], dir.path(), runs),
        );
    }
    // plan against a state that records every webhook (all unchanged): the full comparison.
    for n in [1_000, 10_000] {
        let file = format!("w{n}.yaml");
        let state = format!("w{n}.state.json");
        std::fs::write(dir.path().join(&state), state_for(n)).expect("write state");
        report(
            &format!("plan, {n} webhooks vs {n}-entry state"),
            time(&["plan", "-c", &file, "--state", &state], dir.path(), 10),
        );
    }
}
