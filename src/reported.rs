//! What Saleshandy reports about a webhook, in the one vocabulary the API client, the state,
//! `status` and the sandbox share: its status and its last failed delivery.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A webhook's status, as the API reports it or as `status --update-state` records it. It is
/// written as the same string it was read from, so a state and the wire stay byte-identical,
/// and a value this build does not know is kept exactly as it came.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WebhookStatus {
    /// It delivers.
    Active,
    /// It exists but delivers nothing (Saleshandy pauses a webhook whose test delivery failed).
    Paused,
    /// The API no longer knows it (404); recorded by `status --update-state`, never sent by
    /// the API.
    Deleted,
    /// Any other value, exactly as it came (case and blanks included). Never one of the words
    /// above: [`WebhookStatus::from`] turns those into their variant.
    Other(String),
}

impl WebhookStatus {
    /// The word as written in the state and on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Paused => "paused",
            WebhookStatus::Deleted => "deleted",
            WebhookStatus::Other(s) => s,
        }
    }

    pub fn is_active(&self) -> bool {
        *self == WebhookStatus::Active
    }

    pub fn is_paused(&self) -> bool {
        *self == WebhookStatus::Paused
    }

    /// Whether it counts against the account's limit of active webhooks: anything not known
    /// to be paused or deleted, an unrecognised status included (the safe side of a limit).
    pub fn counts_as_active(&self) -> bool {
        !matches!(self, WebhookStatus::Paused | WebhookStatus::Deleted)
    }

    /// Nothing but white space: a status the API left blank.
    pub fn is_blank(&self) -> bool {
        self.as_str().trim().is_empty()
    }
}

impl From<&str> for WebhookStatus {
    /// The variant for a word; matching is exact, so `Active` is an unrecognised value.
    fn from(s: &str) -> Self {
        match s {
            "active" => WebhookStatus::Active,
            "paused" => WebhookStatus::Paused,
            "deleted" => WebhookStatus::Deleted,
            other => WebhookStatus::Other(other.to_string()),
        }
    }
}

impl From<String> for WebhookStatus {
    fn from(s: String) -> Self {
        match WebhookStatus::from(s.as_str()) {
            WebhookStatus::Other(_) => WebhookStatus::Other(s),
            known => known,
        }
    }
}

impl fmt::Display for WebhookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WebhookStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WebhookStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(WebhookStatus::from)
    }
}

/// A failed delivery to a webhook's URL. Its serde form is the state's (`failed_at`,
/// `status_code` only when known, `message`); the API's camelCase answer and the `status`
/// report are mapped to and from it where they are read and written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastFailure {
    /// When it failed, as the API wrote it; empty when the API did not say.
    pub failed_at: String,
    /// The HTTP status the destination answered; `None` (or 0) when it did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    pub message: String,
}

impl LastFailure {
    /// `HTTP 503`, or `no HTTP answer` when the destination did not answer.
    pub fn answer(&self) -> String {
        match self.status_code {
            Some(c) if c > 0 => format!("HTTP {c}"),
            _ => "no HTTP answer".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_as_the_same_string() {
        for (text, status) in [
            ("active", WebhookStatus::Active),
            ("paused", WebhookStatus::Paused),
            ("deleted", WebhookStatus::Deleted),
            ("archived", WebhookStatus::Other("archived".into())),
            ("Active", WebhookStatus::Other("Active".into())),
            (" paused ", WebhookStatus::Other(" paused ".into())),
            ("", WebhookStatus::Other(String::new())),
        ] {
            let json = serde_json::to_string(text).unwrap();
            let read: WebhookStatus = serde_json::from_str(&json).unwrap();
            assert_eq!(read, status, "{json}");
            assert_eq!(serde_json::to_string(&read).unwrap(), json);
            assert_eq!(read.to_string(), text);
            assert_eq!(WebhookStatus::from(text.to_string()), status);
        }
    }

    #[test]
    fn what_counts_as_active_and_blank() {
        use WebhookStatus::*;
        let other = || Other("archived".into());
        assert!(Active.is_active() && !Paused.is_active() && !other().is_active());
        assert!(Paused.is_paused() && !other().is_paused());
        assert!(Active.counts_as_active() && other().counts_as_active());
        assert!(!Paused.counts_as_active() && !Deleted.counts_as_active());
        assert!(Other("  ".into()).is_blank() && !Active.is_blank());
    }

    #[test]
    fn a_status_that_is_not_a_string_is_refused() {
        assert!(serde_json::from_str::<WebhookStatus>("1").is_err());
        assert!(serde_json::from_str::<WebhookStatus>("null").is_err());
    }

    #[test]
    fn a_failure_says_whether_the_destination_answered() {
        let f = |status_code| LastFailure {
            failed_at: "t".into(),
            status_code,
            message: "m".into(),
        };
        assert_eq!(f(Some(503)).answer(), "HTTP 503");
        assert_eq!(f(Some(0)).answer(), "no HTTP answer");
        assert_eq!(f(None).answer(), "no HTTP answer");
    }

    #[test]
    fn a_failure_is_stored_without_an_unknown_status_code() {
        let f = LastFailure {
            failed_at: "t".into(),
            status_code: None,
            message: "m".into(),
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"failed_at":"t","message":"m"}"#);
        assert_eq!(serde_json::from_str::<LastFailure>(&json).unwrap(), f);
        let coded = r#"{"failed_at":"t","status_code":0,"message":"m"}"#;
        let read: LastFailure = serde_json::from_str(coded).unwrap();
        assert_eq!(read.status_code, Some(0));
        assert_eq!(serde_json::to_string(&read).unwrap(), coded);
    }
}
