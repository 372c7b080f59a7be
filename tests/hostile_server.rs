//! A server that says hostile things: escape sequences, CI workflow commands after a line
//! break, and the secrets of the request it echoes back. Whatever it says reaches the
//! terminal, `--format json`, a CI log and the state only as safe text: no control character,
//! no line that starts a workflow command, no secret.

use std::process::Output;

use crate::support::scripted::{self, Answer, Request};
use crate::support::{snapshot, World};

const KEY: &str = "live-api-key-7f3a";
const TOKEN: &str = "hook/token+value";

const CONFIG: &str = "version: 1
webhooks:
  - name: Only
    url: https://only.example.org/hook?token=${HOOK_TOKEN}
    events: [task-created]
    headers:
      Authorization: \"Bearer ${HOOK_TOKEN}\"
";

/// Everything hostile at once, as a JSON string's content: an OSC 52 clipboard write, a
/// clear screen, a bell, a GitHub Actions command after a line break, and the request's
/// secrets echoed as sent, percent-encoded and JSON-escaped.
const HOSTILE: &str = r#"bad \u001b]52;c;ZXZpbA==\u0007 \u001b[2Jurl\u0007\n::error title=X::y\r\n##[warning]z for https://only.example.org/hook?token=hook/token+value (hook%2Ftoken%2Bvalue, hook\/token+value), key live-api-key-7f3a"#;

fn world() -> World {
    World::builder()
        .config(CONFIG)
        .key(KEY)
        .env("HOOK_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .build()
}

/// The same as the server would write it: `{"message": HOSTILE}`.
fn message(status: u16) -> Answer {
    Answer::json(status, &format!(r#"{{"message":"{HOSTILE}"}}"#))
}

/// No control character but line ends, no line a CI runner would take as a command, and no
/// secret, in `bytes`.
fn assert_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        assert!(!c.is_control() || c == '\n', "{what} holds {c:?}:\n{text}");
    }
    for line in text.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") && !line.contains("##["),
            "{what} has a workflow command:\n{line}"
        );
    }
    for secret in [KEY, TOKEN, "hook%2Ftoken%2Bvalue", "hook\\/token+value"] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked into {what}:\n{text}"
        );
    }
}

fn assert_output_safe(label: &str, o: &Output) {
    assert_safe(&format!("stdout of {label}"), &o.stdout);
    assert_safe(&format!("stderr of {label}"), &o.stderr);
}

/// The state file (and any other file the run left) holds no secret nor raw control text.
fn assert_files_safe(w: &World) {
    for entry in std::fs::read_dir(w.dir.path()).expect("dir").flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "webhooks.yaml") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert_safe(&path.display().to_string(), &bytes);
        // JSON keeps escapes as text: `\u001b` in a file is a raw escape once decoded.
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("\\u001b") && !text.contains("\\u0007"),
            "{text}"
        );
    }
}

#[test]
fn a_refusal_full_of_escapes_commands_and_secrets_is_shown_and_kept_safe() {
    let w = world();
    let server = scripted::serve(|_| message(400));
    let o = w
        .apply()
        .args(["--api-url", &server.url])
        .status(1)
        .stdout_snapshot("hostile-refusal")
        .stderr("[1/1] failed: Only\n")
        .run();
    assert_output_safe("apply", &o);
    let o = w
        .apply()
        .args(["--api-url", &server.url, "--format", "json"])
        .status(1)
        .stdout_json_snapshot("hostile-refusal-json")
        .run();
    assert_output_safe("apply --format json", &o);
    assert_eq!(server.lines(), ["POST /v1/webhook/create"; 2]);
    assert_files_safe(&w);
}

#[test]
fn a_5xx_echoing_the_request_leaves_a_safe_unknown_in_the_state_and_every_view_of_it() {
    let w = world();
    // An error page that echoes the whole request body, as some frameworks do.
    let server = scripted::serve(|r: &Request| {
        let echoed = String::from_utf8_lossy(&r.body).into_owned();
        Answer::html(
            502,
            &format!("<html><h1>Bad gateway</h1>\n\u{1b}[2J<pre>{echoed}</pre>\n::error::x</html>"),
        )
    });
    let o = w
        .apply()
        .args(["--api-url", &server.url])
        .status(1)
        .stdout_snapshot("hostile-5xx-echo")
        .stderr("[1/1] unknown: Only\n")
        .run();
    assert_output_safe("apply", &o);
    assert_files_safe(&w);
    let reason = w.state_json()["unknown"]["Only"]["reason"].clone();
    snapshot(
        "hostile-5xx-echo-reason",
        reason.as_str().unwrap_or_default(),
    );

    for (label, args) in [
        ("plan", vec!["plan"]),
        ("state list", vec!["state", "list"]),
        ("state show", vec!["state", "show", "Only"]),
    ] {
        let o = w
            .test(args)
            .env("SALESHANDY_API_URL", &server.url)
            .stdout_snapshot(&format!("hostile-5xx-echo-{}", label.replace(' ', "-")))
            .stderr_unchecked()
            .run();
        assert_output_safe(label, &o);
    }
}

#[test]
fn status_shows_and_records_a_hostile_live_webhook_safely() {
    let w = world();
    let server = scripted::serve(|r: &Request| match r.method.as_str() {
        "POST" => Answer::json(201, r#"{"payload":{"id":"abc123","status":"active"}}"#),
        _ => Answer::json(
            200,
            &format!(
                r#"{{"payload":{{"id":"abc123","name":"Only\u001b[31m edited\n::error::n",
                "webhookUrl":"https://evil.example/?t=hook%2Ftoken%2Bvalue\u0007",
                "webhookEvent":["task-created","\u001b[2Jx"],"headers":{{"Authorization":"Bearer hook/token+value"}},
                "status":"odd\u0007\n::warning::s","failed":true,
                "lastFailure":{{"failedAt":"2026-12-01T00:00:00Z\u001b[2J","statusCode":500,"message":"{HOSTILE}"}}}}}}"#
            ),
        ),
    });
    w.apply()
        .args(["--api-url", &server.url])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert_eq!(w.state_json()["webhooks"]["Only"]["id"], "abc123");

    let o = w
        .status()
        .args(["--api-url", &server.url])
        .stdout_snapshot("hostile-status")
        .stderr_unchecked()
        .run();
    assert_output_safe("status", &o);
    let o = w
        .status()
        .args(["--api-url", &server.url, "--format", "json"])
        .stdout_json_snapshot("hostile-status-json")
        .stderr_unchecked()
        .run();
    assert_output_safe("status --format json", &o);
    let o = w
        .status()
        .args(["--api-url", &server.url, "--update-state"])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert_output_safe("status --update-state", &o);
    assert_files_safe(&w);
    let check = serde_json::to_string_pretty(&w.state_json()["checks"]).expect("json");
    snapshot("hostile-status-recorded-check", &w.filtered(&check));
    let o = w
        .state(["show", "Only"])
        .stdout_snapshot("hostile-status-state-show")
        .run();
    assert_output_safe("state show", &o);
}

#[test]
fn a_state_holding_raw_server_text_from_another_writer_is_shown_safe() {
    let w = world();
    std::fs::write(
        w.state_path(),
        r#"{"version":1,"lineage":"l-1","serial":3,"endpoint":"http://127.0.0.1:9",
  "webhooks":{},
  "unknown":{"Only":{"since":"2026-12-01T00:00:00Z","reason":"HTTP 500: \u001b]52;c;ZXZpbA==\u0007\n::error::x",
    "sent":{"url":"https://only.example.org/","events":["task-created"],"headers":{}}}}}
"#,
    )
    .expect("state");
    for (label, args) in [
        ("state list", vec!["state", "list"]),
        ("state show", vec!["state", "show", "Only"]),
    ] {
        let o = w
            .test(args)
            .stdout_snapshot(&format!("hostile-old-state-{}", label.replace(' ', "-")))
            .run();
        assert_output_safe(label, &o);
    }
}

// --- any answer at all ---------------------------------------------------------------------

use proptest::prelude::*;

/// A secret of the run as a server might echo it.
fn echoed() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(TOKEN.to_string()),
        Just("hook%2Ftoken%2Bvalue".to_string()),
        Just("hook\\/token+value".to_string()),
        Just(KEY.to_string()),
    ]
}

/// Arbitrary text around a secret, with control characters and workflow-command pieces.
fn hostile_text() -> impl Strategy<Value = String> {
    (
        any::<String>(),
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}:#\\n\\r ]{0,8}",
        echoed(),
        any::<String>(),
    )
        .prop_map(|(a, noise, s, b)| format!("{a}{noise}::error::{noise}{s}{b}"))
}

/// What the server answers to a create: a usable id with hostile text beside it, arbitrary
/// bytes, or a JSON error message.
fn create_answer() -> impl Strategy<Value = (u16, Vec<u8>)> {
    prop_oneof![
        (hostile_text(), hostile_text()).prop_map(|(status, delivery)| (
            201,
            serde_json::json!({"payload": {"id": "abc123", "status": status, "testDelivery": {"status": delivery}}})
                .to_string()
                .into_bytes()
        )),
        (100u16..600, proptest::collection::vec(any::<u8>(), 0..400), echoed())
            .prop_map(|(status, mut bytes, s)| {
                bytes.extend(s.into_bytes());
                (status, bytes)
            }),
        (400u16..600, hostile_text()).prop_map(|(status, m)| (
            status,
            serde_json::json!({"message": m}).to_string().into_bytes()
        )),
    ]
}

/// What the server answers to a read: a live webhook full of hostile text, or anything.
fn read_answer() -> impl Strategy<Value = (u16, Vec<u8>)> {
    prop_oneof![
        (hostile_text(), hostile_text(), hostile_text()).prop_map(|(name, status, message)| (
            200,
            serde_json::json!({"payload": {
                "id": "abc123", "name": name, "webhookUrl": message, "webhookEvent": [status],
                "headers": {"Authorization": message}, "status": status, "failed": true,
                "lastFailure": {"failedAt": name, "statusCode": 500, "message": message},
            }})
            .to_string()
            .into_bytes()
        )),
        (100u16..600, proptest::collection::vec(any::<u8>(), 0..400)),
    ]
}

/// No panic: a panic exits 101 and says so.
fn assert_no_panic(label: &str, o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() != Some(101) && !err.contains("panicked"),
        "{label} panicked:\n{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the server answers to create and to read, apply, status, status
    /// --update-state, plan and the state commands neither panic nor show or store a control
    /// character, a workflow command or a secret.
    #[test]
    fn any_answer_to_create_and_read_is_shown_and_stored_safely(
        create in create_answer(),
        read in read_answer(),
    ) {
        let w = world();
        let server = scripted::serve(move |r: &Request| {
            let (status, body) = if r.method == "POST" { &create } else { &read };
            Answer { status: *status, content_type: "application/json", body: body.clone() }
        });
        let url = server.url.as_str();
        let runs: [(&str, Vec<&str>); 6] = [
            ("apply", vec!["apply", "--auto-approve", "--api-url", url]),
            ("status", vec!["status", "--api-url", url]),
            ("status --update-state", vec!["status", "--update-state", "--api-url", url]),
            ("plan", vec!["plan"]),
            ("state list", vec!["state", "list"]),
            ("state show", vec!["state", "show", "Only"]),
        ];
        for (label, args) in runs {
            let o = w.run(&args);
            assert_no_panic(label, &o);
            assert_output_safe(label, &o);
        }
        assert_files_safe(&w);
    }
}
