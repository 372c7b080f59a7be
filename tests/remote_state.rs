//! Remote state on real S3 servers (SeaweedFS and moto, started by the harness on loopback):
//! runners on different machines share one state object, and no path, crash or pause makes
//! a webhook be created twice.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use object_store::ObjectStore;

use crate::support::object_servers::{s3, ProxyMode, S3Kind, S3Server};
use crate::support::{report, snapshot, stderr_text, stdout_text, World};

const KEY: &str = "saleshandy/prod.state.json";

fn config(n: usize) -> String {
    let mut c = String::from("version: 1\nwebhooks:\n");
    for i in 0..n {
        c.push_str(&format!(
            "  - name: hook {i}\n    url: https://ingest.example.org/h/{i}\n    events: [email-sent]\n    headers:\n      Authorization: \"Bearer ${{HOOK_TOKEN}}\"\n"
        ));
    }
    c
}

/// A world whose sandbox answers after `latency`, and a fresh bucket on `server`.
fn world(server: &S3Server, n: usize, latency: Duration) -> (World, String) {
    let w = World::builder()
        .config(&config(n))
        .latency(latency)
        .env("NO_COLOR", "1")
        .env("HOOK_TOKEN", "hook-secret-value-7731")
        .build();
    (w, server.new_bucket())
}

/// A runner: a directory of its own holding only the config, like a fresh CI machine.
struct Runner {
    dir: tempfile::TempDir,
}

fn runner(w: &World) -> Runner {
    let dir = tempfile::tempdir().expect("runner dir");
    std::fs::copy(w.config_path(), dir.path().join("webhooks.yaml")).expect("config");
    Runner { dir }
}

impl Runner {
    fn command(&self, w: &World, env: &[(String, String)], bucket: &str, args: &[&str]) -> Command {
        // On Azurite the bucket is a container, and its environment says so.
        let scheme = match env.iter().any(|(k, _)| k == "AZURE_STORAGE_USE_EMULATOR") {
            true => "az",
            false => "s3",
        };
        let mut c = w.process();
        c.current_dir(self.dir.path())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .args(["--state", &format!("{scheme}://{bucket}/{KEY}")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, w: &World, env: &[(String, String)], bucket: &str, args: &[&str]) -> Output {
        self.command(w, env, bucket, args).output().expect("runs")
    }

    fn spawn(&self, w: &World, env: &[(String, String)], bucket: &str, args: &[&str]) -> Child {
        self.command(w, env, bucket, args).spawn().expect("starts")
    }

    /// Files the run left in its directory besides the config.
    fn leftovers(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != "webhooks.yaml")
            .collect();
        names.sort();
        names
    }
}

const APPLY: &[&str] = &["apply", "--auto-approve"];

/// What a run printed, with what varies between runs replaced.
fn shown(w: &World, bucket: &str, text: &str) -> String {
    w.filtered(&text.replace(bucket, "[BUCKET]"))
}

/// Every object in the bucket, by key.
fn objects(server: &S3Server, bucket: &str) -> Vec<(String, Vec<u8>)> {
    let store = server.store(bucket);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let metas: Vec<_> = store.list(None).collect().await;
        let mut out = Vec::new();
        for m in metas {
            let m = m.expect("list");
            let bytes = object_store::ObjectStoreExt::get(&store, &m.location)
                .await
                .expect("get")
                .bytes()
                .await
                .expect("bytes");
            out.push((m.location.to_string(), bytes.to_vec()));
        }
        out.sort();
        out
    })
}

/// The state the bucket holds, as `state pull`-free JSON: the object's `state` member.
fn stored_state(server: &S3Server, bucket: &str) -> serde_json::Value {
    let objects = objects(server, bucket);
    let (_, bytes) = objects
        .iter()
        .find(|(k, _)| k == KEY)
        .expect("the state object");
    let v: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
    v["state"].clone()
}

/// Each webhook the sandbox holds exactly once per name, and the names recorded or unknown.
fn assert_never_twice(w: &World, n: usize) {
    let by_name = w.server_by_name();
    for (name, ids) in &by_name {
        assert_eq!(ids.len(), 1, "{name} created {} times", ids.len());
    }
    assert!(by_name.len() <= n);
}

#[test]
fn a_runner_with_no_local_files_sees_what_another_applied_on_each_server() {
    for kind in [S3Kind::SeaweedFs, S3Kind::Moto] {
        let server = s3(kind);
        let env = server.env();
        let (w, bucket) = world(server, 3, Duration::ZERO);
        let first = runner(&w);
        let o = first.run(&w, &env, &bucket, APPLY);
        assert_eq!(o.status.code(), Some(0), "{}", report(&o));
        snapshot(
            "remote-apply-created",
            &w.with_named_ids(&o.stdout, &recorded_ids_in(&stored_state(server, &bucket)))
                .replace(&bucket, "[BUCKET]"),
        );
        // Progress comes in the order answers arrive: one line per create.
        let mut progress: Vec<String> = stderr_text(&o)
            .lines()
            .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest).to_string())
            .collect();
        progress.sort();
        assert_eq!(
            progress,
            ["created: hook 0", "created: hook 1", "created: hook 2"]
        );
        assert_eq!(first.leftovers(), Vec::<String>::new(), "nothing local");

        let second = runner(&w);
        let plan = second.run(&w, &env, &bucket, &["plan"]);
        assert_eq!(plan.status.code(), Some(0), "{}", report(&plan));
        snapshot(
            "remote-plan-all-unchanged",
            &shown(&w, &bucket, &stdout_text(&plan)),
        );
        let again = second.run(&w, &env, &bucket, APPLY);
        assert_eq!(again.status.code(), Some(0), "{}", report(&again));
        assert_eq!(
            w.sandbox.create_requests(),
            3,
            "{}: nothing created again",
            kind.name()
        );

        // No secret in any object: neither the API key nor a header's value.
        for (key, bytes) in objects(server, &bucket) {
            let text = String::from_utf8_lossy(&bytes);
            for secret in ["hook-secret-value-7731", "sandbox-api-key"] {
                assert!(!text.contains(secret), "{secret} in {key}: {text}");
            }
        }
    }
}

#[test]
fn four_runners_at_once_take_turns_and_create_each_webhook_once() {
    let server = s3(S3Kind::SeaweedFs);
    let env = server.env();
    let (w, bucket) = world(server, 6, Duration::from_millis(100));
    let runners: Vec<Runner> = (0..4).map(|_| runner(&w)).collect();
    // 6000 s on the test clock: 60 s of real time to wait for the others.
    let children: Vec<Child> = runners
        .iter()
        .map(|r| {
            r.spawn(
                &w,
                &env,
                &bucket,
                &["apply", "--auto-approve", "--lock-timeout", "6000"],
            )
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    for o in &outputs {
        assert_eq!(o.status.code(), Some(0), "{}", report(o));
    }
    assert_eq!(w.sandbox.create_requests(), 6, "each webhook once");
    assert_never_twice(&w, 6);
    let created: usize = outputs
        .iter()
        .map(|o| stdout_text(o).matches(" created, id ").count())
        .sum();
    assert_eq!(
        created, 6,
        "one runner created them all, the others found them recorded"
    );
    assert_eq!(
        stored_state(server, &bucket)["webhooks"]
            .as_object()
            .expect("webhooks")
            .len(),
        6
    );
}

#[test]
fn a_second_runner_without_a_wait_fails_naming_the_holder() {
    let server = s3(S3Kind::Moto);
    let env = server.env();
    let (w, bucket) = world(server, 3, Duration::from_millis(300));
    let first = runner(&w);
    let mut holder = first.spawn(
        &w,
        &env,
        &bucket,
        &["apply", "--auto-approve", "--parallelism", "1"],
    );
    w.wait_for_a_create_in_flight(&mut holder);
    let second = runner(&w).run(&w, &env, &bucket, APPLY);
    let held = holder.wait_with_output().expect("wait");
    assert_eq!(held.status.code(), Some(0), "{}", report(&held));
    assert_eq!(second.status.code(), Some(1), "{}", report(&second));
    assert_eq!(stdout_text(&second), "");
    // Unwrapped: the holder's pid has no fixed width, so miette's wrapping would vary.
    let err = shown(&w, &bucket, &crate::support::flat(&stderr_text(&second)));
    let err = regex::Regex::new(r"renewed \d+ s ago")
        .expect("regex")
        .replace(&err, "renewed [N] s ago");
    snapshot("remote-lock-held", &err);
    assert_eq!(w.sandbox.create_requests(), 3);
}

/// An apply with a lease of 5 s: a killed runner's lock is taken over 7 s later at the
/// latest, and every run waits that long for it (3000 s on the test clock: 30 s).
const KILLED_APPLY: &[&str] = &[
    "apply",
    "--auto-approve",
    "--lock-lease",
    "5",
    "--lock-timeout",
    "3000",
];

#[test]
fn runners_killed_at_random_moments_never_create_twice() {
    let server = s3(S3Kind::Moto);
    let env = server.env();
    let n = 8;
    let (w, bucket) = world(server, n, Duration::from_millis(40));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..20 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let r = runner(&w);
        let mut child = r.spawn(&w, &env, &bucket, KILLED_APPLY);
        std::thread::sleep(Duration::from_millis(50 + seed % 400));
        let _ = child.kill();
        let _ = child.wait();
        assert_never_twice(&w, n);
        assert!(r.leftovers().is_empty(), "round {round}: nothing local");
    }
    // A last run from yet another machine finishes the job: every webhook exists exactly once
    // or is reported unknown.
    let last = runner(&w).run(&w, &env, &bucket, KILLED_APPLY);
    assert!(
        matches!(last.status.code(), Some(0) | Some(1)),
        "{}",
        report(&last)
    );
    assert_never_twice(&w, n);
    let state = stored_state(server, &bucket);
    let recorded = state["webhooks"].as_object().expect("webhooks");
    let unknown = state["unknown"].as_object().map_or(0, |u| u.len());
    assert_eq!(recorded.len() + unknown, n, "{state}");
    for (name, r) in recorded {
        assert_eq!(
            w.server_ids(name),
            vec![r["id"].as_str().expect("id").to_string()],
            "{name}: the recorded id is the one created"
        );
    }
}

#[test]
fn a_store_that_ignores_conditions_is_refused_before_anything_is_created() {
    let server = s3(S3Kind::SeaweedFs);
    let proxy = server.proxy();
    proxy.set_mode(ProxyMode::StripConditions);
    let (w, bucket) = world(server, 3, Duration::ZERO);
    let o = runner(&w).run(&w, &proxy.env(), &bucket, APPLY);
    assert_eq!(o.status.code(), Some(1), "{}", report(&o));
    assert_eq!(stdout_text(&o), "");
    snapshot(
        "remote-ignores-conditions",
        &shown(&w, &bucket, &stderr_text(&o)),
    );
    assert_eq!(w.sandbox.requests().len(), 0, "nothing sent to the API");
    assert!(
        !objects(server, &bucket).iter().any(|(k, _)| k == KEY),
        "no state written"
    );
}

#[test]
fn a_paused_holder_is_fenced_after_another_runner_took_over() {
    let server = s3(S3Kind::SeaweedFs);
    let env = server.env();
    let (w, bucket) = world(server, 6, Duration::from_millis(200));
    let lease = ["--lock-lease", "5"];
    let first = runner(&w);
    let mut paused = first.spawn(
        &w,
        &env,
        &bucket,
        &[APPLY, &lease[..], &["--parallelism", "1"]].concat(),
    );
    w.wait_for_a_create_in_flight(&mut paused);
    let pid = paused.id() as libc::pid_t;
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let stopped_at = Instant::now();
    // The second runner waits for the lease to run out (5 s + 2 s margin, on the store's
    // clock), takes over, and does the work.
    let second = runner(&w).run(
        &w,
        &env,
        &bucket,
        &[APPLY, &lease[..], &["--lock-timeout", "3000"]].concat(),
    );
    assert_eq!(second.status.code(), Some(0), "{}", report(&second));
    assert!(
        stopped_at.elapsed() >= Duration::from_secs(5),
        "taken over only after the lease"
    );
    let before = w.sandbox.create_requests();
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let fenced = paused.wait_with_output().expect("wait");
    assert_eq!(fenced.status.code(), Some(1), "{}", report(&fenced));
    assert_eq!(
        w.sandbox.create_requests(),
        before,
        "the fenced run sent no further create"
    );
    // It says why it stopped, and how to record the id it got.
    let ids = created_ids(&w);
    snapshot(
        "remote-fenced",
        &w.with_named_ids(&fenced.stdout, &ids)
            .replace(&bucket, "[BUCKET]"),
    );
    assert_never_twice(&w, 6);
}

#[test]
fn a_store_that_goes_down_mid_apply_stops_the_creates_and_lists_the_ids_to_record() {
    let server = s3(S3Kind::Moto);
    let proxy = server.proxy();
    let (w, bucket) = world(server, 6, Duration::from_millis(300));
    let r = runner(&w);
    let mut child = r.spawn(
        &w,
        &proxy.env(),
        &bucket,
        &[APPLY, &["--parallelism", "1"]].concat(),
    );
    w.wait_for_a_create_in_flight(&mut child);
    proxy.set_mode(ProxyMode::Down);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(1), "{}", report(&o));
    // The create in flight when the store went down got its id; it is printed, with the
    // command that records it (also kept in a file), and nothing was sent after it.
    assert_eq!(w.sandbox.create_requests(), 1, "{}", report(&o));
    let ids = created_ids(&w);
    let out = w
        .with_named_ids(&o.stdout, &ids)
        .replace(&bucket, "[BUCKET]");
    // How many retries fit in the client's budget varies.
    let out = regex::Regex::new(r"after \d+ retries")
        .expect("regex")
        .replace(&out, "after [N] retries");
    snapshot("remote-store-down", &out);
    assert_eq!(
        r.leftovers(),
        vec!["prod.state.json.unrecorded.sh".to_string()]
    );
    let kept =
        std::fs::read_to_string(r.dir.path().join("prod.state.json.unrecorded.sh")).expect("kept");
    let kept = w
        .with_named_ids(kept.as_bytes(), &ids)
        .replace(&bucket, "[BUCKET]");
    snapshot("remote-store-down-kept", &kept);
}

/// The first id the sandbox gave each name, by name (sorted), for [`World::with_named_ids`].
fn created_ids(w: &World) -> Vec<(String, String)> {
    w.server_by_name()
        .into_iter()
        .map(|(name, ids)| (name, ids[0].clone()))
        .collect()
}

/// The ids a stored state records, by name, for [`World::with_named_ids`].
fn recorded_ids_in(state: &serde_json::Value) -> Vec<(String, String)> {
    state["webhooks"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(n, r)| Some((n.clone(), r["id"].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_committed_state_moves_to_remote_state_and_the_config_names_it() {
    let server = s3(S3Kind::SeaweedFs);
    let env = server.env();
    let (w, bucket) = world(server, 3, Duration::ZERO);
    w.ok(&["apply", "--auto-approve"]);
    let url = format!("s3://{bucket}/{KEY}");
    let push = w
        .cmd()
        .envs(env.clone())
        .args(["state", "push", &url])
        .output()
        .expect("runs");
    assert_eq!(push.status.code(), Some(0), "{}", report(&push));
    assert_eq!(
        shown(&w, &bucket, &stdout_text(&push)),
        "Pushed the state of webhooks.state.json (3 webhooks, 0 unknown) to s3://[BUCKET]/saleshandy/prod.state.json. Point the config at it with `state: s3://[BUCKET]/saleshandy/prod.state.json`; the copy at webhooks.state.json is no longer used by runs that do.\n"
    );
    // Pushing again would replace what is there: refused.
    let again = w
        .cmd()
        .envs(env.clone())
        .args(["state", "push", &url])
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(1), "{}", report(&again));
    snapshot(
        "remote-push-exists",
        &shown(&w, &bucket, &crate::support::flat(&stderr_text(&again))),
    );

    // A runner whose config names the state needs no flag, and no local file.
    let r = runner(&w);
    let named = format!("state: {url}\n{}", config(3));
    std::fs::write(r.dir.path().join("webhooks.yaml"), named).expect("config");
    let mut pull = w.process();
    pull.current_dir(r.dir.path())
        .envs(env.clone())
        .args(["state", "pull"]);
    let pull = pull.output().expect("runs");
    assert_eq!(pull.status.code(), Some(0), "{}", report(&pull));
    let mut local: serde_json::Value = w.state_json();
    local["serial"] = serde_json::json!(local["serial"].as_u64().expect("serial") + 1);
    let pulled: serde_json::Value = serde_json::from_slice(&pull.stdout).expect("JSON");
    assert_eq!(pulled, local, "the same state, one save later");
    let mut plan = w.process();
    plan.current_dir(r.dir.path()).envs(env).args(["plan"]);
    let plan = plan.output().expect("runs");
    assert_eq!(plan.status.code(), Some(0), "{}", report(&plan));
    snapshot(
        "remote-plan-all-unchanged",
        &shown(&w, &bucket, &stdout_text(&plan)),
    );
    assert_eq!(r.leftovers(), Vec::<String>::new());
}

#[test]
fn writes_whose_answers_are_lost_are_recognised_by_reading_back() {
    let server = s3(S3Kind::Moto);
    let proxy = server.proxy();
    proxy.set_mode(ProxyMode::LoseConditionalAnswers);
    let (w, bucket) = world(server, 3, Duration::ZERO);
    let o = runner(&w).run(&w, &proxy.env(), &bucket, APPLY);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    assert_eq!(w.sandbox.create_requests(), 3);
    assert_never_twice(&w, 3);
    let lost = proxy.requests().iter().filter(|r| r.status == 503).count();
    assert!(
        lost >= 4,
        "the lock, the journal and the save all lost answers: {lost}"
    );
    let state = stored_state(server, &bucket);
    assert_eq!(
        recorded_ids_in(&state).len(),
        3,
        "every id recorded: {state}"
    );
}

#[test]
fn plan_only_reads_and_shows_the_creates_of_a_running_apply_in_progress() {
    let server = s3(S3Kind::SeaweedFs);
    let proxy = server.proxy();
    let env = server.env();
    let (w, bucket) = world(server, 3, Duration::from_millis(1500));
    let applying = runner(&w);
    let mut running = applying.spawn(
        &w,
        &env,
        &bucket,
        &[APPLY, &["--parallelism", "1"]].concat(),
    );
    w.wait_for_a_create_in_flight(&mut running);
    let plan = runner(&w).run(&w, &proxy.env(), &bucket, &["plan"]);
    let done = running.wait_with_output().expect("wait");
    assert_eq!(done.status.code(), Some(0), "{}", report(&done));
    assert_eq!(plan.status.code(), Some(0), "{}", report(&plan));
    let methods: Vec<String> = proxy.requests().iter().map(|r| r.method.clone()).collect();
    assert!(
        methods.iter().all(|m| m == "GET" || m == "HEAD"),
        "plan only reads: {methods:?}"
    );
    let text = shown(
        &w,
        &bucket,
        &crate::support::flat(&crate::support::output_text(&plan)),
    );
    let text = regex::Regex::new(r"at \[TIME\]|since \[TIME\]")
        .expect("regex")
        .replace_all(&text, "[T]");
    snapshot("remote-plan-in-progress", &text);
}

#[test]
fn a_run_longer_than_its_lease_renews_it_and_finishes() {
    let server = s3(S3Kind::SeaweedFs);
    let env = server.env();
    let (w, bucket) = world(server, 5, Duration::from_millis(1800));
    // 5 creates one at a time at 1.8 s each: 9 s, almost twice the 5 s lease.
    let o = runner(&w).run(
        &w,
        &env,
        &bucket,
        &[APPLY, &["--parallelism", "1", "--lock-lease", "5"]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    assert_eq!(w.sandbox.create_requests(), 5);
    assert_eq!(recorded_ids_in(&stored_state(server, &bucket)).len(), 5);
}

#[test]
fn a_saved_plan_applies_to_the_remote_state_it_was_made_against_once() {
    let server = s3(S3Kind::Moto);
    let env = server.env();
    let (w, bucket) = world(server, 3, Duration::ZERO);
    let r = runner(&w);
    let plan = r.run(&w, &env, &bucket, &["plan", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", report(&plan));
    // No --state: the plan knows where its state is.
    let mut apply = w.process();
    apply
        .current_dir(r.dir.path())
        .envs(env.clone())
        .args(["apply", "plan.json"]);
    let applied = apply.output().expect("runs");
    assert_eq!(applied.status.code(), Some(0), "{}", report(&applied));
    assert_eq!(w.sandbox.create_requests(), 3);
    let mut again = w.process();
    again
        .current_dir(r.dir.path())
        .envs(env)
        .args(["apply", "plan.json"]);
    let again = again.output().expect("runs");
    assert_eq!(again.status.code(), Some(1), "{}", report(&again));
    snapshot(
        "remote-saved-plan-applied-twice",
        &shown(&w, &bucket, &crate::support::flat(&stderr_text(&again))),
    );
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn azure_blob_storage_on_azurite_shares_a_state_between_runners() {
    let server = s3(S3Kind::Azurite);
    let env = server.env();
    let (w, container) = world(server, 3, Duration::ZERO);
    let o = runner(&w).run(&w, &env, &container, APPLY);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    assert_eq!(w.sandbox.create_requests(), 3);
    let plan = runner(&w).run(&w, &env, &container, &["plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", report(&plan));
    snapshot(
        "remote-azure-plan-all-unchanged",
        &shown(&w, &container, &stdout_text(&plan)),
    );
    // The state pulled from a third runner records the ids the sandbox gave.
    let pull = runner(&w).run(&w, &env, &container, &["state", "pull"]);
    assert_eq!(pull.status.code(), Some(0), "{}", report(&pull));
    let pulled: serde_json::Value = serde_json::from_slice(&pull.stdout).expect("JSON");
    let mut recorded = recorded_ids_in(&pulled);
    recorded.sort();
    let created = created_ids(&w);
    assert_eq!(recorded, created);
    let text = String::from_utf8_lossy(&pull.stdout);
    assert!(
        !text.contains("hook-secret-value-7731"),
        "no secret in the state"
    );
}

/// A container-credentials endpoint (as EKS Pod Identity serves one) on 127.0.0.1:
/// answers every request with the same temporary keys, and counts the requests.
struct CredentialsEndpoint {
    port: u16,
    served: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

const CONTAINER_SECRET: &str = "container-secret-6f1c";
const CONTAINER_TOKEN: &str = "container-token-9d2e";

fn credentials_endpoint() -> CredentialsEndpoint {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = listener.local_addr().expect("address").port();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = format!(
                "{{\"AccessKeyId\":\"ASIACONTAINERKEY\",\"SecretAccessKey\":\"{CONTAINER_SECRET}\",\"Token\":\"{CONTAINER_TOKEN}\",\"Expiration\":\"2100-01-01T00:00:00Z\"}}"
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    CredentialsEndpoint { port, served }
}

#[test]
fn container_credentials_are_fetched_and_never_shown_or_stored() {
    let server = s3(S3Kind::Moto);
    let creds = credentials_endpoint();
    let token = tempfile::NamedTempFile::new().expect("token file");
    std::fs::write(token.path(), "pod-identity-token").expect("token");
    let env: Vec<(String, String)> = server
        .env()
        .into_iter()
        .filter(|(k, _)| k != "AWS_ACCESS_KEY_ID" && k != "AWS_SECRET_ACCESS_KEY")
        .chain([
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI".to_string(),
                format!("http://127.0.0.1:{}/v2/credentials", creds.port),
            ),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE".to_string(),
                token.path().display().to_string(),
            ),
        ])
        .collect();
    let (w, bucket) = world(server, 3, Duration::ZERO);
    let o = runner(&w).run(&w, &env, &bucket, APPLY);
    assert_eq!(o.status.code(), Some(0), "{}", report(&o));
    assert_eq!(w.sandbox.create_requests(), 3);
    assert!(
        creds.served.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "the keys came from the endpoint"
    );
    let printed = crate::support::output_text(&o);
    for (key, bytes) in objects(server, &bucket) {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [CONTAINER_SECRET, CONTAINER_TOKEN] {
            assert!(!text.contains(secret), "{secret} in {key}");
            assert!(!printed.contains(secret), "{secret} printed");
        }
    }
}
