//! `apply` of 200 webhooks at 50 ms of API latency and parallelism 16, with the state in a
//! local file and on a local SeaweedFS (the test suite's S3 server, installed on first use
//! into `<target>/test-servers`): `cargo bench --bench remote`.
//!
//! Each run gets a fresh sandbox and a fresh state (a new bucket for the remote runs) and
//! times the release binary from spawn to exit. Efficiency = ideal ÷ measured wall, with the
//! ideal `ceil(N/P) × latency`. Store writes per create are counted in one more run per store
//! through the test suite's proxy (not timed): PUTs of the state object, of the lock and of
//! the probes, over N.

mod common;

/// The binary under test, where the test servers' installer looks for the target dir.
const BIN: &str = env!("CARGO_BIN_EXE_saleshandy-webhooks");

// The test suite's servers, shared as source: this bench uses a part of what they offer.
#[allow(dead_code, unused_imports)]
#[path = "../support/object_servers/mod.rs"]
mod object_servers;
// Installs them, as every kit of the test suite.
#[allow(dead_code)]
#[path = "../support/tools.rs"]
mod tools;

use std::time::Duration;

use common::{config_of, ms, webhooks_yaml};
use object_servers::{s3, S3Kind};

const N: usize = 200;
const P: usize = 16;
const LATENCY: Duration = Duration::from_millis(50);
const KEY: &str = "bench/prod.state.json";

/// One apply with the state at `state`: its wall time, exit code and summary line.
fn apply_once(config: &str, env: &[(String, String)], state: &str) -> (Duration, i32, String) {
    let o = common::apply_in(config, None, state, env, LATENCY, P);
    (o.run.wall, o.run.code, o.summary)
}

fn main() {
    common::measure_mode();
    let config = config_of(&webhooks_yaml("Hook ", 0..N, &|i| {
        format!("https://h{i}.example.internal/x")
    }));
    let server = s3(S3Kind::SeaweedFs);
    if !common::benching() {
        // Under `cargo test --benches`: one small remote apply.
        let small = config_of(&webhooks_yaml("Hook ", 0..3, &|i| {
            format!("https://h{i}.example.internal/x")
        }));
        let bucket = server.new_bucket();
        let (_, code, summary) = apply_once(&small, &server.env(), &format!("s3://{bucket}/{KEY}"));
        assert_eq!(code, 0, "{summary}");
        return;
    }
    let ideal = LATENCY * u32::try_from(N.div_ceil(P)).expect("small");
    println!(
        "SeaweedFS round trips, 20 each, median: {}\n",
        store_round_trips(server)
    );
    println!("binary: {}\napply of {N} webhooks at {} ms latency, P={P}; ideal ceil(N/P)×latency = {:.0} ms\n", common::BIN, LATENCY.as_millis(), ms(ideal));
    println!("| state | runs | median wall | min wall | efficiency (ideal ÷ median) | store writes | per create | result |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    // One bucket for every run, a fresh key per run: SeaweedFS spends about 200 ms on the
    // first write to a new bucket (it allocates the bucket's volume), which a long-lived
    // state bucket pays once, not per apply.
    let bucket = server.new_bucket();
    let warm = server.store(&bucket);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(object_store::ObjectStoreExt::put(
            &warm,
            &object_store::path::Path::from("warm"),
            object_store::PutPayload::from_static(b"warm"),
        ))
        .expect("first write");
    let mut run_no = 0;
    for remote in [false, true] {
        let mut walls = Vec::new();
        let mut summary = String::new();
        for _ in 0..5 {
            run_no += 1;
            let state = match remote {
                true => format!("s3://{bucket}/bench/run-{run_no}.state.json"),
                false => "webhooks.state.json".to_string(),
            };
            let env = if remote { server.env() } else { Vec::new() };
            let (wall, code, s) = apply_once(&config, &env, &state);
            assert_eq!(code, 0, "{s}");
            walls.push(wall);
            summary = s;
        }
        walls.sort();
        let median = common::median(&walls);
        let writes = if remote {
            let proxy = server.proxy();
            let (_, code, s) = apply_once(&config, &proxy.env(), &format!("s3://{bucket}/{KEY}"));
            assert_eq!(code, 0, "{s}");
            let puts = proxy
                .requests()
                .iter()
                .filter(|r| r.method == "PUT")
                .count();
            let state_puts = proxy.count("PUT", &format!("/{bucket}/{KEY}"));
            format!(
                "{puts} PUTs ({state_puts} of the state) | {:.2}",
                puts as f64 / N as f64
            )
        } else {
            "- | -".to_string()
        };
        println!(
            "| {} | 5 | {:.0} ms | {:.0} ms | **{:.1} %** | {writes} | {summary} |",
            if remote {
                "SeaweedFS (s3://)"
            } else {
                "local file"
            },
            ms(median),
            ms(walls[0]),
            100.0 * ideal.as_secs_f64() / median.as_secs_f64(),
        );
    }
}

/// The median time of a GET and of a PUT of a 60 KB object (about a 200-webhook state) on
/// `server`, as this bench's client sees it: the floor under each store write of an apply.
fn store_round_trips(server: &object_servers::S3Server) -> String {
    use object_store::{ObjectStoreExt, PutPayload};
    let store = server.store(&server.new_bucket());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let key = object_store::path::Path::from("probe.json");
    let body = vec![b'x'; 60_000];
    let (mut puts, mut gets) = (Vec::new(), Vec::new());
    rt.block_on(async {
        for _ in 0..20 {
            let t = std::time::Instant::now();
            store
                .put(&key, PutPayload::from(body.clone()))
                .await
                .expect("put");
            puts.push(t.elapsed());
            let t = std::time::Instant::now();
            store
                .get(&key)
                .await
                .expect("get")
                .bytes()
                .await
                .expect("bytes");
            gets.push(t.elapsed());
        }
    });
    puts.sort();
    gets.sort();
    format!(
        "PUT {:.1} ms, GET {:.1} ms",
        ms(common::median(&puts)),
        ms(common::median(&gets))
    )
}
