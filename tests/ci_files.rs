//! The CI files shipped for users to copy: the GitHub Actions workflow, the GitLab pipeline and
//! the pre-commit hook parse, and have the steps they promise; the hook, run the way pre-commit
//! runs it, validates a config. Also shell completions and `--version`.

use std::path::PathBuf;

use crate::support::{self, World};
use serde_yaml::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(relative: &str) -> Value {
    let path = root().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"))
}

fn as_str(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Whether a shell command line runs the tool's subcommand `sub`.
fn runs(command: &str, sub: &str) -> bool {
    command.contains(&format!("saleshandy-webhooks {sub}"))
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/// A workflow step with the job it belongs to.
struct Step<'a> {
    job: &'a str,
    job_if: &'a str,
    step: &'a Value,
}

impl Step<'_> {
    fn run(&self) -> &str {
        as_str(&self.step["run"])
    }
    fn step_if(&self) -> &str {
        as_str(&self.step["if"])
    }
}

fn steps(workflow: &Value) -> Vec<Step<'_>> {
    let jobs = workflow["jobs"].as_mapping().expect("`jobs` is a mapping");
    let mut all = Vec::new();
    for (name, job) in jobs {
        for step in job["steps"].as_sequence().expect("each job has steps") {
            all.push(Step {
                job: as_str(name),
                job_if: as_str(&job["if"]),
                step,
            });
        }
    }
    all
}

fn list_has(v: &Value, wanted: &str) -> bool {
    match v {
        Value::Sequence(items) => items.iter().any(|i| as_str(i) == wanted),
        Value::String(s) => s == wanted,
        _ => false,
    }
}

#[test]
fn github_workflow_runs_on_pull_requests_and_pushes_to_main() {
    let wf = load("examples/ci/github-actions.yml");
    // YAML 1.2: `on` is a string key, not a boolean.
    let on = &wf["on"];
    assert!(on.is_mapping(), "the workflow has an `on` mapping");
    assert!(on.get("pull_request").is_some(), "runs on pull requests");
    assert!(
        list_has(&on["push"]["branches"], "main"),
        "runs on pushes to main"
    );
    // Least privilege by default.
    assert_eq!(as_str(&wf["permissions"]["contents"]), "read");
}

#[test]
fn github_workflow_validates_and_comments_the_plan_on_pull_requests() {
    let wf = load("examples/ci/github-actions.yml");
    let steps = steps(&wf);

    let validate = steps
        .iter()
        .find(|s| runs(s.run(), "validate") && s.run().contains("--format github"))
        .expect("a step runs `validate --format github`");
    assert!(validate.job_if.contains("pull_request") || validate.job_if.is_empty());

    let plan = steps
        .iter()
        .find(|s| runs(s.run(), "plan") && s.run().contains("--format markdown"))
        .expect("a step runs `plan --format markdown`");
    let plan_job = &wf["jobs"][plan.job];
    assert!(
        plan.job_if.contains("pull_request"),
        "the plan job runs on pull requests"
    );
    assert_eq!(
        as_str(&plan_job["permissions"]["pull-requests"]),
        "write",
        "the plan job may comment"
    );
    assert!(
        plan.run().contains("plan.md"),
        "the Markdown plan is saved to post it"
    );
    let comment = steps
        .iter()
        .filter(|s| s.job == plan.job)
        .find(|s| {
            let script = as_str(&s.step["with"]["script"]);
            script.contains("plan.md")
                && (script.contains("createComment") || script.contains("updateComment"))
        })
        .expect("a step posts plan.md as a pull-request comment");
    assert!(as_str(&comment.step["uses"]).starts_with("actions/github-script@"));
}

#[test]
fn github_workflow_applies_a_plan_saved_on_main_once() {
    let wf = load("examples/ci/github-actions.yml");
    let steps = steps(&wf);

    let save = steps
        .iter()
        .find(|s| runs(s.run(), "plan") && s.run().contains("--out plan.json"))
        .expect("a step saves a plan with `plan --out plan.json`");
    assert!(save.run().contains("--detailed-exitcode"));
    let apply = steps
        .iter()
        .find(|s| runs(s.run(), "apply"))
        .expect("a step runs `apply`");
    assert!(
        apply.run().contains("saleshandy-webhooks apply plan.json"),
        "apply applies the saved plan: {}",
        apply.run()
    );
    assert!(apply.run().contains("--max-creates"));
    assert_eq!(
        save.job, apply.job,
        "the plan is saved in the job that applies it"
    );

    // Apply only on main, never for a pull request.
    assert!(
        apply.job_if.contains("refs/heads/main") || apply.step_if().contains("refs/heads/main"),
        "apply is guarded by an `if:` on refs/heads/main"
    );
    assert!(!apply.job_if.contains("== 'pull_request'"));
    let job = &wf["jobs"][apply.job];
    assert_eq!(as_str(&job["steps"][0]["with"]["ref"]), "main");

    // One apply at a time, never cancelled.
    let concurrency = &job["concurrency"];
    assert!(
        !as_str(&concurrency["group"]).is_empty(),
        "apply has a concurrency group"
    );
    assert_eq!(concurrency["cancel-in-progress"], Value::Bool(false));
    assert_eq!(as_str(&job["permissions"]["contents"]), "write");
    assert!(as_str(&apply.step["env"]["SALESHANDY_API_KEY"]).contains("secrets.SALESHANDY_API_KEY"));

    // The state is committed back even when the apply fails.
    let commit = steps
        .iter()
        .filter(|s| s.job == apply.job)
        .find(|s| as_str(&s.step["name"]) == "Commit the state to main")
        .expect("the apply job commits the state back");
    assert!(commit.step_if().contains("always()"));
    assert!(commit.run().contains("WEBHOOKS_STATE"));
}

#[test]
fn committed_state_applies_mark_main_before_creating_and_refuse_after_a_lost_state() {
    // Driven for real in `ci_git`; here, the order of the steps and what never appears.
    let wf = load("examples/ci/github-actions.yml");
    let names: Vec<&str> = wf["jobs"]["apply"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .map(|s| as_str(&s["name"]))
        .collect();
    assert_eq!(
        names,
        [
            "",
            "Refuse after an apply that did not commit its state",
            "Cache saleshandy-webhooks",
            "Install saleshandy-webhooks",
            "Validate",
            "Plan (saved)",
            "Mark main before creating",
            "Apply the saved plan",
            "Commit the state to main",
            "Keep the state as an artifact (backup)",
            "Show what needs a person",
        ]
    );
    let steps = wf["jobs"]["apply"]["steps"].as_sequence().expect("steps");
    let commit = &steps[names
        .iter()
        .position(|n| *n == "Commit the state to main")
        .expect("commit")];
    assert_eq!(
        as_str(&commit["if"]),
        "always() && (steps.mark.outcome == 'success' || steps.plan.outputs.folded == 'true')",
        "the state is committed after any create, never when nothing was marked"
    );
    let gitlab = load("examples/ci/gitlab-ci.yml");
    let gitlab_apply: String = gitlab["apply"]["script"]
        .as_sequence()
        .expect("a script")
        .iter()
        .map(as_str)
        .collect::<Vec<_>>()
        .join("\n");
    for (what, text) in [
        (
            "the GitHub workflow",
            serde_yaml::to_string(&wf).expect("YAML"),
        ),
        ("the GitLab apply job", gitlab_apply.clone()),
    ] {
        // A stopped rebase leaves conflict markers; `git pull` merges or rebases without a way
        // back. Every rebase is undone when it stops.
        assert!(!text.contains("git pull"), "{what} pulls");
        assert_eq!(
            text.matches("git rebase FETCH_HEAD").count(),
            text.matches("git rebase --abort").count(),
            "{what}"
        );
        assert!(
            text.contains("$WEBHOOKS_STATE.applying"),
            "{what} has no mark"
        );
        assert!(
            text.contains("git ls-files --error-unmatch"),
            "{what} misses deletions"
        );
    }
    let mark = gitlab_apply
        .find("> \"$marker\"")
        .expect("GitLab marks the branch");
    let apply = gitlab_apply
        .find("saleshandy-webhooks apply plan.json")
        .expect("applies");
    assert!(mark < apply, "GitLab marks the branch before it creates");
}

#[test]
fn every_job_shows_what_needs_a_person_and_a_merged_state_change_is_applied() {
    for file in ["github-actions", "github-actions-remote-state"] {
        let wf = load(&format!("examples/ci/{file}.yml"));
        assert_eq!(as_str(&wf["env"]["FAIL_ON_UNKNOWN"]), "true", "{file}");
        for job in ["plan", "apply"] {
            let steps = wf["jobs"][job]["steps"].as_sequence().expect("steps");
            let last = steps.last().expect("a step");
            assert_eq!(
                as_str(&last["name"]),
                "Show what needs a person",
                "{file} {job}"
            );
            let run = as_str(&last["run"]);
            assert!(run.contains("--format github") && run.contains("FAIL_ON_UNKNOWN"));
        }
        let apply = &wf["jobs"]["apply"]["steps"].as_sequence().expect("steps");
        assert!(as_str(&apply.last().expect("a step")["if"]).contains("always()"));
    }
    let wf = load("examples/ci/github-actions.yml");
    for event in ["pull_request", "push"] {
        assert!(
            list_has(&wf["on"][event]["paths"], "webhooks.state.json*"),
            "{event}: a change of the state alone runs the workflow"
        );
    }
    for file in ["gitlab-ci", "gitlab-ci-remote-state"] {
        let ci = load(&format!("examples/ci/{file}.yml"));
        assert_eq!(
            as_str(&ci["variables"]["FAIL_ON_UNKNOWN"]),
            "true",
            "{file}"
        );
        let script = ci["plan"]["script"].as_sequence().expect("a script");
        let last = as_str(script.last().expect("an entry"));
        assert!(
            last.contains("--format github") && last.contains("FAIL_ON_UNKNOWN"),
            "{file}"
        );
    }
}

#[test]
fn every_job_builds_the_tool_only_when_its_cache_has_none_for_this_source() {
    for file in ["github-actions", "github-actions-remote-state"] {
        let wf = load(&format!("examples/ci/{file}.yml"));
        for job in ["plan", "apply"] {
            let steps = wf["jobs"][job]["steps"].as_sequence().expect("steps");
            let at = |name: &str| {
                steps
                    .iter()
                    .position(|s| as_str(&s["name"]) == name)
                    .unwrap_or_else(|| panic!("{file} {job}: no step {name:?}"))
            };
            let (cache, install) = (
                &steps[at("Cache saleshandy-webhooks")],
                &steps[at("Install saleshandy-webhooks")],
            );
            assert_eq!(
                at("Cache saleshandy-webhooks") + 1,
                at("Install saleshandy-webhooks")
            );
            assert!(as_str(&cache["uses"]).starts_with("actions/cache@"));
            assert_eq!(
                as_str(&cache["with"]["path"]),
                "~/.cargo/bin/saleshandy-webhooks"
            );
            let key = as_str(&cache["with"]["key"]);
            assert!(
                key.contains("hashFiles('Cargo.toml', 'Cargo.lock', 'src/**')"),
                "{file} {job}: {key}"
            );
            assert_eq!(
                as_str(&install["if"]),
                format!("steps.{}.outputs.cache-hit != 'true'", as_str(&cache["id"]))
            );
        }
    }
    for file in ["gitlab-ci", "gitlab-ci-remote-state"] {
        let ci = load(&format!("examples/ci/{file}.yml"));
        let template = &ci[".saleshandy-webhooks"];
        assert!(
            list_has(&template["cache"]["paths"], ".saleshandy-webhooks/"),
            "{file}"
        );
        let before: Vec<&str> = template["before_script"]
            .as_sequence()
            .expect("before_script")
            .iter()
            .map(as_str)
            .collect();
        assert!(
            before[0].contains(".saleshandy-webhooks/stamp")
                && before[0].contains("--root .saleshandy-webhooks")
        );
        assert_eq!(
            before[1],
            "export PATH=\"$PWD/.saleshandy-webhooks/bin:$PATH\""
        );
    }
}

#[test]
fn the_api_key_is_given_to_apply_alone() {
    let wf = load("examples/ci/github-actions.yml");
    let text = serde_yaml::to_string(&wf).expect("serialises");
    assert_eq!(
        text.matches("secrets.SALESHANDY_API_KEY").count(),
        1,
        "only the apply step gets the API key"
    );
}

// ---------------------------------------------------------------------------------------------
// GitLab

#[test]
fn gitlab_pipeline_validates_plans_and_applies() {
    let ci = load("examples/ci/gitlab-ci.yml");
    let script = |job: &str| -> String {
        let job = &ci[job];
        assert!(job.is_mapping(), "the pipeline has a `{job:?}` job");
        job["script"]
            .as_sequence()
            .expect("a script list")
            .iter()
            .map(as_str)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let stages: Vec<&str> = ci["stages"]
        .as_sequence()
        .expect("stages")
        .iter()
        .map(as_str)
        .collect();
    assert_eq!(stages, ["validate", "plan", "apply"]);

    assert!(runs(&script("validate"), "validate"));
    let plan = script("plan");
    assert!(runs(&plan, "plan") && plan.contains("--format markdown"));
    assert!(plan.contains("merge_requests/$CI_MERGE_REQUEST_IID/notes"));

    let apply = script("apply");
    assert!(apply.contains("--out plan.json"));
    assert!(apply.contains("saleshandy-webhooks apply plan.json"));
    assert!(apply.contains("--max-creates"));
    assert!(apply.contains("git push"));
    let job = &ci["apply"];
    assert!(as_str(&job["rules"][0]["if"]).contains("$CI_DEFAULT_BRANCH"));
    assert!(
        !as_str(&job["resource_group"]).is_empty(),
        "one apply at a time"
    );
    assert_eq!(job["interruptible"], Value::Bool(false));
}

// ---------------------------------------------------------------------------------------------
// Remote state: the recommended pipelines

#[test]
fn github_remote_state_workflow_uses_oidc_roles_and_never_pushes() {
    let wf = load("examples/ci/github-actions-remote-state.yml");
    assert!(as_str(&wf["env"]["WEBHOOKS_STATE"]).starts_with("s3://"));
    assert_eq!(as_str(&wf["permissions"]["contents"]), "read");
    let steps = steps(&wf);
    for job in ["plan", "apply"] {
        let j = &wf["jobs"][job];
        assert_eq!(as_str(&j["permissions"]["id-token"]), "write", "{job}");
        assert_eq!(as_str(&j["permissions"]["contents"]), "read", "{job}");
        let creds = steps
            .iter()
            .filter(|s| s.job == job)
            .find(|s| as_str(&s.step["uses"]).starts_with("aws-actions/configure-aws-credentials@"))
            .unwrap_or_else(|| panic!("{job} gets AWS credentials by OIDC"));
        assert!(as_str(&creds.step["with"]["role-to-assume"]).contains("vars."));
        assert!(
            creds.step["with"].get("aws-access-key-id").is_none(),
            "no long-lived keys"
        );
    }
    let plan = steps
        .iter()
        .find(|s| s.job == "plan" && runs(s.run(), "plan"))
        .expect("plan runs");
    assert!(plan.run().contains("--state \"$WEBHOOKS_STATE\""));
    let apply = steps
        .iter()
        .find(|s| runs(s.run(), "apply"))
        .expect("a step runs `apply`");
    assert!(apply.run().contains("saleshandy-webhooks apply plan.json"));
    assert!(apply.run().contains("--lock-timeout"));
    assert!(apply.job_if.contains("refs/heads/main"));
    assert_eq!(
        wf["jobs"][apply.job]["concurrency"]["cancel-in-progress"],
        Value::Bool(false)
    );
    assert!(
        steps.iter().all(|s| !s.run().contains("git push")),
        "nothing is pushed back"
    );
    let text = serde_yaml::to_string(&wf).expect("serialises");
    assert_eq!(text.matches("secrets.SALESHANDY_API_KEY").count(), 1);
}

#[test]
fn gitlab_remote_state_pipeline_uses_id_tokens_and_never_pushes() {
    let ci = load("examples/ci/gitlab-ci-remote-state.yml");
    assert!(as_str(&ci["variables"]["WEBHOOKS_STATE"]).starts_with("s3://"));
    let aws = &ci[".saleshandy-webhooks-aws"];
    assert!(aws["id_tokens"].is_mapping(), "an OIDC token for AWS");
    assert!(!as_str(&aws["variables"]["AWS_WEB_IDENTITY_TOKEN_FILE"]).is_empty());
    let script = |job: &str| -> String {
        ci[job]["script"]
            .as_sequence()
            .expect("a script list")
            .iter()
            .map(as_str)
            .collect::<Vec<_>>()
            .join("\n")
    };
    for job in ["plan", "apply"] {
        assert_eq!(
            as_str(&ci[job]["extends"]),
            ".saleshandy-webhooks-aws",
            "{job}"
        );
        assert!(
            as_str(&ci[job]["variables"]["AWS_ROLE_ARN"]).starts_with('$'),
            "{job}"
        );
        assert!(
            !script(job).contains("git push"),
            "{job} pushes nothing back"
        );
    }
    let apply = script("apply");
    assert!(apply.contains("saleshandy-webhooks apply plan.json"));
    assert!(apply.contains("--lock-timeout"));
    assert!(!as_str(&ci["apply"]["resource_group"]).is_empty());
    assert_eq!(ci["apply"]["interruptible"], Value::Bool(false));
}

// ---------------------------------------------------------------------------------------------
// Linters: actionlint over the workflows (with shellcheck over their `run:` scripts) and
// shellcheck over the GitLab jobs' scripts

/// `actionlint` of the suite's install, run in `dir` over `files`, shellcheck wired in; its
/// exit code and its one-line messages.
fn actionlint(dir: &std::path::Path, files: &[&str]) -> (Option<i32>, String) {
    let bin = support::tools::linters();
    let out = std::process::Command::new(bin.join("actionlint"))
        .arg("-oneline")
        .arg("-no-color")
        .arg(format!("-shellcheck={}", bin.join("shellcheck").display()))
        .arg("-pyflakes=")
        .args(files)
        .current_dir(dir)
        .output()
        .expect("runs actionlint");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn github_workflows_pass_actionlint_and_shellcheck() {
    let files: Vec<String> = std::fs::read_dir(root().join("examples/ci"))
        .expect("examples/ci")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("github-actions") && name.ends_with(".yml"))
        .map(|name| format!("examples/ci/{name}"))
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    assert_eq!(actionlint(&root(), &files), (Some(0), String::new()));
}

#[test]
fn actionlint_runs_shellcheck_on_run_scripts() {
    // The check above proves nothing if shellcheck silently did not run.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("w.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $FOO\n",
    )
    .expect("writes the workflow");
    assert_eq!(
        actionlint(dir.path(), &["w.yml"]),
        (
            Some(1),
            "w.yml:6:19: shellcheck reported issue in this script: SC2086:info:1:6: \
             Double quote to prevent globbing and word splitting [shellcheck]\n"
                .to_string()
        )
    );
}

/// Each job of a GitLab pipeline with a script, and the shell script its runner runs: its
/// `before_script` (its own or its `extends` template's) and `script`, one entry after the
/// other.
fn gitlab_job_scripts(pipeline: &Value) -> Vec<(String, String)> {
    let lines = |v: &Value| -> Vec<String> {
        v.as_sequence()
            .map(|s| s.iter().map(|l| as_str(l).to_string()).collect())
            .unwrap_or_default()
    };
    let mut jobs = Vec::new();
    for (name, job) in pipeline.as_mapping().expect("a mapping") {
        if job.get("script").is_none() {
            continue;
        }
        let template = &pipeline[as_str(&job["extends"])];
        let before = match job.get("before_script") {
            Some(own) => lines(own),
            None => lines(&template["before_script"]),
        };
        let mut script = String::from("#!/usr/bin/env bash\n");
        for line in before.iter().chain(&lines(&job["script"])) {
            script.push_str(line);
            script.push('\n');
        }
        jobs.push((as_str(name).to_string(), script));
    }
    jobs
}

#[test]
fn gitlab_scripts_pass_shellcheck() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for pipeline in ["gitlab-ci", "gitlab-ci-remote-state"] {
        let jobs = gitlab_job_scripts(&load(&format!("examples/ci/{pipeline}.yml")));
        assert!(jobs.len() >= 3, "{pipeline}: {jobs:?}");
        for (job, script) in jobs {
            let file = format!("{pipeline}.{job}.sh");
            std::fs::write(dir.path().join(&file), script).expect("writes the script");
            files.push(file);
        }
    }
    let out = std::process::Command::new(support::tools::linters().join("shellcheck"))
        .args(["--format=gcc", "--color=never"])
        .args(&files)
        .current_dir(dir.path())
        .output()
        .expect("runs shellcheck");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "", ""),
        "shellcheck over {files:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// pre-commit

/// The hooks that run the tool.
fn hooks() -> Vec<Value> {
    let manifest = load(".pre-commit-hooks.yaml");
    let hooks = manifest
        .as_sequence()
        .expect("the manifest is a list of hooks");
    let ours: Vec<Value> = hooks
        .iter()
        .filter(|h| as_str(&h["entry"]).split_whitespace().next() == Some("saleshandy-webhooks"))
        .cloned()
        .collect();
    assert!(!ours.is_empty(), "a hook's entry is saleshandy-webhooks");
    ours
}

/// The command line pre-commit runs: `entry` split like a shell does, then `args`, then the
/// staged files (unless `pass_filenames: false`), with the installed tool as the program.
fn precommit_argv(hook: &Value, files: &[&str]) -> Vec<String> {
    let mut argv: Vec<String> = as_str(&hook["entry"])
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    if let Some(args) = hook["args"].as_sequence() {
        argv.extend(args.iter().map(|a| as_str(a).to_string()));
    }
    if hook["pass_filenames"] != Value::Bool(false) {
        argv.extend(files.iter().map(|f| f.to_string()));
    }
    argv
}

#[test]
fn precommit_hooks_are_defined_for_validate() {
    for hook in hooks() {
        let id = as_str(&hook["id"]);
        assert!(!id.is_empty() && !as_str(&hook["name"]).is_empty());
        let language = as_str(&hook["language"]);
        assert!(
            matches!(language, "rust" | "system"),
            "{id}: language {language}"
        );
        let args = precommit_argv(&hook, &[]);
        assert!(args.iter().any(|a| a == "validate"), "{id} runs validate");
        // `validate -c FILE` takes one file: `files` names the default config alone.
        assert_eq!(as_str(&hook["files"]), r"^webhooks\.yaml$", "{id}");
    }
    let languages: Vec<String> = hooks()
        .iter()
        .map(|h| as_str(&h["language"]).to_string())
        .collect();
    assert!(
        languages.iter().any(|l| l == "rust"),
        "a hook builds the tool"
    );
}

#[test]
fn precommit_hook_validates_a_config_the_way_precommit_calls_it() {
    for hook in hooks() {
        // pre-commit runs from the top of the repository, with paths relative to it, of the
        // staged files that match `files`: here `webhooks.yaml`.
        let argv = precommit_argv(&hook, &["webhooks.yaml"]);
        let good = std::fs::read_to_string(root().join("tests/fixtures/good/minimal.yaml"))
            .expect("the fixture");
        World::new(&good)
            .test(&argv)
            .stdout("webhooks.yaml is valid: 1 webhook.\n")
            .run();
        let bad = std::fs::read_to_string(root().join("tests/fixtures/bad/event-unknown.yaml"))
            .expect("the fixture");
        World::new(&bad)
            .test(&argv)
            .status(1)
            .stderr_snapshot("ci-precommit-event-unknown")
            .run();
    }
}

// ---------------------------------------------------------------------------------------------
// Completions and --version

#[test]
fn completions_for_every_shell() {
    // Each script names the binary and every subcommand and option: the whole script is the
    // snapshot.
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        support::test(["completions", shell])
            .stdout_snapshot(&format!("ci-completions-{shell}"))
            .run();
    }
}

/// The completion script `completions SHELL` prints, in a file of `dir`.
fn completion_script(shell: &str, dir: &std::path::Path) -> PathBuf {
    let out = support::bin_process()
        .args(["completions", shell])
        .output()
        .expect("runs the binary");
    assert!(out.status.success(), "completions {shell}: {out:?}");
    let path = dir.join(format!("completions.{shell}"));
    std::fs::write(&path, &out.stdout).expect("writes the script");
    path
}

/// What bash offers for `line` (the cursor at its end), the way bash calls the function
/// the script registered for the binary: one completion a line.
fn bash_completes(script: &std::path::Path, line: &str) -> String {
    const DRIVER: &str = r#"
source "$1" || exit 1
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
spec=$(complete -p saleshandy-webhooks) || exit 1
function=${spec#*-F }
function=${function%% *}
"$function" saleshandy-webhooks "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", DRIVER, "bash"])
        .arg(script)
        .arg(line)
        .output()
        .expect("runs bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "bash for {line:?}: {out:?}"
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = completion_script("bash", dir.path());
    assert_eq!(bash_completes(&script, "saleshandy-webhooks pl"), "plan\n");
    assert_eq!(
        bash_completes(&script, "saleshandy-webhooks plan --fo"),
        "--format\n"
    );
    assert_eq!(
        bash_completes(&script, "saleshandy-webhooks state "),
        "-h\n-V\n--no-color\n--help\n--version\nlist\nshow\nimport\nmv\nrm\npush\npull\nhelp\n"
    );
    assert_eq!(
        bash_completes(&script, "saleshandy-webhooks apply --para"),
        "--parallelism\n"
    );
    assert_eq!(
        bash_completes(&script, "saleshandy-webhooks plan --format "),
        "human\njson\nmarkdown\ngithub\n"
    );
}

#[test]
fn zsh_loads_its_script_and_registers_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = completion_script("zsh", dir.path());
    let out = support::tools::shells()
        .zsh(&format!(
            "autoload -U compinit && compinit -u -D && source {} && print -r -- $_comps[saleshandy-webhooks]",
            script.display()
        ))
        .output()
        .expect("runs zsh");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "_saleshandy-webhooks\n", ""),
        "zsh"
    );
}

#[test]
fn fish_loads_its_script_and_completes_options() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = completion_script("fish", dir.path());
    let out = support::tools::shells()
        .fish(&format!(
            "source {} && complete -C 'saleshandy-webhooks apply --para'",
            script.display()
        ))
        .output()
        .expect("runs fish");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (
            Some(0),
            "--parallelism\tHow many creates to send at once (1 to 256). Results are reported in \
             config order either way\n",
            ""
        ),
        "fish"
    );
}

#[test]
fn completions_refuse_an_unknown_shell() {
    support::test(["completions", "tcsh"])
        .status(2)
        .stderr(
            "error: invalid value 'tcsh' for '<SHELL>'
  [possible values: bash, elvish, fish, powershell, zsh]

  tip: a similar value exists: 'zsh'

For more information, try '--help'.
",
        )
        .run();
}

#[test]
fn version_names_the_version_and_the_commit() {
    // The commit the build script recorded: 12 hex digits, or `unknown` outside a checkout.
    let commit = env!("SHW_GIT_COMMIT");
    assert!(
        commit == "unknown"
            || commit
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b)),
        "{commit:?}"
    );
    let line = format!(
        "saleshandy-webhooks {} (commit {commit})\n",
        env!("CARGO_PKG_VERSION")
    );
    support::test(["--version"]).stdout(&line).run();
    // The short flag too, and on a subcommand (propagated, named after it).
    support::test(["-V"]).stdout(&line).run();
    support::test(["validate", "--version"])
        .stdout(line.replacen("saleshandy-webhooks", "saleshandy-webhooks-validate", 1))
        .run();
}
