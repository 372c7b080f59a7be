//! `state list` and `state show NAME`: offline inspection of the state, in both formats. They
//! need no API key, make no request and write nothing; secrets show as `(secret)`.
//!
//! The state is fixed, ids and times included, so outputs are compared as they are, without
//! the filters that would turn every id into `[ID]` and every time into `[TIME]`: a listing
//! that gave a webhook another's id or time would fail.

use std::process::Output;

use crate::support::{dir_snapshot, output_text, sent, snapshot, stdout_text, Test, World};
use saleshandy_webhooks::secret::{fingerprint, Secret};
use saleshandy_webhooks::state::{
    Field, Fingerprint, LastFailure, LiveCheck, Recorded, State, Stored, Unknown, WebhookStatus,
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
            status: WebhookStatus::Active,
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
            status: WebhookStatus::Paused,
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
            drift: vec![Field::Events],
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
            status: WebhookStatus::Deleted,
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
            drift: vec![Field::Url],
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

/// A temp dir holding `state` (if any) as `webhooks.state.json`, and a sandbox that no
/// command is given a key for: inspection must need neither the key nor the API.
fn world(state: Option<&State>) -> World {
    let w = World::builder().no_key().env("NO_COLOR", "1").build();
    if let Some(s) = state {
        std::fs::write(w.state_path(), s.to_json()).expect("state");
    }
    w
}

/// Runs `t`, checking that it prints no secret and no fingerprint, sends no request and
/// writes nothing.
#[track_caller]
fn inspect(w: &World, t: Test) -> Output {
    let before = dir_snapshot(w.dir.path());
    let o = t.run();
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
        dir_snapshot(w.dir.path()),
        before,
        "inspection wrote something"
    );
    assert_eq!(w.sandbox.requests().len(), 0, "inspection sent a request");
    o
}

/// [`inspect`] with standard output, unfiltered, as the snapshot `name`.
#[track_caller]
fn inspect_snapshot(w: &World, t: Test, name: &str) {
    let o = inspect(w, t.stdout_unchecked());
    snapshot(name, &stdout_text(&o));
}

#[test]
fn list_shows_name_id_and_status_with_unknown_entries() {
    let w = world(Some(&state()));
    inspect_snapshot(&w, w.state(["list"]), "state-list-human");
}

/// `state list --format json` of [`state`].
fn listed() -> Value {
    json!([
        {"name": "Bounces", "id": "69fb3ac1eda582171eb74828", "status": "deleted", "created_at": "2026-11-27T10:02:00Z"},
        {"name": "Email Sent", "id": "69fb3ac1eda582171eb74826", "status": "active", "created_at": "2026-11-27T10:00:00Z"},
        {"name": "Replies", "id": "69fb3ac1eda582171eb74827", "status": "paused", "created_at": "2026-11-27T10:01:00Z",
         "checked_at": "2026-11-28T08:00:00Z", "drift": ["events"]},
        {"name": "Lost Hook", "id": null, "status": "unknown", "since": "2026-11-27T10:05:00Z", "reason": "no answer within 30s"}
    ])
}

#[test]
fn list_json_is_a_list_of_every_entry() {
    let w = world(Some(&state()));
    let o = inspect(
        &w,
        w.state(["list", "--format", "json"]).stdout_json(listed()),
    );
    assert!(o.stdout.ends_with(b"\n"));
}

#[test]
fn list_without_a_state_or_with_an_empty_one() {
    let w = world(None);
    inspect(
        &w,
        w.state(["list"])
            .stdout("There is no state at webhooks.state.json yet: nothing is recorded (apply writes it).\n"),
    );
    inspect(
        &w,
        w.state(["list", "--format", "json"]).stdout_json(json!([])),
    );

    let w = world(Some(&State::new()));
    inspect(
        &w,
        w.state(["list"])
            .stdout("0 webhooks recorded in webhooks.state.json\n\n"),
    );
    // --state picks the file, as for the other commands.
    std::fs::write(w.path("other.state.json"), state().to_json()).expect("state");
    inspect(
        &w,
        w.state(["list", "--format", "json", "--state", "other.state.json"])
            .stdout_json(listed()),
    );
    // So does -c: the state beside the config.
    inspect(
        &w,
        w.state(["list", "--format", "json", "-c", "other.yaml"])
            .stdout_json(listed()),
    );
}

#[test]
fn show_prints_everything_recorded_with_secrets_hidden() {
    let w = world(Some(&state()));
    inspect_snapshot(&w, w.state(["show", "Email Sent"]), "state-show-active");
    inspect_snapshot(&w, w.state(["show", "Replies"]), "state-show-paused");
    // A check about another id is not shown.
    inspect_snapshot(&w, w.state(["show", "Bounces"]), "state-show-deleted");
}

#[test]
fn show_json_in_both_kinds() {
    let w = world(Some(&state()));
    inspect(
        &w,
        w.state(["show", "Replies", "--format", "json"])
            .stdout_json(json!({
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
            })),
    );
    // Never checked: no check fields at all.
    inspect(
        &w,
        w.state(["show", "Email Sent", "--format", "json"])
            .stdout_json(json!({
                "kind": "recorded",
                "name": "Email Sent",
                "id": "69fb3ac1eda582171eb74826",
                "status": "active",
                "test_delivery": "succeeded",
                "created_at": "2026-11-27T10:00:00Z",
                "sent": {
                    "url": "https://ingest.example.org/sent",
                    "events": ["email-sent", "email-opened"],
                    "headers": {"Authorization": "(secret)", "X-Webhook-Source": "saleshandy"}
                }
            })),
    );
    inspect(
        &w,
        w.state(["show", "Lost Hook", "--format", "json"])
            .stdout_json(json!({
                "kind": "unknown",
                "name": "Lost Hook",
                "since": "2026-11-27T10:05:00Z",
                "reason": "no answer within 30s",
                "sent": {"url": "https://example.org/lost", "events": ["email-sent"], "headers": {"Authorization": "(secret)"}}
            })),
    );
}

#[test]
fn show_an_unknown_create_says_how_to_resolve_it() {
    let w = world(Some(&state()));
    inspect_snapshot(&w, w.state(["show", "Lost Hook"]), "state-show-unknown");
}

#[test]
fn show_an_unknown_name_names_the_closest() {
    let w = world(Some(&state()));
    for format in ["human", "json"] {
        // Nothing on stdout on error, in either format.
        inspect(
            &w,
            w.state(["show", "email sent", "--format", format])
                .status(1)
                .stderr_snapshot("state-show-no-such-name"),
        );
    }
    // A name far from every recorded one gets no guess.
    inspect(
        &w,
        w.state(["show", "Zebra"])
            .status(1)
            .stderr_snapshot("state-show-far-name"),
    );
    let w = world(None);
    inspect(
        &w,
        w.state(["show", "Email Sent"])
            .status(1)
            .stderr_snapshot("state-show-no-state"),
    );
}
