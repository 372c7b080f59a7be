//! The harness the integration tests share: the embedded sandbox served by its own runtime, a
//! temp dir holding a config, the binary run there with a hermetic environment, and helpers
//! for what it prints and the state it writes.
//!
//! Every file under `tests/` is a module of the one test binary (`tests/main.rs`). A test
//! states what a user sees through [`Test`]: the command, its inputs, and the exact exit
//! code, standard output and standard error (or snapshots of them).

pub mod browser;
pub mod filters;
pub mod object_servers;
pub mod scripted;
pub mod test;
pub mod tools;

pub use test::{snapshot, Test};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use saleshandy_webhooks::clock::TIME_SCALE_ENV;
use saleshandy_webhooks::emulator::{
    self, RecordedRequest, Sandbox, SandboxOptions, SANDBOX_API_KEY,
};
use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_saleshandy-webhooks");

/// The config's file name in a world's temp dir (the tool's default).
pub const CONFIG_FILE: &str = "webhooks.yaml";

/// The state's file name next to it (the tool's default).
pub const STATE_FILE: &str = "webhooks.state.json";

/// Three webhooks; `Email Sent` has a secret header from `HOOK_TOKEN`.
pub const THREE_HOOKS: &str = "version: 1
webhooks:
  - name: Email Sent
    url: https://ingest.example.org/sent
    events: [email-sent, email-opened]
    headers:
      X-Webhook-Source: saleshandy
      Authorization: \"Bearer ${HOOK_TOKEN}\"
  - name: Replies
    url: https://crm.example.org/replies
    events: [reply-received]
  - name: Bounces
    url: https://alerts.example.org/bounces
    events: [email-bounced]
";

/// `n` webhooks, `Hook 1` to `Hook n`, each with its own public URL.
pub fn hooks(n: usize) -> String {
    let mut text = String::from("version: 1\nwebhooks:\n");
    for i in 1..=n {
        text.push_str(&format!(
            "  - name: Hook {i}\n    url: https://hooks.example.org/{i}\n    events: [email-sent]\n"
        ));
    }
    text
}

// --- the binary ------------------------------------------------------------------------------

/// The binary, with nothing inherited that changes what it does: no `NO_COLOR` and no
/// `SALESHANDY_*` variable from the environment the tests run in.
pub fn bin_process() -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    c.env_remove("NO_COLOR")
        .env_remove("SALESHANDY_API_KEY")
        .env_remove("SALESHANDY_API_URL");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SALESHANDY_") {
            c.env_remove(name);
        }
    }
    // The tool's own waits (retry backoff, Retry-After, lock waits) at a hundredth of real
    // time; a test that measures one of them sets its own factor.
    c.env(TIME_SCALE_ENV, TIME_SCALE);
    c
}

/// The factor [`bin_process`] gives every command's waits.
pub const TIME_SCALE: &str = "0.01";

/// [`bin_process`] as an `assert_cmd` command.
pub fn bin() -> Command {
    Command::from_std(bin_process())
}

/// A strict [`Test`] of the binary with `args`, run from the repository's root with no sandbox.
pub fn test<I, S>(args: I) -> Test
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = bin_process();
    c.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    Test::from_command(c, None)
}

// --- a sandbox and a temp dir ----------------------------------------------------------------

/// A sandbox served by its own 2-worker runtime while the test thread runs the binary, and a
/// temp dir holding the config and the state.
pub struct World {
    /// The runtime serving the sandbox (also for a test's own servers).
    pub rt: tokio::runtime::Runtime,
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    /// Sent as `SALESHANDY_API_KEY` by [`World::cmd`]; none: the variable is unset.
    key: Option<String>,
    /// Set (`Some`) or removed (`None`) in every command's environment, in this order.
    env: Vec<(String, Option<String>)>,
}

/// How a [`World`] is made; see [`World::builder`].
#[must_use]
pub struct WorldBuilder {
    config: Option<String>,
    options: SandboxOptions,
    key: Option<String>,
    env: Vec<(String, Option<String>)>,
}

impl WorldBuilder {
    /// The text of `webhooks.yaml` (by default none is written).
    pub fn config(mut self, text: &str) -> Self {
        self.config = Some(text.to_string());
        self
    }

    /// How long the sandbox waits before handling each request.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.options.latency = latency;
        self
    }

    /// The keys the sandbox accepts, each its own account (by default [`SANDBOX_API_KEY`]).
    pub fn api_keys(mut self, keys: &[&str]) -> Self {
        self.options.api_keys = keys.iter().map(|k| k.to_string()).collect();
        self
    }

    /// The `SALESHANDY_API_KEY` of every command (by default [`SANDBOX_API_KEY`]).
    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_string());
        self
    }

    /// No `SALESHANDY_API_KEY` at all.
    pub fn no_key(mut self) -> Self {
        self.key = None;
        self
    }

    /// A variable set for every command.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), Some(value.to_string())));
        self
    }

    /// A variable removed from every command's environment.
    pub fn env_remove(mut self, name: &str) -> Self {
        self.env.push((name.to_string(), None));
        self
    }

    pub fn build(self) -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = rt
            .block_on(emulator::start(self.options))
            .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(config) = &self.config {
            std::fs::write(dir.path().join(CONFIG_FILE), config).expect("config");
        }
        World {
            rt,
            sandbox,
            dir,
            key: self.key,
            env: self.env,
        }
    }
}

impl World {
    /// A world with `config`, the default sandbox and its key.
    pub fn new(config: &str) -> World {
        World::builder().config(config).build()
    }

    /// A world with `config` whose commands get `HOOK_TOKEN=token` (the secret header of
    /// [`THREE_HOOKS`]) and `NO_COLOR=1`.
    pub fn with_hook_token(config: &str, token: &str) -> World {
        World::builder()
            .config(config)
            .env("HOOK_TOKEN", token)
            .env("NO_COLOR", "1")
            .build()
    }

    pub fn builder() -> WorldBuilder {
        WorldBuilder {
            config: None,
            options: SandboxOptions::default(),
            key: Some(SANDBOX_API_KEY.to_string()),
            env: Vec::new(),
        }
    }

    /// `file` in the temp dir.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path(CONFIG_FILE)
    }

    pub fn state_path(&self) -> PathBuf {
        self.path(STATE_FILE)
    }

    /// Rewrites `webhooks.yaml`.
    pub fn set_config(&self, config: &str) {
        std::fs::write(self.config_path(), config).expect("config");
    }

    /// `-c CONFIG --state STATE`, both absolute.
    pub fn files_args(&self) -> Vec<String> {
        vec![
            "-c".into(),
            self.config_path().display().to_string(),
            "--state".into(),
            self.state_path().display().to_string(),
        ]
    }

    /// The binary in the temp dir, pointed at the sandbox (`SALESHANDY_API_URL`) with this
    /// world's key and variables; see [`bin_process`] for what is not inherited.
    pub fn process(&self) -> std::process::Command {
        let mut c = bin_process();
        c.current_dir(self.dir.path())
            .env("SALESHANDY_API_URL", self.sandbox.url());
        if let Some(key) = &self.key {
            c.env("SALESHANDY_API_KEY", key);
        }
        for (name, value) in &self.env {
            match value {
                Some(value) => c.env(name, value),
                None => c.env_remove(name),
            };
        }
        c
    }

    /// [`World::process`] as an `assert_cmd` command.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.process())
    }

    /// Runs the binary with `args` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("runs")
    }

    /// A strict [`Test`] of the binary with `args` in this world (see [`World::process`]);
    /// the temp dir prints as `[DIR]`.
    pub fn test<I, S>(&self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut c = self.process();
        c.args(args);
        Test::from_command(c, Some(self.dir.path().to_path_buf()))
    }

    /// `text` with what varies replaced, as a [`Test`] of this world shows it.
    pub fn filtered(&self, text: &str) -> String {
        filters::apply(text, Some(self.dir.path()))
    }

    /// `text` as [`World::filtered`] shows it, except that each `(name, id)` of `ids` shows
    /// as `[ID of NAME]`: a message naming several ids must name each in its place.
    pub fn with_named_ids(&self, text: &[u8], ids: &[(String, String)]) -> String {
        let mut text = String::from_utf8_lossy(text).into_owned();
        for (name, id) in ids {
            text = text.replace(id.as_str(), &format!("[ID of {name}]"));
        }
        self.filtered(&text)
    }

    /// The `(name, id)` of every webhook the state records (none without a state).
    pub fn recorded_ids(&self) -> Vec<(String, String)> {
        if !self.state_path().exists() {
            return Vec::new();
        }
        let state = self.state_json();
        let Some(recorded) = state["webhooks"].as_object() else {
            return Vec::new();
        };
        recorded
            .iter()
            .filter_map(|(name, r)| Some((name.clone(), r["id"].as_str()?.to_string())))
            .collect()
    }

    /// Holds the state's lock as another run would, naming a fixed holder, so that the
    /// lock-held error reads the same on every machine; released when dropped.
    pub fn hold_lock(&self) -> std::fs::File {
        use std::io::Write;
        let mut lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.path(&format!("{STATE_FILE}.lock")))
            .expect("lock file");
        lock.try_lock().expect("the test holds the lock");
        lock.write_all(b"pid 4242 on build-host since 2026-12-01T09:00:00Z")
            .expect("holder written");
        lock
    }

    /// Waits until a create of the running apply `child` reached the sandbox (so that it
    /// holds the state's lock); fails if the apply ends first or nothing arrives in 20 s.
    pub fn wait_for_a_create_in_flight(&self, child: &mut std::process::Child) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.sandbox.in_flight_creates() == 0 {
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("the apply ended ({status}) before any create reached the sandbox");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no create reached the sandbox within 20 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `apply --auto-approve` in this world, on its default config and state.
    pub fn apply(&self) -> Test {
        self.test(["apply", "--auto-approve"])
    }

    /// `plan` in this world.
    pub fn plan(&self) -> Test {
        self.test(["plan"])
    }

    /// `status` in this world.
    pub fn status(&self) -> Test {
        self.test(["status"])
    }

    /// `state SUBCOMMAND ARGS…` in this world.
    pub fn state<I, S>(&self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.test(["state"]).args(args)
    }

    /// Runs `args` as a step that must succeed; what it prints is some other test's business.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "setup step {args:?} failed\n{}",
            report(&o)
        );
        o
    }

    pub fn state_bytes(&self) -> Vec<u8> {
        std::fs::read(self.state_path()).expect("state written")
    }

    /// The state file, parsed.
    pub fn state_json(&self) -> Value {
        let bytes = self.state_bytes();
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "the state is not JSON ({e}):\n{}",
                String::from_utf8_lossy(&bytes)
            )
        })
    }

    /// The ids the server holds for `name`.
    pub fn server_ids(&self, name: &str) -> Vec<String> {
        self.sandbox
            .webhooks()
            .into_iter()
            .filter(|h| h.name == name)
            .map(|h| h.id)
            .collect()
    }

    /// Every id the server holds, by webhook name.
    pub fn server_by_name(&self) -> BTreeMap<String, Vec<String>> {
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for hook in self.sandbox.webhooks() {
            by_name.entry(hook.name).or_default().push(hook.id);
        }
        by_name
    }

    /// The create requests that reached the server, in arrival order.
    pub fn creates(&self) -> Vec<RecordedRequest> {
        self.sandbox
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/webhook/create")
            .collect()
    }
}

// --- output ----------------------------------------------------------------------------------

/// Standard output then standard error.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Standard output.
pub fn stdout_text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error.
pub fn stderr_text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code, standard output and standard error, labelled: for failure messages.
pub fn report(o: &Output) -> String {
    format!(
        "--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Text with line wrapping (and miette's gutters) undone, words separated by one space, so
/// that a sentence can be searched for however it was wrapped.
pub fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !w.chars().all(|c| "│╰─▶×├┬┴╭╮╯".contains(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`flat`] of [`output_text`].
pub fn flat_output(o: &Output) -> String {
    flat(&output_text(o))
}

// --- files -----------------------------------------------------------------------------------

/// The files in `dir` with their contents, sorted: equal before and after a run that wrote
/// nothing.
pub fn dir_snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Every `properties` and `$defs` entry under `v`, with its JSON pointer. `if` subschemas are
/// conditions, not documentation, so they are not searched.
pub fn described_entries<'v>(v: &'v Value, pointer: &str, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{pointer}/{key}");
                if key == "if" {
                    continue;
                }
                if key == "properties" || key == "$defs" {
                    if let Value::Object(entries) = child {
                        for (name, entry) in entries {
                            out.push((format!("{here}/{name}"), entry));
                        }
                    }
                }
                described_entries(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                described_entries(item, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A `Sent` from plain parts, for building states in tests.
pub fn sent(
    url: saleshandy_webhooks::state::Stored,
    events: &[&str],
    headers: Vec<(&str, saleshandy_webhooks::state::Stored)>,
) -> saleshandy_webhooks::state::Sent {
    saleshandy_webhooks::state::Sent {
        url,
        events: events.iter().map(|e| e.to_string()).collect(),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// Asserts that `schema` (named `file`) has at least `at_least` `properties`/`$defs` entries
/// and that every one has a non-empty `description`.
pub fn assert_every_entry_described(schema: &Value, file: &str, at_least: usize) {
    let mut entries = Vec::new();
    described_entries(schema, "", &mut entries);
    assert!(
        entries.len() >= at_least,
        "{file}: found only {} properties: {entries:?}",
        entries.len()
    );
    let undescribed: Vec<&String> = entries
        .iter()
        .filter(|(_, entry)| {
            entry["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
        })
        .map(|(pointer, _)| pointer)
        .collect();
    assert!(
        undescribed.is_empty(),
        "{file}: these properties have no description: {undescribed:?}"
    );
}
