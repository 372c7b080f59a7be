//! Crash safety and mutual exclusion of `apply`, end to end: the real binary is SIGKILLed at
//! random instants and run twice at once against the embedded sandbox on 127.0.0.1.
//!
//! What a user relies on, and what these tests check from the outside:
//! - however a run dies, no webhook is ever created twice, and every webhook the server holds
//!   is either recorded with its id or listed as `unknown` in the state (never forgotten);
//! - two runs on one state never both send creates; the loser says who holds the lock;
//! - a killed run leaves no stale lock behind;
//! - the journal, the lock and the state are private files (0600).

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{flat, report, stderr_text, CONFIG_FILE, STATE_FILE};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A sandbox served by its own runtime, and a temp dir holding a config of `n` webhooks. The
/// test thread runs the binary while the runtime's workers answer it.
struct World {
    base: crate::support::World,
    names: Vec<String>,
    /// Where the binary sends its requests: the sandbox, or a proxy in front of it.
    api_url: String,
}

impl Deref for World {
    type Target = crate::support::World;

    fn deref(&self) -> &crate::support::World {
        &self.base
    }
}

impl World {
    fn new(n: usize, latency: Duration) -> World {
        let base = crate::support::World::builder()
            .latency(latency)
            .env("NO_COLOR", "1")
            .build();
        let api_url = base.sandbox.url();
        let mut w = World {
            base,
            names: Vec::new(),
            api_url,
        };
        w.write_config(n);
        w
    }

    /// Sends the binary's requests through a proxy that holds every answer back for `hold`
    /// after the sandbox has created the webhook. (A client killed while the sandbox is still
    /// sleeping in its latency makes it drop the request, so without the proxy a kill never
    /// lands between "the server created it" and "the tool recorded it".)
    fn hold_answers(&mut self, hold: Duration) {
        let upstream = self.sandbox.addr();
        let addr = self
            .rt
            .block_on(answer_holding_proxy(upstream, hold))
            .expect("proxy starts");
        self.api_url = format!("http://{addr}");
    }

    /// Rewrites the config with webhooks `Hook 01` … `Hook n`.
    fn write_config(&mut self, n: usize) {
        self.names = (1..=n).map(|i| format!("Hook {i:02}")).collect();
        let mut yaml = String::from("version: 1\nwebhooks:\n");
        for i in 1..=n {
            yaml.push_str(&format!(
                "  - name: Hook {i:02}\n    url: https://h{i}.example.org/x\n    events: [email-sent]\n"
            ));
        }
        self.set_config(&yaml);
    }

    fn journal_path(&self) -> PathBuf {
        self.path(&format!("{STATE_FILE}.journal"))
    }

    fn lock_path(&self) -> PathBuf {
        self.path(&format!("{STATE_FILE}.lock"))
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut c = self.process();
        c.args([
            "apply",
            "-c",
            CONFIG_FILE,
            "--state",
            STATE_FILE,
            "--auto-approve",
        ])
        .args(["--api-url", &self.api_url])
        .args(extra)
        .stdin(Stdio::null());
        c
    }

    /// Starts an apply whose output nobody reads.
    fn spawn_quiet(&self, extra: &[&str]) -> Child {
        self.command(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts")
    }

    /// Starts an apply whose output is kept for `wait_with_output`.
    fn spawn_piped(&self, extra: &[&str]) -> Child {
        self.command(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts")
    }

    /// Runs an apply to completion.
    fn apply_crash_and_lock(&self, extra: &[&str]) -> Output {
        self.command(extra).output().expect("binary runs")
    }

    /// Waits until the sandbox handles no create (a killed client's request may still be
    /// sleeping in its latency and create the webhook afterwards).
    fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.sandbox.in_flight_creates() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.sandbox.in_flight_creates(), 0, "the sandbox settles");
    }

    /// Files the tool left in the directory besides the config, state, journal and lock
    /// (e.g. the temp file of an interrupted atomic write).
    fn stray_files(&self) -> Vec<String> {
        let expected = [
            CONFIG_FILE.to_string(),
            STATE_FILE.to_string(),
            format!("{STATE_FILE}.journal"),
            format!("{STATE_FILE}.lock"),
        ];
        std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| !expected.contains(n))
            .collect()
    }

    /// The invariants a user relies on after any sequence of crashes, once a run completed:
    /// the state parses, no journal is left, nothing exists twice, nothing is forgotten.
    /// Returns how many names are `unknown`.
    fn assert_consistent(&self) -> usize {
        assert!(
            !self.journal_path().exists(),
            "a completed run folded and removed the journal"
        );
        let state = self.state_json();
        let server = self.server_by_name();
        let context = || {
            format!(
                "state:\n{}\nserver: {server:?}",
                serde_json::to_string_pretty(&state).unwrap_or_default()
            )
        };
        let recorded = state["webhooks"].as_object().cloned().unwrap_or_default();
        let unknown = state["unknown"].as_object().cloned().unwrap_or_default();
        for name in &self.names {
            let ids = server.get(name).map_or(&[][..], Vec::as_slice);
            assert!(
                ids.len() <= 1,
                "`{name}` was created {} times: {ids:?}\n{}",
                ids.len(),
                context()
            );
            match (recorded.get(name), unknown.contains_key(name)) {
                (Some(r), false) => {
                    assert_eq!(
                        ids.len(),
                        1,
                        "`{name}` is recorded but the server does not hold it\n{}",
                        context()
                    );
                    assert_eq!(
                        r["id"].as_str(),
                        Some(ids[0].as_str()),
                        "`{name}` is recorded with another id than the server's\n{}",
                        context()
                    );
                }
                (None, true) => {}
                (Some(_), true) => panic!(
                    "`{name}` is both recorded and unknown\n{}",
                    context()
                ),
                (None, false) => panic!(
                    "`{name}` is in the config but neither recorded nor unknown after a completed apply\n{}",
                    context()
                ),
            }
        }
        for (name, ids) in &server {
            for id in ids {
                let known = recorded
                    .get(name)
                    .is_some_and(|r| r["id"].as_str() == Some(id.as_str()))
                    || unknown.contains_key(name);
                assert!(
                    known,
                    "the server holds `{name}` (id {id}) but the state forgot it\n{}",
                    context()
                );
            }
        }
        unknown.len()
    }
}

/// A loopback TCP proxy to `upstream` that forwards requests at once and holds each chunk of
/// the answers back for `hold`. A client's close is not passed on while its request is being
/// answered, as a real server would finish a request whose client went away.
async fn answer_holding_proxy(upstream: SocketAddr, hold: Duration) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let requests = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    // Keep the write half open: dropping it would tell the sandbox.
                    std::future::pending::<()>().await;
                    drop(server_write);
                });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match server_read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            tokio::time::sleep(hold).await;
                            if client_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                requests.abort();
            });
        }
    });
    Ok(addr)
}

/// A small xorshift64* generator: no extra crate, and the seed is printed so a failing
/// schedule can be retried with `CRASH_SEED=…`.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            });
        eprintln!("CRASH_SEED={seed}");
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SIGKILLs `child` (if it still runs) and reaps it. Returns `None` when it was killed, or
/// its exit status when it had already finished on its own.
fn kill(child: &mut Child) -> Option<ExitStatus> {
    if let Some(status) = child.try_wait().expect("try_wait") {
        return Some(status);
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    // It may have exited between try_wait and kill.
    status.code().map(|_| status)
}

#[test]
fn sigkill_at_random_moments_never_creates_twice() {
    const KILLS_PER_ROUND: usize = 4;
    const WEBHOOKS: usize = 12;
    // A longer soak (seed, rounds, sandbox latency and the longest wait before a kill):
    // CRASH_ROUNDS=100 CRASH_LATENCY_MS=0 CRASH_MAX_DELAY_MS=120 \
    //     cargo test --test crash_and_lock sigkill -- --nocapture
    let rounds = env_or("CRASH_ROUNDS", 8);
    let latency = Duration::from_millis(env_or("CRASH_LATENCY_MS", 40));
    // A run of 12 creates at 40 ms takes ~150 ms: kills spread over it and a little past it.
    let max_delay = env_or("CRASH_MAX_DELAY_MS", 200);
    let mut rng = Rng::seeded();
    let started = Instant::now();
    let (mut mid_run, mut with_journal, mut finished) = (0, 0, 0);
    // Unknown names, and how many of them the server does hold (the answer was lost after
    // the server created it, rather than the request dying with the client).
    let (mut unknowns, mut unknown_but_created) = (0, 0);
    let mut strays = Vec::new();
    // Fresh worlds, so that most kills land while creates are in flight rather than on runs
    // that have nothing left to do.
    for round in 0..rounds {
        let mut w = World::new(WEBHOOKS, latency);
        // Every other round, answers arrive `latency` after the webhook was created, so that
        // kills land in that window too.
        if round % 2 == 1 {
            w.hold_answers(latency);
        }
        for _ in 0..KILLS_PER_ROUND {
            let mut child = w.spawn_quiet(&[]);
            std::thread::sleep(Duration::from_millis(rng.below(max_delay + 1)));
            match kill(&mut child) {
                None => mid_run += 1,
                Some(status) => {
                    finished += 1;
                    assert!(
                        status.success(),
                        "round {round}: a run that was not killed failed: {status}"
                    );
                }
            }
            if w.journal_path().exists() {
                with_journal += 1;
            }
            let state = w.state_path();
            if state.exists() {
                let bytes = std::fs::read(&state).expect("read state");
                assert!(
                    serde_json::from_slice::<Value>(&bytes).is_ok(),
                    "round {round}: a kill left a state file that is not JSON:\n{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
        // A killed client's request may still be in the sandbox; let it land before the
        // final run, so the server's side is complete when we compare.
        w.settle();
        let o = w.apply_crash_and_lock(&[]);
        assert_eq!(o.status.code(), Some(0), "round {round}: {}", report(&o));
        unknowns += w.assert_consistent();
        let server = w.server_by_name();
        unknown_but_created += w.state_json()["unknown"]
            .as_object()
            .map_or(0, |u| u.keys().filter(|n| server.contains_key(*n)).count());

        // And from now on nothing is sent again.
        let requests = w.sandbox.create_requests();
        let o = w.apply_crash_and_lock(&[]);
        assert_eq!(o.status.code(), Some(0), "{}", report(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Nothing to create"),
            "{}",
            report(&o)
        );
        assert_eq!(w.sandbox.create_requests(), requests);
        // A run holding the lock clears temp files that a killed save left behind.
        let left = w.stray_files();
        assert!(left.is_empty(), "stray files after a locked run: {left:?}");
        strays.extend(left);
    }
    eprintln!(
        "{} kills: {mid_run} landed mid-run ({with_journal} left a journal), {finished} runs had finished; \
         {unknowns} names ended unknown ({unknown_but_created} of them exist on the server); stray files: {strays:?}; {:.1?}",
        rounds * KILLS_PER_ROUND as u64,
        started.elapsed()
    );
    assert!(
        mid_run > 0,
        "no kill landed while a run was going: the test tested nothing"
    );
}

#[test]
fn two_applies_at_once_never_create_twice() {
    // Without waiting: one runs, the other refuses at once.
    let w = World::new(5, Duration::from_millis(200));
    let a = w.spawn_piped(&[]);
    let b = w.spawn_piped(&[]);
    let oa = a.wait_with_output().expect("wait a");
    let ob = b.wait_with_output().expect("wait b");
    let (winner, loser) = match (oa.status.code(), ob.status.code()) {
        (Some(0), Some(1)) => (&oa, &ob),
        (Some(1), Some(0)) => (&ob, &oa),
        _ => panic!(
            "expected one run to succeed and the other to be refused:\n{}\n{}",
            report(&oa),
            report(&ob)
        ),
    };
    // Which pid it names is checked by `a_refused_run_names_the_live_holder`.
    assert!(
        flat(&stderr_text(loser)).contains("is locked by another run"),
        "{}",
        report(loser)
    );
    assert!(
        !String::from_utf8_lossy(&loser.stdout).contains("Creating"),
        "the refused run sent nothing:\n{}",
        report(loser)
    );
    crate::support::snapshot(
        "crash-two-applies-winner",
        &w.filtered(&String::from_utf8_lossy(&winner.stdout)),
    );
    assert_eq!(
        w.sandbox.create_requests(),
        5,
        "only the winner sent creates"
    );
    assert!(w.server_by_name().values().all(|ids| ids.len() == 1));
    assert_eq!(w.server_by_name().len(), 5);
    assert_eq!(w.assert_consistent(), 0);

    // Waiting for the lock: both succeed, and the second finds nothing left to create.
    let w = World::new(5, Duration::from_millis(200));
    // 3000 s on the test clock (a hundredth): 30 s of real time.
    let a = w.spawn_piped(&["--lock-timeout", "3000"]);
    let b = w.spawn_piped(&["--lock-timeout", "3000"]);
    let oa = a.wait_with_output().expect("wait a");
    let ob = b.wait_with_output().expect("wait b");
    assert_eq!(oa.status.code(), Some(0), "{}", report(&oa));
    assert_eq!(ob.status.code(), Some(0), "{}", report(&ob));
    let created = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .contains("Apply: 5 created (0 paused), 0 failed, 0 unknown, 0 not sent.")
    };
    let nothing = |o: &Output| String::from_utf8_lossy(&o.stdout).contains("Nothing to create");
    assert!(
        (created(&oa) && nothing(&ob)) || (created(&ob) && nothing(&oa)),
        "one run creates all five, the one that waited creates nothing:\n{}\n{}",
        report(&oa),
        report(&ob)
    );
    assert_eq!(w.sandbox.create_requests(), 5);
    assert!(w.server_by_name().values().all(|ids| ids.len() == 1));
    assert_eq!(w.server_by_name().len(), 5);
    assert_eq!(w.assert_consistent(), 0);
}

/// The refusal must name the run that holds the lock, so that the user can find it: not an
/// anonymous "run that has not said who it is", and not an earlier run that already ended.
#[test]
fn a_refused_run_names_the_live_holder() {
    const PAIRS: usize = 10;
    let mut wrong = Vec::new();
    // Where miette wraps the holder depends on its pid and host, so compare it unwrapped.
    let holder =
        regex::Regex::new(r"pid \d+ on \S+ since \d{4}-\d{2}- ?\d{2}T[\d:]+Z").expect("regex");
    for pair in 0..PAIRS {
        // Odd pairs follow a finished run, whose identity is still in the lock file.
        let mut earlier = None;
        let w = if pair % 2 == 1 {
            let mut w = World::new(1, Duration::ZERO);
            let mut first = w.spawn_quiet(&[]);
            earlier = Some(first.id());
            assert!(first.wait().expect("wait").success());
            w.write_config(4);
            w.sandbox.set_latency(Duration::from_millis(100));
            w
        } else {
            World::new(4, Duration::from_millis(100))
        };
        let a = w.spawn_piped(&[]);
        let b = w.spawn_piped(&[]);
        let pids = [a.id(), b.id()];
        let outs = [
            a.wait_with_output().expect("wait a"),
            b.wait_with_output().expect("wait b"),
        ];
        let codes = [outs[0].status.code(), outs[1].status.code()];
        let (winner, loser) = match codes {
            [Some(0), Some(1)] => (0, 1),
            [Some(1), Some(0)] => (1, 0),
            _ => panic!(
                "pair {pair}: expected one success and one refusal:\n{}\n{}",
                report(&outs[0]),
                report(&outs[1])
            ),
        };
        let refusal = flat(&stderr_text(&outs[loser]));
        assert_eq!(
            holder.replace(&refusal, "pid [PID] on [HOST] since [TIME]"),
            "lock::held the state `webhooks.state.json` is locked by another run: pid [PID] on \
             [HOST] since [TIME] help: wait for that run to finish, or pass --lock-timeout SECONDS \
             to wait for it; a run that was killed releases its lock at once, so there is no \
             stale lock to remove",
            "{}",
            report(&outs[loser])
        );
        if !refusal.contains(&format!("pid {} ", pids[winner])) {
            wrong.push(format!(
                "pair {pair}: the holder was pid {}, an earlier finished run was pid {earlier:?}; the refused run said: {refusal}",
                pids[winner]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {PAIRS} refusals did not name the live holder:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_killed_holder_leaves_no_stale_lock() {
    // Slow enough that the first create is still in flight when the run is killed.
    let w = World::new(5, Duration::from_millis(700));
    let mut child = w.spawn_quiet(&[]);
    w.wait_for_a_create_in_flight(&mut child);
    assert!(w.lock_path().exists(), "a running apply holds a lock file");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(kill(&mut child), None, "the apply was killed mid-run");
    assert!(w.journal_path().exists(), "the killed run left its journal");

    // Later requests are quick.
    w.sandbox.set_latency(Duration::from_millis(20));
    // No stale lock: a run that will not wait gets it at once, and says what it replayed.
    w.test([
        "apply",
        "--auto-approve",
        "--lock-timeout",
        "0",
        "--parallelism",
        "1",
    ])
    .stdout_snapshot("crash-after-a-killed-holder")
    .stderr_snapshot("crash-after-a-killed-holder-stderr")
    .run();

    w.settle();
    let state = w.state_json();
    let first = &w.names[0];
    assert!(
        state["unknown"].get(first).is_some(),
        "the create whose answer was lost with the killed run is `unknown`:\n{state:#}"
    );
    assert!(
        state["webhooks"].get(first).is_none(),
        "its id was never received:\n{state:#}"
    );
    assert_eq!(w.assert_consistent(), 1);
    assert_eq!(
        w.sandbox.create_requests(),
        5,
        "the unknown one was not sent again, the four others once each"
    );
}

#[cfg(unix)]
#[test]
fn journal_and_lock_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };

    // A first run writes the state; a second, killed mid-way, leaves its journal.
    let mut w = World::new(1, Duration::ZERO);
    let o = w.apply_crash_and_lock(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    w.write_config(3);
    w.sandbox.set_latency(Duration::from_millis(700));
    let mut child = w.spawn_quiet(&[]);
    w.wait_for_a_create_in_flight(&mut child);
    assert_eq!(kill(&mut child), None, "the apply was killed mid-run");

    assert!(w.journal_path().exists(), "the killed run left its journal");
    assert_eq!(mode(&w.journal_path()), 0o600, "journal mode");
    assert_eq!(mode(&w.lock_path()), 0o600, "lock file mode");
    assert_eq!(mode(&w.state_path()), 0o600, "state file mode");

    // The run that replays the journal rewrites the state: still private.
    w.sandbox.set_latency(Duration::ZERO);
    let o = w.apply_crash_and_lock(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    assert!(!w.journal_path().exists());
    assert_eq!(mode(&w.state_path()), 0o600, "state file mode after replay");
    assert_eq!(mode(&w.lock_path()), 0o600, "lock file mode after replay");
}
