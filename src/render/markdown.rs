//! The plan as a pull-request comment. Always under [`LIMIT`](super::budget::LIMIT) characters: past a size the
//! details fold into `<details>` blocks, and past the limit they are left out with a note.

use std::fmt::Write as _;

use super::budget::Comment;
use super::text::{count, escape_markdown, fence_for, plural};
use super::{diff, manual_step, spec_text, summary_line, warnings, Context};
use crate::planner::{Action, Entry, Plan};

/// Past this size, each webhook's details are folded into a `<details>` block.
const FOLD_AT: usize = 20_000;

/// Renders the plan as Markdown of at most `LIMIT` characters (the commands split the limit
/// between accounts with [`render_within`]; this whole-comment form is for tests).
#[cfg(test)]
pub(crate) fn render(plan: &Plan, ctx: &Context) -> String {
    render_within(plan, ctx, super::budget::LIMIT)
}

/// Renders the plan in at most `limit` characters (one account's share of a comment).
pub(crate) fn render_within(plan: &Plan, ctx: &Context, limit: usize) -> String {
    let mut out = Comment::new(limit);
    let _ = writeln!(out, "### Saleshandy webhooks plan\n");
    let _ = writeln!(
        out,
        "`{}` against `{}`{}\n",
        ctx.config,
        ctx.state,
        if ctx.state_exists {
            ""
        } else {
            " (no state yet)"
        }
    );
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    if plan.summary.needs_person() {
        let _ = writeln!(out, "> [!IMPORTANT]\n> Some webhooks need a person: the API can neither update nor delete webhooks. The steps are below.\n");
    }
    for w in warnings(plan) {
        let _ = writeln!(out, "> [!WARNING]\n> {w}\n");
    }

    let listed: Vec<&Entry> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Unchanged)
        .collect();
    let rows: Vec<String> = listed.iter().map(|e| row(e)).collect();
    let details: Vec<String> = listed.iter().filter_map(|e| detail(e)).collect();

    if !rows.is_empty() {
        out.push("| | Webhook | Action | Id |\n|---|---|---|---|\n");
        let shown = out.push_fitting(&rows);
        if shown < rows.len() {
            let _ = writeln!(out, "\n_{} more {} left out of this table to stay under GitHub's comment size; run `saleshandy-webhooks plan` to see them all._", rows.len() - shown, plural(rows.len() - shown, "webhook"));
        }
        out.push("\n");
    }
    if plan.summary.unchanged > 0 {
        let _ = writeln!(
            out,
            "{} not listed.\n",
            count(plan.summary.unchanged, "unchanged webhook")
        );
    }

    let full: usize = details.iter().map(|d| d.chars().count()).sum();
    let details: Vec<String> = if out.chars() + full > FOLD_AT {
        details.iter().map(|d| folded(d)).collect()
    } else {
        details
    };
    let shown = out.fitting(&details);
    if shown > 0 {
        out.push("#### Details\n\n");
        for d in &details[..shown] {
            out.push(d);
        }
    }
    if shown < details.len() {
        let _ = writeln!(out, "_Details of {} left out to stay under GitHub's comment size; run `saleshandy-webhooks plan` to see them._", count(details.len() - shown, "webhook"));
    }
    out.into_text()
}

fn emoji(a: Action) -> &'static str {
    match a {
        Action::Create => "➕",
        Action::Unchanged => "✔️",
        Action::Changed => "⚠️",
        Action::Orphaned => "➖",
        Action::Unknown => "❓",
        Action::Deleted => "❌",
    }
}

fn row(e: &Entry) -> String {
    let id =
        e.id.as_deref()
            .map(|i| format!("`{i}`"))
            .unwrap_or_default();
    format!(
        "| {} | {} | {} | {id} |\n",
        emoji(e.action),
        escape_markdown(&e.name),
        e.action.as_str()
    )
}

fn detail(e: &Entry) -> Option<String> {
    let body = match e.action {
        Action::Create => spec_text(e.desired.as_ref()?, None)
            .lines()
            .map(|l| format!("+ {l}\n"))
            .collect(),
        Action::Changed => diff(e)?,
        Action::Orphaned | Action::Unknown | Action::Deleted => String::new(),
        Action::Unchanged => return None,
    };
    let mut out = format!(
        "**{} {}** ({})\n\n",
        emoji(e.action),
        escape_markdown(&e.name),
        e.action.as_str()
    );
    if !body.is_empty() {
        let fence = fence_for(&body);
        let _ = writeln!(out, "{fence}diff\n{body}{fence}\n");
    }
    if let Some(step) = manual_step(e) {
        let step = step
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace(['\n', '\r'], " ");
        let _ = writeln!(out, "> {step}\n");
    }
    Some(out)
}

fn folded(detail: &str) -> String {
    let (title, rest) = detail.split_once("\n\n").unwrap_or((detail, ""));
    let summary = title.replace("**", "");
    format!("<details><summary>{summary}</summary>\n\n{rest}</details>\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Header, Webhook};
    use crate::event::Event;
    use crate::planner::plan;
    use crate::render::budget::LIMIT;
    use crate::secret::Value;
    use crate::state::{Recorded, Sent, State, WebhookStatus};

    fn webhook(i: usize, suffix: &str) -> Webhook {
        Webhook {
            name: format!("Webhook number {i} with a fairly long descriptive name"),
            url: Value::Plain(format!("https://hooks.example.org/saleshandy/{i}/{suffix}")),
            events: vec![Event::EmailSent, Event::ReplyReceived],
            headers: vec![Header {
                name: "X-Source".into(),
                value: Value::Plain("saleshandy".into()),
            }],
            span: Default::default(),
        }
    }

    /// A plan of `n` webhooks: half to create, half changed.
    fn big_plan(n: usize) -> Plan {
        let mut state = State::new();
        for i in (0..n).step_by(2) {
            state.webhooks.insert(
                webhook(i, "").name,
                Recorded {
                    id: format!("{i:024x}"),
                    sent: Sent::from_webhook(&webhook(i, "old"), &state.lineage),
                    status: WebhookStatus::Active,
                    test_delivery: None,
                    created_at: "2026-11-27T00:00:00Z".into(),
                },
            );
        }
        plan(
            &Config {
                api_key_env: None,
                state: None,
                webhooks: (0..n).map(|i| webhook(i, "new")).collect(),
                env_values: Vec::new(),
            },
            &state,
        )
    }

    fn ctx() -> Context<'static> {
        Context {
            config: "webhooks.yaml",
            state: "webhooks.state.json",
            state_exists: true,
        }
    }

    #[test]
    fn a_small_plan_is_shown_in_full_without_folding() {
        let md = render(&big_plan(6), &ctx());
        assert!(
            !md.contains("<details>") && !md.contains("left out"),
            "{md}"
        );
        assert_eq!(md.matches("```diff").count(), 6);
    }

    #[test]
    fn a_medium_plan_folds_its_details() {
        let md = render(&big_plan(60), &ctx());
        assert!(md.chars().count() <= LIMIT);
        assert_eq!(
            md.matches("<details>").count(),
            60,
            "every detail folded, none left out"
        );
        assert!(!md.contains("left out"));
    }

    #[test]
    fn any_plan_stays_under_the_comment_limit_and_says_what_it_left_out() {
        for n in [400, 20_000] {
            let md = render(&big_plan(n), &ctx());
            assert!(
                md.chars().count() <= LIMIT,
                "{n}: {} chars",
                md.chars().count()
            );
            assert!(md.contains("left out"), "{n}");
            assert!(md.contains(&format!(
                "Plan: {} to create, 0 unchanged, {} changed",
                n / 2,
                n / 2
            )));
        }
    }
}
