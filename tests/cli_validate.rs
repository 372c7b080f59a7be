//! `validate` end to end: exit codes, formats, standard input, --strict, secrets.

use crate::support::{bin, output_text, stderr_text, stdout_text};
use assert_cmd::Command;

fn cmd() -> Command {
    let mut c = bin();
    c.env_remove("TOKEN");
    c
}

#[test]
fn a_valid_file_exits_zero_and_says_so() {
    let o = cmd()
        .args(["validate", "-c", "examples/webhooks.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr_text(&o));
    assert_eq!(
        stdout_text(&o),
        "examples/webhooks.yaml is valid: 5 webhooks.\n"
    );
}

#[test]
fn an_invalid_file_exits_one_with_located_errors() {
    let o = cmd()
        .args(["validate", "-c", "tests/fixtures/bad/many-errors.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr_text(&o);
    assert!(
        err.contains("[tests/fixtures/bad/many-errors.yaml:5:14]"),
        "{err}"
    );
    assert!(err.contains("did you mean `email-sent`?"), "{err}");
    assert!(
        err.ends_with("tests/fixtures/bad/many-errors.yaml is not valid: 5 errors.\n"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "colour without a terminal");
}

#[test]
fn warnings_pass_unless_strict() {
    let f = "tests/fixtures/warn/http-and-private.yaml";
    let o = cmd().args(["validate", "-c", f]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout_text(&o).ends_with("is valid: 3 webhooks, 4 warnings.\n"),
        "{}",
        stdout_text(&o)
    );
    let o = cmd()
        .args(["validate", "--strict", "-c", f])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn json_lists_every_problem_with_its_location() {
    let o = cmd()
        .args([
            "validate",
            "--format",
            "json",
            "-c",
            "tests/fixtures/bad/webhooks-missing.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_text(&o).is_empty(),
        "machine output goes to stdout alone"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let list = v.as_array().expect("a list");
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[1],
        serde_json::json!({
            "severity": "error",
            "code": "config::unknown_key",
            "message": "unknown key `hooks` in the top level",
            "file": "tests/fixtures/bad/webhooks-missing.yaml",
            "line": 2,
            "column": 1,
            "help": "did you mean `webhooks`? The keys allowed in the top level are `version`, `apiKeyEnv`, `webhooks`"
        })
    );
}

#[test]
fn github_format_prints_workflow_commands() {
    let o = cmd()
        .args([
            "validate",
            "--format",
            "github",
            "-c",
            "tests/fixtures/bad/event-unknown.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout_text(&o),
        "::error file=tests/fixtures/bad/event-unknown.yaml,line=7,col=9,title=config%3A%3Aevent_unknown::unknown event `email-open`%0Ahelp: did you mean `email-opened`?\n"
    );
}

#[test]
fn dash_reads_standard_input() {
    let o = cmd()
        .args(["validate", "-c", "-"])
        .write_stdin("version: 1\nwebhooks:\n  - name: x\n    url: https://example.org\n    events: [nope]\n")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_text(&o).contains("[<stdin>:5:14]"),
        "{}",
        stderr_text(&o)
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let o = cmd()
        .args(["validate", "-c", "does-not-exist.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr_text(&o);
    assert!(
        err.contains("cannot read the config file `does-not-exist.yaml`"),
        "{err}"
    );
    assert!(err.contains("-c FILE"), "{err}");
}

#[test]
fn the_default_file_is_webhooks_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("webhooks.yaml"),
        "version: 1\nwebhooks: []\n",
    )
    .unwrap();
    let o = cmd()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr_text(&o));
    assert_eq!(stdout_text(&o), "webhooks.yaml is valid: 0 webhooks.\n");
}

#[test]
fn interpolated_values_are_never_printed() {
    let secret_host = "10.9.8.7";
    let text = "version: 1\nwebhooks:\n  - name: x\n    url: https://${HOOK_HOST}/hook\n    events: [email-sent]\n    headers:\n      X-Bad: \"${TOKEN}\"\n";
    for format in ["human", "json", "github"] {
        let o = cmd()
            .args(["validate", "--format", format, "-c", "-"])
            .env("HOOK_HOST", secret_host)
            .env("TOKEN", "line\nbreak-secret")
            .write_stdin(text)
            .output()
            .unwrap();
        let all = stdout_text(&o) + &stderr_text(&o);
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(
            all.contains("url_unreachable") && all.contains("header_value_invalid"),
            "{all}"
        );
        assert!(
            !all.contains(secret_host) && !all.contains("break-secret"),
            "{format}: {all}"
        );
    }
}

#[test]
fn text_from_the_file_cannot_drive_the_terminal() {
    // YAML's `\e` is an escape character: echoed raw, it would reach the terminal.
    let text = "version: 1\nwebhooks:\n  - name: \"a\\e[2J\"\n    url: \"https://example.org/\\e[31m\"\n    events: [\"email\\e[5m\"]\n    headers: {\"X-\\e[1m\": v}\n    \"k\\e[7m\": 1\n";
    for format in ["human", "github"] {
        let o = cmd()
            .args(["validate", "--format", format, "-c", "-"])
            .write_stdin(text)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let all = output_text(&o);
        assert!(all.contains("name_control"), "{all}");
        assert!(
            !all.contains('\u{1b}'),
            "{format}: an escape character reached the output:\n{all}"
        );
    }
}
