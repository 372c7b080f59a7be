//! `status`: reads every webhook the state knows and reports live status and drift.
//!
//! The comparison is pure ([`compare`](drift::compare)), and so are the report ([`Report::new`]), the next
//! steps ([`next_steps`]) and the state update ([`record`]); only [`check_all`] talks to the
//! API, with bounded concurrency.
//!
//! Live header values and URLs may hold secrets the API returns in clear: a value is shown
//! only where the state holds it in clear too; anything else is `(secret)`, and secrets are
//! compared by their keyed fingerprint.

mod check;
mod drift;

use serde::Serialize;

use crate::secret::REDACTED;
use crate::state::{Field, LastFailure, LiveCheck, State, WebhookStatus};

pub(crate) use check::check_all;
pub(crate) use drift::compare;

/// What was found for one recorded webhook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Health {
    /// It exists; `drift` lists fields edited in Saleshandy since it was recorded.
    Live {
        status: WebhookStatus,
        failed: bool,
        last_failure: Option<LastFailure>,
        drift: Vec<Drift>,
    },
    /// The API answered 404: deleted in Saleshandy.
    Deleted,
    /// It could not be read.
    Error { reason: String },
}

/// A last failed delivery for the report: `2026-11-27T10:00:00Z: HTTP 500, Internal Server
/// Error` (or `no HTTP answer`), on one line.
pub(crate) fn describe(failure: &LastFailure) -> String {
    let code = failure.answer();
    let at = if failure.failed_at.is_empty() {
        "at an unreported time"
    } else {
        &crate::server_text::one_line(&failure.failed_at)
    };
    // Read back from a state, it may come from any writer: shown safe again.
    let message = crate::server_text::one_line(&failure.message);
    if message.is_empty() {
        format!("{at}: {code}")
    } else {
        format!("{at}: {code}, {message}")
    }
}

/// A field that no longer matches what the state recorded. Secrets show as `(secret)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Drift {
    pub field: Field,
    pub recorded: String,
    pub live: String,
    /// For `headers`: each header that differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderDrift>,
}

/// One header that differs: `(absent)` on the side that lacks it, `(removed)` live when it
/// was deleted in Saleshandy, `(secret)`/`(secret, changed)` for secret values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct HeaderDrift {
    pub name: String,
    pub recorded: String,
    pub live: String,
}

impl Drift {
    /// The same drift with both sides as safe text: the live side is the server's.
    pub(crate) fn cleaned(self, r: &crate::server_text::Redactor) -> Drift {
        Drift {
            field: self.field,
            recorded: r.clean(&self.recorded),
            live: r.clean(&self.live),
            headers: self
                .headers
                .into_iter()
                .map(|h| HeaderDrift {
                    name: r.clean(&h.name),
                    recorded: r.clean(&h.recorded),
                    live: r.clean(&h.live),
                })
                .collect(),
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Check {
    pub name: String,
    pub id: String,
    /// The recorded URL as it may be shown (`(secret)` for a secret one).
    pub url: String,
    pub health: Health,
}

/// The one word that sums a check up, most serious first when several apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// The API answered 404.
    Deleted,
    /// It could not be read.
    Error,
    /// Edited in Saleshandy.
    Drifted,
    /// Not active: delivers nothing.
    Paused,
    /// Active, but its last delivery failed.
    Failing,
    /// Active, its last delivery did not fail, and as recorded.
    Active,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Deleted => "deleted",
            Kind::Error => "error",
            Kind::Drifted => "drifted",
            Kind::Paused => "paused",
            Kind::Failing => "failing",
            Kind::Active => "active",
        }
    }
}

impl Check {
    /// Not active (paused or any other status than `active`).
    pub(crate) fn is_paused(&self) -> bool {
        matches!(&self.health, Health::Live { status, .. } if !status.is_active())
    }

    /// Active, but its last delivery failed.
    pub(crate) fn is_failing(&self) -> bool {
        matches!(&self.health, Health::Live { status, failed: true, .. } if status.is_active())
    }

    pub(crate) fn is_drifted(&self) -> bool {
        matches!(&self.health, Health::Live { drift, .. } if !drift.is_empty())
    }

    /// The most serious of what applies.
    pub(crate) fn kind(&self) -> Kind {
        match &self.health {
            Health::Deleted => Kind::Deleted,
            Health::Error { .. } => Kind::Error,
            Health::Live { .. } if self.is_drifted() => Kind::Drifted,
            Health::Live { .. } if self.is_paused() => Kind::Paused,
            Health::Live { .. } if self.is_failing() => Kind::Failing,
            Health::Live { .. } => Kind::Active,
        }
    }

    /// Whether this webhook needs attention: paused, failing, drifted, deleted or unreadable.
    pub(crate) fn needs_attention(&self) -> bool {
        self.kind() != Kind::Active
    }
}

/// What a person should do about a check, one step per problem; empty when all is well.
pub(crate) fn next_steps(c: &Check) -> Vec<String> {
    let (name, id) = (&c.name, &c.id);
    let url = if c.url == REDACTED {
        "its URL".to_string()
    } else {
        c.url.clone()
    };
    let mut steps = Vec::new();
    match &c.health {
        Health::Deleted => steps.push(format!(
            "Webhook {id} no longer exists in Saleshandy. Run `saleshandy-webhooks state rm \"{name}\"` to forget it: the next apply creates it again if it is still in the config (remove it from the config if it should stay deleted)."
        )),
        Health::Error { reason } => steps.push(format!(
            "It could not be read ({reason}). Run status again; if it persists, check --api-url and the network."
        )),
        Health::Live { drift, .. } => {
            if let Some(d) = drift.iter().find(|d| d.field == Field::Name) {
                let live = &d.live;
                steps.push(format!(
                    "Saleshandy calls it `{live}`, the state `{name}`: rename it to `{name}` in Saleshandy (the config's name is its identity for this tool). To keep `{live}` instead, rename it in the config to that, then run `saleshandy-webhooks state mv \"{name}\" NEW` with the new name."
                ));
            }
            if drift.iter().any(|d| d.field != Field::Name) {
                steps.push(format!(
                    "It was edited in Saleshandy. Either undo the edit there, so that it matches the config again; or, to keep it, edit the config to match, then run `saleshandy-webhooks state import \"{name}\" {id}` to record it as it is now."
                ));
            }
            if c.is_paused() {
                steps.push(format!(
                    "It is paused and delivers nothing. Make sure {url} answers, then resume it in Saleshandy (Settings → Integrations → Webhooks)."
                ));
            } else if c.is_failing() {
                steps.push(format!(
                    "Its last delivery failed: check that {url} accepts Saleshandy's deliveries (it may be paused if failures go on)."
                ));
            }
        }
    }
    steps
}

/// How many webhooks are in each condition. Paused, failing and drifted may overlap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    /// Webhooks read (every recorded one).
    pub checked: usize,
    /// Active, not failing, not drifted.
    pub ok: usize,
    pub paused: usize,
    pub failing: usize,
    pub drifted: usize,
    pub deleted: usize,
    /// Could not be read.
    pub unreadable: usize,
    /// Unknown creates in the state: no id, so not checked.
    pub unknown: usize,
}

impl Summary {
    /// Anything paused, failing, drifted, deleted or unreadable.
    pub(crate) fn needs_attention(&self) -> bool {
        self.paused + self.failing + self.drifted + self.deleted + self.unreadable > 0
    }
}

/// A create whose answer was lost: it has no id, so it cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NotChecked {
    pub name: String,
    pub since: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Report {
    pub checks: Vec<Check>,
    pub unknown: Vec<NotChecked>,
    pub summary: Summary,
}

impl Report {
    pub(crate) fn new(checks: Vec<Check>, state: &State) -> Report {
        let count = |f: &dyn Fn(&Check) -> bool| checks.iter().filter(|c| f(c)).count();
        let summary = Summary {
            checked: checks.len(),
            ok: count(&|c| !c.needs_attention()),
            paused: count(&Check::is_paused),
            failing: count(&Check::is_failing),
            drifted: count(&Check::is_drifted),
            deleted: count(&|c| c.health == Health::Deleted),
            unreadable: count(&|c| matches!(c.health, Health::Error { .. })),
            unknown: state.unknown.len(),
        };
        let unknown = state
            .unknown
            .iter()
            .map(|(name, u)| NotChecked {
                name: name.clone(),
                since: u.since.clone(),
            })
            .collect();
        Report {
            checks,
            unknown,
            summary,
        }
    }
}

/// Records what the checks found in `state`: each webhook's live status (`deleted` after a
/// 404) and a [`LiveCheck`] with `now`. Unreadable webhooks keep what was recorded; checks of
/// names no longer recorded are dropped. Returns how many webhooks were updated.
pub(crate) fn record(state: &mut State, checks: &[Check], now: &str) -> usize {
    let mut updated = 0;
    for c in checks {
        let Some(recorded) = state.webhooks.get_mut(&c.name) else {
            continue;
        };
        if recorded.id != c.id {
            continue;
        }
        let entry = match &c.health {
            Health::Error { .. } => continue,
            Health::Deleted => {
                recorded.status = WebhookStatus::Deleted;
                LiveCheck {
                    id: c.id.clone(),
                    checked_at: now.to_string(),
                    failed: false,
                    last_failure: None,
                    drift: Vec::new(),
                }
            }
            Health::Live {
                status,
                failed,
                last_failure,
                drift,
            } => {
                recorded.status = status.clone();
                LiveCheck {
                    id: c.id.clone(),
                    checked_at: now.to_string(),
                    failed: *failed,
                    last_failure: last_failure.clone(),
                    drift: drift.iter().map(|d| d.field).collect(),
                }
            }
        };
        state.checks.insert(c.name.clone(), entry);
        updated += 1;
    }
    let webhooks = &state.webhooks;
    state
        .checks
        .retain(|name, check| webhooks.get(name).is_some_and(|r| r.id == check.id));
    updated
}

#[cfg(test)]
mod tests {
    use super::drift::compare;
    use super::*;
    use crate::api::Live;
    use crate::secret::{fingerprint, Secret};
    use crate::state::{Fingerprint, Sent};
    use crate::state::{Recorded, Stored};

    const LINEAGE: &str = "lineage-1";

    fn secret(v: &str) -> Stored {
        Stored::Secret(Fingerprint {
            fingerprint: fingerprint(LINEAGE, &Secret::new(v.into())),
        })
    }

    fn recorded() -> Recorded {
        Recorded {
            id: "69fb3ac1eda582171eb74826".into(),
            sent: Sent {
                url: Stored::Plain("https://example.org/hooks/sent".into()),
                events: vec!["email-sent".into(), "email-opened".into()],
                headers: [
                    ("X-Source".to_string(), Stored::Plain("saleshandy".into())),
                    ("Authorization".to_string(), secret("Bearer tok")),
                ]
                .into_iter()
                .collect(),
            },
            status: WebhookStatus::Active,
            test_delivery: Some("succeeded".into()),
            created_at: "2026-11-27T10:00:00Z".into(),
        }
    }

    fn live() -> Live {
        serde_json::from_value(serde_json::json!({
            "id": "69fb3ac1eda582171eb74826",
            "name": "Sent",
            "webhookUrl": "https://example.org/hooks/sent",
            "webhookEvent": ["email-opened", "email-sent"],
            "headers": {"x-source": "saleshandy", "Authorization": "Bearer tok"},
            "status": "active",
            "failed": false,
            "lastFailure": null
        }))
        .unwrap()
    }

    #[test]
    fn the_same_webhook_has_no_drift_whatever_the_order_and_case() {
        assert_eq!(compare("Sent", &recorded(), &live(), LINEAGE), vec![]);
    }

    #[test]
    fn every_edited_field_is_reported_and_secrets_stay_hidden() {
        let mut l = live();
        l.name = "Sent (edited)".into();
        l.webhook_url = "https://evil.example/x".into();
        l.webhook_event = vec!["email-sent".into()];
        l.headers = [
            ("X-Source".to_string(), "ui".to_string()),
            ("Authorization".to_string(), "Bearer rotated".to_string()),
            ("X-Added".to_string(), "hunter2".to_string()),
        ]
        .into_iter()
        .collect();
        let drift = compare("Sent", &recorded(), &l, LINEAGE);
        let fields: Vec<_> = drift.iter().map(|d| d.field).collect();
        assert_eq!(
            fields,
            [Field::Name, Field::Url, Field::Events, Field::Headers]
        );
        assert_eq!(drift[1].live, "https://evil.example/x");
        assert_eq!(drift[2].recorded, "email-opened, email-sent");
        let h = &drift[3];
        assert_eq!(
            h.recorded,
            "Authorization: (secret), X-Added: (absent), X-Source: saleshandy"
        );
        assert_eq!(
            h.live,
            "Authorization: (secret, changed), X-Added: (secret), X-Source: ui"
        );
        let all = format!("{drift:?}");
        assert!(!all.contains("rotated") && !all.contains("hunter2") && !all.contains("tok"));
    }

    #[test]
    fn a_secret_url_is_compared_by_fingerprint() {
        let mut r = recorded();
        r.sent.url = secret("https://example.org/hooks/sent");
        assert!(compare("Sent", &r, &live(), LINEAGE).is_empty());
        let mut l = live();
        l.webhook_url = "https://example.org/other-secret".into();
        let drift = compare("Sent", &r, &l, LINEAGE);
        assert_eq!(
            (drift[0].recorded.as_str(), drift[0].live.as_str()),
            ("(secret)", "(secret, changed)")
        );
    }

    fn check(health: Health) -> Check {
        Check {
            name: "Sent".into(),
            id: "69fb3ac1eda582171eb74826".into(),
            url: "https://example.org/hooks/sent".into(),
            health,
        }
    }

    fn live_health(status: WebhookStatus, failed: bool, drift: Vec<Drift>) -> Health {
        Health::Live {
            status,
            failed,
            last_failure: None,
            drift,
        }
    }

    #[test]
    fn kinds_and_steps() {
        let ok = check(live_health(WebhookStatus::Active, false, vec![]));
        assert_eq!(ok.kind(), Kind::Active);
        assert!(next_steps(&ok).is_empty());
        let paused = check(live_health(WebhookStatus::Paused, true, vec![]));
        assert_eq!(paused.kind(), Kind::Paused);
        assert!(!paused.is_failing());
        assert!(next_steps(&paused)[0].contains("resume it in Saleshandy"));
        let failing = check(live_health(WebhookStatus::Active, true, vec![]));
        assert_eq!(failing.kind(), Kind::Failing);
        let d = Drift {
            field: Field::Url,
            recorded: "a".into(),
            live: "b".into(),
            headers: vec![],
        };
        let drifted = check(live_health(WebhookStatus::Paused, false, vec![d]));
        assert_eq!(drifted.kind(), Kind::Drifted);
        assert_eq!(next_steps(&drifted).len(), 2);
        assert!(next_steps(&drifted)[0].contains("state import \"Sent\" 69fb3ac1eda582171eb74826"));
        let deleted = check(Health::Deleted);
        assert!(next_steps(&deleted)[0].contains("state rm \"Sent\""));
    }

    #[test]
    fn failures_describe_themselves() {
        let f = LastFailure {
            failed_at: "2026-11-27T10:00:00Z".into(),
            status_code: Some(500),
            message: "Internal\nServer Error".into(),
        };
        assert_eq!(
            describe(&f),
            "2026-11-27T10:00:00Z: HTTP 500, Internal Server Error"
        );
        let none = LastFailure {
            failed_at: String::new(),
            status_code: Some(0),
            message: String::new(),
        };
        assert_eq!(describe(&none), "at an unreported time: no HTTP answer");
    }

    #[test]
    fn record_updates_status_and_checks_and_drops_stale_ones() {
        let mut state = State::new();
        state.webhooks.insert("Sent".into(), recorded());
        let mut other = recorded();
        other.id = "69fb3ac1eda582171eb74827".into();
        state.webhooks.insert("Gone".into(), other);
        state.checks.insert(
            "Forgotten".into(),
            LiveCheck {
                id: "x".into(),
                checked_at: "t".into(),
                failed: false,
                last_failure: None,
                drift: vec![],
            },
        );
        let mut gone = check(Health::Deleted);
        gone.name = "Gone".into();
        gone.id = "69fb3ac1eda582171eb74827".into();
        let paused = check(Health::Live {
            status: WebhookStatus::Paused,
            failed: true,
            last_failure: Some(LastFailure {
                failed_at: "2026-11-27T10:00:00Z".into(),
                status_code: Some(503),
                message: "down".into(),
            }),
            drift: vec![Drift {
                field: Field::Events,
                recorded: "a".into(),
                live: "b".into(),
                headers: vec![],
            }],
        });
        assert_eq!(
            record(&mut state, &[paused, gone], "2026-11-28T00:00:00Z"),
            2
        );
        assert_eq!(state.webhooks["Sent"].status, WebhookStatus::Paused);
        assert_eq!(state.webhooks["Gone"].status, WebhookStatus::Deleted);
        let c = &state.checks["Sent"];
        assert_eq!(c.drift, [Field::Events]);
        assert_eq!(
            c.last_failure.as_ref().map(|f| f.status_code),
            Some(Some(503))
        );
        assert!(!state.checks.contains_key("Forgotten"));
        let text = state.to_json();
        assert_eq!(State::parse(&text, "s").unwrap(), state);
    }

    #[test]
    fn summary_counts_overlapping_conditions() {
        let state = State::new();
        let d = Drift {
            field: Field::Url,
            recorded: "a".into(),
            live: "b".into(),
            headers: vec![],
        };
        let report = Report::new(
            vec![
                check(live_health(WebhookStatus::Active, false, vec![])),
                check(live_health(WebhookStatus::Paused, true, vec![d])),
                check(live_health(WebhookStatus::Active, true, vec![])),
                check(Health::Deleted),
                check(Health::Error { reason: "x".into() }),
            ],
            &state,
        );
        let s = report.summary;
        assert_eq!(
            (
                s.checked,
                s.ok,
                s.paused,
                s.failing,
                s.drifted,
                s.deleted,
                s.unreadable
            ),
            (5, 1, 1, 1, 1, 1, 1)
        );
        assert!(s.needs_attention());
    }
}
