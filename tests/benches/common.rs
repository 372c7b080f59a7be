//! Shared by the benches (`mod common;` in each): generated inputs, and a runner that measures
//! one child process's wall time and peak memory exactly (`wait4` on that child alone).
//!
//! Not a target of its own: Cargo only discovers `tests/*.rs` and `tests/*/main.rs`.

// Each bench uses a different part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use saleshandy_webhooks::state::{Recorded, Sent, State};

/// The binary under test (release under `cargo bench`, debug under `cargo test --benches`).
pub const BIN: &str = env!("CARGO_BIN_EXE_saleshandy-webhooks");

const EVENTS: &[&str] = &[
    "email-sent",
    "email-opened",
    "reply-received",
    "email-bounced",
    "task-created",
];

/// True under `cargo bench` (which passes `--bench`); false under `cargo test --benches` and
/// `cargo test --all-targets`, where a bench only runs a quick smoke.
pub fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The cases to run: every argument that is not a flag is a filter (a substring of a case's
/// name), as in `cargo bench --bench apply -- "P=16"`. No filter runs everything.
pub fn selected(case: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| case.contains(f.as_str()))
}

/// The YAML entries of distinct, valid webhooks `{prefix}{i}` for `i` in `range`, with `url(i)`.
pub fn webhooks_yaml(
    prefix: &str,
    range: std::ops::Range<usize>,
    url: &dyn Fn(usize) -> String,
) -> String {
    let mut s = String::with_capacity(range.len() * 170);
    for i in range {
        let events = &EVENTS[..1 + i % EVENTS.len()];
        s.push_str(&format!(
            "  - name: {prefix}{i}\n    url: {}\n    events: [{}]\n    headers:\n      X-Webhook-Source: saleshandy\n",
            url(i),
            events.join(", ")
        ));
    }
    s
}

/// A whole config: `version: 1` and the given webhook entries.
pub fn config_of(entries: &str) -> String {
    format!("version: 1\nwebhooks:\n{entries}")
}

/// A config with `n` distinct, valid webhooks with public URLs (`Webhook 0` …).
pub fn config(n: usize) -> String {
    config_of(&webhooks_yaml("Webhook ", 0..n, &|i| {
        format!("https://hooks{}.example.org/saleshandy/{i}", i % 7)
    }))
}

/// A state recording every webhook of the config `text` as created, with the same content:
/// a plan of that config against it is all unchanged.
pub fn state_recording(text: &str) -> State {
    let loaded = saleshandy_webhooks::config::load(text, &|_| None);
    let config = loaded.config.expect("generated config is valid");
    let mut state = State::new();
    for (i, w) in config.webhooks.iter().enumerate() {
        state.webhooks.insert(
            w.name.clone(),
            Recorded {
                id: format!("{i:024x}"),
                sent: Sent::from_webhook(w, &state.lineage),
                status: "active".into(),
                test_delivery: Some("succeeded".into()),
                created_at: "2026-11-27T10:00:00Z".into(),
            },
        );
    }
    state
}

/// One run of a child process.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// From just before the spawn to the reaping: what a user waits for.
    pub wall: Duration,
    /// The child's peak resident set size, in KiB (`ru_maxrss` of `wait4`).
    pub max_rss_kib: u64,
    /// CPU time the child used (user + system), all its threads: unlike the wall time, it
    /// barely moves when other processes compete for the cores.
    pub cpu: Duration,
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// Spawns `cmd` and reaps it with `wait4`, which reports that child's own resource usage.
/// The `Child` handle is dropped without waiting: it was reaped here.
fn wait4_run(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let child = cmd.spawn().expect("the binary starts");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::Interrupted,
            "wait4 failed: {err}"
        );
    }
    let wall = start.elapsed();
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Run {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        code,
    }
}

/// Set (to a result file) when this bench binary is re-executed as the measuring helper.
const MEASURE: &str = "SHW_BENCH_MEASURE";

/// Call first in every bench's `main`. When this process is the measuring helper started by
/// [`run`], it runs the command given as its arguments, writes the measurement to the result
/// file, and exits; otherwise it returns at once.
pub fn measure_mode() {
    let Some(result) = std::env::var_os(MEASURE) else {
        return;
    };
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]).env_remove(MEASURE);
    let r = wait4_run(&mut cmd);
    std::fs::write(
        result,
        format!(
            "{} {} {} {}",
            r.wall.as_nanos(),
            r.cpu.as_nanos(),
            r.max_rss_kib,
            r.code
        ),
    )
    .expect("write the measurement");
    std::process::exit(0);
}

/// Runs `cmd` (its program, arguments, environment and directory; output to the given files,
/// or discarded) and measures it.
///
/// The command is started by a small helper process (this bench binary re-executed in
/// [`measure_mode`]), not by this process: Rust starts children with `posix_spawn`, i.e. a
/// `vfork` that shares the parent's memory until `exec`, and Linux then records the *parent's*
/// peak RSS as the child's `ru_maxrss`. The bench process holds the generated inputs (hundreds
/// of MiB for 100,000 webhooks), the helper a few MiB; the `floor` row of the `cli` bench shows
/// what the helper leaves (`/bin/true` measured the same way). The wall time is taken by the
/// helper around spawn and reap, so its own start-up is not counted.
pub fn run(cmd: &Command, stdout: Option<&Path>, stderr: Option<&Path>) -> Run {
    let result = tempfile::NamedTempFile::new().expect("result file");
    let mut helper = Command::new(std::env::current_exe().expect("bench binary"));
    helper.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => helper.env(k, v),
            None => helper.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        helper.current_dir(dir);
    }
    let to = |path: Option<&Path>| match path {
        Some(p) => Stdio::from(std::fs::File::create(p).expect("output file")),
        None => Stdio::null(),
    };
    let status = helper
        .env(MEASURE, result.path())
        .stdin(Stdio::null())
        .stdout(to(stdout))
        .stderr(to(stderr))
        .status()
        .expect("the measuring helper starts");
    assert!(status.success(), "the measuring helper failed: {status}");
    let text = std::fs::read_to_string(result.path()).expect("read the measurement");
    let f: Vec<u64> = text
        .split(' ')
        .map(|n| n.parse::<i64>().expect("number") as u64)
        .collect();
    Run {
        wall: Duration::from_nanos(f[0]),
        cpu: Duration::from_nanos(f[1]),
        max_rss_kib: f[2],
        code: f[3] as i32,
    }
}

/// The binary with `args` in `dir`, no colour, no API settings inherited.
pub fn bin(args: &[&str], dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SALESHANDY_API_URL")
        .env_remove("SALESHANDY_API_KEY");
    cmd
}

/// Runs `args` `runs` times (after one unmeasured warm-up run), asserting exit code 0.
pub fn repeat(args: &[&str], dir: &Path, runs: usize) -> Vec<Run> {
    let cmd = bin(args, dir);
    let _ = run(&cmd, None, None);
    (0..runs)
        .map(|_| {
            let r = run(&cmd, None, None);
            assert_eq!(r.code, 0, "{args:?} failed");
            r
        })
        .collect()
}

/// Median and fastest wall time, and the largest peak RSS, of some runs.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub runs: usize,
    pub median: Duration,
    pub min: Duration,
    /// The median CPU time (user + system).
    pub cpu: Duration,
    pub max_rss_kib: u64,
}

pub fn summarize(runs: &[Run]) -> Summary {
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    let mut cpus: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
    cpus.sort();
    Summary {
        runs: runs.len(),
        median: median(&walls),
        min: walls[0],
        cpu: median(&cpus),
        max_rss_kib: runs.iter().map(|r| r.max_rss_kib).max().unwrap_or(0),
    }
}

/// The median of sorted durations (the mean of the middle two for an even count).
pub fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// The `q`-quantile (0..=1) of sorted durations, nearest rank.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Bytes as MiB/KiB for the tables.
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// What one `apply` against a fresh sandbox came to.
pub struct Outcome {
    pub run: Run,
    /// The most creates the sandbox handled at once.
    pub max_in_flight: usize,
    /// Create requests the sandbox received.
    pub requests: usize,
    /// Webhooks the sandbox holds afterwards.
    pub stored: usize,
    /// The binary's `Apply: …` line, without the state's path.
    pub summary: String,
}

/// Runs `apply --auto-approve --parallelism P` of `config` against a fresh sandbox with
/// `latency`, in a fresh temp dir holding `state` (none: no state file yet). The sandbox runs
/// on its own tokio runtime in this process while the binary runs.
pub fn apply_once(
    config: &str,
    state: Option<&str>,
    latency: Duration,
    parallelism: usize,
) -> Outcome {
    apply_in(
        config,
        state,
        "webhooks.state.json",
        &[],
        latency,
        parallelism,
    )
}

/// [`apply_once`] with the state at `location` (`--state`: a file in the temp dir, which
/// holds `state` if given, or a remote URL) and `env` added to the binary's environment.
pub fn apply_in(
    config: &str,
    state: Option<&str>,
    location: &str,
    env: &[(String, String)],
    latency: Duration,
    parallelism: usize,
) -> Outcome {
    use saleshandy_webhooks::emulator::{self, SandboxOptions, SANDBOX_API_KEY};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = rt
        .block_on(emulator::start(SandboxOptions {
            latency,
            ..Default::default()
        }))
        .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("webhooks.yaml"), config).expect("write config");
    if let Some(state) = state {
        std::fs::write(dir.path().join(location), state).expect("write state");
    }
    let out = dir.path().join("out.txt");
    let err = dir.path().join("err.txt");
    let p = parallelism.to_string();
    let url = sandbox.url();
    let mut cmd = bin(
        &[
            "apply",
            "-c",
            "webhooks.yaml",
            "--state",
            location,
            "--api-url",
            &url,
            "--auto-approve",
            "--parallelism",
            &p,
        ],
        dir.path(),
    );
    cmd.env("SALESHANDY_API_KEY", SANDBOX_API_KEY)
        .envs(env.iter().map(|(k, v)| (k, v)));
    let run = run(&cmd, Some(&out), Some(&err));
    let text = std::fs::read_to_string(&out).expect("output");
    let errors = std::fs::read_to_string(&err).expect("errors");
    let summary = text
        .lines()
        .find(|l| l.starts_with("Apply:"))
        .map(|l| l.split(" State:").next().unwrap_or(l).to_string())
        .unwrap_or_else(|| panic!("no summary (exit {}):\n{text}\n{errors}", run.code));
    let outcome = Outcome {
        run,
        max_in_flight: sandbox.max_in_flight_creates(),
        requests: sandbox.create_requests(),
        stored: sandbox.webhooks().len(),
        summary,
    };
    rt.block_on(sandbox.shutdown());
    outcome
}
