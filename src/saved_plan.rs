//! Saved plans: `plan --out FILE` then `apply FILE` applies exactly what was reviewed.
//!
//! A saved plan names the state it was made against (lineage, serial, and whether it existed)
//! and digests of the config: the content with secrets masked, and each secret's fingerprint.
//! Applying refuses when any of these no longer match. Every apply that writes the state moves
//! its serial on, so a saved plan can be applied only once — also one made before any state
//! existed, which Terraform lets through twice (hashicorp/terraform#24078).

use std::collections::BTreeMap;

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::Config;
use crate::planner::{Action, Entry, Plan, Rename, Summary};
use crate::state::{Field, Sent, State, Stored};

/// The saved-plan format this build reads and writes.
pub(crate) const FORMAT_VERSION: u32 = 1;
const KIND: &str = "saleshandy-webhooks-plan";

/// How a plan names a config read from standard input.
pub(crate) const STDIN_NAME: &str = "<stdin>";

/// A plan on disk. Holds no secret value: only fingerprints keyed by the state's lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedPlan {
    pub kind: String,
    pub format_version: u32,
    /// The config file the plan was made from, as given ([`STDIN_NAME`] for standard input):
    /// `apply PLAN` reads it unless `-c` names it.
    pub config: String,
    pub state: StateRef,
    /// SHA-256 of the desired webhooks with secret values masked.
    pub config_digest: String,
    /// Fingerprint of every secret value, by `webhook name/field`.
    pub secrets: BTreeMap<String, String>,
    /// The webhooks to create, in order.
    pub creates: Vec<String>,
    pub summary: Summary,
    /// Every entry of the plan, for `show PLAN`; absent in plans of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<SavedEntry>>,
    /// Set when the account would pass Saleshandy's limit of active webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_limit: Option<usize>,
}

/// One entry of a saved plan, as [`Entry`] holds it: secrets only as fingerprints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedEntry {
    pub name: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Sent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Sent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Field>,
    /// For `unknown`: when the create was sent, and what became of its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename: Option<Rename>,
}

impl From<&Entry> for SavedEntry {
    fn from(e: &Entry) -> SavedEntry {
        SavedEntry {
            name: e.name.clone(),
            action: e.action,
            desired: e.desired.clone(),
            recorded: e.recorded.clone(),
            id: e.id.clone(),
            changes: e.changes.clone(),
            lost: e.lost.clone(),
            rename: e.rename.clone(),
        }
    }
}

impl From<SavedEntry> for Entry {
    fn from(e: SavedEntry) -> Entry {
        Entry {
            name: e.name,
            action: e.action,
            desired: e.desired,
            recorded: e.recorded,
            id: e.id,
            changes: e.changes,
            lost: e.lost,
            rename: e.rename,
        }
    }
}

/// The state a plan was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateRef {
    pub lineage: String,
    pub serial: u64,
    /// False when the plan was made before any state file existed.
    pub existed: bool,
    /// Where the state is kept (a path or `s3://…`); absent in plans of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Why a saved plan cannot be applied any more.
#[derive(Debug, Error, Diagnostic, PartialEq)]
pub(crate) enum Stale {
    #[error("this plan was made before any state existed, and `{state}` exists now: the plan was already applied, or another apply ran")]
    #[diagnostic(code(saved_plan::already_applied), help("make a new plan with `plan --out FILE`; applying this one again could create webhooks twice"))]
    StateAppeared { state: String },

    #[error("the state `{state}` changed since this plan was made (serial {planned} → {now}): the plan was already applied, or another apply ran")]
    #[diagnostic(
        code(saved_plan::state_changed),
        help("make a new plan with `plan --out FILE` and review it; nothing was sent")
    )]
    StateChanged {
        state: String,
        planned: u64,
        now: u64,
    },

    #[error(
        "this plan was made for another state (lineage {planned}), not `{state}` (lineage {now})"
    )]
    #[diagnostic(code(saved_plan::other_state), help("apply it with the state it was made against (--state FILE), or make a new plan; nothing was sent"))]
    OtherState {
        state: String,
        planned: String,
        now: String,
    },

    #[error("the state `{state}` that this plan was made against has disappeared")]
    #[diagnostic(
        code(saved_plan::state_missing),
        help("restore the state file, or make a new plan; nothing was sent")
    )]
    StateMissing { state: String },

    #[error("this plan was made against the state `{planned}`, not `{now}`")]
    #[diagnostic(
        code(saved_plan::other_location),
        help("apply it without --state (it uses the state it was made against), or make a new plan against `{now}`; nothing was sent")
    )]
    OtherLocation { planned: String, now: String },

    #[error("this plan was made from the config `{planned}`, not `{now}`")]
    #[diagnostic(
        code(saved_plan::other_config),
        help("apply it without -c (it uses the config it was made from), or make a new plan from `{now}` with `plan -c {now} --out FILE`; nothing was sent")
    )]
    OtherConfig { planned: String, now: String },

    #[error("this plan was made from a config read on standard input")]
    #[diagnostic(
        code(saved_plan::config_from_stdin),
        help("pass the same config again with `-c -` (the plan checks that it is the same); nothing was sent")
    )]
    PlannedFromStdin,

    #[error("this plan was made from a config read on standard input, not `{now}`")]
    #[diagnostic(
        code(saved_plan::other_config),
        help("pass the config it was made from on standard input with `-c -` (the plan checks that it is the same), or make a new plan with `plan -c {now} --out FILE`; nothing was sent")
    )]
    StdinNotFile { now: String },

    #[error("the config changed since this plan was made")]
    #[diagnostic(code(saved_plan::config_changed), help("make a new plan from the current config with `plan --out FILE` and review it; nothing was sent"))]
    ConfigChanged,

    #[error(
        "the secret value of {which} from the environment is not the one this plan was made with"
    )]
    #[diagnostic(code(saved_plan::secret_changed), help("run apply with the same environment as plan (the same secret values), or make a new plan; nothing was sent"))]
    SecretChanged { which: String },
}

impl SavedPlan {
    /// Saves `plan`, made from `config` against `state`.
    pub(crate) fn new(
        config_name: &str,
        config: &Config,
        state: &State,
        existed: bool,
        location: String,
        plan: &Plan,
    ) -> SavedPlan {
        let (config_digest, secrets) = digest(config, &state.lineage);
        SavedPlan {
            kind: KIND.into(),
            format_version: FORMAT_VERSION,
            config: config_name.into(),
            state: StateRef {
                lineage: state.lineage.clone(),
                serial: state.serial,
                existed,
                location: Some(location),
            },
            config_digest,
            secrets,
            creates: plan.creates().map(|e| e.name.clone()).collect(),
            summary: plan.summary,
            entries: Some(plan.entries.iter().map(SavedEntry::from).collect()),
            over_limit: plan.over_limit,
        }
    }

    /// The plan as it was made, for `show`; `None` for a plan saved without its entries.
    pub(crate) fn plan(&self) -> Option<Plan> {
        let entries = self.entries.clone()?;
        Some(Plan {
            entries: entries.into_iter().map(Entry::from).collect(),
            summary: self.summary,
            over_limit: self.over_limit,
        })
    }

    /// Checks that the plan still describes `config` and `state` (named `state_name`), whose
    /// serial was `read_serial` as stored: folding an interrupted run's journal into it moves
    /// the serial on, but `plan` saw that journal too (the creates are compared again after).
    pub(crate) fn check(
        &self,
        config: &Config,
        state: &State,
        read_serial: u64,
        existed: bool,
        state_name: &str,
    ) -> Result<(), Stale> {
        let s = || state_name.to_string();
        match (self.state.existed, existed) {
            (false, true) => return Err(Stale::StateAppeared { state: s() }),
            (true, false) => return Err(Stale::StateMissing { state: s() }),
            (true, true) if state.lineage != self.state.lineage => {
                return Err(Stale::OtherState {
                    state: s(),
                    planned: self.state.lineage.clone(),
                    now: state.lineage.clone(),
                })
            }
            (true, true) if read_serial != self.state.serial => {
                return Err(Stale::StateChanged {
                    state: s(),
                    planned: self.state.serial,
                    now: read_serial,
                })
            }
            _ => {}
        }
        // A first run's plan keys its fingerprints with the lineage it chose.
        let (config_digest, secrets) = digest(config, &self.state.lineage);
        if config_digest != self.config_digest {
            return Err(Stale::ConfigChanged);
        }
        if let Some(which) = self
            .secrets
            .iter()
            .find(|(k, v)| secrets.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
        {
            return Err(Stale::SecretChanged { which });
        }
        Ok(())
    }

    pub(crate) fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads a plan saved by `plan --out` from `path`.
    pub(crate) fn read(path: &std::path::Path) -> Result<SavedPlan, crate::error::Error> {
        let read = |reason: String| crate::error::Error::ReadPlan {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
        SavedPlan::parse(&text).map_err(read)
    }

    /// Parses a saved plan; the error says what is wrong.
    pub(crate) fn parse(text: &str) -> Result<SavedPlan, String> {
        let plan: SavedPlan = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if plan.kind != KIND {
            return Err(format!("`kind` is `{}`, not `{KIND}`", plan.kind));
        }
        if plan.format_version > FORMAT_VERSION {
            return Err(format!(
                "format version {} is newer than this build reads ({FORMAT_VERSION})",
                plan.format_version
            ));
        }
        Ok(plan)
    }
}

/// The config's digest with secrets masked, and the fingerprint of each secret.
fn digest(config: &Config, lineage: &str) -> (String, BTreeMap<String, String>) {
    let mut secrets = BTreeMap::new();
    let mut masked: Vec<(String, Sent)> = Vec::with_capacity(config.webhooks.len());
    for w in &config.webhooks {
        let mut sent = Sent::from_webhook(w, lineage);
        let mut mask = |field: String, v: &mut Stored| {
            if let Stored::Secret(f) = v {
                secrets.insert(field, f.fingerprint.clone());
                *v = Stored::Plain(crate::secret::REDACTED.into());
            }
        };
        mask(format!("{}/url", w.name), &mut sent.url);
        for (k, v) in sent.headers.iter_mut() {
            mask(format!("{}/headers/{k}", w.name), v);
        }
        masked.push((w.name.clone(), sent));
    }
    let bytes = serde_json::to_vec(&masked).unwrap_or_default();
    let hex = crate::secret::sha256_hex(&bytes);
    (format!("sha256:{hex}"), secrets)
}
