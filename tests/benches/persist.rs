//! The cost of persisting one create as the state grows: `cargo bench --bench persist` (a
//! filter narrows the cases: `cargo bench --bench persist -- journal`).
//!
//! `apply` records a create by appending two fsynced lines to the journal beside the state
//! (the intent before the request, the answer after it) and folding them into the in-memory
//! state; the state file itself is written once, at the end of the run. So:
//!
//! - `journal`: with the library, for states of 10 … 100,000 entries, the time of one
//!   create's persistence as a lone worker of `apply` does it (`JournalWriter::append` +
//!   `journal::fold` of an intent and of its `created` answer, each its own durable write),
//!   median and p90 over 200 creates — this must be flat; and, for contrast, one whole-state
//!   save through the store (check the file's version, serialise, write a temp file, fsync,
//!   rename, fsync the directory), which is what each create would cost if it rewrote the
//!   state, and what the end of a run costs once.
//! - `e2e`: the release binary applying 10 and 50 creates (sandbox without latency,
//!   parallelism 1) to a state that already records 10 / 1,000 / 10,000 webhooks; the
//!   difference ÷ 40 is the marginal wall time of one create, start-up and final save excluded.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{apply_once, config_of, median, ms, quantile, size, us, webhooks_yaml};
use saleshandy_webhooks::state::{Recorded, Sent, State, Stored};
use saleshandy_webhooks::store::journal::{self, Record};
use saleshandy_webhooks::store::{JournalWriter, LocalStore, Store, Version};

fn sent(i: usize) -> Sent {
    Sent {
        url: Stored::Plain(format!("https://h{i}.example.org/saleshandy/{i}")),
        events: vec!["email-sent".into(), "email-opened".into()],
        headers: BTreeMap::from([(
            "X-Webhook-Source".to_string(),
            Stored::Plain("saleshandy".into()),
        )]),
    }
}

/// A state recording `n` created webhooks.
fn state_of(n: usize) -> State {
    let mut state = State::new();
    for i in 0..n {
        state.webhooks.insert(
            format!("Webhook {i}"),
            Recorded {
                id: format!("{i:024x}"),
                sent: sent(i),
                status: "active".into(),
                test_delivery: Some("succeeded".into()),
                created_at: "2026-11-27T10:00:00Z".into(),
            },
        );
    }
    state
}

/// Persists the create of webhook `i` as a lone worker of `apply` does: intent, then answer,
/// each appended (fsynced) and folded into the state.
fn persist_create(journal: &mut dyn JournalWriter, state: &mut State, i: usize) {
    let name = format!("New {i}");
    for record in [
        Record::Intent {
            name: name.clone(),
            sent: sent(i),
            since: "2026-11-27T10:00:00Z".into(),
        },
        Record::Created {
            name,
            id: format!("new{i:021x}"),
            status: "active".into(),
            test_delivery: Some("succeeded".into()),
            created_at: "2026-11-27T10:00:00Z".into(),
        },
    ] {
        journal
            .append(std::slice::from_ref(&record))
            .expect("append");
        journal::fold(state, record);
    }
}

fn time(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Medians and p90s of one create's journal cost and of a whole-state save, at `entries`.
struct Costs {
    file: usize,
    append: (Duration, Duration),
    save: (Duration, Duration),
}

fn costs(dir: &Path, entries: usize, creates: usize, saves: usize) -> Costs {
    let path = dir.join(format!("s{entries}.state.json"));
    let store = LocalStore::open(&path).expect("store");
    let _lock = store.lock(Duration::ZERO).expect("lock");
    let base = state_of(entries);
    let mut state = base.clone();
    store.save(&mut state, &Version::Absent).expect("save");
    let file = std::fs::metadata(&path).expect("state file").len() as usize;
    let begin = Record::Begin {
        lineage: state.lineage.clone(),
        serial: state.serial,
        endpoint: "bench".into(),
    };
    let mut journal = store.begin_journal(&begin).expect("journal");
    for i in 0..10 {
        persist_create(&mut *journal, &mut state, i);
    }
    let mut appends: Vec<Duration> = (10..10 + creates)
        .map(|i| time(|| persist_create(&mut *journal, &mut state, i)))
        .collect();
    drop(journal);
    // The same state as saved before the creates (so the journal still replays onto it), each
    // save conditional on the version the previous one wrote.
    let mut state = State { serial: 1, ..base };
    let mut writes: Vec<Duration> = (0..saves)
        .map(|_| {
            let seen = Version::of(&state);
            time(|| {
                store.save(&mut state, &seen).expect("save");
            })
        })
        .collect();
    appends.sort();
    writes.sort();
    Costs {
        file,
        append: (median(&appends), quantile(&appends, 0.9)),
        save: (median(&writes), quantile(&writes, 0.9)),
    }
}

fn journal_bench() {
    let dir = tempfile::tempdir().expect("temp dir");
    println!("| entries in state | state file | persist one create: journal (median) | p90 | whole-state save (median) | p90 | save ÷ journal |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut flat = Vec::new();
    for entries in [10, 100, 1_000, 10_000, 100_000] {
        let saves = if entries >= 100_000 { 5 } else { 21 };
        let c = costs(dir.path(), entries, 200, saves);
        flat.push((entries, c.append.0));
        println!(
            "| {entries} | {} | {:.0} µs | {:.0} µs | {:.1} ms | {:.1} ms | {:.0}× |",
            size(c.file),
            us(c.append.0),
            us(c.append.1),
            ms(c.save.0),
            ms(c.save.1),
            c.save.0.as_secs_f64() / c.append.0.as_secs_f64()
        );
    }
    let at = |n: usize| flat.iter().find(|(e, _)| *e == n).map(|(_, d)| *d);
    if let (Some(small), Some(large)) = (at(10), at(10_000)) {
        println!(
            "\njournal cost at 10,000 entries ÷ at 10 entries: {:.2}",
            large.as_secs_f64() / small.as_secs_f64()
        );
    }
}

fn e2e_bench() {
    const RUNS: usize = 3;
    // At most 50: the sandbox, like Saleshandy, refuses a 51st active webhook.
    let (few, many) = (10, 50);
    println!("| entries in state | apply {few} creates (median of {RUNS}) | apply {many} creates (median of {RUNS}) | per create, (t{many} − t{few}) ÷ {} |", many - few);
    println!("|---:|---:|---:|---:|");
    for entries in [10, 1_000, 10_000] {
        let existing = webhooks_yaml("Webhook ", 0..entries, &|i| {
            format!("https://hooks{}.example.org/saleshandy/{i}", i % 7)
        });
        let state = common::state_recording(&config_of(&existing)).to_json();
        let wall = |creates: usize| {
            // Public URLs: a URL the tool warns about would add the rendering of one warning
            // per create, which costs O(config size) each (see BENCHMARKS.md).
            let config = config_of(&format!(
                "{existing}{}",
                webhooks_yaml("New ", 0..creates, &|i| format!(
                    "https://n{i}.example.org/x"
                ))
            ));
            let mut walls: Vec<Duration> = (0..RUNS)
                .map(|_| {
                    let o = apply_once(&config, Some(&state), Duration::ZERO, 1);
                    assert_eq!(o.run.code, 0, "{}", o.summary);
                    assert_eq!(o.requests, creates, "{}", o.summary);
                    o.run.wall
                })
                .collect();
            walls.sort();
            median(&walls)
        };
        let (t_few, t_many) = (wall(few), wall(many));
        let per = (t_many.saturating_sub(t_few)) / u32::try_from(many - few).expect("small");
        println!(
            "| {entries} | {:.0} ms | {:.0} ms | {:.2} ms |",
            ms(t_few),
            ms(t_many),
            ms(per)
        );
    }
}

/// Under `cargo test --benches`: a few creates journaled onto a small state, one save.
fn smoke() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = costs(dir.path(), 10, 3, 1);
    assert!(c.file > 0);
    let path = dir.path().join("s10.state.json");
    let loaded = LocalStore::open(&path)
        .expect("store")
        .load()
        .expect("load and replay");
    assert!(loaded.replayed);
    assert_eq!(
        loaded.state.webhooks.len(),
        10 + 10 + 3,
        "every journaled create replays"
    );
}

fn main() {
    common::measure_mode();
    if !common::benching() {
        smoke();
        return;
    }
    if common::selected("journal") {
        println!("persisting one create, library (fsync per journal line)\n");
        journal_bench();
    }
    if common::selected("e2e") {
        println!("\npersisting creates end to end: the release binary against the sandbox, no latency, P=1\n");
        e2e_bench();
    }
}
