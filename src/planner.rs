//! `plan(config, state) -> Plan`: what apply would do. Pure: no I/O, no clock, no network.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::state::{Field, Sent, State, WebhookStatus};

/// Saleshandy's limit of active webhooks per account.
pub(crate) const ACCOUNT_LIMIT: usize = 50;

/// What apply does with one webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    /// In the config, not in the state: apply creates it.
    Create,
    /// In both, same content: nothing to do.
    Unchanged,
    /// In both, content differs: the API cannot update; a person must.
    Changed,
    /// In the state, not in the config: the API cannot delete; a person must.
    Orphaned,
    /// A create was sent but its answer was lost: a person must say whether it exists.
    Unknown,
    /// `status --update-state` found it deleted in Saleshandy: not re-created on its own (a
    /// wrong key makes every webhook look deleted); a person must say what to do.
    Deleted,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Unchanged => "unchanged",
            Action::Changed => "changed",
            Action::Orphaned => "orphaned",
            Action::Unknown => "unknown",
            Action::Deleted => "deleted",
        }
    }
}

/// One webhook in the plan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub name: String,
    pub action: Action,
    /// What the config asks for, when the webhook is in the config.
    pub desired: Option<Sent>,
    /// What the state says was sent, when the webhook is in the state.
    pub recorded: Option<Sent>,
    /// The webhook's id, when it is known to exist.
    pub id: Option<String>,
    /// For `changed`: which fields differ.
    pub changes: Vec<Field>,
    /// For `unknown`: when the create was sent, and what became of its answer.
    pub lost: Option<(String, String)>,
    /// A likely rename: a create and an orphan with the same url, events and headers. The
    /// create names the orphan it likely was, the orphan the create it likely became.
    pub rename: Option<Rename>,
}

/// A likely rename in the config: `from` is orphaned, `to` would be created, same content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rename {
    pub from: String,
    pub to: String,
}

/// Counts per action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Summary {
    pub create: usize,
    pub unchanged: usize,
    pub changed: usize,
    pub orphaned: usize,
    pub unknown: usize,
    /// Written only when not 0, so that plans without one read as before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deleted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    fn bump(&mut self, a: Action) {
        match a {
            Action::Create => self.create += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Changed => self.changed += 1,
            Action::Orphaned => self.orphaned += 1,
            Action::Unknown => self.unknown += 1,
            Action::Deleted => self.deleted += 1,
        }
    }

    /// Adds another account's counts.
    pub(crate) fn add(&mut self, other: &Summary) {
        self.create += other.create;
        self.unchanged += other.unchanged;
        self.changed += other.changed;
        self.orphaned += other.orphaned;
        self.unknown += other.unknown;
        self.deleted += other.deleted;
    }

    /// Whether anything needs a person (changed, orphaned, unknown or deleted).
    pub(crate) fn needs_person(&self) -> bool {
        self.changed + self.orphaned + self.unknown + self.deleted > 0
    }
}

/// The whole plan: config entries in config order, then state-only ones by name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub entries: Vec<Entry>,
    pub summary: Summary,
    /// Set when the account would hold more active webhooks than Saleshandy allows.
    pub over_limit: Option<usize>,
}

impl Plan {
    pub(crate) fn creates(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.action == Action::Create)
    }
}

/// Compares the config with the state. Deterministic: the same inputs give the same plan.
pub(crate) fn plan(config: &Config, state: &State) -> Plan {
    let mut entries = Vec::with_capacity(config.webhooks.len() + state.webhooks.len());
    let mut in_config = HashSet::with_capacity(config.webhooks.len());
    for webhook in &config.webhooks {
        in_config.insert(webhook.name.as_str());
        let desired = Sent::from_webhook(webhook, &state.lineage);
        let entry = if let Some(u) = state.unknown.get(&webhook.name) {
            Entry {
                action: Action::Unknown,
                recorded: Some(u.sent.clone()),
                lost: Some((u.since.clone(), u.reason.clone())),
                ..entry(&webhook.name, Some(desired))
            }
        } else if let Some(r) = state
            .webhooks
            .get(&webhook.name)
            .filter(|r| r.status == WebhookStatus::Deleted)
        {
            Entry {
                action: Action::Deleted,
                recorded: Some(r.sent.clone()),
                id: Some(r.id.clone()),
                ..entry(&webhook.name, Some(desired))
            }
        } else if let Some(r) = state.webhooks.get(&webhook.name) {
            let changes = r.sent.differences(&desired);
            Entry {
                action: if changes.is_empty() {
                    Action::Unchanged
                } else {
                    Action::Changed
                },
                recorded: Some(r.sent.clone()),
                id: Some(r.id.clone()),
                changes,
                ..entry(&webhook.name, Some(desired))
            }
        } else {
            Entry {
                action: Action::Create,
                ..entry(&webhook.name, Some(desired))
            }
        };
        entries.push(entry);
    }
    // BTreeMaps iterate by name, so these come sorted. A name both recorded and unknown is
    // reported once, as unknown.
    for (name, u) in &state.unknown {
        if !in_config.contains(name.as_str()) {
            entries.push(Entry {
                action: Action::Unknown,
                recorded: Some(u.sent.clone()),
                lost: Some((u.since.clone(), u.reason.clone())),
                ..entry(name, None)
            });
        }
    }
    for (name, r) in &state.webhooks {
        if !in_config.contains(name.as_str()) && !state.unknown.contains_key(name) {
            let action = match r.status {
                WebhookStatus::Deleted => Action::Deleted,
                _ => Action::Orphaned,
            };
            entries.push(Entry {
                action,
                recorded: Some(r.sent.clone()),
                id: Some(r.id.clone()),
                ..entry(name, None)
            });
        }
    }
    pair_renames(&mut entries);
    let mut summary = Summary::default();
    for e in &entries {
        summary.bump(e.action);
    }
    let total = state.active_after(summary.create);
    Plan {
        entries,
        summary,
        over_limit: (total > ACCOUNT_LIMIT).then_some(total),
    }
}

/// Marks each create whose content (url, events, headers; secrets by fingerprint) is that of
/// an orphan as its likely rename, pairing each orphan with one create at most, in order.
fn pair_renames(entries: &mut [Entry]) {
    let mut paired = HashSet::new();
    let mut renames = Vec::new();
    for create in entries.iter().filter(|e| e.action == Action::Create) {
        let Some(desired) = &create.desired else {
            continue;
        };
        let orphan = entries.iter().find(|o| {
            o.action == Action::Orphaned
                && !paired.contains(o.name.as_str())
                && o.recorded
                    .as_ref()
                    .is_some_and(|r| r.differences(desired).is_empty())
        });
        if let Some(o) = orphan {
            paired.insert(o.name.as_str());
            renames.push(Rename {
                from: o.name.clone(),
                to: create.name.clone(),
            });
        }
    }
    for r in renames {
        for e in entries.iter_mut() {
            if (e.action == Action::Create && e.name == r.to)
                || (e.action == Action::Orphaned && e.name == r.from)
            {
                e.rename = Some(r.clone());
            }
        }
    }
}

fn entry(name: &str, desired: Option<Sent>) -> Entry {
    Entry {
        name: name.to_string(),
        action: Action::Create,
        desired,
        recorded: None,
        id: None,
        changes: Vec::new(),
        lost: None,
        rename: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::state::{Recorded, Unknown};

    const TOKEN: &str = "tok-1";

    fn config(text: &str) -> Config {
        let loaded = config::load(text, &|n| (n == "TOKEN").then(|| TOKEN.to_string()));
        loaded
            .config
            .unwrap_or_else(|| panic!("{:?}", loaded.problems))
    }

    fn hook(name: &str, url: &str, events: &str, headers: &str) -> String {
        format!("  - name: {name}\n    url: {url}\n    events: [{events}]\n    headers: {{{headers}}}\n")
    }

    fn doc(hooks: &[String]) -> String {
        if hooks.is_empty() {
            return "version: 1\nwebhooks: []\n".into();
        }
        format!("version: 1\nwebhooks:\n{}", hooks.concat())
    }

    /// A state that records every webhook of `c` as created, as apply would.
    fn applied(c: &Config, state: &State) -> State {
        let mut s = state.clone();
        for w in &c.webhooks {
            s.webhooks
                .entry(w.name.clone())
                .or_insert_with(|| Recorded {
                    id: format!("{:024x}", s.serial),
                    sent: Sent::from_webhook(w, &s.lineage),
                    status: WebhookStatus::Active,
                    test_delivery: Some("succeeded".into()),
                    created_at: "2026-11-27T10:00:00Z".into(),
                });
        }
        s
    }

    fn actions(p: &Plan) -> Vec<(&str, Action)> {
        p.entries
            .iter()
            .map(|e| (e.name.as_str(), e.action))
            .collect()
    }

    #[test]
    fn every_kind_of_entry() {
        let before = config(&doc(&[
            hook(
                "same",
                "https://a.example.org/1",
                "email-sent, email-opened",
                "X-A: one",
            ),
            hook("edited", "https://a.example.org/2", "email-sent", ""),
            hook("removed", "https://a.example.org/3", "email-sent", ""),
            hook("lost", "https://a.example.org/4", "email-sent", ""),
        ]));
        let mut state = applied(&before, &State::new());
        let lost = state.webhooks.remove("lost").expect("recorded");
        state.unknown.insert(
            "lost".into(),
            Unknown {
                sent: lost.sent,
                since: "2026-11-27T10:00:00Z".into(),
                reason: "timeout".into(),
            },
        );
        let after = config(&doc(&[
            hook(
                "same",
                "https://a.example.org/1",
                "email-opened, email-sent",
                "x-a: one",
            ),
            hook("edited", "https://a.example.org/2b", "email-sent", ""),
            hook("lost", "https://a.example.org/4", "email-sent", ""),
            hook("new", "https://a.example.org/5", "reply-received", ""),
        ]));
        let p = plan(&after, &state);
        assert_eq!(
            actions(&p),
            [
                ("same", Action::Unchanged),
                ("edited", Action::Changed),
                ("lost", Action::Unknown),
                ("new", Action::Create),
                ("removed", Action::Orphaned),
            ]
        );
        assert_eq!(p.entries[1].changes, [Field::Url]);
        assert_eq!(
            p.summary,
            Summary {
                create: 1,
                unchanged: 1,
                changed: 1,
                orphaned: 1,
                unknown: 1,
                deleted: 0,
            }
        );
        assert!(p.summary.needs_person());
        assert_eq!(p.over_limit, None);
    }

    #[test]
    fn secrets_compare_by_fingerprint() {
        let c = config(&doc(&[hook(
            "s",
            "https://a.example.org",
            "email-sent",
            "Authorization: \"Bearer ${TOKEN}\"",
        )]));
        let state = applied(&c, &State::new());
        assert_eq!(plan(&c, &state).summary.unchanged, 1);
        let rotated = config::load(
            &doc(&[hook(
                "s",
                "https://a.example.org",
                "email-sent",
                "Authorization: \"Bearer ${TOKEN}\"",
            )]),
            &|_| Some("tok-2".into()),
        );
        let p = plan(&rotated.config.expect("valid"), &state);
        assert_eq!(p.entries[0].action, Action::Changed);
        assert_eq!(p.entries[0].changes, [Field::Headers]);
    }

    #[test]
    fn unknown_wins_over_recorded_and_is_listed_once() {
        let c = config(&doc(&[hook(
            "a",
            "https://a.example.org",
            "email-sent",
            "",
        )]));
        let mut state = applied(&c, &State::new());
        let sent = state.webhooks["a"].sent.clone();
        state.unknown.insert(
            "a".into(),
            Unknown {
                sent,
                since: "t".into(),
                reason: "r".into(),
            },
        );
        assert_eq!(actions(&plan(&c, &state)), [("a", Action::Unknown)]);
        let empty = config("version: 1\nwebhooks: []\n");
        assert_eq!(actions(&plan(&empty, &state)), [("a", Action::Unknown)]);
    }

    #[test]
    fn warns_past_the_account_limit() {
        let hooks: Vec<String> = (0..51)
            .map(|i| hook(&format!("h{i}"), "https://a.example.org", "email-sent", ""))
            .collect();
        let c = config(&doc(&hooks));
        assert_eq!(plan(&c, &State::new()).over_limit, Some(51));
        let c50 = config(&doc(&hooks[..50]));
        assert_eq!(plan(&c50, &State::new()).over_limit, None);
        let mut state = applied(&c, &State::new());
        for r in state.webhooks.values_mut().take(5) {
            r.status = WebhookStatus::Paused;
        }
        assert_eq!(
            plan(&c, &state).over_limit,
            None,
            "paused webhooks are not active"
        );
    }

    #[test]
    fn webhooks_found_deleted_are_their_own_action_and_not_recreated() {
        let c = config(&doc(&[
            hook("a", "https://a.example.org", "email-sent", ""),
            hook("b", "https://b.example.org", "email-sent", ""),
            hook("c", "https://c.example.org", "email-sent", ""),
        ]));
        let mut state = applied(&c, &State::new());
        for name in ["b", "c"] {
            state.webhooks.get_mut(name).expect("recorded").status = WebhookStatus::Deleted;
        }
        let only_ab = config(&doc(&[
            hook("a", "https://a.example.org", "email-sent", ""),
            hook("b", "https://b.example.org/edited", "email-sent", ""),
        ]));
        let p = plan(&only_ab, &state);
        assert_eq!(
            actions(&p),
            [
                ("a", Action::Unchanged),
                ("b", Action::Deleted),
                ("c", Action::Deleted)
            ]
        );
        assert_eq!((p.summary.create, p.summary.deleted), (0, 2));
        assert!(p.summary.needs_person());
    }

    #[test]
    fn a_create_with_an_orphans_content_is_a_likely_rename() {
        let before = config(&doc(&[
            hook(
                "old",
                "https://a.example.org/1",
                "email-sent",
                "X-S: \"${TOKEN}\"",
            ),
            hook("gone", "https://a.example.org/2", "email-sent", ""),
        ]));
        let state = applied(&before, &State::new());
        let after = config(&doc(&[
            hook(
                "new",
                "https://a.example.org/1",
                "email-sent",
                "x-s: \"${TOKEN}\"",
            ),
            hook("other", "https://a.example.org/3", "email-sent", ""),
        ]));
        let p = plan(&after, &state);
        let rename = Some(Rename {
            from: "old".into(),
            to: "new".into(),
        });
        let renames: Vec<_> = p
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.rename.clone()))
            .collect();
        assert_eq!(
            renames,
            [
                ("new", rename.clone()),
                ("other", None),
                ("gone", None),
                ("old", rename),
            ]
        );
        let rotated = config::load(
            &doc(&[hook(
                "new",
                "https://a.example.org/1",
                "email-sent",
                "X-S: \"${TOKEN}\"",
            )]),
            &|_| Some("tok-2".into()),
        );
        let p = plan(&rotated.config.expect("valid"), &state);
        assert!(
            p.entries.iter().all(|e| e.rename.is_none()),
            "another secret is another webhook"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const EVENTS: &[&str] = &[
            "email-sent",
            "email-opened",
            "reply-received",
            "task-created",
        ];

        fn arb_config() -> impl Strategy<Value = Config> {
            prop::collection::btree_map(
                0u8..30,
                (
                    0u8..4,
                    prop::collection::btree_set(0usize..EVENTS.len(), 1..3),
                    any::<bool>(),
                ),
                0..12,
            )
            .prop_map(|m| {
                let hooks: Vec<String> = m
                    .iter()
                    .map(|(name, (url, events, header))| {
                        let ev: Vec<&str> = events.iter().map(|i| EVENTS[*i]).collect();
                        let h = if *header { "X-S: \"${TOKEN}\"" } else { "" };
                        hook(
                            &format!("w{name}"),
                            &format!("https://h{url}.example.org/x"),
                            &ev.join(", "),
                            h,
                        )
                    })
                    .collect();
                config(&doc(&hooks))
            })
        }

        proptest! {
            #[test]
            fn applying_the_creates_leaves_nothing_to_create(first in arb_config(), second in arb_config()) {
                let state = applied(&first, &State::new());
                let p = plan(&second, &state);
                let after = applied(&second, &state);
                let again = plan(&second, &after);
                prop_assert_eq!(again.summary.create, 0);
                prop_assert_eq!(again.summary.unchanged + again.summary.changed, second.webhooks.len());
                prop_assert_eq!(p.summary.create + p.summary.unchanged + p.summary.changed, second.webhooks.len());
            }

            #[test]
            fn plans_and_their_renderings_are_deterministic(first in arb_config(), second in arb_config()) {
                let state = applied(&first, &State::new());
                let reloaded = State::parse(&state.to_json(), "s").expect("round trip");
                let (a, b) = (plan(&second, &state), plan(&second, &reloaded));
                prop_assert_eq!(&a, &b);
                let ctx = crate::render::Context { config: "c", state: "s", state_exists: true };
                prop_assert_eq!(crate::render::json::render(&a, &ctx), crate::render::json::render(&b, &ctx));
                prop_assert_eq!(crate::render::markdown::render(&a, &ctx), crate::render::markdown::render(&b, &ctx));
            }
        }
    }
}
