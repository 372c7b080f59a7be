//! The disk refuses the journal in the middle of an apply (here: a file size limit on the
//! process, which fails writes as a full disk does). Every id that arrived is printed; the
//! run keeps trying to save the state before it exits, so that when room comes back the ids
//! are recorded after all; when it never does, the exact `state import` lines that record
//! them are printed and kept in a file.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{hooks, snapshot, World, BIN};
use saleshandy_webhooks::clock::TIME_SCALE_ENV;
use saleshandy_webhooks::emulator::SANDBOX_API_KEY;

/// Five webhooks: the journal outgrows the limit after the first few.
fn config() -> String {
    hooks(5)
}

/// Bytes any one file of the run may grow to: the journal's first records fit, not all.
const LIMIT: u64 = 1_200;

fn set_file_size_limit(pid: libc::pid_t, limit: libc::rlim_t) {
    let l = libc::rlimit {
        rlim_cur: limit,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit only reads `l`; the child is ours and still running.
    let r = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &l, std::ptr::null_mut()) };
    assert_eq!(r, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// `apply` of [`config`] at parallelism 1, each file limited to [`LIMIT`] bytes (a write past
/// it fails with EFBIG instead of killing the process), its standard error read line by line.
fn spawn_limited(w: &World, time_scale: &str) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut c = w.process();
    c.args(["apply", "--auto-approve", "--parallelism", "1"])
        .env(TIME_SCALE_ENV, time_scale)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit and signal are async-signal-safe, as pre_exec requires.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let l = libc::rlimit {
                rlim_cur: LIMIT,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().expect("apply starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The first id the sandbox gave each name.
fn created(w: &World) -> Vec<(String, String)> {
    w.server_by_name()
        .into_iter()
        .map(|(name, ids)| (name, ids[0].clone()))
        .collect()
}

/// Replaces the error text of the limit (which names a temporary file) by a marker.
fn stderr_shown(w: &World, lines: &[String]) -> String {
    let text = lines.join("\n") + "\n";
    let re = regex::Regex::new(
        r#"\(cannot write the state file `webhooks.state.json`: File too large \(os error 27\) at path "[^"]*"\)"#,
    )
        .expect("regex");
    w.filtered(&re.replace_all(&text, "([FILE TOO LARGE])"))
}

#[test]
fn ids_that_arrived_after_the_journal_failed_are_saved_once_the_disk_has_room() {
    let w = World::new(&config());
    // Real time: the run waits a second before it tries the save again, long enough to lift
    // the limit in between.
    let (child, rx) = spawn_limited(&w, "1");
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the run says it tries the save again");
        let retry = line.starts_with("cannot save the state yet");
        lines.push(line);
        if retry {
            break;
        }
    }
    set_file_size_limit(child.id() as libc::pid_t, libc::RLIM_INFINITY);
    let o = child.wait_with_output().expect("apply ends");
    lines.extend(rx.iter());
    assert_eq!(
        o.status.code(),
        Some(1),
        "the journal failure stopped the creates"
    );
    let ids = created(&w);
    assert!(!ids.is_empty() && ids.len() < 5, "{ids:?}");
    snapshot(
        "journal-failure-room-again",
        &w.with_named_ids(&o.stdout, &ids),
    );
    snapshot(
        "journal-failure-room-again-stderr",
        &stderr_shown(&w, &lines),
    );
    // Every id that arrived is in the state, none unknown, and no journal is left.
    assert_eq!(w.recorded_ids(), ids);
    assert_eq!(w.state_json()["unknown"], serde_json::json!({}));
    assert!(!w.path("webhooks.state.json.journal").exists());
    assert!(!w.path("webhooks.state.json.unrecorded.sh").exists());
    // The next apply creates the rest, and nothing twice.
    w.apply().stdout_unchecked().stderr_unchecked().run();
    assert_eq!(w.sandbox.create_requests(), 5);
    assert!(w.server_by_name().values().all(|ids| ids.len() == 1));
}

#[test]
fn ids_that_could_never_be_saved_are_printed_with_the_commands_that_record_them() {
    let w = World::new(&config());
    let (child, rx) = spawn_limited(&w, "0.01");
    let o = child.wait_with_output().expect("apply ends");
    let lines: Vec<String> = rx.iter().collect();
    assert_eq!(o.status.code(), Some(1));
    let ids = created(&w);
    assert!(!ids.is_empty() && ids.len() < 5, "{ids:?}");
    snapshot(
        "journal-failure-no-room",
        &w.with_named_ids(&o.stdout, &ids),
    );
    snapshot("journal-failure-no-room-stderr", &stderr_shown(&w, &lines));
    let kept = w.path("webhooks.state.json.unrecorded.sh");
    snapshot(
        "journal-failure-no-room-kept",
        &w.with_named_ids(&std::fs::read(&kept).expect("kept"), &ids),
    );

    // Room again: the kept commands record every id, without sending a create.
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = std::process::Command::new("sh")
        .arg(&kept)
        .current_dir(w.dir.path())
        .env("PATH", path)
        .env("SALESHANDY_API_URL", w.sandbox.url())
        .env("SALESHANDY_API_KEY", SANDBOX_API_KEY)
        .output()
        .expect("sh runs");
    assert!(
        run.status.success(),
        "{}",
        crate::support::output_text(&run)
    );
    let mut recorded = w.recorded_ids();
    recorded.sort();
    assert_eq!(recorded, ids);
    assert_eq!(
        w.sandbox.create_requests(),
        ids.len(),
        "import sends no create"
    );
}
