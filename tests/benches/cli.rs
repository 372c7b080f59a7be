//! End-to-end timings and peak memory of the release binary on generated inputs:
//! `cargo bench --bench cli` (a filter narrows the cases: `cargo bench --bench cli -- plan`).
//!
//! Each case runs the command once unmeasured, then several times, and prints the median and
//! the fastest wall time, which is what a user waits for (fork/exec, process start, file reads,
//! parse, validate, compare, render, print to /dev/null), the median CPU time (user + system,
//! which other load on the machine barely moves), and the largest peak RSS of the runs
//! (`ru_maxrss` from `wait4` on that child alone). Results are printed as Markdown table rows.

mod common;

use std::path::Path;

use common::{config, mib, ms, repeat, size, state_recording, summarize};

fn header() {
    println!("| case | input | runs | median wall | min wall | median CPU | peak RSS |");
    println!("|---|---|---:|---:|---:|---:|---:|");
}

fn case(name: &str, input: &str, args: &[&str], dir: &Path, runs: usize) {
    if !common::selected(name) {
        return;
    }
    let s = summarize(&repeat(args, dir, runs));
    row(name, input, &s);
}

fn row(name: &str, input: &str, s: &common::Summary) {
    println!(
        "| {name} | {input} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB |",
        s.runs,
        ms(s.median),
        ms(s.min),
        ms(s.cpu),
        mib(s.max_rss_kib)
    );
}

/// `/bin/true` measured the same way: what spawning, reaping and the measuring helper cost,
/// and the smallest peak RSS a measurement can show.
fn floor(dir: &Path) {
    if !common::selected("floor") {
        return;
    }
    let mut cmd = std::process::Command::new("/bin/true");
    cmd.current_dir(dir);
    let runs: Vec<common::Run> = (0..30).map(|_| common::run(&cmd, None, None)).collect();
    row("floor: /bin/true", "-", &summarize(&runs));
}

fn write(dir: &Path, file: &str, text: &str) -> usize {
    std::fs::write(dir.join(file), text).expect("write input");
    text.len()
}

/// Under `cargo test --benches`: one validate and one plan of a small generated config, so
/// that the generators and the binary's arguments stay right.
fn smoke() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config(10);
    write(dir.path(), "w.yaml", &text);
    write(
        dir.path(),
        "w.state.json",
        &state_recording(&text).to_json(),
    );
    repeat(&["validate", "-c", "w.yaml"], dir.path(), 1);
    repeat(
        &["plan", "-c", "w.yaml", "--state", "w.state.json"],
        dir.path(),
        1,
    );
}

fn main() {
    common::measure_mode();
    if !common::benching() {
        smoke();
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    println!("binary: {}\n", common::BIN);

    println!("start-up\n");
    header();
    floor(d);
    write(d, "w1.yaml", &config(1));
    case("--version", "-", &["--version"], d, 30);
    case(
        "validate, 1 webhook",
        "1 webhook",
        &["validate", "-c", "w1.yaml"],
        d,
        30,
    );

    println!("\nvalidate and plan\n");
    header();
    for n in [1_000, 10_000, 100_000] {
        let file = format!("w{n}.yaml");
        let state = format!("w{n}.state.json");
        let text = config(n);
        let config_size = write(d, &file, &text);
        let state_size = write(d, &state, &state_recording(&text).to_json());
        let runs = if n >= 100_000 { 5 } else { 15 };
        case(
            &format!("validate, {n} webhooks"),
            &format!("config {}", size(config_size)),
            &["validate", "-c", &file],
            d,
            runs,
        );
        // Against a state recording every webhook (all unchanged): the full comparison.
        case(
            &format!("plan, {n} webhooks, {n}-entry state"),
            &format!("config {}, state {}", size(config_size), size(state_size)),
            &["plan", "-c", &file, "--state", &state],
            d,
            runs,
        );
        // No state yet (all create): the plan prints the content of every webhook.
        case(
            &format!("plan, {n} webhooks, no state"),
            &format!("config {}", size(config_size)),
            &["plan", "-c", &file, "--state", "absent.state.json"],
            d,
            runs,
        );
    }

    // Every webhook with a warning (an `.internal` host Saleshandy cannot reach). The human
    // format draws a source snippet per diagnostic; the machine formats do not.
    println!("\nvalidate with one warning per webhook\n");
    header();
    for (n, runs) in [(1_000, 5), (10_000, 1)] {
        let file = format!("warn{n}.yaml");
        let text = common::config_of(&common::webhooks_yaml("Webhook ", 0..n, &|i| {
            format!("https://hooks{}.example.internal/saleshandy/{i}", i % 7)
        }));
        let config_size = write(d, &file, &text);
        for format in ["human", "json"] {
            let name = format!("validate --format {format}, {n} webhooks, {n} warnings");
            if !common::selected(&name) {
                continue;
            }
            // No warm-up run: the human case takes seconds.
            let cmd = common::bin(&["validate", "-c", &file, "--format", format], d);
            let runs: Vec<common::Run> = (0..runs)
                .map(|_| common::run(&cmd, None, None))
                .inspect(|r| assert_eq!(r.code, 0, "warnings do not fail validate"))
                .collect();
            row(
                &name,
                &format!("config {}", size(config_size)),
                &summarize(&runs),
            );
        }
    }
}
