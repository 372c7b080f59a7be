//! The live status report (`status`): human (terminal), JSON and Markdown. Secrets appear only
//! as `(secret)`: the report holds no clear secret to begin with.

use std::fmt::Write as _;

use serde::Serialize;

use super::budget::Comment;
use super::text::{
    count, escape_markdown, plural, wrap, Painter, BOLD, DIM, GREEN, MAGENTA, RED, YELLOW,
};
use crate::live::{describe, next_steps, Check, Drift, Health, Kind, NotChecked, Report, Summary};
use crate::state::{LastFailure, WebhookStatus};

/// Version of the JSON shape; bumped on any incompatible change.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Where the report comes from, for headings.
#[derive(Debug, Clone)]
pub(crate) struct Context<'a> {
    pub state: &'a str,
    pub endpoint: &'a str,
    /// When the webhooks were read (RFC 3339).
    pub checked_at: &'a str,
    /// Whether `--update-state` recorded the report in the state.
    pub state_updated: bool,
}

/// `Status: 5 checked: 1 ok, 1 paused, 1 failing, 1 drifted, 1 deleted, 0 unreadable.`
pub(crate) fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "Status: {} checked: {} ok, {} paused, {} failing, {} drifted, {} deleted, {} unreadable",
        s.checked, s.ok, s.paused, s.failing, s.drifted, s.deleted, s.unreadable
    );
    if s.unknown > 0 {
        let _ = write!(
            line,
            "; {} unknown create{} not checked",
            s.unknown,
            if s.unknown == 1 { "" } else { "s" }
        );
    }
    line.push('.');
    line
}

fn sign(k: Kind) -> (&'static str, &'static str) {
    match k {
        Kind::Active => ("✓", GREEN),
        Kind::Paused | Kind::Failing => ("!", YELLOW),
        Kind::Drifted => ("~", YELLOW),
        Kind::Deleted | Kind::Error => ("✗", RED),
    }
}

/// The one-line description after a webhook's name, e.g. `drifted: url; paused, id …`.
fn headline(c: &Check) -> String {
    match &c.health {
        Health::Deleted => format!("deleted in Saleshandy (HTTP 404), id {}", c.id),
        Health::Error { .. } => format!("could not be read, id {}", c.id),
        Health::Live { status, drift, .. } => {
            let mut parts = Vec::new();
            if !drift.is_empty() {
                let fields: Vec<&str> = drift.iter().map(|d| d.field.as_str()).collect();
                parts.push(format!("drifted: {}", fields.join(", ")));
            }
            parts.push(status.to_string());
            if c.is_failing() {
                parts.push("last delivery failed".into());
            }
            format!("{}, id {}", parts.join("; "), c.id)
        }
    }
}

/// The report for a person at a terminal (or reading a CI log).
/// A report for people; `width` is the columns to wrap at (None: not wrapped).
pub(crate) fn human(report: &Report, ctx: &Context, color: bool, width: Option<usize>) -> String {
    let p = Painter(color);
    let mut out = String::new();
    let n = report.checks.len();
    let _ = writeln!(
        out,
        "Live status of {n} webhook{} in {} ({}), read at {}\n",
        if n == 1 { "" } else { "s" },
        ctx.state,
        ctx.endpoint,
        ctx.checked_at
    );
    if report.checks.is_empty() && report.unknown.is_empty() {
        let _ = writeln!(out, "  The state records no webhook: nothing to check.\n");
    }
    for c in &report.checks {
        human_check(&mut out, c, &p, width);
    }
    for u in &report.unknown {
        let _ = writeln!(
            out,
            "  {} {}  {}",
            p.paint(MAGENTA, "?"),
            p.paint(BOLD, &u.name),
            p.paint(
                DIM,
                &format!("(unknown create since {}: no id, not checked)", u.since)
            )
        );
        let _ = writeln!(
            out,
            "      {}",
            p.paint(
                MAGENTA,
                "→ Resolve it with `state import` or `state rm`: `saleshandy-webhooks plan` says how."
            )
        );
    }
    out.push('\n');
    let _ = writeln!(out, "{}", p.paint(BOLD, &summary_line(&report.summary)));
    if ctx.state_updated {
        let _ = writeln!(out, "Recorded the live status in {}.", ctx.state);
    }
    out
}

/// One webhook's lines: its sign and headline, any drift and last failure, the next steps.
fn human_check(out: &mut String, c: &Check, p: &Painter, width: Option<usize>) {
    let (s, style) = sign(c.kind());
    let _ = writeln!(
        out,
        "  {} {}  {}",
        p.paint(style, s),
        p.paint(BOLD, &c.name),
        p.paint(DIM, &format!("({})", headline(c)))
    );
    if let Health::Live {
        last_failure,
        failed,
        drift,
        ..
    } = &c.health
    {
        for d in drift {
            if d.headers.is_empty() {
                let _ = writeln!(
                    out,
                    "      {}: {} → {}",
                    d.field,
                    p.paint(RED, &d.recorded),
                    p.paint(GREEN, &d.live)
                );
                continue;
            }
            let _ = writeln!(out, "      {}:", d.field);
            for h in &d.headers {
                let _ = writeln!(
                    out,
                    "        {}: {} → {}",
                    h.name,
                    p.paint(RED, &h.recorded),
                    p.paint(GREEN, &h.live)
                );
            }
        }
        if let Some(f) = last_failure {
            let note = if *failed {
                ""
            } else {
                " (deliveries succeeded since)"
            };
            let line = format!("last failure: {}{note}", describe(f));
            for (i, part) in wrap(&line, width.map(|w| w.saturating_sub(8).max(20)))
                .iter()
                .enumerate()
            {
                let lead = if i == 0 { "" } else { "  " };
                let _ = writeln!(out, "      {lead}{part}");
            }
        }
    }
    for step in next_steps(c) {
        for (i, line) in wrap(&step, width.map(|w| w.saturating_sub(8).max(20)))
            .iter()
            .enumerate()
        {
            let lead = if i == 0 { "→ " } else { "  " };
            let _ = writeln!(out, "      {}", p.paint(style, &format!("{lead}{line}")));
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    state: &'a str,
    endpoint: &'a str,
    checked_at: &'a str,
    summary: Summary,
    /// Anything paused, failing, drifted, deleted or unreadable.
    needs_attention: bool,
    state_updated: bool,
    webhooks: Vec<Webhook<'a>>,
    /// Unknown creates: no id, so not checked.
    unknown: &'a [NotChecked],
}

#[derive(Serialize)]
struct Webhook<'a> {
    name: &'a str,
    id: &'a str,
    health: Kind,
    /// The live status (`active`, `paused`), `null` when deleted or unreadable.
    status: Option<&'a WebhookStatus>,
    failed: bool,
    last_failure: Option<FailureJson<'a>>,
    drift: &'a [Drift],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    next_steps: Vec<String>,
}

/// A last failure as the report's JSON has always shown it: `status_code` is `null` when
/// unknown, where the state leaves it out.
#[derive(Serialize)]
struct FailureJson<'a> {
    failed_at: &'a str,
    status_code: Option<u16>,
    message: &'a str,
}

impl<'a> From<&'a LastFailure> for FailureJson<'a> {
    fn from(f: &'a LastFailure) -> Self {
        FailureJson {
            failed_at: &f.failed_at,
            status_code: f.status_code,
            message: &f.message,
        }
    }
}

/// The report as one JSON document (with a trailing newline).
pub(crate) fn json(report: &Report, ctx: &Context) -> String {
    let webhooks = report
        .checks
        .iter()
        .map(|c| {
            let (status, failed, last_failure, drift, error): (_, _, _, &[Drift], _) =
                match &c.health {
                    Health::Live {
                        status,
                        failed,
                        last_failure,
                        drift,
                    } => (
                        Some(status),
                        *failed,
                        last_failure.as_ref().map(FailureJson::from),
                        drift,
                        None,
                    ),
                    Health::Deleted => (None, false, None, &[], None),
                    Health::Error { reason } => (None, false, None, &[], Some(reason.as_str())),
                };
            Webhook {
                name: &c.name,
                id: &c.id,
                health: c.kind(),
                status,
                failed,
                last_failure,
                drift,
                error,
                next_steps: next_steps(c),
            }
        })
        .collect();
    let doc = Document {
        format_version: FORMAT_VERSION,
        state: ctx.state,
        endpoint: ctx.endpoint,
        checked_at: ctx.checked_at,
        summary: report.summary,
        needs_attention: report.summary.needs_attention(),
        state_updated: ctx.state_updated,
        webhooks,
        unknown: &report.unknown,
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn emoji(k: Kind) -> &'static str {
    match k {
        Kind::Active => "✅",
        Kind::Paused => "⏸️",
        Kind::Failing => "⚠️",
        Kind::Drifted => "✏️",
        Kind::Deleted => "❌",
        Kind::Error => "❓",
    }
}

/// The report as a pull-request or issue comment: a table of every webhook, then the details
/// of those that need attention. Always under `LIMIT` characters (the commands split the
/// limit between accounts with [`markdown_within`]; this whole-comment form is for tests).
#[cfg(test)]
pub(crate) fn markdown(report: &Report, ctx: &Context) -> String {
    markdown_within(report, ctx, super::budget::LIMIT)
}

/// `markdown()` in at most `limit` characters (one account's share of a comment).
pub(crate) fn markdown_within(report: &Report, ctx: &Context, limit: usize) -> String {
    let mut out = Comment::new(limit);
    let _ = writeln!(out, "### Saleshandy webhooks: live status\n");
    let _ = writeln!(
        out,
        "{} against {}, read at {}\n",
        escape_markdown(ctx.state),
        escape_markdown(ctx.endpoint),
        escape_markdown(ctx.checked_at)
    );
    let _ = writeln!(out, "**{}**\n", summary_line(&report.summary));
    if report.summary.needs_attention() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Some webhooks need attention: the steps are below.\n"
        );
    }
    let rows = table_rows(report);
    let details: Vec<String> = report.checks.iter().filter_map(detail).collect();
    if !rows.is_empty() {
        out.push("| | Webhook | Id | Status | Last failure | Drift |\n|---|---|---|---|---|---|\n");
        let left = rows.len() - out.push_fitting(&rows);
        if left > 0 {
            let _ = writeln!(out, "\n_{left} more {} left out to stay under GitHub's comment size; run `saleshandy-webhooks status` to see them all._", plural(left, "webhook"));
        }
        out.push("\n");
    }
    if !details.is_empty() {
        out.push("#### Details\n\n");
        let left = details.len() - out.push_fitting(&details);
        if left > 0 {
            let _ = writeln!(out, "_Details of {} left out to stay under GitHub's comment size; run `saleshandy-webhooks status` to see them._", count(left, "webhook"));
        }
    }
    if ctx.state_updated {
        let _ = writeln!(
            out,
            "_The live status was recorded in {}._",
            escape_markdown(ctx.state)
        );
    }
    out.into_text()
}

/// One table row per webhook (unknown creates last), each ending in a newline.
fn table_rows(report: &Report) -> Vec<String> {
    let mut rows = Vec::new();
    for c in &report.checks {
        let (status, failure, drift) = match &c.health {
            Health::Live {
                status,
                last_failure,
                drift,
                ..
            } => (
                status.to_string(),
                last_failure.as_ref().map(describe).unwrap_or_default(),
                drift
                    .iter()
                    .map(|d| d.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Health::Deleted => ("deleted (404)".into(), String::new(), String::new()),
            Health::Error { .. } => ("unreadable".into(), String::new(), String::new()),
        };
        rows.push(format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            emoji(c.kind()),
            escape_markdown(&c.name),
            escape_markdown(&c.id),
            escape_markdown(&status),
            escape_markdown(&failure),
            escape_markdown(&drift)
        ));
    }
    for u in &report.unknown {
        rows.push(format!(
            "| ❔ | {} | | unknown create since {} (not checked) | | |\n",
            escape_markdown(&u.name),
            escape_markdown(&u.since)
        ));
    }
    rows
}

/// The details of a webhook that needs attention.
fn detail(c: &Check) -> Option<String> {
    if !c.needs_attention() {
        return None;
    }
    let kind = c.kind();
    let mut out = format!(
        "**{} {}** ({})\n\n",
        emoji(kind),
        escape_markdown(&c.name),
        kind.as_str()
    );
    match &c.health {
        Health::Live {
            drift,
            last_failure,
            failed,
            ..
        } => {
            if !drift.is_empty() {
                out.push_str("| Field | Recorded | Live |\n|---|---|---|\n");
                for d in drift {
                    if d.headers.is_empty() {
                        let _ = writeln!(
                            out,
                            "| {} | {} | {} |",
                            d.field,
                            escape_markdown(&d.recorded),
                            escape_markdown(&d.live)
                        );
                    }
                    for h in &d.headers {
                        let _ = writeln!(
                            out,
                            "| header {} | {} | {} |",
                            escape_markdown(&h.name),
                            escape_markdown(&h.recorded),
                            escape_markdown(&h.live)
                        );
                    }
                }
                out.push('\n');
            }
            if let Some(f) = last_failure {
                let note = if *failed {
                    ""
                } else {
                    " (deliveries succeeded since)"
                };
                let _ = writeln!(
                    out,
                    "Last failure: {}{note}\n",
                    escape_markdown(&describe(f))
                );
            }
        }
        Health::Error { reason } => {
            let _ = writeln!(out, "Could not be read: {}\n", escape_markdown(reason));
        }
        Health::Deleted => {}
    }
    for step in next_steps(c) {
        let _ = writeln!(out, "> {}\n", quote(&step));
    }
    Some(out)
}

/// Text for a block quote: commands stay code spans, markup cannot be injected.
fn quote(s: &str) -> String {
    s.replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Field, State};

    fn report() -> Report {
        let checks = vec![
            Check {
                name: "Ok".into(),
                id: "a".into(),
                url: "https://x".into(),
                health: Health::Live {
                    status: WebhookStatus::Active,
                    failed: false,
                    last_failure: None,
                    drift: vec![],
                },
            },
            Check {
                name: "Edited | <b>".into(),
                id: "b".into(),
                url: "(secret)".into(),
                health: Health::Live {
                    status: WebhookStatus::Paused,
                    failed: true,
                    last_failure: Some(LastFailure {
                        failed_at: "2026-11-27T10:00:00Z".into(),
                        status_code: Some(502),
                        message: "Bad Gateway".into(),
                    }),
                    drift: vec![Drift {
                        field: Field::Url,
                        recorded: "(secret)".into(),
                        live: "(secret, changed)".into(),
                        headers: vec![],
                    }],
                },
            },
        ];
        Report::new(checks, &State::new())
    }

    fn ctx() -> Context<'static> {
        Context {
            state: "w.state.json",
            endpoint: "https://open-api.saleshandy.com",
            checked_at: "2026-11-28T00:00:00Z",
            state_updated: false,
        }
    }

    #[test]
    fn human_has_a_line_per_webhook_and_a_summary() {
        let text = human(&report(), &ctx(), false, Some(100));
        assert!(text.contains("  ✓ Ok  (active, id a)"), "{text}");
        assert!(
            text.contains("  ~ Edited | <b>  (drifted: url; paused, id b)"),
            "{text}"
        );
        assert!(text.contains("url: (secret) → (secret, changed)"), "{text}");
        assert!(
            text.contains("last failure: 2026-11-27T10:00:00Z: HTTP 502, Bad Gateway"),
            "{text}"
        );
        assert!(text.contains("Make sure its URL answers"), "{text}");
        assert!(
            text.contains(
                "Status: 2 checked: 1 ok, 1 paused, 0 failing, 1 drifted, 0 deleted, 0 unreadable."
            ),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        assert!(human(&report(), &ctx(), true, None).contains('\x1b'));
    }

    #[test]
    fn human_wraps_steps_and_failures_to_the_width_and_not_at_all_without_one() {
        let narrow = human(&report(), &ctx(), false, Some(50));
        for line in narrow.lines().filter(|l| l.starts_with("      ")) {
            assert!(
                line.chars().count() <= 50 || !line.trim().contains(' ') || line.contains('`'),
                "{line:?} in\n{narrow}"
            );
        }
        assert!(
            narrow.contains(
                "      last failure: 2026-11-27T10:00:00Z: HTTP\n        502, Bad Gateway"
            ),
            "{narrow}"
        );
        let unwrapped = human(&report(), &ctx(), false, None);
        let steps = |t: &str| {
            t.lines()
                .filter(|l| l.trim_start().starts_with('→'))
                .count()
        };
        assert_eq!(steps(&unwrapped), steps(&narrow));
        assert!(
            unwrapped
                .contains("      → It was edited in Saleshandy. Either undo the edit there, so"),
            "{unwrapped}"
        );
    }

    #[test]
    fn markdown_escapes_names_and_details_problems() {
        let text = markdown(&report(), &ctx());
        assert!(
            text.contains("| ✏️ | Edited \\| &lt;b&gt; | b | paused |"),
            "{text}"
        );
        assert!(
            text.contains("| url | (secret) | (secret, changed) |"),
            "{text}"
        );
        assert!(!text.contains("**✅ Ok**"), "{text}");
    }

    #[test]
    fn json_is_one_document() {
        let v: serde_json::Value = serde_json::from_str(&json(&report(), &ctx())).unwrap();
        assert_eq!(v["webhooks"][1]["health"], "drifted");
        assert_eq!(v["webhooks"][1]["last_failure"]["status_code"], 502);
        assert_eq!(v["summary"]["paused"], 1);
        assert_eq!(v["needs_attention"], true);
    }

    /// An unknown status code is `null` in the report (the state leaves it out), and a status
    /// this build does not know is shown as it came, as not active.
    #[test]
    fn json_keeps_its_shape_for_unknown_codes_and_statuses() {
        let check = Check {
            name: "Odd".into(),
            id: "c".into(),
            url: "https://x".into(),
            health: Health::Live {
                status: WebhookStatus::Other("Archived".into()),
                failed: true,
                last_failure: Some(LastFailure {
                    failed_at: "t".into(),
                    status_code: None,
                    message: "m".into(),
                }),
                drift: vec![],
            },
        };
        let report = Report::new(vec![check], &State::new());
        let v: serde_json::Value = serde_json::from_str(&json(&report, &ctx())).unwrap();
        let w = &v["webhooks"][0];
        assert_eq!(
            w["last_failure"],
            serde_json::json!({"failed_at": "t", "status_code": null, "message": "m"})
        );
        assert_eq!(
            (&w["status"], &w["health"]),
            (&"Archived".into(), &"paused".into())
        );
        assert!(human(&report, &ctx(), false, None).contains("(Archived, id c)"));
    }
}
