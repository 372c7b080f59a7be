//! A local state that no path can bypass, end to end: the binary against the embedded sandbox
//! on 127.0.0.1, with the state reached through a symbolic link or a hard link, a lock file
//! that is a link, a state, journal or lock that is not a regular file, and a state whose JSON
//! names one key twice.
//!
//! What a user relies on: every path to one state file shares one lock and one journal, so two
//! runs never both create; the ids land in the real file; the tool never writes through a lock
//! file to somewhere else; and a file it cannot use is refused at once with what to do, never
//! a hang and never a silently dropped entry.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{flat, report, snapshot, World, STATE_FILE};

/// `n` webhooks named `Hook 01` … in config order, with public URLs.
fn config(n: usize) -> String {
    let mut yaml = String::from("version: 1\nwebhooks:\n");
    for i in 1..=n {
        yaml.push_str(&format!(
            "  - name: Hook {i:02}\n    url: https://h{i}.example.org/x\n    events: [email-sent]\n"
        ));
    }
    yaml
}

fn world(n: usize, latency: Duration) -> World {
    World::builder()
        .config(&config(n))
        .latency(latency)
        .env("NO_COLOR", "1")
        .build()
}

/// `apply --auto-approve --state STATE` with `extra`, its output piped.
fn spawn_apply(w: &World, state: &str, extra: &[&str]) -> Child {
    w.process()
        .args(["apply", "--auto-approve", "--state", state])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Runs `cmd` to completion, or kills it and fails after 10 s. The only timing this file
/// asserts: a generous watchdog, so that a hang fails the test instead of hanging CI.
fn run_with_watchdog(mut cmd: Command, what: &str) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(output) => output.expect("the binary runs"),
        Err(_) => {
            let pid = libc::pid_t::try_from(pid).expect("pid fits");
            // SAFETY: sends a signal to our own child, which has not been reaped (its waiter
            // is still blocked).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{what} still ran after 10 s: it hangs, and was killed");
        }
    }
}

/// Asserts exit code 1, nothing on standard output, and standard error as snapshot `name`.
#[track_caller]
fn assert_refused(w: &World, o: &Output, name: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", report(o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "", "{}", report(o));
    snapshot(name, &w.filtered(&String::from_utf8_lossy(&o.stderr)));
}

/// The state file's recorded ids by name, and every id the server holds by name.
fn assert_each_created_once_and_recorded(w: &World, n: usize) {
    let server = w.server_by_name();
    assert_eq!(server.len(), n, "the server holds {server:?}");
    for (name, ids) in &server {
        assert_eq!(ids.len(), 1, "`{name}` was created {} times", ids.len());
    }
    let recorded: Vec<(String, String)> = w.recorded_ids();
    let expected: Vec<(String, String)> = server
        .into_iter()
        .map(|(name, mut ids)| (name, ids.remove(0)))
        .collect();
    assert_eq!(
        recorded, expected,
        "the real state file records every id the server holds"
    );
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("no NUL in the path");
    // SAFETY: a valid NUL-terminated path.
    let r = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(r, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

#[test]
fn two_applies_through_a_symlink_share_one_lock_and_one_file() {
    let w = world(1, Duration::ZERO);
    w.ok(&["apply", "--auto-approve"]);
    std::os::unix::fs::symlink(STATE_FILE, w.path("link.state.json")).expect("symlink");
    w.set_config(&config(5));
    w.sandbox.set_latency(Duration::from_millis(300));

    // One run through the real path holds the lock (one create at a time, so that its
    // progress reads the same every time); one through the link waits for it.
    let mut real = spawn_apply(&w, STATE_FILE, &["--parallelism", "1"]);
    w.wait_for_a_create_in_flight(&mut real);
    // 3000 s on the test clock (a hundredth): 30 s of real time.
    let link = spawn_apply(&w, "link.state.json", &["--lock-timeout", "3000"]);
    let real = real.wait_with_output().expect("wait");
    let link = link.wait_with_output().expect("wait");

    assert_eq!(w.sandbox.create_requests(), 5, "1 + 4 creates, each once");
    assert_each_created_once_and_recorded(&w, 5);
    let meta = std::fs::symlink_metadata(w.path("link.state.json")).expect("link");
    assert!(meta.file_type().is_symlink(), "the link is still a link");
    assert!(
        !w.path("link.state.json.lock").exists() && !w.path("link.state.json.journal").exists(),
        "no lock or journal of its own beside the link"
    );
    assert_eq!(real.status.code(), Some(0), "{}", report(&real));
    assert_eq!(link.status.code(), Some(0), "{}", report(&link));
    snapshot(
        "local-state-symlink-first",
        &w.filtered(&String::from_utf8_lossy(&real.stdout)),
    );
    assert_eq!(
        String::from_utf8_lossy(&real.stderr),
        "[1/4] created: Hook 02\n[2/4] created: Hook 03\n[3/4] created: Hook 04\n[4/4] created: Hook 05\n"
    );
    snapshot(
        "local-state-symlink-second",
        &w.filtered(&String::from_utf8_lossy(&link.stdout)),
    );
    assert_eq!(String::from_utf8_lossy(&link.stderr), "");
}

#[test]
fn an_apply_through_a_symlink_writes_the_real_file() {
    let w = world(2, Duration::ZERO);
    std::fs::create_dir(w.path("states")).expect("dir");
    // A link to a state that does not exist yet: the first run creates the target.
    std::os::unix::fs::symlink("states/real.state.json", w.path("link.state.json"))
        .expect("symlink");
    let o = w
        .test(["apply", "--auto-approve", "--state", "link.state.json"])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    let meta = std::fs::symlink_metadata(w.path("link.state.json")).expect("link");
    assert!(meta.file_type().is_symlink(), "the link is still a link");
    let real: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.path("states/real.state.json")).expect("the real file was written"),
    )
    .expect("json");
    let server = w.server_by_name();
    for (name, ids) in &server {
        assert_eq!(real["webhooks"][name]["id"].as_str(), Some(ids[0].as_str()));
    }
    assert_eq!(server.len(), 2);
    assert!(!w.path("link.state.json.lock").exists());
    assert!(w.path("states/real.state.json.lock").exists());
    snapshot(
        "local-state-through-link",
        &w.filtered(&String::from_utf8_lossy(&o.stdout)),
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "[1/2] created: Hook 01\n[2/2] created: Hook 02\n"
    );
}

#[test]
fn a_state_with_two_hard_links_is_refused_and_nothing_is_sent() {
    let w = world(1, Duration::ZERO);
    w.ok(&["apply", "--auto-approve"]);
    std::fs::hard_link(w.state_path(), w.path("other.state.json")).expect("hard link");
    w.set_config(&config(5));
    w.sandbox.set_latency(Duration::from_millis(300));
    let before = w.state_bytes();

    let a = spawn_apply(&w, STATE_FILE, &[]);
    let b = spawn_apply(&w, "other.state.json", &[]);
    let a = a.wait_with_output().expect("wait");
    let b = b.wait_with_output().expect("wait");
    assert_eq!(
        w.sandbox.create_requests(),
        1,
        "only the first, earlier run"
    );
    assert_eq!(w.state_bytes(), before, "the state is unchanged");
    assert_refused(&w, &a, "local-state-hard-link");
    assert_eq!(b.status.code(), Some(1), "{}", report(&b));
    // Compared unwrapped: the other name is longer, so miette wraps it elsewhere.
    assert_eq!(
        flat(&String::from_utf8_lossy(&b.stderr)),
        flat(&String::from_utf8_lossy(&a.stderr)).replace(STATE_FILE, "other.state.json"),
        "the same refusal through the other link"
    );
}

#[test]
fn a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched() {
    let w = world(1, Duration::ZERO);
    std::fs::write(w.path("precious.txt"), "do not truncate me\n").expect("target");
    std::os::unix::fs::symlink("precious.txt", w.path(&format!("{STATE_FILE}.lock")))
        .expect("symlink");
    let o = run_with_watchdog(
        {
            let mut c = w.process();
            c.args(["apply", "--auto-approve"]);
            c
        },
        "apply with a symlinked lock",
    );
    assert_eq!(
        std::fs::read_to_string(w.path("precious.txt")).expect("target"),
        "do not truncate me\n"
    );
    assert_eq!(w.sandbox.create_requests(), 0);
    assert!(!w.state_path().exists());
    assert_refused(&w, &o, "local-state-lock-symlink");
}

#[test]
fn a_lock_file_with_a_second_hard_link_is_refused_and_its_other_name_untouched() {
    let w = world(1, Duration::ZERO);
    std::fs::write(w.path("precious.txt"), "do not truncate me\n").expect("target");
    std::fs::hard_link(
        w.path("precious.txt"),
        w.path(&format!("{STATE_FILE}.lock")),
    )
    .expect("hard link");
    let o = run_with_watchdog(
        {
            let mut c = w.process();
            c.args(["apply", "--auto-approve"]);
            c
        },
        "apply with a hard-linked lock",
    );
    assert_eq!(
        std::fs::read_to_string(w.path("precious.txt")).expect("target"),
        "do not truncate me\n"
    );
    assert_eq!(w.sandbox.create_requests(), 0);
    assert!(!w.state_path().exists());
    assert_refused(&w, &o, "local-state-lock-hard-link");
}

#[test]
fn a_fifo_state_fails_at_once_in_every_command() {
    let w = world(1, Duration::ZERO);
    mkfifo(&w.state_path());
    for (args, name) in [
        (&["plan"][..], "plan"),
        (&["apply", "--auto-approve"][..], "apply"),
        (&["state", "list"][..], "state-list"),
    ] {
        let mut c = w.process();
        c.args(args);
        let o = run_with_watchdog(c, &format!("{args:?} on a FIFO state"));
        assert_refused(&w, &o, &format!("local-state-fifo-{name}"));
    }
    assert_eq!(w.sandbox.create_requests(), 0);
}

#[test]
fn a_fifo_journal_or_lock_fails_at_once() {
    let w = world(1, Duration::ZERO);
    mkfifo(&w.path(&format!("{STATE_FILE}.journal")));
    let mut c = w.process();
    c.arg("plan");
    let o = run_with_watchdog(c, "plan with a FIFO journal");
    assert_refused(&w, &o, "local-state-fifo-journal");

    let w = world(1, Duration::ZERO);
    mkfifo(&w.path(&format!("{STATE_FILE}.lock")));
    let mut c = w.process();
    c.args(["apply", "--auto-approve"]);
    let o = run_with_watchdog(c, "apply with a FIFO lock");
    assert_refused(&w, &o, "local-state-fifo-lock");
    assert_eq!(w.sandbox.create_requests(), 0);
}

#[test]
fn a_state_naming_a_webhook_twice_is_refused_with_line_and_column() {
    let w = world(1, Duration::ZERO);
    w.ok(&["apply", "--auto-approve"]);
    let state = w.state_json();
    let lineage = state["lineage"].as_str().expect("lineage");
    let entry = |id: &str| {
        format!(
            "{{\n      \"created_at\": \"2026-11-27T10:00:00Z\",\n      \"id\": \"{id}\",\n      \"sent\": {{\n        \"events\": [\"email-sent\"],\n        \"url\": \"https://h1.example.org/x\"\n      }},\n      \"status\": \"active\"\n    }}"
        )
    };
    let text = format!(
        "{{\n  \"endpoint\": \"{}\",\n  \"lineage\": \"{lineage}\",\n  \"serial\": 1,\n  \"unknown\": {{}},\n  \"version\": 1,\n  \"webhooks\": {{\n    \"Hook 01\": {},\n    \"Hook 01\": {}\n  }}\n}}\n",
        state["endpoint"].as_str().expect("endpoint"),
        entry("0123456789abcdef01234567"),
        entry("89abcdef0123456701234567"),
    );
    std::fs::write(w.state_path(), &text).expect("state");
    let mut c = w.process();
    c.arg("plan");
    let o = run_with_watchdog(c, "plan");
    assert_refused(&w, &o, "local-state-duplicate-webhook");
    assert_eq!(w.state_bytes(), text.as_bytes(), "the state is unchanged");

    // A key twice inside an entry is refused the same way.
    let inner = text.replacen(
        "\"status\": \"active\"",
        "\"status\": \"active\",\n      \"status\": \"paused\"",
        1,
    );
    let inner = inner.replacen("\"Hook 01\"", "\"Hook 02\"", 1);
    std::fs::write(w.state_path(), &inner).expect("state");
    let mut c = w.process();
    c.args(["state", "list"]);
    let o = run_with_watchdog(c, "state list");
    assert_refused(&w, &o, "local-state-duplicate-field");
}

/// What a config may hold is read back from the state it wrote: a tab in a header value and a
/// no-break space in a name (the state refuses control characters the config would refuse).
#[test]
fn a_tab_in_a_header_value_and_a_no_break_space_in_a_name_round_trip() {
    let w = World::new(
        "version: 1\nwebhooks:\n  - name: \"Sent\u{a0}Hook\"\n    url: https://hooks.example.org/1\n    events: [email-sent]\n    headers:\n      X-Tag: \"a\\tb\"\n",
    );
    w.apply().stdout_unchecked().stderr_unchecked().run();
    w.plan()
        .args(["--detailed-exitcode"])
        .stdout(
            "Plan for webhooks.yaml against webhooks.state.json\n\n  1 unchanged webhook not shown (-v lists them).\n\nPlan: 0 to create, 1 unchanged, 0 changed, 0 orphaned, 0 unknown.\n",
        )
        .run();
}
