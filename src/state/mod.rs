//! The state file: which webhooks this tool created, with their ids and what was sent.
//!
//! JSON, pretty, keys sorted, trailing newline, so that it diffs well in git. Secret values
//! are stored only as keyed fingerprints ([`crate::secret::fingerprint`]).

mod hygiene;
mod load_error;
mod unique_keys;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::NamedSource;
use serde::{Deserialize, Serialize};

/// Saved plans are written the way the local store writes a state.
use load_error::offset_of;
pub use load_error::{DuplicateKey, MergeConflict, ParseError, StateError};

use crate::config::Webhook;
/// A webhook's status and its last failed delivery, as every layer names them.
pub use crate::reported::{LastFailure, WebhookStatus};
use crate::secret::{fingerprint, Value};

/// The newest state format this build reads and writes.
pub(crate) const STATE_VERSION: u32 = 1;

/// The whole state of one account's webhooks as this tool knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version of the file.
    pub version: u32,
    /// Random id fixed when the state is first created; also the fingerprint key.
    pub lineage: String,
    /// Incremented on every write.
    pub serial: u64,
    /// The API base URL the webhooks were created at; set by the first apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Webhooks known to exist, by name.
    #[serde(default, deserialize_with = "unique_keys::map")]
    pub webhooks: BTreeMap<String, Recorded>,
    /// Creates that were sent but whose outcome is unknown, by name: the webhook may exist.
    #[serde(default, deserialize_with = "unique_keys::map")]
    pub unknown: BTreeMap<String, Unknown>,
    /// What `status --update-state` last found for each recorded webhook, by name.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_keys::map"
    )]
    pub checks: BTreeMap<String, LiveCheck>,
}

/// A webhook that exists, with what was sent to create it and what the API answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub id: String,
    pub sent: Sent,
    /// `active` or `paused`, as last reported by the API (`deleted` after a 404 seen by
    /// `status --update-state`).
    pub status: WebhookStatus,
    /// The result of the test delivery made at creation (`succeeded` or `failed`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_delivery: Option<String>,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
}

/// A webhook as `status --update-state` last read it from the API. It applies to the recorded
/// webhook of the same name only while that one has the same `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveCheck {
    /// The id that was read.
    pub id: String,
    /// When it was read (RFC 3339, UTC).
    pub checked_at: String,
    /// Whether its last delivery had failed.
    #[serde(default)]
    pub failed: bool,
    /// Its last failed delivery, if the API reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<LastFailure>,
    /// The fields edited in Saleshandy since it was recorded; values are never stored here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Field>,
}

/// A create request whose answer was lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unknown {
    pub sent: Sent,
    /// When the request was sent (RFC 3339, UTC).
    pub since: String,
    /// What happened to the answer.
    pub reason: String,
}

/// The content of a create request, with secrets replaced by fingerprints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    pub url: Stored,
    pub events: Vec<String>,
    #[serde(default, deserialize_with = "unique_keys::map")]
    pub headers: BTreeMap<String, Stored>,
}

/// A value as stored: in clear, or a fingerprint when it came from the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stored {
    Plain(String),
    Secret(Fingerprint),
}

/// `{"fingerprint": "hmac-sha256:<64 hex>"}`: a secret, as only its keyed fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub fingerprint: String,
}

impl Stored {
    /// Stores a config value; `key` is the state's lineage.
    pub(crate) fn from_value(value: &Value, key: &str) -> Self {
        match value {
            Value::Plain(s) => Stored::Plain(s.clone()),
            Value::Secret(s) => Stored::Secret(Fingerprint {
                fingerprint: fingerprint(key, s),
            }),
        }
    }

    /// What may be shown to a user.
    pub(crate) fn shown(&self) -> &str {
        match self {
            Stored::Plain(s) => s,
            Stored::Secret(_) => crate::secret::REDACTED,
        }
    }
}

impl Sent {
    /// What a create request for `webhook` sends, as the state stores it.
    pub fn from_webhook(webhook: &Webhook, key: &str) -> Self {
        Sent {
            url: Stored::from_value(&webhook.url, key),
            events: webhook
                .events
                .iter()
                .map(|e| e.as_str().to_string())
                .collect(),
            headers: webhook
                .headers
                .iter()
                .map(|h| (h.name.clone(), Stored::from_value(&h.value, key)))
                .collect(),
        }
    }

    /// The fields in which two requests differ, ignoring event order and header-name case.
    pub(crate) fn differences(&self, other: &Sent) -> Vec<Field> {
        let mut fields = Vec::new();
        if self.url != other.url {
            fields.push(Field::Url);
        }
        if self.event_set() != other.event_set() {
            fields.push(Field::Events);
        }
        if self.header_map() != other.header_map() {
            fields.push(Field::Headers);
        }
        fields
    }

    /// Events sorted and without repeats.
    pub(crate) fn event_set(&self) -> Vec<&str> {
        let mut events: Vec<&str> = self.events.iter().map(String::as_str).collect();
        events.sort_unstable();
        events.dedup();
        events
    }

    /// Headers keyed by lower-cased name, sorted.
    pub(crate) fn header_map(&self) -> BTreeMap<String, &Stored> {
        self.headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect()
    }
}

/// A part of a webhook that can differ: between the config and the state (`plan`: never
/// `name`, which is the identity there), or between the state and the live webhook (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Name,
    Url,
    Events,
    Headers,
}

impl Field {
    /// The name as written in the state and in reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Url => "url",
            Field::Events => "events",
            Field::Headers => "headers",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl State {
    /// A state with nothing in it and a fresh lineage, for a first run.
    pub fn new() -> Self {
        State {
            version: STATE_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            endpoint: None,
            webhooks: BTreeMap::new(),
            unknown: BTreeMap::new(),
            checks: BTreeMap::new(),
        }
    }

    /// The file's text: pretty JSON, keys sorted, trailing newline.
    pub fn to_json(&self) -> String {
        // Going through `serde_json::Value` sorts every object's keys.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a state file's text; `name` is shown in errors.
    pub fn parse(text: &str, name: &str) -> Result<State, StateError> {
        #[derive(Deserialize)]
        struct Header {
            version: Option<u32>,
        }
        if let Some(conflict) = MergeConflict::find(text, name) {
            return Err(StateError::MergeConflict(Box::new(conflict)));
        }
        let located = |e: serde_json::Error| {
            let offset = offset_of(text, e.line(), e.column());
            if let Some(duplicate) = DuplicateKey::find(&e, text, offset, name) {
                return StateError::DuplicateKey(Box::new(duplicate));
            }
            StateError::Parse(Box::new(ParseError {
                path: name.to_string(),
                message: e.to_string(),
                src: NamedSource::new(name, text.to_string()).with_language("json"),
                at: (offset, 0).into(),
            }))
        };
        // Check the version first, so a newer file is reported as such rather than as unknown
        // fields.
        let header: Header = serde_json::from_str(text).map_err(located)?;
        match header.version {
            Some(v) if v > STATE_VERSION => {
                return Err(StateError::NewerVersion {
                    path: name.to_string(),
                    found: v,
                })
            }
            _ => {}
        }
        let mut state: State = serde_json::from_str(text).map_err(located)?;
        state.check().map_err(|reason| StateError::Invalid {
            path: name.to_string(),
            reason,
        })?;
        state.clean_server_text();
        Ok(state)
    }

    /// What serde cannot check: the values that later code relies on.
    fn check(&self) -> Result<(), String> {
        if let Some(reason) = self.hidden_characters() {
            return Err(reason);
        }
        if self.version == 0 {
            return Err("format version 0 does not exist".into());
        }
        if self.lineage.trim().is_empty() {
            return Err("`lineage` is empty".into());
        }
        let sents = self
            .webhooks
            .iter()
            .map(|(n, r)| (n, &r.sent))
            .chain(self.unknown.iter().map(|(n, u)| (n, &u.sent)));
        for (name, sent) in sents {
            let values = std::iter::once(&sent.url).chain(sent.headers.values());
            for v in values {
                if let Stored::Secret(f) = v {
                    let hex = f.fingerprint.strip_prefix("hmac-sha256:").unwrap_or("");
                    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(format!(
                            "webhook `{name}` has a malformed fingerprint `{}`",
                            f.fingerprint
                        ));
                    }
                }
            }
        }
        for (name, r) in &self.webhooks {
            if r.id.trim().is_empty() {
                return Err(format!("webhook `{name}` has an empty `id`"));
            }
        }
        Ok(())
    }

    /// Whether the state records nothing in Saleshandy: no webhook and no unknown create.
    /// Such a state is bound to no endpoint, whatever it says.
    pub(crate) fn holds_nothing(&self) -> bool {
        self.webhooks.is_empty() && self.unknown.is_empty()
    }

    /// Records that the state's webhooks are at `endpoint`: kept if it already holds some,
    /// else (a first write, or every entry removed since) `endpoint` replaces what it said.
    pub(crate) fn bind(&mut self, endpoint: String) {
        if self.holds_nothing() {
            self.endpoint = Some(endpoint);
        } else {
            self.endpoint.get_or_insert(endpoint);
        }
    }

    /// How many webhooks count against the account's limit of active webhooks after creating
    /// `creates` more: every recorded one that is not paused or deleted, and every unknown one.
    pub(crate) fn active_after(&self, creates: usize) -> usize {
        self.webhooks
            .values()
            .filter(|r| r.status.counts_as_active())
            .count()
            + self.unknown.len()
            + creates
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// The default state path: beside the config, `<config stem>.state.json`.
pub(crate) fn default_path(config: &Path) -> PathBuf {
    if config == Path::new("-") {
        return PathBuf::from("webhooks.state.json");
    }
    let stem = config
        .file_stem()
        .map_or_else(|| "webhooks".into(), |s| s.to_string_lossy().into_owned());
    config.with_file_name(format!("{stem}.state.json"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn sent(url: &str, events: &[&str], headers: &[(&str, &str)]) -> Sent {
        Sent {
            url: Stored::Plain(url.into()),
            events: events.iter().map(|e| e.to_string()).collect(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), Stored::Plain(v.to_string())))
                .collect(),
        }
    }

    #[test]
    fn comparison_ignores_event_order_and_header_case() {
        let a = sent(
            "https://a",
            &["email-sent", "email-opened"],
            &[("X-Source", "sh")],
        );
        let b = sent(
            "https://a",
            &["email-opened", "email-sent"],
            &[("x-source", "sh")],
        );
        assert!(a.differences(&b).is_empty());
        let c = sent("https://b", &["email-sent"], &[("x-source", "SH")]);
        assert_eq!(
            a.differences(&c),
            vec![Field::Url, Field::Events, Field::Headers]
        );
    }

    #[test]
    fn json_is_sorted_pretty_and_round_trips() {
        let mut s = State::new();
        s.webhooks.insert(
            "b".into(),
            Recorded {
                id: "0123456789abcdef01234567".into(),
                sent: sent("https://a", &["email-sent"], &[("Z", "1"), ("A", "2")]),
                status: WebhookStatus::Active,
                test_delivery: Some("succeeded".into()),
                created_at: "2026-11-27T10:00:00Z".into(),
            },
        );
        let text = s.to_json();
        assert!(text.ends_with("}\n"));
        let keys: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("  \""))
            .map(|l| l.trim().split('"').nth(1).unwrap_or(""))
            .collect();
        assert_eq!(
            keys,
            ["lineage", "serial", "unknown", "version", "webhooks"]
        );
        assert!(text.find("\"A\"") < text.find("\"Z\""));
        assert_eq!(State::parse(&text, "s").unwrap(), s);
    }

    /// A state as this tool has always written it, with every status (an unrecognised one
    /// too) and a live check with a last failure and drift: read and written again, it is the
    /// same bytes.
    const EVERY_STATUS: &str = r#"{
  "checks": {
    "a": {
      "checked_at": "2026-11-28T00:00:00Z",
      "drift": [
        "name",
        "url",
        "events",
        "headers"
      ],
      "failed": true,
      "id": "0123456789abcdef01234567",
      "last_failure": {
        "failed_at": "2026-11-27T10:15:00Z",
        "message": "Service Unavailable",
        "status_code": 503
      }
    },
    "p": {
      "checked_at": "2026-11-28T00:00:00Z",
      "failed": false,
      "id": "0123456789abcdef01234568",
      "last_failure": {
        "failed_at": "",
        "message": "no answer"
      }
    }
  },
  "endpoint": "https://open-api.saleshandy.com",
  "lineage": "l",
  "serial": 3,
  "unknown": {},
  "version": 1,
  "webhooks": {
    "a": {
      "created_at": "2026-11-27T10:00:00Z",
      "id": "0123456789abcdef01234567",
      "sent": {
        "events": [
          "email-sent"
        ],
        "headers": {},
        "url": "https://a"
      },
      "status": "active",
      "test_delivery": "succeeded"
    },
    "d": {
      "created_at": "2026-11-27T10:00:00Z",
      "id": "0123456789abcdef01234569",
      "sent": {
        "events": [
          "email-sent"
        ],
        "headers": {},
        "url": "https://d"
      },
      "status": "deleted"
    },
    "o": {
      "created_at": "2026-11-27T10:00:00Z",
      "id": "0123456789abcdef0123456a",
      "sent": {
        "events": [
          "email-sent"
        ],
        "headers": {},
        "url": "https://o"
      },
      "status": "Archived "
    },
    "p": {
      "created_at": "2026-11-27T10:00:00Z",
      "id": "0123456789abcdef01234568",
      "sent": {
        "events": [
          "email-sent"
        ],
        "headers": {},
        "url": "https://p"
      },
      "status": "paused",
      "test_delivery": "failed"
    }
  }
}
"#;

    #[test]
    fn every_status_is_read_as_its_type_and_written_back_byte_identical() {
        let state = State::parse(EVERY_STATUS, "s").unwrap();
        let status = |name: &str| state.webhooks[name].status.clone();
        assert_eq!(status("a"), WebhookStatus::Active);
        assert_eq!(status("p"), WebhookStatus::Paused);
        assert_eq!(status("d"), WebhookStatus::Deleted);
        assert_eq!(status("o"), WebhookStatus::Other("Archived ".into()));
        let check = &state.checks["a"];
        assert_eq!(
            check.drift,
            [Field::Name, Field::Url, Field::Events, Field::Headers]
        );
        assert_eq!(
            check.last_failure.as_ref().and_then(|f| f.status_code),
            Some(503)
        );
        assert_eq!(
            state.checks["p"]
                .last_failure
                .as_ref()
                .map(|f| f.status_code),
            Some(None)
        );
        assert_eq!(state.to_json(), EVERY_STATUS);
        // Only `active` and the unrecognised one count against the account's limit.
        assert_eq!(state.active_after(0), 2);
    }

    #[test]
    fn a_drifted_field_this_build_does_not_know_is_refused() {
        let text = EVERY_STATUS.replace("\"headers\"\n      ],", "\"colour\"\n      ],");
        assert_ne!(text, EVERY_STATUS);
        assert!(matches!(
            State::parse(&text, "s"),
            Err(StateError::Parse(_))
        ));
    }

    #[test]
    fn secrets_are_stored_as_fingerprints() {
        let v = Value::Secret(crate::secret::Secret::new("tok".into()));
        let stored = Stored::from_value(&v, "lineage");
        let json = serde_json::to_string(&stored).unwrap();
        assert!(
            json.starts_with("{\"fingerprint\":\"hmac-sha256:") && !json.contains("tok\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Stored>(&json).unwrap(), stored);
    }

    #[test]
    fn conflict_markers_are_a_merge_conflict_at_their_line() {
        let text = "{\n  \"serial\": 1,\n<<<<<<< HEAD\n  \"version\": 1\n=======\n>>>>>>> x\n}\n";
        let Err(StateError::MergeConflict(c)) = State::parse(text, "s") else {
            panic!("not a merge conflict");
        };
        assert_eq!((c.line, c.at.offset(), c.at.len()), (3, 17, 12));
        // A marker inside a line is text, not a conflict.
        let Err(StateError::Parse(_)) = State::parse("{\"a\": \"<<<<<<< x\"", "s") else {
            panic!("not a parse error");
        };
    }

    #[test]
    fn parse_errors_point_into_the_file() {
        let text = "{\n  \"version\": 1,\n  \"lineage\": 5\n}\n";
        let Err(StateError::Parse(e)) = State::parse(text, "s") else {
            panic!("parse error")
        };
        assert_eq!(&text[..e.at.offset()].lines().count(), &3);
    }

    #[test]
    fn values_serde_cannot_check_are_refused() {
        let base = State::new().to_json();
        let zero = base.replace("\"version\": 1", "\"version\": 0");
        assert!(matches!(
            State::parse(&zero, "s"),
            Err(StateError::Invalid { .. })
        ));
        let bad_fp = r#"{"version": 1, "lineage": "l", "serial": 1, "webhooks": {"a": {"id": "x", "status": "active", "created_at": "t",
            "sent": {"url": {"fingerprint": "hmac-sha256:zz"}, "events": []}}}}"#;
        assert!(
            matches!(State::parse(bad_fp, "s"), Err(StateError::Invalid { reason, .. }) if reason.contains("malformed fingerprint"))
        );
        let extra = bad_fp.replace("\"hmac-sha256:zz\"", "\"hmac-sha256:zz\", \"x\": 1");
        assert!(State::parse(&extra, "s").is_err());
    }

    #[test]
    fn newer_versions_are_refused() {
        let text = r#"{"version": 9, "lineage": "x", "serial": 1, "future": true}"#;
        assert!(matches!(
            State::parse(text, "s"),
            Err(StateError::NewerVersion { found: 9, .. })
        ));
    }

    #[test]
    fn a_key_twice_is_refused_where_it_is_repeated() {
        let check = r#"{"id": "x", "checked_at": "t"}"#;
        let text = format!(
            "{{\"version\": 1, \"lineage\": \"l\", \"serial\": 1,\n  \"unknown\": {{}},\n  \"checks\": {{\"a\": {check},\n    \"a\": {check}}}}}"
        );
        let text = text.as_str();
        let Err(StateError::DuplicateKey(d)) = State::parse(text, "s") else {
            panic!("duplicate key")
        };
        assert_eq!((d.key.as_str(), d.line, d.column), ("a", 4, 5));
        let field = "{\"version\": 1, \"lineage\": \"l\", \"lineage\": \"m\", \"serial\": 1}";
        let Err(StateError::DuplicateKey(d)) = State::parse(field, "s") else {
            panic!("duplicate field")
        };
        assert_eq!((d.key.as_str(), d.line, d.column), ("lineage", 1, 32));
    }

    #[test]
    fn default_path_sits_beside_the_config() {
        assert_eq!(
            default_path(Path::new("infra/prod.yaml")),
            PathBuf::from("infra/prod.state.json")
        );
        assert_eq!(
            default_path(Path::new("webhooks.yaml")),
            PathBuf::from("webhooks.state.json")
        );
        assert_eq!(
            default_path(Path::new("-")),
            PathBuf::from("webhooks.state.json")
        );
    }
}
