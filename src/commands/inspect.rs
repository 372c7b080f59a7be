//! `state list` and `state show NAME`: read the state, offline. They need no API key, take no
//! lock and write nothing (a journal left by an interrupted apply is replayed in memory only).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::account::StateFile;
use crate::cli::{ListArgs, ListFormat, ShowArgs};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::state::{Field, LastFailure, LiveCheck, Recorded, Sent, State, Unknown};
use crate::ui::print;

/// The live check recorded for `name`, if it is about the webhook recorded now.
fn check_of<'s>(state: &'s State, name: &str, recorded: &Recorded) -> Option<&'s LiveCheck> {
    state.checks.get(name).filter(|c| c.id == recorded.id)
}

/// One row of `state list --format json`.
#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    /// `null` for an unknown create.
    id: Option<&'a str>,
    /// `active`, `paused`, `deleted` (as last recorded), or `unknown` for a create whose
    /// answer was lost.
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checked_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<&'a [Field]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn rows(state: &State) -> Vec<Row<'_>> {
    let recorded = state.webhooks.iter().map(|(name, r)| {
        let check = check_of(state, name, r);
        Row {
            name,
            id: Some(&r.id),
            status: r.status.as_str(),
            created_at: Some(&r.created_at),
            checked_at: check.map(|c| c.checked_at.as_str()),
            drift: check.map(|c| c.drift.as_slice()).filter(|d| !d.is_empty()),
            since: None,
            reason: None,
        }
    });
    let unknown = state.unknown.iter().map(|(name, u)| Row {
        name,
        id: None,
        status: "unknown",
        created_at: None,
        checked_at: None,
        drift: None,
        since: Some(&u.since),
        reason: Some(&u.reason),
    });
    recorded.chain(unknown).collect()
}

pub(crate) fn list(args: &ListArgs) -> Result<Outcome, Error> {
    let state_file = StateFile::of_config_file(&args.config.config, &args.state)?;
    let opened = state_file.open(None)?;
    let (state, exists) = (opened.state, opened.exists);
    let rows = rows(&state);
    if args.format == ListFormat::Json {
        let mut text = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into());
        text.push('\n');
        print(&text)?;
        return Ok(Outcome::Success);
    }
    let name = state_file.name();
    if !exists {
        print(&format!(
            "There is no state at {name} yet: nothing is recorded (apply writes it).\n"
        ))?;
        return Ok(Outcome::Success);
    }
    let mut out = String::new();
    let where_ = state
        .endpoint
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} webhook{} recorded in {name}{where_}{}\n",
        state.webhooks.len(),
        if state.webhooks.len() == 1 { "" } else { "s" },
        match state.unknown.len() {
            0 => String::new(),
            n => format!(", and {n} unknown create{}", if n == 1 { "" } else { "s" }),
        }
    );
    if rows.is_empty() {
        print(&out)?;
        return Ok(Outcome::Success);
    }
    let table: Vec<[String; 3]> = rows
        .iter()
        .map(|r| {
            let mut status = r.status.to_string();
            if let Some(d) = r.drift {
                let _ = write!(status, " (drifted: {})", joined(d));
            }
            if let (Some(since), Some(reason)) = (r.since, r.reason) {
                let _ = write!(status, " since {since}: {reason}");
            }
            [r.name.to_string(), r.id.unwrap_or("-").to_string(), status]
        })
        .collect();
    let width = |i: usize| {
        table
            .iter()
            .map(|r| r[i].chars().count())
            .chain([4])
            .max()
            .unwrap_or(4)
    };
    let (w0, w1) = (width(0), width(1));
    let _ = writeln!(out, "  {:<w0$}  {:<w1$}  STATUS", "NAME", "ID");
    for [n, id, status] in &table {
        let _ = writeln!(out, "  {n:<w0$}  {id:<w1$}  {status}");
    }
    if !state.unknown.is_empty() {
        let _ = writeln!(
            out,
            "\nAn unknown create may or may not exist in Saleshandy: `saleshandy-webhooks plan` says how to resolve it."
        );
    }
    print(&out)?;
    Ok(Outcome::Success)
}

/// Drifted fields as a list: `url, events`.
fn joined(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A request's content as it may be shown: secrets as `(secret)`.
#[derive(Serialize)]
struct Shown<'a> {
    url: &'a str,
    events: &'a [String],
    headers: BTreeMap<&'a str, &'a str>,
}

fn shown(sent: &Sent) -> Shown<'_> {
    Shown {
        url: sent.url.shown(),
        events: &sent.events,
        headers: sent
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.shown()))
            .collect(),
    }
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Shows<'a> {
    Recorded {
        name: &'a str,
        id: &'a str,
        status: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        test_delivery: Option<&'a str>,
        created_at: &'a str,
        sent: Shown<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        checked_at: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        failed: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_failure: Option<&'a LastFailure>,
        #[serde(skip_serializing_if = "Option::is_none")]
        drift: Option<&'a [Field]>,
    },
    Unknown {
        name: &'a str,
        since: &'a str,
        reason: &'a str,
        sent: Shown<'a>,
    },
}

pub(crate) fn show(args: &ShowArgs) -> Result<Outcome, Error> {
    let state_file = StateFile::of_config_file(&args.config.config, &args.state)?;
    let opened = state_file.open(None)?;
    let (state, exists) = (opened.state, opened.exists);
    let name = args.name.as_str();
    let shows = if let Some(r) = state.webhooks.get(name) {
        let check = check_of(&state, name, r);
        Shows::Recorded {
            name,
            id: &r.id,
            status: r.status.as_str(),
            test_delivery: r.test_delivery.as_deref(),
            created_at: &r.created_at,
            sent: shown(&r.sent),
            checked_at: check.map(|c| c.checked_at.as_str()),
            failed: check.map(|c| c.failed),
            last_failure: check.and_then(|c| c.last_failure.as_ref()),
            drift: check.map(|c| c.drift.as_slice()),
        }
    } else if let Some(u) = state.unknown.get(name) {
        Shows::Unknown {
            name,
            since: &u.since,
            reason: &u.reason,
            sent: shown(&u.sent),
        }
    } else {
        return Err(no_such(&state, exists, name, state_file.name()));
    };
    let text = match args.format {
        ListFormat::Json => {
            let mut t = serde_json::to_string_pretty(&shows).unwrap_or_default();
            t.push('\n');
            t
        }
        ListFormat::Human => match (state.webhooks.get(name), state.unknown.get(name)) {
            (Some(r), _) => human_recorded(name, r, check_of(&state, name, r)),
            (None, Some(u)) => human_unknown(name, u),
            (None, None) => String::new(),
        },
    };
    print(&text)?;
    Ok(Outcome::Success)
}

/// The error for a name the state does not hold, naming the closest one.
fn no_such(state: &State, exists: bool, name: &str, place: String) -> Error {
    let names = state.webhooks.keys().chain(state.unknown.keys());
    let empty = state.webhooks.is_empty() && state.unknown.is_empty();
    let help = match crate::suggest::closest_name(name, names.map(String::as_str)) {
        Some(n) if exists => format!(
            "names are exact; the closest in the state is `{n}` (`saleshandy-webhooks state list` lists them all)"
        ),
        _ if exists && !empty => "names are exact, and none in the state is close (`saleshandy-webhooks state list` lists them all)".to_string(),
        _ if exists => "the state records no webhook yet".to_string(),
        _ => "there is no state file here yet (apply writes it); pass another with --state FILE"
            .to_string(),
    };
    Error::NoSuchWebhook {
        name: name.to_string(),
        state: place,
        help,
    }
}

fn sent_lines(out: &mut String, sent: &Sent) {
    let _ = writeln!(out, "  url:            {}", sent.url.shown());
    let _ = writeln!(out, "  events:         {}", sent.events.join(", "));
    if sent.headers.is_empty() {
        let _ = writeln!(out, "  headers:        (none)");
    }
    for (i, (k, v)) in sent.headers.iter().enumerate() {
        let lead = if i == 0 { "headers:" } else { "" };
        let _ = writeln!(out, "  {lead:<15} {k}: {}", v.shown());
    }
}

fn human_recorded(name: &str, r: &Recorded, check: Option<&LiveCheck>) -> String {
    let mut out = format!("{name}\n");
    let _ = writeln!(out, "  id:             {}", r.id);
    let _ = writeln!(out, "  status:         {}", r.status);
    let _ = writeln!(
        out,
        "  test delivery:  {}",
        r.test_delivery.as_deref().unwrap_or("(not reported)")
    );
    let _ = writeln!(out, "  created at:     {}", r.created_at);
    out.push_str("  sent:\n");
    let mut sent = String::new();
    sent_lines(&mut sent, &r.sent);
    for line in sent.lines() {
        let _ = writeln!(out, "  {line}");
    }
    match check {
        None => out.push_str(
            "  checked at:     never (`saleshandy-webhooks status --update-state` records it)\n",
        ),
        Some(c) => {
            let _ = writeln!(out, "  checked at:     {}", c.checked_at);
            let _ = writeln!(
                out,
                "  last delivery:  {}",
                if c.failed { "failed" } else { "not failed" }
            );
            if let Some(f) = &c.last_failure {
                let _ = writeln!(
                    out,
                    "  last failure:   {}: {}, {}",
                    f.failed_at,
                    f.answer(),
                    f.message.split_whitespace().collect::<Vec<_>>().join(" ")
                );
            }
            if !c.drift.is_empty() {
                let _ = writeln!(
                    out,
                    "  drift:          {} (edited in Saleshandy; `saleshandy-webhooks status` shows how)",
                    joined(&c.drift)
                );
            }
        }
    }
    out
}

fn human_unknown(name: &str, u: &Unknown) -> String {
    let mut out = format!("{name}  (unknown create: it may or may not exist in Saleshandy)\n");
    let _ = writeln!(out, "  since:          {}", u.since);
    let _ = writeln!(out, "  reason:         {}", u.reason);
    out.push_str("  sent:\n");
    let mut sent = String::new();
    sent_lines(&mut sent, &u.sent);
    for line in sent.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "  → Look for it in Saleshandy: if it exists, run `saleshandy-webhooks state import \"{name}\" ID` with its id; if not, `saleshandy-webhooks state rm \"{name}\"`."
    );
    out
}
