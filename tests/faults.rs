//! `apply` against a misbehaving API: every fault the sandbox can inject, one test each,
//! asserting what a user notices — the exit code, the message, how many creates reached the
//! server, and what the state records. Also: no secret ever reaches an output or a file.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{flat_output, output_text, World, THREE_HOOKS as CONFIG};
use saleshandy_webhooks::emulator::{Fault, Target};
use serde_json::{json, Value};

const TOKEN: &str = "hook-token-value";

/// A single webhook, for faults whose cost is per request.
const ONE: &str = "version: 1
webhooks:
  - name: Only
    url: https://only.example.org/hook
    events: [task-created]
";

fn world(config: &str) -> World {
    World::with_hook_token(config, TOKEN)
}

impl World {
    /// How many create requests named `name` reached the server.
    fn creates_of(&self, name: &str) -> usize {
        self.creates()
            .iter()
            .filter(|r| r.json().is_some_and(|b| b["name"] == name))
            .count()
    }
}

/// The plan part of a first apply of [`ONE`].
const PLAN_ONE: &str =
    "Plan for webhooks.yaml against webhooks.state.json (no state yet: first apply)

  + Only  (will be created)
      + url: https://only.example.org/hook
      + events:
      +   - task-created

Plan: 1 to create, 0 unchanged, 0 changed, 0 orphaned, 0 unknown.

Creating 1 webhook in http://127.0.0.1:[PORT]…

";

/// What an apply of [`ONE`] says after the answer left `Only` unknown.
const STOPPED_UNKNOWN: &str = "
Stopped: the answer to `Only` left it unknown, and each further create could add another webhook in doubt
Check that `http://127.0.0.1:[PORT]` is the Saleshandy API (--api-url, or SALESHANDY_API_URL) and that it is healthy; resolve the unknown ones as `saleshandy-webhooks plan` says; the next apply sends the creates that were not sent
No further create was sent.
";

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_webhook_created_once() {
    let w = world(ONE);
    // 30 s on the test clock (a hundredth): far longer than any backoff the tool picks itself.
    w.sandbox.inject(
        Target::Any,
        Fault::TooManyRequests {
            retry_after: Some(30),
        },
    );
    w.apply()
        .stdout(format!(
            "{PLAN_ONE}  ✓ Only  created, id [ID]\n\nApply: 1 created (0 paused), 0 failed, 0 unknown, 0 not sent. State: webhooks.state.json\n"
        ))
        .stderr("[1/1] created: Only\n")
        .run();
    let creates = w.creates();
    assert_eq!(creates.len(), 2, "one 429, then one create");
    let waited = creates[1].received_at - creates[0].received_at;
    assert!(
        waited >= Duration::from_millis(300),
        "Retry-After: 30 (300 ms on the test clock) was honoured; the retry came after {waited:?}"
    );
    assert_eq!(w.server_ids("Only").len(), 1, "created exactly once");
    assert_eq!(
        w.state_json()["webhooks"]["Only"]["id"],
        json!(w.server_ids("Only")[0])
    );
    assert_eq!(w.state_json()["unknown"], json!({}));
}

#[test]
fn a_5xx_is_unknown_never_retried_nor_resent_and_plan_says_how_to_resolve_it() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Replies".into()), Fault::ServerError(503));
    w.apply()
        .args(["--parallelism", "1"])
        .status(1)
        .stdout_snapshot("faults-5xx-apply")
        .stderr("[1/3] created: Email Sent\n[2/3] unknown: Replies\n")
        .run();
    assert_eq!(w.creates_of("Replies"), 1, "a 5xx is not retried");
    assert_eq!(
        w.creates_of("Bounces"),
        0,
        "nothing is sent after an unknown"
    );
    assert!(w.server_ids("Replies").is_empty());
    let state = w.state_json();
    crate::support::snapshot(
        "faults-5xx-state-unknown",
        &w.filtered(&format!("{:#}\n", state["unknown"])),
    );
    assert!(state["webhooks"].get("Replies").is_none());
    assert!(state["webhooks"]["Email Sent"]["id"].is_string());

    w.apply()
        .stdout_snapshot("faults-5xx-apply-again")
        .stderr("[1/1] created: Bounces\n")
        .run();
    assert_eq!(w.creates_of("Replies"), 1, "an unknown is never sent again");
    assert_eq!(w.sandbox.create_requests(), 3);

    w.plan().stdout_snapshot("faults-5xx-plan").run();
}

#[test]
fn a_dropped_answer_is_unknown_not_resent_and_state_import_resolves_it() {
    let w = world(CONFIG);
    w.sandbox
        .inject(Target::Name("Email Sent".into()), Fault::DropAfterCreate);
    w.apply()
        .args(["--parallelism", "1"])
        .status(1)
        .stdout_snapshot("faults-dropped-apply")
        .stderr("[1/3] unknown: Email Sent\n")
        .run();
    assert_eq!(
        w.sandbox.create_requests(),
        1,
        "nothing is sent after an unknown"
    );
    let ids = w.server_ids("Email Sent");
    assert_eq!(ids.len(), 1, "the server has the webhook");
    assert!(w.state_json()["unknown"]["Email Sent"].is_object());
    assert!(w.state_json()["webhooks"].get("Email Sent").is_none());

    w.apply()
        .stdout_snapshot("faults-dropped-apply-again")
        .stderr("[1/2] created: Replies\n[2/2] created: Bounces\n")
        .run();
    assert_eq!(w.server_ids("Email Sent").len(), 1, "not created twice");
    assert_eq!(w.creates_of("Email Sent"), 1);

    w.state(["import", "Email Sent", &ids[0]])
        .stdout_snapshot("faults-dropped-import")
        .run();
    let state = w.state_json();
    assert_eq!(state["webhooks"]["Email Sent"]["id"], json!(ids[0]));
    assert_eq!(state["unknown"], json!({}));
    assert_eq!(w.creates_of("Email Sent"), 1, "import sends no create");

    let o = w
        .plan()
        .args(["--format", "json", "--detailed-exitcode"])
        .stdout_unchecked()
        .run();
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON plan");
    assert_eq!(
        v["summary"],
        json!({"create": 0, "unchanged": 3, "changed": 0, "orphaned": 0, "unknown": 0}),
        "the imported webhook (secret header included) matches the config"
    );
    assert_eq!(v["needs_person"], json!(false));
}

#[test]
fn a_201_with_a_garbage_body_is_unknown() {
    let w = world(ONE);
    w.sandbox.inject(Target::Any, Fault::GarbageBody);
    w.apply()
        .args(["--format", "json"])
        .status(1)
        .stdout_json(json!({
            "format_version": 1,
            "endpoint": w.sandbox.url(),
            "state": "webhooks.state.json",
            "webhooks": [{
                "name": "Only",
                "result": "unknown",
                "reason": "HTTP 201 without a usable webhook id: <html><body>Webhook created... probably</body></html>",
            }],
            "stopped": format!("the answer to `Only` left it unknown, and each further create could add another webhook in doubt\nCheck that `{}` is the Saleshandy API (--api-url, or SALESHANDY_API_URL) and that it is healthy; resolve the unknown ones as `saleshandy-webhooks plan` says; the next apply sends the creates that were not sent", w.sandbox.url()),
        }))
        .run();
    assert_eq!(w.sandbox.create_requests(), 1);
    assert_eq!(w.server_ids("Only").len(), 1, "it was created server-side");
    let state = w.state_json();
    assert!(state["unknown"]["Only"].is_object(), "{state:#}");
    assert!(state["webhooks"].get("Only").is_none());
}

#[test]
fn a_server_slower_than_the_timeout_is_unknown_and_not_retried() {
    let w = world(ONE);
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(3)));
    w.apply()
        .args(["--timeout", "1"])
        .status(1)
        .stdout(format!("{PLAN_ONE}  ? Only  unknown: the request was sent but no answer came back (operation timed out)
      The webhook may exist. It was recorded as unknown and will not be sent again on its own: `saleshandy-webhooks plan` says how to resolve it (state import / state rm).
{STOPPED_UNKNOWN}
Apply: 0 created (0 paused), 0 failed, 1 unknown, 0 not sent. State: webhooks.state.json
"))
        .stderr("[1/1] unknown: Only\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 1, "a timeout is not retried");
    assert!(w.state_json()["unknown"]["Only"].is_object());
}

#[test]
fn a_redirect_is_not_followed_and_the_other_host_hears_nothing() {
    let w = world(ONE);
    // A second local server that counts every connection it gets.
    let hits = Arc::new(AtomicUsize::new(0));
    let listener =
        w.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
    let elsewhere = listener.local_addr().expect("addr");
    let counter = Arc::clone(&hits);
    w.rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let location = format!("http://{elsewhere}/v1/webhook/create");
    w.sandbox.inject(
        Target::Any,
        Fault::Redirect {
            status: 307,
            location: location.clone(),
        },
    );
    w.apply()
        .status(1)
        .stdout(format!("{PLAN_ONE}  ✗ Only  failed: HTTP 307 redirect to http://127.0.0.1:[PORT]/v1/webhook/create; redirects are never followed, so the API key stays with the API host. Check --api-url
      Nothing was created; fix the cause and apply again.

Stopped: the answer to `Only` is not one the Saleshandy API gives
Check that `http://127.0.0.1:[PORT]` is the Saleshandy API's base URL (--api-url, or SALESHANDY_API_URL; by default https://open-api.saleshandy.com); nothing was created, and the next apply sends the creates that were not sent
No further create was sent.

Apply: 0 created (0 paused), 1 failed, 0 unknown, 0 not sent. State: not written (nothing to record): webhooks.state.json is unchanged.
"))
        .stderr("[1/1] failed: Only\n")
        .run();
    // A connection the client had started would have been accepted by now.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other host got no connection, hence never the key"
    );
    assert_eq!(w.sandbox.create_requests(), 1);
    assert!(w.sandbox.webhooks().is_empty());
    assert!(
        !w.state_path().exists(),
        "nothing to record: no state written"
    );
}

#[test]
fn a_huge_error_body_is_reported_as_a_short_excerpt() {
    let w = world(ONE);
    w.sandbox.inject(
        Target::Any,
        Fault::Reject {
            status: 400,
            message: "x".repeat(3_000_000),
        },
    );
    w.apply()
        .status(1)
        .stdout_snapshot("faults-huge-error-body")
        .stderr("[1/1] failed: Only\n")
        .run();
    assert!(w.sandbox.webhooks().is_empty());

    // The same in JSON.
    w.sandbox.inject(
        Target::Any,
        Fault::Reject {
            status: 400,
            message: "y".repeat(3_000_000),
        },
    );
    w.apply()
        .args(["--format", "json"])
        .status(1)
        .stdout_json_snapshot("faults-huge-error-body-json")
        .run();
}

/// A server's message is the server's text: its control characters reach neither the terminal
/// nor JSON (shown escaped), and its line breaks do not break the line it is printed on.
#[test]
fn a_message_with_control_characters_is_shown_printable() {
    let w = world(ONE);
    let message = "bad \u{1b}[2Jurl\u{7}\nnext line";
    w.sandbox.inject(
        Target::Any,
        Fault::Reject {
            status: 400,
            message: message.into(),
        },
    );
    w.apply()
        .status(1)
        .stdout(format!(
            "{PLAN_ONE}  ✗ Only  failed: HTTP 400: bad \\u{{1b}}[2Jurl\\u{{7}} next line
      Nothing was created; fix the cause and apply again.

Apply: 0 created (0 paused), 1 failed, 0 unknown, 0 not sent. State: not written (nothing to record): webhooks.state.json is unchanged.
"
        ))
        .stderr("[1/1] failed: Only\n")
        .run();

    w.sandbox.inject(
        Target::Any,
        Fault::Reject {
            status: 400,
            message: message.into(),
        },
    );
    let o = w
        .apply()
        .args(["--format", "json"])
        .status(1)
        .stdout_unchecked()
        .run();
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(
        v["webhooks"][0]["reason"],
        json!("HTTP 400: bad \\u{1b}[2Jurl\\u{7} next line")
    );
}

#[test]
fn a_refused_connection_is_retried_for_the_first_create_only_and_nothing_is_unknown() {
    let w = world(CONFIG);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    w.apply()
        .args(["--api-url", &format!("http://{closed}")])
        .status(1)
        .stdout_snapshot("faults-connection-refused")
        .stderr("[1/3] failed: Email Sent\n")
        .run();
    assert!(!w.state_path().exists(), "it certainly created nothing");
}

// --- secrets -----------------------------------------------------------------------------

const API_KEY: &str = "sk-live-distinctive-123";
const BAD_KEY: &str = "sk-wrong-distinctive-456";
const HOOK: &str = "tok-zq81-distinctive-hook";
const ROTATED: &str = "tok-rotated-distinctive-2";
const URL_KEY: &str = "urlkey-77x-distinctive";
const SECRETS: [&str; 5] = [API_KEY, BAD_KEY, HOOK, ROTATED, URL_KEY];

const SECRET_CONFIG: &str = "version: 1
webhooks:
  - name: Secret Hook
    url: https://x.example.org/h?k=${URL_KEY}
    events: [email-sent]
    headers:
      Authorization: \"Bearer ${HOOK_TOKEN}\"
  - name: Plain Http
    url: http://plain.example.org/p?k=${URL_KEY}
    events: [reply-received]
";

fn secret_config_plus(extra: &[&str]) -> String {
    let mut c = SECRET_CONFIG.to_string();
    for name in extra {
        c.push_str(&format!(
            "  - name: {name}\n    url: https://x.example.org/{}?k=${{URL_KEY}}\n    events: [task-created]\n    headers:\n      Authorization: \"Bearer ${{HOOK_TOKEN}}\"\n",
            name.to_lowercase().replace(' ', "-")
        ));
    }
    c
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// No secret in this text.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for s in SECRETS {
        assert!(!text.contains(s), "`{s}` leaked into {what}:\n{text}");
    }
}

/// No secret in the command's output, nor in any file of the temp dir.
fn check(w: &World, label: &str, o: &Output) {
    assert_clean(&format!("stdout of {label}"), &o.stdout);
    assert_clean(&format!("stderr of {label}"), &o.stderr);
    for f in files(w.dir.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert_clean(&format!("{} after {label}", f.display()), &bytes);
    }
}

#[test]
fn no_secret_appears_in_any_output_or_file() {
    let w = World::builder()
        .config(SECRET_CONFIG)
        .api_keys(&[API_KEY])
        .key(API_KEY)
        .env("HOOK_TOKEN", HOOK)
        .env("URL_KEY", URL_KEY)
        .env("NO_COLOR", "1")
        .build();
    let config = w.config_path().display().to_string();
    let checked = |label: &str, o: Output, code: i32| {
        check(&w, label, &o);
        assert_eq!(o.status.code(), Some(code), "{label}: {}", output_text(&o));
        o
    };
    let plans = |when: &str, code: i32| {
        for format in ["human", "json", "markdown"] {
            let o = w.run(&["plan", "-v", "--format", format]);
            checked(&format!("plan {format} {when}"), o, code);
        }
    };

    for format in ["human", "json", "github"] {
        let o = w.run(&["validate", "-c", &config, "--format", format]);
        checked(&format!("validate {format}"), o, 0);
    }
    plans("before apply", 0);

    let o = checked("apply", w.run(&["apply", "--auto-approve"]), 0);
    assert!(output_text(&o).contains("2 created"), "{}", output_text(&o));
    let stored = &w.sandbox.webhooks()[0];
    assert_eq!(
        stored.headers.get("Authorization").map(String::as_str),
        Some(format!("Bearer {HOOK}").as_str()),
        "the secret is sent to the API, and only there"
    );
    assert_eq!(
        stored.webhook_url,
        format!("https://x.example.org/h?k={URL_KEY}")
    );
    plans("after apply", 0);

    let id = w.server_ids("Secret Hook")[0].clone();
    checked("state rm", w.run(&["state", "rm", "Secret Hook"]), 0);
    plans("after rm", 0);
    checked(
        "state import",
        w.run(&["state", "import", "Secret Hook", &id]),
        0,
    );
    plans("after import", 0);

    // A rotated token shows as a change, with neither value.
    for format in ["human", "json", "markdown"] {
        let o = w
            .cmd()
            .args(["plan", "-v", "-c", &config, "--state"])
            .arg(w.state_path())
            .args(["--format", format])
            .env("HOOK_TOKEN", ROTATED)
            .output()
            .expect("runs");
        let o = checked(&format!("plan {format} with a rotated token"), o, 0);
        if format == "json" {
            let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
            assert_eq!(v["summary"]["changed"], json!(1), "{v:#}");
        }
    }

    w.set_config(&secret_config_plus(&["Json One"]));
    let o = checked(
        "apply --format json",
        w.run(&["apply", "--auto-approve", "--format", "json"]),
        0,
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["webhooks"][0]["result"], "created", "{v:#}");

    // Faults whose reasons end up in the output and the state.
    w.set_config(&secret_config_plus(&[
        "Json One", "Lost", "Dropped", "Refused",
    ]));
    w.sandbox
        .inject(Target::Name("Lost".into()), Fault::ServerError(503));
    w.sandbox
        .inject(Target::Name("Dropped".into()), Fault::DropAfterCreate);
    w.sandbox.inject(
        Target::Name("Refused".into()),
        Fault::Reject {
            status: 400,
            message: "webhookUrl is blocked".into(),
        },
    );
    checked("apply with faults", w.run(&["apply", "--auto-approve"]), 1);

    w.set_config(&secret_config_plus(&["Json One", "Bad Key"]));
    let mut bad = w.cmd();
    bad.args(["apply", "--auto-approve"])
        .env("SALESHANDY_API_KEY", BAD_KEY);
    let o = checked("apply with a bad key", bad.output().expect("runs"), 1);
    assert!(
        output_text(&o).contains("SALESHANDY_API_KEY"),
        "{}",
        output_text(&o)
    );

    // Killed while a create is in flight: the journal is left behind.
    w.sandbox
        .inject(Target::Any, Fault::Delay(Duration::from_secs(20)));
    let log = |n: &str| std::fs::File::create(w.dir.path().join(n)).expect("log file");
    let mut child = w
        .process()
        .args(["apply", "--auto-approve"])
        .stdout(log("killed.stdout"))
        .stderr(log("killed.stderr"))
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.sandbox.in_flight_creates() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let in_flight = w.sandbox.in_flight_creates();
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(
        in_flight, 1,
        "the create was in flight when the run was killed"
    );
    let journal = w.dir.path().join("webhooks.state.json.journal");
    assert!(journal.exists(), "the killed run left its journal");
    let journal_text = std::fs::read_to_string(&journal).expect("journal");
    assert!(journal_text.contains("Bad Key"), "{journal_text}");
    assert!(w.dir.path().join("webhooks.state.json.lock").exists());
    // Its output went to files in the temp dir, which `check` reads too.
    let killed = Output {
        status,
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    check(&w, "the killed apply", &killed);

    // The next runs replay it; still nothing leaks.
    let o = w.run(&["plan"]);
    check(&w, "plan after the kill", &o);
    assert!(flat_output(&o).contains("? Bad Key"), "{}", output_text(&o));
    checked(
        "apply after the kill",
        w.run(&["apply", "--auto-approve"]),
        0,
    );
    assert!(!journal.exists(), "a locked run folded the journal");
}

// --- ids the API should never give ---------------------------------------------------------

/// A server on 127.0.0.1 that answers every request with 201 and `body`; its URL.
fn always_answering(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_create_answered_with_an_id_that_is_not_one_is_unknown() {
    let w = world(ONE);
    let url = always_answering(r#"{"payload":{"id":"..","status":"active"}}"#);
    w.apply()
        .args(["--api-url", &url])
        .status(1)
        .stdout_snapshot("faults-create-id-dot-dot")
        .stderr("[1/1] unknown: Only\n")
        .run();
    assert_eq!(
        w.state_json()["webhooks"],
        json!({}),
        "no id `..` recorded, which a later GET would turn into /v1/webhook/"
    );
}

#[test]
fn the_same_id_for_two_creates_is_recorded_once_and_the_second_is_unknown() {
    let w = world(CONFIG);
    let url =
        always_answering(r#"{"payload":{"id":"6a1b2c3d4e5f60718293a4b5","status":"active"}}"#);
    w.apply()
        .args(["--api-url", &url, "--parallelism", "1"])
        .status(1)
        .stdout_snapshot("faults-create-id-repeated")
        .stderr("[1/3] created: Email Sent\n[2/3] unknown: Replies\n")
        .run();
    let state = w.state_json();
    let recorded: Vec<&str> = state["webhooks"]
        .as_object()
        .expect("webhooks")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(recorded, ["Email Sent"]);
    let unknown: Vec<&str> = state["unknown"]
        .as_object()
        .expect("unknown")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        unknown,
        ["Replies"],
        "the run stopped after the repeated id"
    );
}
