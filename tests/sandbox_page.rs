//! The sandbox's page in a real headless Chromium: it lists the webhooks an apply created,
//! and its Pause and Delete buttons change what `status` then reports.

use crate::support::browser::browser;
use crate::support::object_servers::install::test_servers_dir;
use crate::support::{snapshot, World, THREE_HOOKS};
use saleshandy_webhooks::emulator::WebhookStatus;

/// The page's rows as (name, status, url), in order.
fn rows(b: &crate::support::browser::Browser) -> Vec<(String, String, String)> {
    b.find_all("tbody tr")
        .iter()
        .map(|row| {
            let id = row.attr("id").unwrap_or_default();
            let cell = |class: &str| b.find(&format!("#{id} td.{class}")).text();
            (cell("name"), cell("status"), cell("url"))
        })
        .collect()
}

#[test]
fn the_page_lists_the_webhooks_and_its_buttons_change_what_status_reports() {
    let w = World::with_hook_token(THREE_HOOKS, "hook-token-value");
    w.ok(&["apply", "--auto-approve"]);
    let id = |name: &str| w.server_ids(name).remove(0);
    let b = browser();
    b.goto(&format!("{}/", w.sandbox.url()));
    assert_eq!(b.title(), "Saleshandy sandbox: webhooks");
    assert_eq!(
        b.find("h2").text(),
        "Account sandbox-api-key: 3 webhooks, 3 active"
    );
    let row = |name: &str, status: &str, url: &str| {
        (name.to_string(), status.to_string(), url.to_string())
    };
    let mut listed = rows(&b);
    listed.sort();
    assert_eq!(
        listed,
        vec![
            row("Bounces", "active", "https://alerts.example.org/bounces"),
            row("Email Sent", "active", "https://ingest.example.org/sent"),
            row("Replies", "active", "https://crm.example.org/replies"),
        ]
    );

    b.find(&format!("#webhook-{} button.pause", id("Replies")))
        .click_to_leave();
    b.find(&format!("#webhook-{} button.delete", id("Bounces")))
        .click_to_leave();
    let mut listed = rows(&b);
    listed.sort();
    assert_eq!(
        listed,
        vec![
            row("Email Sent", "active", "https://ingest.example.org/sent"),
            row("Replies", "paused", "https://crm.example.org/replies"),
        ]
    );
    assert_eq!(
        b.find("h2").text(),
        "Account sandbox-api-key: 2 webhooks, 1 active"
    );
    // The clicks changed the sandbox itself, not only the page.
    let held: Vec<(String, WebhookStatus)> = w
        .sandbox
        .webhooks()
        .into_iter()
        .map(|h| (h.name, h.status))
        .collect();
    let mut held = held;
    held.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        held,
        vec![
            ("Email Sent".to_string(), WebhookStatus::Active),
            ("Replies".to_string(), WebhookStatus::Paused),
        ]
    );
    b.screenshot(&test_servers_dir().join("sandbox-page.png"));

    let ids = w.recorded_ids();
    let out = w.run(&["status"]);
    assert_eq!(out.status.code(), Some(0));
    snapshot(
        "sandbox-page-status-after-clicks",
        &w.with_named_ids(&out.stdout, &ids),
    );
}
