//! `apply` of 500 webhooks against the embedded sandbox with 50 ms of latency per request, at
//! parallelism 1, 4 and 16: `cargo bench --bench apply` (a filter narrows the cases:
//! `cargo bench --bench apply -- "P=16"`).
//!
//! Each run gets a fresh sandbox (on this process's own tokio runtime) and a fresh temp dir
//! with no state, and times the release binary from spawn to exit: process start, config read,
//! plan, 500 creates over loopback HTTP with a journal line (fsynced) before and after each,
//! and the final save of the state.
//!
//! Efficiency = ideal ÷ measured wall, with the ideal `ceil(N/P) × latency`. `apply`
//! sends its first create alone (a canary, so that a refused key stops the run after one
//! request), so the best it can do is `latency + ceil((N-1)/P) × latency`; that figure is
//! printed too. The sandbox's `max_in_flight_creates` shows the parallelism really reached.
//!
//! The sandbox, like Saleshandy, allows 50 *active* webhooks per account and answers 422 to
//! the rest. The main rows use URLs on `.internal` hosts, which the sandbox (like Saleshandy)
//! cannot reach: each is created *paused*, which does not count against the limit, so all 500
//! are really created and recorded. The `public` rows use `https://hN.example.org/x` (assumed
//! to answer): 50 are created active and the other 450 are refused (422) after the same
//! latency, so the run takes as long but ends with 450 failures.

mod common;

use std::time::Duration;

use common::{apply_once, config_of, mib, ms, webhooks_yaml, Outcome};

const N: usize = 500;
const LATENCY: Duration = Duration::from_millis(50);

/// Where the webhooks' URLs point.
#[derive(Clone, Copy, PartialEq)]
enum Urls {
    /// `https://hN.example.internal/x`: unreachable for Saleshandy, so created paused.
    Internal,
    /// `https://hN.example.org/x`: assumed to answer, so active (up to the limit of 50).
    Public,
}

impl Urls {
    fn name(self) -> &'static str {
        match self {
            Urls::Internal => "internal",
            Urls::Public => "public",
        }
    }

    fn config(self, n: usize) -> String {
        let tld = match self {
            Urls::Internal => "internal",
            Urls::Public => "org",
        };
        config_of(&webhooks_yaml("Hook ", 0..n, &|i| {
            format!("https://h{i}.example.{tld}/x")
        }))
    }
}

/// Under `cargo test --benches`: three creates at parallelism 2 with no latency.
fn smoke() {
    let o = apply_once(&Urls::Internal.config(3), None, Duration::ZERO, 2);
    assert_eq!(o.run.code, 0, "{}", o.summary);
    assert_eq!((o.requests, o.stored), (3, 3), "{}", o.summary);
}

fn case(urls: Urls, latency: Duration, parallelism: usize, runs: usize) {
    let name = format!(
        "{} urls, {} ms, P={parallelism}",
        urls.name(),
        latency.as_millis()
    );
    if !common::selected(&name) {
        return;
    }
    let config = urls.config(N);
    let outcomes: Vec<Outcome> = (0..runs)
        .map(|_| apply_once(&config, None, latency, parallelism))
        .collect();
    for o in &outcomes {
        assert_eq!(
            o.requests, N,
            "one create request per webhook: {}",
            o.summary
        );
        if urls == Urls::Internal {
            assert_eq!((o.run.code, o.stored), (0, N), "{}", o.summary);
        }
    }
    let mut walls: Vec<Duration> = outcomes.iter().map(|o| o.run.wall).collect();
    walls.sort();
    let wall = common::median(&walls);
    let rounds = |n: usize| u32::try_from(n.div_ceil(parallelism)).expect("small");
    let ideal = latency * rounds(N);
    let ideal_canary = latency + latency * rounds(N - 1);
    let efficiency = |ideal: Duration| {
        if latency.is_zero() {
            "-".to_string()
        } else {
            format!("{:.1} %", 100.0 * ideal.as_secs_f64() / wall.as_secs_f64())
        }
    };
    let mut cpus: Vec<Duration> = outcomes.iter().map(|o| o.run.cpu).collect();
    cpus.sort();
    let in_flight: Vec<String> = outcomes
        .iter()
        .map(|o| o.max_in_flight.to_string())
        .collect();
    println!(
        "| {} | {} ms | {parallelism} | {runs} | {:.0} ms | {:.0} ms | {:.0} ms | **{}** | {:.0} ms | {} | {} | {:.0} ms | {:.1} MiB | {} |",
        urls.name(),
        latency.as_millis(),
        ms(wall),
        ms(walls[0]),
        ms(ideal),
        efficiency(ideal),
        ms(ideal_canary),
        efficiency(ideal_canary),
        in_flight.join(", "),
        ms(common::median(&cpus)),
        mib(outcomes.iter().map(|o| o.run.max_rss_kib).max().unwrap_or(0)),
        outcomes[0].summary,
    );
}

fn main() {
    common::measure_mode();
    if !common::benching() {
        smoke();
        return;
    }
    println!(
        "binary: {}\napply of {N} webhooks, fresh sandbox and state per run\n",
        common::BIN
    );
    println!("| URLs | latency | P | runs | median wall | min wall | ideal ceil(N/P)×lat | efficiency | ideal with canary | efficiency with canary | max in flight (per run) | client CPU | peak RSS | result |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for p in [1, 4, 16] {
        case(Urls::Internal, LATENCY, p, 3);
    }
    for p in [1, 4, 16] {
        case(Urls::Public, LATENCY, p, 1);
    }
    // The tool's own cost with an instant server: what the latency rows pay on top.
    for p in [1, 16] {
        case(Urls::Internal, Duration::ZERO, p, 5);
    }
}
