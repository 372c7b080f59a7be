//! The committed-state GitHub workflow's apply job, run for real: its `run:` steps, taken from
//! `examples/ci/github-actions.yml`, run by bash in clones of a local bare repository (each
//! clone a runner, as `actions/checkout` makes one), the tool against the embedded sandbox.
//! A cancelled first apply, a state changed on main while an apply runs, and a rejected push
//! never lead to a webhook created twice: the next apply refuses until a person commits the
//! state, or replays the journal that was committed.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use saleshandy_webhooks::clock::TIME_SCALE_ENV;
use saleshandy_webhooks::emulator::SANDBOX_API_KEY;
use serde_yaml::Value;

use crate::support::{self, World, BIN, CONFIG_FILE, STATE_FILE};

const MARKER: &str = "webhooks.state.json.applying";

/// The apply job's steps, by name, as the workflow file has them, then the pull request's
/// plan job's (a name both have is the apply job's).
fn apply_steps() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/github-actions.yml");
    let text = std::fs::read_to_string(&path).expect("the workflow");
    let workflow: Value = serde_yaml::from_str(&text).expect("YAML");
    ["apply", "plan"]
        .iter()
        .flat_map(|job| {
            workflow["jobs"][*job]["steps"]
                .as_sequence()
                .expect("steps")
                .iter()
        })
        .filter_map(|s| {
            Some((
                s["name"].as_str()?.to_string(),
                s["run"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A bare repository as `origin`, runners cloned from it, and the sandbox.
struct Repo {
    world: World,
    root: tempfile::TempDir,
    steps: Vec<(String, String)>,
    runs: usize,
}

impl Repo {
    /// `origin` with `config` committed on main.
    fn new(config: &str) -> Repo {
        let root = tempfile::tempdir().expect("tempdir");
        let repo = Repo {
            world: World::builder().build(),
            root,
            steps: apply_steps(),
            runs: 0,
        };
        repo.git(
            repo.root.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        repo.git(repo.root.path(), &["init", "-q", "-b", "main", "seed"]);
        let seed = repo.root.path().join("seed");
        std::fs::write(seed.join(CONFIG_FILE), config).expect("config");
        let origin = repo.origin().display().to_string();
        repo.git(&seed, &["add", CONFIG_FILE]);
        repo.git(
            &seed,
            &[
                "-c",
                "user.name=A Person",
                "-c",
                "user.email=person@example.org",
                "commit",
                "-q",
                "-m",
                "config",
            ],
        );
        repo.git(&seed, &["push", "-q", &origin, "HEAD:main"]);
        repo
    }

    fn origin(&self) -> PathBuf {
        self.root.path().join("origin.git")
    }

    /// A fresh clone of main in `name`.
    fn clone_as(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        self.git(
            self.root.path(),
            &[
                "clone",
                "-q",
                "-b",
                "main",
                &self.origin().display().to_string(),
                name,
            ],
        );
        self.git(&dir, &["config", "user.name", "A Person"]);
        self.git(&dir, &["config", "user.email", "person@example.org"]);
        dir
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", self.root.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("runs git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The file `name` on origin's main, if there.
    fn on_main(&self, name: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["show", &format!("main:{name}")])
            .current_dir(self.origin())
            .output()
            .expect("runs git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// bash running the step `name` in `dir` the way GitHub runs a `run:` step, with the
    /// workflow's variables; in a process group of its own.
    fn step(&self, dir: &Path, name: &str) -> Command {
        let script = &self
            .steps
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("the apply job has no step {name:?}"))
            .1;
        let bin_dir = Path::new(BIN).parent().expect("the binary's dir");
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new("bash");
        c.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(dir)
            .env("PATH", path)
            .env("HOME", self.root.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("WEBHOOKS_CONFIG", CONFIG_FILE)
            .env("WEBHOOKS_STATE", STATE_FILE)
            .env("MAX_CREATES", "10")
            .env("PUSH_BACKOFF_SECONDS", "0")
            .env("FAIL_ON_UNKNOWN", "true")
            .env("NO_COLOR", "1")
            .env("GITHUB_OUTPUT", dir.join("github-output"))
            .env("GITHUB_STEP_SUMMARY", dir.join("step-summary"))
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_REPOSITORY", "acme/infra")
            .env("GITHUB_RUN_ID", (self.runs + 100).to_string())
            .env("RUNNER_TEMP", self.root.path())
            .env("SALESHANDY_API_URL", self.world.sandbox.url())
            .env("SALESHANDY_API_KEY", SANDBOX_API_KEY)
            .env(TIME_SCALE_ENV, "0.01")
            .stdin(Stdio::null())
            .process_group(0);
        c
    }

    fn run_step(&self, dir: &Path, name: &str) -> Output {
        self.step(dir, name).output().expect("runs bash")
    }

    /// The apply job up to its apply step on a fresh runner: the steps that must succeed.
    /// Returns the runner and whether the plan had something to create.
    fn start_job(&mut self) -> (PathBuf, bool) {
        self.runs += 1;
        let dir = self.clone_as(&format!("runner-{}", self.runs));
        for name in [
            "Refuse after an apply that did not commit its state",
            "Validate",
            "Plan (saved)",
        ] {
            let out = self.run_step(&dir, name);
            assert!(out.status.success(), "{name}: {out:?}");
        }
        let create = self.output(&dir).contains("create=true");
        if create {
            let out = self.run_step(&dir, "Mark main before creating");
            assert!(out.status.success(), "mark: {out:?}");
        }
        (dir, create)
    }

    /// What the steps run in `dir` wrote to `$GITHUB_OUTPUT`.
    fn output(&self, dir: &Path) -> String {
        std::fs::read_to_string(dir.join("github-output")).unwrap_or_default()
    }

    /// A whole apply job that succeeds, its steps run as their `if:` says.
    fn job(&mut self) {
        let (dir, create) = self.start_job();
        if create {
            let out = self.run_step(&dir, "Apply the saved plan");
            assert!(out.status.success(), "apply: {out:?}");
        }
        if create || self.output(&dir).contains("folded=true") {
            let out = self.run_step(&dir, "Commit the state to main");
            assert!(out.status.success(), "commit: {out:?}");
        }
    }

    /// How many create requests named `name`.
    fn creates_of(&self, name: &str) -> usize {
        let quoted = format!("\"{name}\"");
        self.world
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.body.contains(&quoted))
            .count()
    }

    /// The names of the webhooks the sandbox holds, sorted.
    fn created_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .world
            .sandbox
            .webhooks()
            .into_iter()
            .map(|w| w.name)
            .collect();
        names.sort();
        names
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No file in `dir`'s work tree holds a conflict marker.
fn assert_no_conflict_markers(dir: &Path) {
    for name in [STATE_FILE, CONFIG_FILE] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            !text.contains("<<<<<<<"),
            "{name} has conflict markers:\n{text}"
        );
    }
}

#[test]
fn a_cancelled_first_apply_commits_its_journal_and_the_next_creates_nothing_twice() {
    let mut repo = Repo::new(&support::hooks(3));
    repo.world.sandbox.set_latency(Duration::from_secs(30));
    let (dir, create) = repo.start_job();
    assert!(create);
    // The job is cancelled while the creates are in flight.
    let mut apply = repo
        .step(&dir, "Apply the saved plan")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs bash");
    // A deadline for something that takes milliseconds, not a claim about speed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while repo.world.sandbox.in_flight_creates() == 0 {
        assert!(Instant::now() <= deadline, "no create was sent within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    unsafe { libc::kill(-(apply.id() as libc::pid_t), libc::SIGKILL) };
    apply.wait().expect("reaps bash");
    repo.world.sandbox.set_latency(Duration::ZERO);
    assert!(dir.join(format!("{STATE_FILE}.journal")).exists());
    assert!(
        !dir.join(STATE_FILE).exists(),
        "a first apply cut short has no state file"
    );

    let commit = repo.run_step(&dir, "Commit the state to main");
    assert!(commit.status.success(), "{commit:?}");
    assert!(repo.on_main(&format!("{STATE_FILE}.journal")).is_some());
    assert_eq!(repo.on_main(MARKER), None);

    // The next apply replays the journal: the three creates whose answers were lost are
    // `unknown`, never sent again.
    repo.job();
    for i in 1..=3 {
        assert!(
            repo.creates_of(&format!("Hook {i}")) <= 1,
            "Hook {i} was sent twice"
        );
    }
    assert_eq!(repo.on_main(&format!("{STATE_FILE}.journal")), None);
    let state = repo.on_main(STATE_FILE).expect("a state on main");
    assert!(state.contains("\"unknown\""), "{state}");

    // And the job says so, red, with what to do for each.
    let runner = repo.clone_as("runner-check");
    let check = repo.run_step(&runner, "Show what needs a person");
    assert_eq!(check.status.code(), Some(1));
    let shown = text(&check);
    let lines: Vec<&str> = shown.lines().collect();
    let unknown = lines
        .iter()
        .filter(|l| l.contains(",title=unknown%3A needs a person::`Hook "))
        .count();
    assert!(unknown >= 1, "{shown}");
    assert_eq!(
        lines[unknown..],
        [
            format!(
                "::notice title=saleshandy-webhooks plan::Plan: 0 to create, {} unchanged, 0 changed, 0 orphaned, {unknown} unknown.",
                3 - unknown
            ),
            format!(
                "::error title=unknown webhooks::Webhooks unknown: {unknown}. For each, a create was sent but its answer was lost, so each may or may not exist in Saleshandy. Resolve each as its warning says (state import or state rm), then run the apply again."
            ),
        ],
        "{shown}"
    );
    let warned = repo
        .step(&runner, "Show what needs a person")
        .env("FAIL_ON_UNKNOWN", "false")
        .output()
        .expect("runs bash");
    assert_eq!(warned.status.code(), Some(0));
    assert!(text(&warned).ends_with(&format!(
        "::warning title=unknown webhooks::Webhooks unknown: {unknown}. For each, a create was sent but its answer was lost, so each may or may not exist in Saleshandy. Resolve each as its warning says (state import or state rm), then run the apply again.\n"
    )));
}

#[test]
fn a_state_changed_on_main_during_an_apply_fails_without_conflict_markers_and_stops_the_next() {
    let mut repo = Repo::new(&support::hooks(2));
    repo.job();
    assert_eq!(repo.created_names(), ["Hook 1", "Hook 2"]);

    // A third webhook is merged, and its apply starts.
    let person = repo.clone_as("person");
    std::fs::write(person.join(CONFIG_FILE), support::hooks(3)).expect("config");
    repo.git(&person, &["commit", "-q", "-am", "a third webhook"]);
    repo.git(&person, &["push", "-q", "origin", "HEAD:main"]);
    let (runner, create) = repo.start_job();
    assert!(create);
    let apply = repo.run_step(&runner, "Apply the saved plan");
    assert!(apply.status.success(), "{apply:?}");

    // Meanwhile a person forgets Hook 2 (next to where the apply adds Hook 3) from the state
    // on main.
    let person = repo.clone_as("person");
    let rm = support::bin_process()
        .args(["state", "rm", "Hook 2", "-c", CONFIG_FILE])
        .current_dir(&person)
        .output()
        .expect("runs the tool");
    assert!(rm.status.success(), "{rm:?}");
    repo.git(&person, &["commit", "-q", "-am", "forget Hook 2"]);
    repo.git(&person, &["push", "-q", "origin", "HEAD:main"]);

    let commit = repo.run_step(&runner, "Commit the state to main");
    assert_eq!(commit.status.code(), Some(1), "{commit:?}");
    assert!(
        text(&commit).contains(
            "::error file=webhooks.state.json::webhooks.state.json changed on main while this apply ran, so its state was not committed. This run's state is in its artifact"
        ),
        "{}",
        text(&commit)
    );
    assert_no_conflict_markers(&runner);
    let kept = std::fs::read_to_string(runner.join(STATE_FILE)).expect("the run's state");
    assert!(
        kept.contains("Hook 3"),
        "the run keeps its own state: {kept}"
    );

    // The next apply refuses instead of creating Hook 3 again.
    repo.runs += 1;
    let next = repo.clone_as("runner-next");
    let refused = repo.run_step(&next, "Refuse after an apply that did not commit its state");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).starts_with(
            "::error file=webhooks.state.json.applying::The apply of https://github.example/acme/infra/actions/runs/102 did not commit its state to main"
        ),
        "{}",
        text(&refused)
    );
    assert_eq!(repo.created_names(), ["Hook 1", "Hook 2", "Hook 3"]);
}

#[test]
fn a_rejected_push_of_the_state_stops_the_next_apply() {
    let mut repo = Repo::new(&support::hooks(2));
    let (runner, create) = repo.start_job();
    assert!(create);
    let apply = repo.run_step(&runner, "Apply the saved plan");
    assert!(apply.status.success(), "{apply:?}");
    // main is protected from here on.
    let hook = repo.origin().join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'main is protected' >&2\nexit 1\n").expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");

    let commit = repo.run_step(&runner, "Commit the state to main");
    assert_eq!(commit.status.code(), Some(1), "{commit:?}");
    assert!(
        text(&commit).contains("::error file=webhooks.state.json::The state could not be pushed to main. This run's state is in its artifact"),
        "{}",
        text(&commit)
    );
    assert_no_conflict_markers(&runner);
    assert!(repo.on_main(MARKER).is_some());

    std::fs::remove_file(&hook).expect("unprotects main");
    repo.runs += 1;
    let next = repo.clone_as("runner-next");
    let refused = repo.run_step(&next, "Refuse after an apply that did not commit its state");
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    // A pull request opened meanwhile is told before it is merged.
    let warned = repo.run_step(&next, "Warn about an apply that did not commit its state");
    assert!(warned.status.success(), "{warned:?}");
    assert_eq!(
        text(&warned),
        format!("::warning file={MARKER}::The apply of https://github.example/acme/infra/actions/runs/101 did not commit its state to main: the apply after this merge refuses until that run's state is committed to main with {MARKER} deleted.\n")
    );
    assert_eq!(repo.created_names(), ["Hook 1", "Hook 2"]);
    assert_eq!(repo.world.sandbox.create_requests(), 2);
}

#[test]
fn a_push_refused_before_any_create_creates_nothing() {
    let mut repo = Repo::new(&support::hooks(2));
    repo.runs += 1;
    let runner = repo.clone_as("runner");
    for name in ["Validate", "Plan (saved)"] {
        assert!(repo.run_step(&runner, name).status.success());
    }
    let hook = repo.origin().join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\nexit 1\n").expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let mark = repo.run_step(&runner, "Mark main before creating");
    assert_eq!(mark.status.code(), Some(1), "{mark:?}");
    assert!(text(&mark).contains(
        "::error::Could not push to main (it moved on since this job started, or the push was refused): nothing was created. Run the workflow again."
    ));
    assert_eq!(repo.world.sandbox.create_requests(), 0);
}

#[test]
fn a_state_with_conflict_markers_is_refused_with_how_to_keep_both_sides() {
    let w = World::new(&support::hooks(1));
    std::fs::write(
        w.state_path(),
        "{
  \"endpoint\": \"https://open-api.saleshandy.com\",
  \"lineage\": \"6f1c2f4e-3b1a-4c55-9d7e-2a9f0c1b7e10\",
<<<<<<< HEAD
  \"serial\": 4,
=======
  \"serial\": 5,
>>>>>>> 1a2b3c4 (saleshandy-webhooks: record applied state [skip ci])
  \"version\": 1,
  \"webhooks\": {}
}
",
    )
    .expect("writes the state");
    w.test(["plan"])
        .env("NO_COLOR", "1")
        .status(1)
        .stderr(
            "state::merge_conflict

  × the state file `webhooks.state.json` holds an unresolved merge conflict (line 4): both sides of a merge are in it
   ╭─[webhooks.state.json:4:1]
 3 │   \"lineage\": \"[UUID]\",
 4 │ <<<<<<< HEAD
   · ──────┬─────
   ·       ╰── the conflict starts here
 5 │   \"serial\": 4,
   ╰────
  help: every entry on either side holds the id of a webhook that exists in Saleshandy, so keep both sides: delete only the marker lines (`<<<<<<<`, `=======`, `>>>>>>>`) and the duplicated lines around them, keep the higher `serial`, and check the result with `saleshandy-webhooks state list`. Taking one side's file whole forgets the other side's ids, and the next apply creates those webhooks again. The file has not been changed
",
        )
        .run();
    assert_eq!(w.sandbox.create_requests(), 0);
}
