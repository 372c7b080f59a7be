//! Renderers of a plan: human (terminal), JSON, Markdown. One [`Plan`], several views; the
//! texts they share (what to do by hand, the diff of a changed webhook) are built here once.

pub(crate) mod budget;
pub(crate) mod github;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod status_report;
pub(crate) mod text;

use similar::TextDiff;

use crate::planner::{Action, Entry, Plan};
use crate::state::{Sent, Stored};

/// What the plan was made from, for headings.
#[derive(Debug, Clone)]
pub(crate) struct Context<'a> {
    pub config: &'a str,
    pub state: &'a str,
    /// Whether the state file existed.
    pub state_exists: bool,
}

/// The manual step a person must take for an entry, and why the tool cannot.
pub(crate) fn manual_step(e: &Entry) -> Option<String> {
    let name = &e.name;
    let id = e.id.as_deref().unwrap_or("?");
    if let Some(r) = &e.rename {
        let (from, to) = (&r.from, &r.to);
        let mv = format!("`saleshandy-webhooks state mv \"{from}\" \"{to}\"`");
        return Some(match e.action {
            Action::Create => format!(
                "This looks like `{from}` renamed: it has the same url, events and headers, and `{from}` is orphaned. To keep that webhook rather than create a second one, run {mv} before apply, and rename it to `{to}` in Saleshandy."
            ),
            _ => format!(
                "This looks renamed to `{to}` in the config: it has the same url, events and headers. To keep webhook {id}, run {mv} and rename it to `{to}` in Saleshandy; otherwise delete it in Saleshandy, then run `saleshandy-webhooks state rm \"{from}\"`."
            ),
        });
    }
    match e.action {
        Action::Create | Action::Unchanged => None,
        Action::Changed => Some(format!(
            "The Saleshandy API cannot update a webhook. Either edit webhook {id} in Saleshandy to match the config, then run `saleshandy-webhooks state import \"{name}\" {id}` to record it; or delete it in Saleshandy, run `saleshandy-webhooks state rm \"{name}\"`, and the next apply creates it anew."
        )),
        Action::Deleted if e.desired.is_none() => Some(format!(
            "`status --update-state` found webhook {id} deleted in Saleshandy, and it is no longer in the config: run `saleshandy-webhooks state rm \"{name}\"` to forget it."
        )),
        Action::Deleted => Some(format!(
            "`status --update-state` found webhook {id} deleted in Saleshandy, so it delivers nothing, and apply does not create it again on its own (a wrong API key makes every webhook look deleted). If it is gone, run `saleshandy-webhooks state rm \"{name}\"`, and the next apply creates it anew. If it still exists (restored in Saleshandy, or read with a wrong key), run `saleshandy-webhooks state import \"{name}\" {id}` to record it as it is."
        )),
        Action::Orphaned => Some(format!(
            "The Saleshandy API cannot delete a webhook, and it still exists in the account. Delete webhook {id} in Saleshandy, then run `saleshandy-webhooks state rm \"{name}\"` to forget it; or put it back in the config."
        )),
        Action::Unknown => {
            let (since, reason) = e.lost.clone().unwrap_or_default();
            if let Some(by) = crate::store::journal::in_progress_by(&reason) {
                return Some(format!(
                    "Another apply ({by}) sent this create at {since} and is waiting for its answer: run plan again once it has finished. Should that run die, the next apply takes over its lock when its lease runs out and reports this create as unknown."
                ));
            }
            Some(format!(
                "A create request was sent at {since} but its answer was lost ({reason}), so the webhook may or may not exist; apply will not send it again on its own. Look for `{name}` in Saleshandy: if it exists, run `saleshandy-webhooks state import \"{name}\" ID` with its id; if it does not, run `saleshandy-webhooks state rm \"{name}\"` and the next apply creates it."
            ))
        }
    }
}

/// A webhook's content as text, one fact per line, events sorted and headers by lower-cased
/// name, so that a diff shows only what matters. A secret whose fingerprint differs from the
/// other side's is marked, since both sides print `(secret)`.
pub(crate) fn spec_text(sent: &Sent, other: Option<&Sent>) -> String {
    let mut out = format!("url: {}\n", shown(&sent.url, other.map(|o| &o.url)));
    out.push_str("events:\n");
    for e in sent.event_set() {
        out.push_str(&format!("  - {e}\n"));
    }
    // Spell each header as the other side does when the names match ignoring case, so that
    // a case-only difference (which does not count) does not show in the diff.
    let theirs: std::collections::HashMap<String, (&String, &Stored)> = other
        .map(|o| {
            o.headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (k, v)))
                .collect()
        })
        .unwrap_or_default();
    let mut headers: Vec<_> = sent.headers.iter().collect();
    headers.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    if !headers.is_empty() {
        out.push_str("headers:\n");
    }
    for (name, value) in headers {
        let other = theirs.get(&name.to_ascii_lowercase());
        let spelt = other.map_or(name, |(n, _)| n);
        out.push_str(&format!(
            "  {spelt}: {}\n",
            shown(value, other.map(|(_, v)| *v))
        ));
    }
    out
}

fn shown(value: &Stored, other: Option<&Stored>) -> String {
    match (value, other) {
        (Stored::Secret(_), Some(o @ Stored::Secret(_))) if o != value => {
            "(secret, changed)".into()
        }
        _ => value.shown().to_string(),
    }
}

/// The unified diff from the state's record to the config, for a changed entry.
pub(crate) fn diff(e: &Entry) -> Option<String> {
    let (old, new) = (e.recorded.as_ref()?, e.desired.as_ref()?);
    let old_text = spec_text(old, None);
    let new_text = spec_text(new, Some(old));
    let diff = TextDiff::from_lines(&old_text, &new_text);
    let id = e.id.as_deref().unwrap_or("unknown id");
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("state ({id})"), "config")
            .to_string(),
    )
}

/// `Plan: 2 to create, 3 unchanged, 1 changed, 1 orphaned, 0 unknown.`, and `, 1 deleted`
/// before the stop when any webhook was found deleted.
pub(crate) fn summary_line(plan: &Plan) -> String {
    format!("Plan: {}.", counts(&plan.summary))
}

/// The counts of a summary line, without its lead or stop.
pub(crate) fn counts(s: &crate::planner::Summary) -> String {
    let deleted = match s.deleted {
        0 => String::new(),
        n => format!(", {n} deleted"),
    };
    format!(
        "{} to create, {} unchanged, {} changed, {} orphaned, {} unknown{deleted}",
        s.create, s.unchanged, s.changed, s.orphaned, s.unknown
    )
}

/// The plan's warnings: an account past Saleshandy's limit.
pub(crate) fn warnings(plan: &Plan) -> Vec<String> {
    let limit = plan.over_limit.map(|n| {
        format!(
            "After this apply the account would hold {n} active webhooks; Saleshandy allows {}. Creates past the limit will fail: remove webhooks in Saleshandy or from the config first.",
            crate::planner::ACCOUNT_LIMIT
        )
    });
    limit.into_iter().collect()
}

/// A one-line description of a webhook's target, e.g. `https://x/y · email-sent, reply-received`.
pub(crate) fn one_line(sent: &Sent) -> String {
    format!("{} · {}", sent.url.shown(), sent.event_set().join(", "))
}
