//! Drift: how a live webhook differs from what the state recorded as sent. Pure.

use std::collections::BTreeMap;

use super::{Drift, HeaderDrift};
use crate::api::Live;
use crate::secret::{fingerprint, Secret, REDACTED};
use crate::state::{Field, Recorded, Stored};

/// Compares a live webhook with what the state recorded as sent under `name`.
pub(crate) fn compare(name: &str, recorded: &Recorded, live: &Live, lineage: &str) -> Vec<Drift> {
    let mut drift = Vec::new();
    if live.name != name {
        drift.push(Drift {
            field: Field::Name,
            recorded: name.to_string(),
            live: live.name.clone(),
            headers: Vec::new(),
        });
    }
    let sent = &recorded.sent;
    if !same(&sent.url, &live.webhook_url, lineage) {
        drift.push(Drift {
            field: Field::Url,
            recorded: sent.url.shown().to_string(),
            live: shown_like(&sent.url, &live.webhook_url),
            headers: Vec::new(),
        });
    }
    let mut live_events: Vec<&str> = live.webhook_event.iter().map(String::as_str).collect();
    live_events.sort_unstable();
    live_events.dedup();
    if sent.event_set() != live_events {
        let list = |e: &[&str]| {
            if e.is_empty() {
                "(none)".to_string()
            } else {
                e.join(", ")
            }
        };
        drift.push(Drift {
            field: Field::Events,
            recorded: list(&sent.event_set()),
            live: list(&live_events),
            headers: Vec::new(),
        });
    }
    if let Some(d) = header_drift(recorded, live, lineage) {
        drift.push(d);
    }
    drift
}

/// The headers that differ, each side listing only those, by lower-cased name order.
fn header_drift(recorded: &Recorded, live: &Live, lineage: &str) -> Option<Drift> {
    // name (lower case) → (spelling, value)
    let ours: BTreeMap<String, (&str, &Stored)> = recorded
        .sent
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (k.as_str(), v)))
        .collect();
    let theirs: BTreeMap<String, (&str, &str)> = live
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (k.as_str(), v.as_str())))
        .collect();
    let mut names: Vec<&String> = ours.keys().chain(theirs.keys()).collect();
    names.sort_unstable();
    names.dedup();
    let mut headers = Vec::new();
    let mut differ = |name: &str, recorded: String, live: String| {
        headers.push(HeaderDrift {
            name: name.to_string(),
            recorded,
            live,
        })
    };
    for key in names {
        match (ours.get(key), theirs.get(key)) {
            (Some((spelt, stored)), Some((_, value))) if !same(stored, value, lineage) => {
                let value = match stored {
                    Stored::Plain(_) => (*value).to_string(),
                    Stored::Secret(_) => "(secret, changed)".to_string(),
                };
                differ(spelt, stored.shown().to_string(), value);
            }
            (Some(_), Some(_)) => {}
            (Some((spelt, stored)), None) => {
                differ(spelt, stored.shown().to_string(), "(removed)".into());
            }
            // A header added in Saleshandy may hold a secret: never show its value.
            (None, Some((spelt, _))) => differ(spelt, "(absent)".into(), REDACTED.into()),
            (None, None) => {}
        }
    }
    let side = |f: fn(&HeaderDrift) -> &str| {
        headers
            .iter()
            .map(|h| format!("{}: {}", h.name, f(h)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if headers.is_empty() {
        return None;
    }
    let (recorded, live) = (side(|h| &h.recorded), side(|h| &h.live));
    Some(Drift {
        field: Field::Headers,
        recorded,
        live,
        headers,
    })
}

/// Whether a live value equals a stored one (by fingerprint for secrets).
fn same(stored: &Stored, live: &str, lineage: &str) -> bool {
    match stored {
        Stored::Plain(s) => s == live,
        Stored::Secret(f) => fingerprint(lineage, &Secret::new(live.to_string())) == f.fingerprint,
    }
}

/// A live value shown as the stored one is: masked when that one is a secret.
fn shown_like(stored: &Stored, live: &str) -> String {
    match stored {
        Stored::Plain(_) => live.to_string(),
        Stored::Secret(_) => "(secret, changed)".to_string(),
    }
}
