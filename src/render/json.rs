//! The plan as one JSON document for machines; shape documented in schemas/plan.schema.json.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{manual_step, warnings};
use crate::planner::{Action, Plan, Rename, Summary};
use crate::state::{Field, Sent};

/// Version of the JSON shape; bumped on any incompatible change.
pub(crate) const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    config: &'a str,
    state: &'a str,
    summary: Summary,
    /// True when anything is changed, orphaned or unknown: a person must act.
    needs_person: bool,
    webhooks: Vec<Webhook<'a>>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct Webhook<'a> {
    name: &'a str,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    /// What the config asks for (secrets as `(secret)`), when in the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    desired: Option<Shown<'a>>,
    /// What the state recorded as sent, when in the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded: Option<Shown<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manual_step: Option<String>,
    /// For `unknown`: when the create was sent and what became of its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    lost: Option<Lost<'a>>,
    /// On a create and an orphan with the same content: the rename `state mv` would record.
    #[serde(skip_serializing_if = "Option::is_none")]
    likely_rename: Option<&'a Rename>,
}

#[derive(Serialize)]
struct Lost<'a> {
    since: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Shown<'a> {
    url: &'a str,
    events: Vec<&'a str>,
    headers: BTreeMap<&'a str, &'a str>,
}

fn shown(s: &Sent) -> Shown<'_> {
    Shown {
        url: s.url.shown(),
        events: s.event_set(),
        headers: s
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.shown()))
            .collect(),
    }
}

/// Renders the plan as pretty JSON with a trailing newline.
pub(crate) fn render(plan: &Plan, ctx: &super::Context) -> String {
    let doc = Document {
        format_version: FORMAT_VERSION,
        config: ctx.config,
        state: ctx.state,
        summary: plan.summary,
        needs_person: plan.summary.needs_person(),
        webhooks: plan
            .entries
            .iter()
            .map(|e| Webhook {
                name: &e.name,
                action: e.action,
                id: e.id.as_deref(),
                desired: e.desired.as_ref().map(shown),
                recorded: e.recorded.as_ref().map(shown),
                changes: e.changes.clone(),
                manual_step: manual_step(e),
                lost: e
                    .lost
                    .as_ref()
                    .map(|(since, reason)| Lost { since, reason }),
                likely_rename: e.rename.as_ref(),
            })
            .collect(),
        warnings: warnings(plan),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
