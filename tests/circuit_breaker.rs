//! The first answer that leaves a create unknown, or that the Saleshandy API would never give,
//! stops the run's creates: a wrong `--api-url` costs one request, not one per webhook, and
//! the output says what to check. A state left bound to the wrong URL is freed once nothing
//! in it remains.

use crate::support::scripted::{self, Answer};
use crate::support::{World, THREE_HOOKS};
use saleshandy_webhooks::emulator::{Fault, Target};
use serde_json::json;

fn world() -> World {
    World::with_hook_token(THREE_HOOKS, "hook-token-value")
}

const PAGE: &str = "<html><head><title>501 Not Implemented</title></head>\n<body><h1>Not Implemented</h1></body></html>";

#[test]
fn a_wrong_api_url_answering_501_pages_costs_one_create_and_says_what_to_check() {
    let w = world();
    let server = scripted::serve(|_| Answer::html(501, PAGE));
    w.apply()
        .args(["--api-url", &server.url, "--parallelism", "4"])
        .status(1)
        .stdout_snapshot("breaker-501-page")
        .stderr("[1/3] unknown: Email Sent\n")
        .run();
    assert_eq!(
        server.lines(),
        ["POST /v1/webhook/create"],
        "one create only"
    );
    let state = w.state_json();
    assert_eq!(state["webhooks"], json!({}));
    let unknown: Vec<&String> = state["unknown"]
        .as_object()
        .expect("unknown")
        .keys()
        .collect();
    assert_eq!(unknown, ["Email Sent"]);
    assert_eq!(state["endpoint"], json!(server.url));

    // The user checks, finds nothing was created there, and forgets the unknown create: the
    // state records nothing, so it is no longer tied to the wrong URL.
    w.state(["rm", "Email Sent"])
        .stdout(String::from(
            "Forgot the unknown create of `Email Sent`. If it is in the config, the next apply creates it again.\nThe state records nothing now, so it is no longer tied to http://127.0.0.1:[PORT].\n"
        ))
        .run();
    assert_eq!(w.state_json().get("endpoint"), None);
    // The right API now: every webhook is created there.
    w.apply()
        .args(["--parallelism", "1"])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
    assert_eq!(w.state_json()["endpoint"], json!(w.sandbox.url()));
}

#[test]
fn a_404_page_is_not_the_api_so_nothing_is_unknown_and_nothing_more_is_sent() {
    let w = world();
    let server = scripted::serve(|_| Answer::html(404, "<h1>Not Found</h1>"));
    w.apply()
        .args(["--api-url", &server.url])
        .status(1)
        .stdout_snapshot("breaker-404-page")
        .stderr("[1/3] failed: Email Sent\n")
        .run();
    assert_eq!(server.lines(), ["POST /v1/webhook/create"]);
    assert!(
        !w.state_path().exists(),
        "nothing created, nothing unknown: no state written"
    );
}

#[test]
fn a_state_emptied_before_this_rule_is_not_held_to_its_old_url() {
    let w = world();
    std::fs::write(
        w.state_path(),
        "{\"version\":1,\"lineage\":\"l-1\",\"serial\":4,\"endpoint\":\"http://127.0.0.1:9\",\"webhooks\":{},\"unknown\":{}}\n",
    )
    .expect("state");
    w.apply()
        .args(["--parallelism", "1"])
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
    assert_eq!(w.state_json()["endpoint"], json!(w.sandbox.url()));
}

#[test]
fn a_validation_refusal_from_the_api_does_not_stop_the_others() {
    let w = world();
    w.sandbox.inject(
        Target::Name("Email Sent".into()),
        Fault::Reject {
            status: 422,
            message: "webhookUrl is not reachable".into(),
        },
    );
    w.apply()
        .args(["--parallelism", "1"])
        .status(1)
        .stdout_unchecked()
        .stderr("[1/3] failed: Email Sent\n[2/3] created: Replies\n[3/3] created: Bounces\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
}

#[test]
fn a_5xx_from_the_api_stops_the_run_after_that_one_create() {
    let w = world();
    w.sandbox
        .inject(Target::Any, Fault::ServerErrorAfterCreate(500));
    w.apply()
        .args(["--parallelism", "4"])
        .status(1)
        .stdout_snapshot("breaker-5xx")
        .stderr("[1/3] unknown: Email Sent\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 1);
    // The next run sends the two that were not sent (the unknown one waits for a person).
    w.apply()
        .args(["--parallelism", "1"])
        .status(0)
        .stdout_unchecked()
        .stderr("[1/2] created: Replies\n[2/2] created: Bounces\n")
        .run();
    assert_eq!(w.sandbox.create_requests(), 3);
}
