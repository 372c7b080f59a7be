//! A state file may have been written by anything — an older build, a hand edit, a merge —
//! so what it says is checked before it is shown: the fields this tool writes from the config
//! (names, ids, what was sent) are refused if they hold a control or invisible character, and
//! the fields a server wrote (a status, a reason, a last failure) are made safe text again
//! ([`crate::server_text::one_line`]), as they would have been when received.

use super::State;
use crate::reported::WebhookStatus;
use crate::server_text::{is_safe, one_line};

impl State {
    /// Why a field this tool writes cannot be trusted, if one holds a control character the
    /// config would have refused there (a header value may hold a tab, as in the config).
    pub(super) fn hidden_characters(&self) -> Option<String> {
        let control = |s: &str| s.chars().any(char::is_control);
        let sents = self
            .webhooks
            .iter()
            .map(|(n, r)| (n, &r.sent, Some(r.id.as_str())))
            .chain(self.unknown.iter().map(|(n, u)| (n, &u.sent, None)));
        if self.checks.keys().any(|n| control(n)) {
            return Some("the name of a check has a control character".into());
        }
        if control(&self.lineage) || self.endpoint.as_deref().is_some_and(control) {
            return Some("`lineage` or `endpoint` has a control character".into());
        }
        for (name, sent, id) in sents {
            if control(name) {
                return Some("a webhook's name has a control character".into());
            }
            let plain = |v: &super::Stored| match v {
                super::Stored::Plain(s) => Some(s.clone()),
                super::Stored::Secret(_) => None,
            };
            let header_values = sent.headers.values().filter_map(plain);
            let mut fields = plain(&sent.url)
                .into_iter()
                .chain(sent.events.iter().cloned())
                .chain(sent.headers.keys().cloned())
                .chain(id.map(str::to_string));
            if fields.any(|f| control(&f))
                || header_values
                    .into_iter()
                    .any(|v| v.chars().any(|c| c.is_control() && c != '\t'))
            {
                return Some(format!(
                    "webhook `{}` has a control character in its id or in what was sent",
                    one_line(name)
                ));
            }
        }
        None
    }

    /// Every field a server wrote, as safe text.
    pub(super) fn clean_server_text(&mut self) {
        let clean = |s: &mut String| {
            if !is_safe(s) {
                *s = one_line(s);
            }
        };
        for r in self.webhooks.values_mut() {
            clean_status(&mut r.status);
            r.test_delivery.as_mut().map(clean);
            clean(&mut r.created_at);
        }
        for u in self.unknown.values_mut() {
            clean(&mut u.reason);
            clean(&mut u.since);
        }
        for c in self.checks.values_mut() {
            clean(&mut c.id);
            clean(&mut c.checked_at);
            if let Some(f) = c.last_failure.as_mut() {
                clean(&mut f.failed_at);
                clean(&mut f.message);
            }
        }
    }
}

fn clean_status(status: &mut WebhookStatus) {
    if let WebhookStatus::Other(s) = status {
        if !is_safe(s) {
            *status = WebhookStatus::from(one_line(s));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::state::State;

    const STATE: &str = r#"{"version":1,"lineage":"l","serial":1,
      "webhooks":{"A":{"id":"abc","status":"odd\u001b[2J","test_delivery":"x\n::error::y",
        "created_at":"2026-01-01T00:00:00Z",
        "sent":{"url":"https://h/","events":["email-sent"],"headers":{}}}},
      "unknown":{"B":{"since":"2026-01-01T00:00:00Z","reason":"HTTP 500: \u0007bell\r\nnext",
        "sent":{"url":"https://h/","events":["email-sent"],"headers":{}}}},
      "checks":{"A":{"id":"abc","checked_at":"2026-01-01T00:00:00Z","failed":true,
        "last_failure":{"failed_at":"now\u009b","status_code":500,"message":"m\u202e##[error]"}}}}"#;

    #[test]
    fn server_written_fields_are_read_as_safe_text() {
        let state = State::parse(STATE, "s.json").expect("it parses");
        let a = &state.webhooks["A"];
        assert_eq!(a.status.as_str(), "odd\\u{1b}[2J");
        assert_eq!(a.test_delivery.as_deref(), Some("x : :error: :y"));
        assert_eq!(state.unknown["B"].reason, "HTTP 500: \\u{7}bell next");
        let f = state.checks["A"].last_failure.as_ref().expect("a failure");
        assert_eq!(f.failed_at, "now\\u{9b}");
        assert_eq!(f.message, "m\\u{202e}# #[error]");
    }

    #[test]
    fn what_the_config_allows_is_read_back() {
        // A tab in a header value and a no-break space in a name are valid in a config.
        let text = STATE
            .replacen(r#""A":{"id":"abc""#, r#""A\u00a0B":{"id":"abc""#, 1)
            .replacen(
                r#""events":["email-sent"],"headers":{}}}},"#,
                r#""events":["email-sent"],"headers":{"X-T":"a\tb"}}}},"#,
                1,
            );
        let state = State::parse(&text, "s.json").expect("it parses");
        assert_eq!(state.webhooks.keys().collect::<Vec<_>>(), ["A\u{a0}B"]);
    }

    #[test]
    fn tool_written_fields_with_control_characters_are_refused() {
        for (from, to) in [
            (r#""A":{"id":"abc""#, r#""A\u001b[2J":{"id":"abc""#),
            (r#""id":"abc","status""#, r#""id":"a\u0007bc","status""#),
            (
                r#""events":["email-sent"],"headers":{}}}},"#,
                r#""events":["email\nsent"],"headers":{}}}},"#,
            ),
            (r#""B":{"since""#, r#""B\u009b":{"since""#),
        ] {
            let text = STATE.replacen(from, to, 1);
            assert_ne!(text, STATE, "{from}");
            let e = State::parse(&text, "s.json").expect_err("refused");
            assert!(e.to_string().contains("control character"), "{from}: {e}");
        }
    }
}

/// Any bytes as a state file: read without a panic, and whatever is read is safe to show.
#[cfg(test)]
mod props {
    use crate::state::State;
    use proptest::prelude::*;

    /// The fields the tool wrote from the config, and those a server wrote.
    fn fields(state: &State) -> (Vec<String>, Vec<String>) {
        let mut ours = vec![state.lineage.clone()];
        let mut theirs = Vec::new();
        ours.extend(state.endpoint.clone());
        for (name, r) in &state.webhooks {
            ours.extend([name.clone(), r.id.clone()]);
            ours.extend(r.sent.events.clone());
            theirs.extend([r.status.as_str().into(), r.created_at.clone()]);
            theirs.extend(r.test_delivery.clone());
        }
        for (name, u) in &state.unknown {
            ours.push(name.clone());
            theirs.extend([u.since.clone(), u.reason.clone()]);
        }
        for c in state.checks.values() {
            theirs.extend([c.id.clone(), c.checked_at.clone()]);
            if let Some(f) = &c.last_failure {
                theirs.extend([f.failed_at.clone(), f.message.clone()]);
            }
        }
        (ours, theirs)
    }

    proptest! {
        // A failure is printed with its minimal input, to be kept as a plain test: no file is
        // written beside the sources.
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_are_read_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = State::parse(&text, "s.json");
        }

        #[test]
        fn any_text_in_a_valid_state_is_refused_or_read_as_safe_text(
            name in any::<String>(),
            id in any::<String>(),
            status in any::<String>(),
            reason in any::<String>(),
            message in any::<String>(),
            event in any::<String>(),
        ) {
            let sent = serde_json::json!({"url": "https://h/", "events": [event], "headers": {}});
            let state = serde_json::json!({
                "version": 1, "lineage": "l", "serial": 1,
                "webhooks": {name.clone(): {"id": id, "status": status, "created_at": reason,
                    "test_delivery": message, "sent": sent}},
                "unknown": {"u": {"since": message, "reason": reason, "sent": sent}},
                "checks": {name: {"id": id, "checked_at": status, "failed": true,
                    "last_failure": {"failed_at": reason, "message": message}}},
            });
            if let Ok(read) = State::parse(&state.to_string(), "s.json") {
                let (ours, theirs) = fields(&read);
                for f in ours.iter().chain(&theirs) {
                    prop_assert!(!f.chars().any(char::is_control), "control character in {f:?}");
                }
                for f in &theirs {
                    prop_assert!(crate::server_text::is_safe(f), "{f:?}");
                }
            }
        }
    }
}
