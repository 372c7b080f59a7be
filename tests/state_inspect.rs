//! `state list` and `state show NAME`: offline inspection of the state, in both formats. They
//! need no API key, make no request and write nothing; secrets show as `(secret)`.

use std::path::PathBuf;
use std::process::Output;

use crate::support::{bin, dir_snapshot, output_text, sent, STATE_FILE};
use saleshandy_webhooks::secret::{fingerprint, Secret};
use saleshandy_webhooks::state::{
    Fingerprint, LastFailure, LiveCheck, Recorded, State, Stored, Unknown,
};
use serde_json::{json, Value};

const SECRET: &str = "Bearer s3cr3t-token-4411";

fn secret(state: &State, v: &str) -> Stored {
    Stored::Secret(Fingerprint {
        fingerprint: fingerprint(&state.lineage, &Secret::new(v.to_string())),
    })
}

/// A state with an active webhook (a secret header), a paused one with a recorded live check
/// (drifted, last failure), a deleted one, and an unknown create.
fn state() -> State {
    let mut s = State::new();
    s.serial = 4;
    s.endpoint = Some("https://open-api.saleshandy.com".into());
    let sent_hook = sent(
        Stored::Plain("https://ingest.example.org/sent".into()),
        &["email-sent", "email-opened"],
        vec![
            ("X-Webhook-Source", Stored::Plain("saleshandy".into())),
            ("Authorization", secret(&s, SECRET)),
        ],
    );
    s.webhooks.insert(
        "Email Sent".into(),
        Recorded {
            id: "69fb3ac1eda582171eb74826".into(),
            sent: sent_hook,
            status: "active".into(),
            test_delivery: Some("succeeded".into()),
            created_at: "2026-11-27T10:00:00Z".into(),
        },
    );
    let replies = sent(
        secret(&s, "https://crm.example.org/replies?key=abc"),
        &["reply-received"],
        vec![],
    );
    s.webhooks.insert(
        "Replies".into(),
        Recorded {
            id: "69fb3ac1eda582171eb74827".into(),
            sent: replies,
            status: "paused".into(),
            test_delivery: Some("failed".into()),
            created_at: "2026-11-27T10:01:00Z".into(),
        },
    );
    s.checks.insert(
        "Replies".into(),
        LiveCheck {
            id: "69fb3ac1eda582171eb74827".into(),
            checked_at: "2026-11-28T08:00:00Z".into(),
            failed: true,
            last_failure: Some(LastFailure {
                failed_at: "2026-11-28T07:59:00Z".into(),
                status_code: Some(503),
                message: "Service Unavailable".into(),
            }),
            drift: vec!["events".into()],
        },
    );
    let bounces = sent(
        Stored::Plain("https://alerts.example.org/bounces".into()),
        &["email-bounced"],
        vec![],
    );
    s.webhooks.insert(
        "Bounces".into(),
        Recorded {
            id: "69fb3ac1eda582171eb74828".into(),
            sent: bounces,
            status: "deleted".into(),
            test_delivery: None,
            created_at: "2026-11-27T10:02:00Z".into(),
        },
    );
    // A check about an id no longer recorded under that name is not shown.
    s.checks.insert(
        "Bounces".into(),
        LiveCheck {
            id: "000000000000000000000000".into(),
            checked_at: "2026-11-20T00:00:00Z".into(),
            failed: false,
            last_failure: None,
            drift: vec!["url".into()],
        },
    );
    let lost = sent(
        Stored::Plain("https://example.org/lost".into()),
        &["email-sent"],
        vec![("Authorization", secret(&s, SECRET))],
    );
    s.unknown.insert(
        "Lost Hook".into(),
        Unknown {
            sent: lost,
            since: "2026-11-27T10:05:00Z".into(),
            reason: "no answer within 30s".into(),
        },
    );
    s
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn with(state: Option<&State>) -> Dir {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(s) = state {
            std::fs::write(dir.path().join(STATE_FILE), s.to_json()).expect("state");
        }
        Dir { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join(STATE_FILE)
    }

    /// Runs the binary with no API key and an API URL nothing listens on: inspection must
    /// need neither. Checks that it prints no secret and no fingerprint, and writes nothing.
    fn run(&self, args: &[&str]) -> Output {
        let before = dir_snapshot(self.dir.path());
        let o = bin()
            .current_dir(self.dir.path())
            .args(args)
            .env("SALESHANDY_API_URL", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        let all = output_text(&o);
        assert!(
            !all.contains("s3cr3t") && !all.contains("key=abc"),
            "a secret was printed:\n{all}"
        );
        assert!(
            !all.contains("hmac-sha256:"),
            "a fingerprint was printed:\n{all}"
        );
        assert_eq!(
            dir_snapshot(self.dir.path()),
            before,
            "inspection wrote something"
        );
        o
    }

    fn json(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(out.ends_with('\n'));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
    }
}

#[test]
fn list_shows_name_id_and_status_with_unknown_entries() {
    let d = Dir::with(Some(&state()));
    let o = d.run(&["state", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("3 webhooks recorded in webhooks.state.json (https://open-api.saleshandy.com), and 1 unknown create\n"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(
        lines,
        [
            "  NAME        ID                        STATUS",
            "  Bounces     69fb3ac1eda582171eb74828  deleted",
            "  Email Sent  69fb3ac1eda582171eb74826  active",
            "  Replies     69fb3ac1eda582171eb74827  paused (drifted: events)",
            "  Lost Hook   -                         unknown since 2026-11-27T10:05:00Z: no answer within 30s",
        ],
        "{out}"
    );
    assert!(
        out.contains("`saleshandy-webhooks plan` says how to resolve it"),
        "{out}"
    );
}

#[test]
fn list_json_is_a_list_of_every_entry() {
    let d = Dir::with(Some(&state()));
    let v = d.json(&["state", "list", "--format", "json"]);
    assert_eq!(
        v,
        json!([
            {"name": "Bounces", "id": "69fb3ac1eda582171eb74828", "status": "deleted", "created_at": "2026-11-27T10:02:00Z"},
            {"name": "Email Sent", "id": "69fb3ac1eda582171eb74826", "status": "active", "created_at": "2026-11-27T10:00:00Z"},
            {"name": "Replies", "id": "69fb3ac1eda582171eb74827", "status": "paused", "created_at": "2026-11-27T10:01:00Z",
             "checked_at": "2026-11-28T08:00:00Z", "drift": ["events"]},
            {"name": "Lost Hook", "id": null, "status": "unknown", "since": "2026-11-27T10:05:00Z", "reason": "no answer within 30s"}
        ])
    );
}

#[test]
fn list_without_a_state_or_with_an_empty_one() {
    let d = Dir::with(None);
    let o = d.run(&["state", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        output_text(&o).contains("There is no state at webhooks.state.json yet"),
        "{}",
        output_text(&o)
    );
    assert_eq!(d.json(&["state", "list", "--format", "json"]), json!([]));

    let d = Dir::with(Some(&State::new()));
    let o = d.run(&["state", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        output_text(&o).starts_with("0 webhooks recorded in webhooks.state.json\n"),
        "{}",
        output_text(&o)
    );
    // --state and -c pick the file, as for the other commands.
    let other = Dir::with(Some(&state()));
    let v = d.json(&[
        "state",
        "list",
        "--format",
        "json",
        "--state",
        &other.path().display().to_string(),
    ]);
    assert_eq!(v.as_array().map(Vec::len), Some(4));
}

#[test]
fn show_prints_everything_recorded_with_secrets_hidden() {
    let d = Dir::with(Some(&state()));
    let o = d.run(&["state", "show", "Email Sent"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out,
        "Email Sent
  id:             69fb3ac1eda582171eb74826
  status:         active
  test delivery:  succeeded
  created at:     2026-11-27T10:00:00Z
  sent:
    url:            https://ingest.example.org/sent
    events:         email-sent, email-opened
    headers:        Authorization: (secret)
                    X-Webhook-Source: saleshandy
  checked at:     never (`saleshandy-webhooks status --update-state` records it)
"
    );

    let out = String::from_utf8_lossy(&d.run(&["state", "show", "Replies"]).stdout).into_owned();
    for line in [
        "  status:         paused",
        "  test delivery:  failed",
        "    url:            (secret)",
        "    headers:        (none)",
        "  checked at:     2026-11-28T08:00:00Z",
        "  last delivery:  failed",
        "  last failure:   2026-11-28T07:59:00Z: HTTP 503, Service Unavailable",
        "  drift:          events (edited in Saleshandy; `saleshandy-webhooks status` shows how)",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    // A check about another id is not shown.
    let out = String::from_utf8_lossy(&d.run(&["state", "show", "Bounces"]).stdout).into_owned();
    assert!(
        out.contains("  status:         deleted") && out.contains("checked at:     never"),
        "{out}"
    );
    assert!(out.contains("test delivery:  (not reported)"), "{out}");
}

#[test]
fn show_json_in_both_kinds() {
    let d = Dir::with(Some(&state()));
    let v = d.json(&["state", "show", "Replies", "--format", "json"]);
    assert_eq!(
        v,
        json!({
            "kind": "recorded",
            "name": "Replies",
            "id": "69fb3ac1eda582171eb74827",
            "status": "paused",
            "test_delivery": "failed",
            "created_at": "2026-11-27T10:01:00Z",
            "sent": {"url": "(secret)", "events": ["reply-received"], "headers": {}},
            "checked_at": "2026-11-28T08:00:00Z",
            "failed": true,
            "last_failure": {"failed_at": "2026-11-28T07:59:00Z", "status_code": 503, "message": "Service Unavailable"},
            "drift": ["events"]
        })
    );
    let v = d.json(&["state", "show", "Email Sent", "--format", "json"]);
    assert_eq!(
        v["sent"]["headers"],
        json!({"Authorization": "(secret)", "X-Webhook-Source": "saleshandy"})
    );
    assert!(v.get("checked_at").is_none());

    let v = d.json(&["state", "show", "Lost Hook", "--format", "json"]);
    assert_eq!(
        v,
        json!({
            "kind": "unknown",
            "name": "Lost Hook",
            "since": "2026-11-27T10:05:00Z",
            "reason": "no answer within 30s",
            "sent": {"url": "https://example.org/lost", "events": ["email-sent"], "headers": {"Authorization": "(secret)"}}
        })
    );
}

#[test]
fn show_an_unknown_create_says_how_to_resolve_it() {
    let d = Dir::with(Some(&state()));
    let o = d.run(&["state", "show", "Lost Hook"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("Lost Hook  (unknown create: it may or may not exist in Saleshandy)\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  since:          2026-11-27T10:05:00Z\n  reason:         no answer within 30s\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("    headers:        Authorization: (secret)"),
        "{out}"
    );
    assert!(
        out.contains("`saleshandy-webhooks state import \"Lost Hook\" ID`"),
        "{out}"
    );
    assert!(
        out.contains("`saleshandy-webhooks state rm \"Lost Hook\"`"),
        "{out}"
    );
}

#[test]
fn show_an_unknown_name_names_the_closest() {
    let d = Dir::with(Some(&state()));
    for format in ["human", "json"] {
        let o = d.run(&["state", "show", "email sent", "--format", format]);
        assert_eq!(o.status.code(), Some(1));
        assert!(o.stdout.is_empty(), "nothing on stdout on error");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("there is no webhook named `email sent`"),
            "{err}"
        );
        assert!(
            err.contains("the closest in the state is `Email Sent`"),
            "{err}"
        );
    }
    let empty = Dir::with(None);
    let o = empty.run(&["state", "show", "Email Sent"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("no state file"),
        "{}",
        output_text(&o)
    );
}
