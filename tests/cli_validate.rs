//! `validate` end to end: the verdict in every format (valid, invalid, warnings, --strict),
//! standard input, a missing file, and text from the file that must never reach the output
//! raw (secrets, escape characters).

use crate::support::{self, Test, World};
use serde_json::json;

const WARN: &str = "tests/fixtures/warn/http-and-private.yaml";
const MANY_ERRORS: &str = "tests/fixtures/bad/many-errors.yaml";

/// `validate ARGS…` from the repository's root, with none of the variables the configs here
/// interpolate.
fn validate<I, S>(args: I) -> Test
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    support::test(["validate"])
        .args(args)
        .env_remove("TOKEN")
        .env_remove("HOOK_HOST")
}

#[test]
fn a_valid_file_exits_zero_and_says_so() {
    validate(["-c", "examples/webhooks.yaml"])
        .stdout("examples/webhooks.yaml is valid: 5 webhooks.\n")
        .run();
    validate(["-c", "tests/fixtures/good/minimal.yaml"])
        .stdout("tests/fixtures/good/minimal.yaml is valid: 1 webhook.\n")
        .run();
    // --strict only matters when there are warnings.
    validate(["--strict", "-c", "examples/webhooks.yaml"])
        .stdout("examples/webhooks.yaml is valid: 5 webhooks.\n")
        .run();
    // The machine formats say nothing about a file without problems.
    validate(["--format", "json", "-c", "examples/webhooks.yaml"])
        .stdout("[]\n")
        .run();
    validate(["--format", "github", "-c", "examples/webhooks.yaml"]).run();
}

#[test]
fn an_invalid_file_exits_one_with_located_errors() {
    // Every error with its location and help, then the verdict; no colour without a terminal.
    validate(["-c", MANY_ERRORS])
        .status(1)
        .stderr_snapshot("validate-many-errors-human")
        .run();
    validate(["--format", "github", "-c", MANY_ERRORS])
        .status(1)
        .stdout_snapshot("validate-many-errors-github")
        .run();
}

#[test]
fn warnings_pass_unless_strict() {
    let verdict = format!("{WARN} is valid: 3 webhooks, 4 warnings.\n");
    validate(["-c", WARN])
        .stdout(&verdict)
        .stderr_snapshot("validate-warnings-human")
        .run();
    // --strict fails on the same warnings, and the verdict says so, on standard error.
    validate(["--strict", "-c", WARN])
        .status(1)
        .stderr_snapshot("validate-warnings-strict-human")
        .run();
    for (strict, code) in [(false, 0), (true, 1)] {
        let with_strict = |t: Test| if strict { t.arg("--strict") } else { t };
        with_strict(validate(["--format", "json", "-c", WARN]))
            .status(code)
            .stdout_snapshot("validate-warnings-json")
            .run();
        with_strict(validate(["--format", "github", "-c", WARN]))
            .status(code)
            .stdout_snapshot("validate-warnings-github")
            .run();
    }
}

#[test]
fn json_lists_every_problem_with_its_location() {
    // Machine output goes to standard output alone.
    validate([
        "--format",
        "json",
        "-c",
        "tests/fixtures/bad/webhooks-missing.yaml",
    ])
    .status(1)
    .stdout_json(json!([
        {
            "severity": "error",
            "code": "config::missing_field",
            "message": "the config file has no `webhooks`",
            "file": "tests/fixtures/bad/webhooks-missing.yaml",
            "line": 1,
            "column": 1,
            "help": "add `webhooks:` with a list of webhooks (it may be `[]`)"
        },
        {
            "severity": "error",
            "code": "config::unknown_key",
            "message": "unknown key `hooks` in the top level",
            "file": "tests/fixtures/bad/webhooks-missing.yaml",
            "line": 2,
            "column": 1,
            "help": "did you mean `webhooks`? The keys allowed in the top level are `version`, `apiKeyEnv`, `state`, `webhooks`"
        }
    ]))
    .run();
}

#[test]
fn github_format_prints_workflow_commands() {
    validate([
        "--format",
        "github",
        "-c",
        "tests/fixtures/bad/event-unknown.yaml",
    ])
    .status(1)
    .stdout("::error file=tests/fixtures/bad/event-unknown.yaml,line=7,col=9,title=config%3A%3Aevent_unknown::unknown event `email-open`%0Ahelp: did you mean `email-opened`?\n")
    .run();
}

#[test]
fn dash_reads_standard_input() {
    validate(["-c", "-"])
        .stdin("version: 1\nwebhooks:\n  - name: x\n    url: https://example.org\n    events: [nope]\n")
        .status(1)
        .stderr_snapshot("validate-stdin-human")
        .run();
    validate(["-c", "-"])
        .stdin("version: 1\nwebhooks: []\n")
        .stdout("<stdin> is valid: 0 webhooks.\n")
        .run();
}

#[test]
fn a_missing_file_is_a_clear_error() {
    // The same human error whatever the format: there is no file to report on.
    for format in ["human", "json", "github"] {
        validate(["--format", format, "-c", "does-not-exist.yaml"])
            .status(1)
            .stderr_snapshot("validate-missing-file")
            .run();
    }
}

#[test]
fn the_default_file_is_webhooks_yaml() {
    let w = World::new("version: 1\nwebhooks: []\n");
    w.test(["validate"])
        .stdout("webhooks.yaml is valid: 0 webhooks.\n")
        .run();
}

#[test]
fn interpolated_values_are_never_printed() {
    let secret_host = "10.9.8.7";
    let text = "version: 1\nwebhooks:\n  - name: x\n    url: https://${HOOK_HOST}/hook\n    events: [email-sent]\n    headers:\n      X-Bad: \"${TOKEN}\"\n";
    for format in ["human", "json", "github"] {
        let t = validate(["--format", format, "-c", "-"])
            .env("HOOK_HOST", secret_host)
            .env("TOKEN", "line\nbreak-secret")
            .stdin(text)
            .status(1);
        // The private host is a warning and the line break an error, neither with its value.
        let name = format!("validate-secrets-{format}");
        let o = match format {
            "human" => t.stderr_snapshot(&name),
            _ => t.stdout_snapshot(&name),
        }
        .run();
        let all = support::output_text(&o);
        assert!(
            !all.contains(secret_host) && !all.contains("break-secret"),
            "{format}: a secret was printed:\n{all}"
        );
    }
}

#[test]
fn text_from_the_file_cannot_drive_the_terminal() {
    // YAML's `\e` is an escape character: echoed raw, it would reach the terminal.
    let text = "version: 1\nwebhooks:\n  - name: \"a\\e[2J\"\n    url: \"https://example.org/\\e[31m\"\n    events: [\"email\\e[5m\"]\n    headers: {\"X-\\e[1m\": v}\n    \"k\\e[7m\": 1\n";
    for format in ["human", "json", "github"] {
        let t = validate(["--format", format, "-c", "-"])
            .stdin(text)
            .status(1);
        let name = format!("validate-control-characters-{format}");
        let o = match format {
            "human" => t.stderr_snapshot(&name),
            _ => t.stdout_snapshot(&name),
        }
        .run();
        assert!(
            !support::output_text(&o).contains('\u{1b}'),
            "{format}: an escape character reached the output"
        );
    }
}

#[test]
fn validate_checks_the_state_location() {
    for (file, n) in [
        ("tests/fixtures/good/state-s3.yaml", 1),
        ("tests/fixtures/good/state-relative.yaml", 1),
    ] {
        validate(["-c", file])
            .stdout(format!("{file} is valid: {n} webhook.\n"))
            .run();
        validate(["--format", "json", "-c", file])
            .stdout("[]\n")
            .run();
    }
    // `${…}` is refused, not resolved, even when the variable is set.
    let file = "tests/fixtures/bad/state-interpolation.yaml";
    validate(["--format", "json", "-c", file])
        .env("STATE_BUCKET", "acme-infra")
        .status(1)
        .stdout_json(json!([{
            "severity": "error",
            "code": "config::state_interpolation",
            "message": "`state` cannot use `${…}`: the state location must be readable without the environment's secrets",
            "file": file,
            "line": 2,
            "column": 8,
            "help": "write the location itself, e.g. `state: s3://acme-infra/saleshandy/prod.state.json`, so that `validate` and `plan` know it; to pick it per run, pass `--state` instead"
        }]))
        .run();
    let file = "tests/fixtures/bad/state-scheme-gs.yaml";
    validate(["--format", "github", "-c", file])
        .status(1)
        .stdout(format!("::error file={file},line=2,col=8,title=config%3A%3Astate::invalid `state`: `gs://` (Google Cloud Storage) is not supported: its conditional writes could not be tested for this tool; keep the state on S3 or an S3-compatible store (`s3://BUCKET/KEY`), on Azure Blob Storage (`az://CONTAINER/KEY`), or in a local file%0Ahelp: write `state: s3://BUCKET/KEY` for S3 or an S3-compatible store, `state: az://CONTAINER/KEY` for Azure Blob Storage, or a local path such as `state: prod.state.json` (relative to this file's folder)\n"))
        .run();
}

#[test]
fn a_bad_state_is_reported_with_every_other_error() {
    // A type error for `state`, a bad event and an unknown key: all three, in file order.
    validate(["-c", "-"])
        .stdin("version: 1\nstate: [s3://acme-infra/prod.state.json]\nwebhooks:\n  - name: x\n    url: https://example.org\n    events: [nope]\nstat: x\n")
        .status(1)
        .stderr_snapshot("validate-state-human")
        .run();
}

/// A variable that is set but empty is a missing secret (CI expands an unset secret to an
/// empty string): an error naming it, unless the config allows it with `${NAME:-}`.
#[test]
fn an_empty_variable_is_an_error_unless_the_config_allows_it() {
    let header = |value: &str| {
        format!("version: 1\nwebhooks:\n  - name: Sent\n    url: https://x.example.org/h\n    events: [email-sent]\n    headers:\n      Authorization: \"{value}\"\n")
    };
    let strict = crate::support::World::builder()
        .config(&header("Bearer ${TOKEN}"))
        .env("TOKEN", "")
        .build();
    strict
        .test(["validate"])
        .status(1)
        .stderr_snapshot("validate-env-empty")
        .run();
    let allowed = crate::support::World::builder()
        .config(&header("${TOKEN:-}"))
        .env("TOKEN", "")
        .build();
    allowed
        .test(["validate"])
        .stdout("webhooks.yaml is valid: 1 webhook.\n")
        .run();
}

/// A line too long to draw (a minified or garbage file) is reported with its line and column
/// and no snippet: miette panicked past column 65,535, and echoed whole lines of any size.
#[test]
fn a_problem_on_a_line_too_long_to_show_is_located_without_a_snippet() {
    let wide = format!(
        "version: 1\nwebhooks:\n  - name: x\n    url: https://x.example.org/h\n    events: [email-sent]\n    headers: {{{}X-Z: 1 1 1: :}}\n",
        "X-A: b, ".repeat(12_000)
    );
    let w = crate::support::World::builder().config(&wide).build();
    w.test(["validate"])
        .status(1)
        .stderr_snapshot("validate-line-too-long")
        .run();
    // The same for a state file that does not parse.
    std::fs::write(
        w.state_path(),
        format!("{{\"lineage\": \"{}\", \"bad\": }}", "x".repeat(70_000)),
    )
    .expect("state");
    std::fs::write(w.config_path(), "version: 1\nwebhooks: []\n").expect("config");
    w.plan()
        .status(1)
        .stderr_snapshot("plan-state-line-too-long")
        .run();
    // Early on a long line: the rest of the line is not echoed either.
    std::fs::write(
        w.state_path(),
        format!("{{\"version\":1,{}}}", "x".repeat(70_000)),
    )
    .expect("state");
    w.plan()
        .status(1)
        .stderr_snapshot("plan-state-early-on-a-long-line")
        .run();
}

/// `validate` runs where the secrets are not (a pre-commit hook on a laptop): an unset
/// variable is named in one line, not an error; `--require-env` makes it one, as `plan` and
/// `apply` do.
#[test]
fn unset_variables_are_listed_offline_and_errors_with_require_env() {
    let text = "version: 1\nwebhooks:\n  - name: Sent\n    url: https://${HOOK_HOST}/h?k=${HOOK_KEY}\n    events: [email-sent]\n    headers:\n      Authorization: \"Bearer ${TOKEN}\"\n      X-Optional: \"${OPTIONAL:-}\"\n  - name: Opened\n    url: https://x.example.org/o\n    events: [email-opened]\n    headers:\n      Authorization: \"Bearer ${TOKEN}\"\n";
    validate(["-c", "-"])
        .env_remove("HOOK_KEY")
        .env_remove("OPTIONAL")
        .stdin(text)
        .stdout("<stdin> is valid: 2 webhooks.\n")
        .stderr("<stdin>: `plan` and `apply` will need the variables HOOK_HOST, HOOK_KEY, TOKEN, not set here (`validate --require-env` checks them).\n")
        .run();
    // One variable, the others set: its name alone. A malformed name is still an error.
    validate(["-c", "-"])
        .env("HOOK_HOST", "hooks.example.org")
        .env("HOOK_KEY", "k")
        .stdin(text)
        .stdout("<stdin> is valid: 2 webhooks.\n")
        .stderr("<stdin>: `plan` and `apply` will need the variable TOKEN, not set here (`validate --require-env` checks it).\n")
        .run();
    validate(["-c", "-"])
        .stdin("version: 1\nwebhooks:\n  - name: Sent\n    url: https://x.example.org/${1HOST}\n    events: [email-sent]\n")
        .status(1)
        .stderr_snapshot("validate-env-name-syntax")
        .run();
    // `--require-env`: each unset variable is an error, at its place, as before.
    validate(["--require-env", "-c", "-"])
        .env("HOOK_HOST", "hooks.example.org")
        .env("HOOK_KEY", "k")
        .stdin(text)
        .status(1)
        .stderr_snapshot("validate-require-env")
        .run();
    // Everything set: nothing to say.
    validate(["--require-env", "-c", "-"])
        .env("HOOK_HOST", "hooks.example.org")
        .env("HOOK_KEY", "k")
        .env("TOKEN", "t")
        .stdin(text)
        .stdout("<stdin> is valid: 2 webhooks.\n")
        .run();
    // `plan` still needs them.
    let w = World::builder()
        .config(text)
        .env_remove("TOKEN")
        .env("HOOK_HOST", "hooks.example.org")
        .env("HOOK_KEY", "k")
        .build();
    w.plan().status(1).stderr_snapshot("plan-env-unset").run();
}

/// The parser's common errors, said as what to fix, at the line to fix; each case's whole
/// output is in its snapshot.
#[test]
fn common_yaml_mistakes_are_explained_at_the_line_to_fix() {
    let start = "version: 1\nwebhooks:\n";
    let hook = "  - name: a\n    url: https://x.example.org\n    events: [email-sent]\n";
    for (name, text) in [
        // The tab is on line 4; the parser stopped on line 3.
        ("tab-indentation", format!("{start}  - name: a\n\turl: https://x.example.org\n    events: [email-sent]\n")),
        ("item-indented-less", format!("{start}{hook} - name: b\n    url: https://y.example.org\n    events: [email-sent]\n")),
        ("item-indented-more", format!("{start}{hook}   - name: b\n")),
        ("key-indented-less", format!("{start}  - name: a\n    url: https://x.example.org\n   events: [email-sent]\n")),
        ("key-indented-more", format!("{start}  - name: a\n    url: https://x.example.org\n      events: [email-sent]\n")),
        ("unclosed-quote", format!("{start}  - name: \"a\n    url: https://x.example.org\n    events: [email-sent]\n")),
        ("unclosed-quote-at-end", format!("{start}  - name: 'a\n")),
        ("unclosed-list", format!("{start}  - name: a\n    url: https://x.example.org\n    events: [email-sent, email-opened\n  - name: b\n")),
        ("unclosed-mapping-at-end", format!("{start}  - name: a\n    url: https://x.example.org\n    headers: {{X-A: b\n")),
        ("no-space-after-colon", format!("{start}  - name: a\n    url:https://x.example.org\n    events: [email-sent]\n")),
        ("no-space-after-colon-top", "version:1\nwebhooks: []\n".to_string()),
        ("two-dashes", format!("{start}  - - name: a\n    url: https://x.example.org\n")),
    ] {
        validate(["-c", "-"])
            .stdin(text)
            .status(1)
            .stderr_snapshot(&format!("validate-yaml-{name}"))
            .run();
    }
}
