//! The plan for a person at a terminal (or reading a CI log).

use crate::store::journal::in_progress_by;
use std::fmt::Write as _;

use super::text::{wrap, Painter, BOLD, DIM, GREEN, MAGENTA, RED, YELLOW};
use super::{diff, manual_step, spec_text, summary_line, warnings, Context};
use crate::planner::{Action, Entry, Plan};

/// Options for the human rendering.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    pub color: bool,
    /// List unchanged webhooks one by one instead of counting them.
    pub verbose: bool,
    /// The columns to wrap the manual steps at; None: not wrapped.
    pub width: Option<usize>,
}

fn sign(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create => ("+", GREEN),
        Action::Unchanged => ("=", DIM),
        Action::Changed => ("~", YELLOW),
        Action::Orphaned => ("-", RED),
        Action::Unknown => ("?", MAGENTA),
        Action::Deleted => ("!", RED),
    }
}

/// Renders the plan. Secrets appear only as `(secret)`.
pub(crate) fn render(plan: &Plan, ctx: &Context, opts: Options) -> String {
    let p = Painter(opts.color);
    let mut out = String::new();
    let state_note = if ctx.state_exists {
        ""
    } else {
        " (no state yet: first apply)"
    };
    let _ = writeln!(
        out,
        "Plan for {} against {}{state_note}\n",
        ctx.config, ctx.state
    );
    for e in &plan.entries {
        if e.action == Action::Unchanged && !opts.verbose {
            continue;
        }
        entry(&mut out, p, e, opts.width);
    }
    footer(&mut out, p, plan, opts);
    out
}

/// One entry: its line, the spec it creates or its diff, and the step it needs from a person.
fn entry(out: &mut String, p: Painter, e: &Entry, width: Option<usize>) {
    let (s, color) = sign(e.action);
    let _ = writeln!(
        out,
        "  {} {}  {}",
        p.paint(color, s),
        p.paint(BOLD, &e.name),
        p.paint(DIM, &format!("({})", detail(e)))
    );
    match e.action {
        Action::Create => {
            if let Some(d) = &e.desired {
                for line in spec_text(d, None).lines() {
                    let _ = writeln!(out, "      {}", p.paint(GREEN, &format!("+ {line}")));
                }
            }
        }
        Action::Changed => changed_diff(out, p, e),
        _ => {}
    }
    if let Some(step) = manual_step(e) {
        for (i, line) in wrap(&step, width.map(|w| w.saturating_sub(8).max(20)))
            .iter()
            .enumerate()
        {
            let lead = if i == 0 { "→ " } else { "  " };
            let _ = writeln!(out, "      {}", p.paint(color, &format!("{lead}{line}")));
        }
    }
    out.push('\n');
}

/// What an entry's line says in parentheses after its name.
fn detail(e: &Entry) -> String {
    match (e.action, &e.id) {
        (Action::Create, _) => "will be created".to_string(),
        (Action::Unchanged, Some(id)) => format!("unchanged, id {id}"),
        (Action::Changed, Some(id)) => {
            let fields: Vec<_> = e
                .changes
                .iter()
                .map(|f| format!("{f:?}").to_lowercase())
                .collect();
            format!("changed ({}), id {id}", fields.join(", "))
        }
        (Action::Orphaned, Some(id)) => format!("orphaned: not in the config, id {id}"),
        (Action::Deleted, Some(id)) => format!("deleted in Saleshandy, id {id}"),
        (Action::Unknown, _) => match e.lost.as_ref().and_then(|(_, r)| in_progress_by(r)) {
            Some(by) => format!("in progress: being created by {by}"),
            None => "unknown: a create was sent, its answer was lost".to_string(),
        },
        (_, None) => e.action.as_str().to_string(),
    }
}

/// A changed entry's diff, each line painted by its kind.
fn changed_diff(out: &mut String, p: Painter, e: &Entry) {
    for line in diff(e).unwrap_or_default().lines() {
        let style = match line.as_bytes().first() {
            Some(b'+') => GREEN,
            Some(b'-') => RED,
            Some(b'@') => DIM,
            _ => "",
        };
        let _ = writeln!(
            out,
            "      {}",
            if style.is_empty() {
                line.to_string()
            } else {
                p.paint(style, line)
            }
        );
    }
}

/// After the entries: the count of hidden unchanged ones, the warnings and the summary.
fn footer(out: &mut String, p: Painter, plan: &Plan, opts: Options) {
    if plan.summary.unchanged > 0 && !opts.verbose {
        let n = plan.summary.unchanged;
        let _ = writeln!(
            out,
            "  {} unchanged webhook{} not shown (-v lists them).\n",
            n,
            if n == 1 { "" } else { "s" }
        );
    }
    for w in warnings(plan) {
        let _ = writeln!(out, "{} {w}\n", p.paint(YELLOW, "Warning:"));
    }
    let _ = writeln!(out, "{}", p.paint(BOLD, &summary_line(plan)));
    if plan.summary.needs_person() {
        let _ = writeln!(
            out,
            "Some webhooks need a person (see → above): apply does not change them."
        );
    }
}
