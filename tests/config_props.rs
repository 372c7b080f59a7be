//! Property tests: the loader never panics, and every answer is a config or located errors.

use proptest::prelude::*;
use saleshandy_webhooks::config::{self, Loaded};

fn env(name: &str) -> Option<String> {
    (name == "TOKEN").then(|| "t0k3n".to_string())
}

/// Whatever the input, the result is well formed: errors point inside the text on character
/// boundaries, and a config comes back exactly when there is no error.
fn check(text: &str, loaded: &Loaded) {
    for p in &loaded.problems {
        let span = p.primary_span();
        let end = span.offset() + span.len();
        assert!(end <= text.len(), "{p:?} ends at {end} past {}", text.len());
        assert!(
            text.is_char_boundary(span.offset()) && text.is_char_boundary(end),
            "{p:?}"
        );
    }
    assert_eq!(
        loaded.config.is_some(),
        loaded.errors() == 0,
        "{:?}",
        loaded.problems
    );
    if let Some(c) = &loaded.config {
        for w in &c.webhooks {
            assert!(!w.events.is_empty() && !w.name.trim().is_empty());
        }
    }
}

/// A YAML-ish value built from the words a config is made of, so that generated documents
/// often get deep into validation rather than failing at the top.
#[derive(Debug, Clone)]
enum Doc {
    Scalar(String),
    Seq(Vec<Doc>),
    Map(Vec<(String, Doc)>),
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_string()),
        Just("2".to_string()),
        Just("email-sent".to_string()),
        Just("email-open".to_string()),
        Just("https://example.org/a".to_string()),
        Just("http://10.0.0.1/x".to_string()),
        Just("\"Bearer ${TOKEN}\"".to_string()),
        Just("\"${NOPE}\"".to_string()),
        Just("~".to_string()),
        Just("''".to_string()),
        Just("\"a\\nb\"".to_string()),
        "[a-zA-Z0-9 _.:/-]{0,12}",
        any::<String>().prop_map(|s| format!("{s:?}")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("version".to_string()),
        Just("webhooks".to_string()),
        Just("name".to_string()),
        Just("url".to_string()),
        Just("events".to_string()),
        Just("headers".to_string()),
        Just("X-Source".to_string()),
        Just("Host".to_string()),
        "[a-zA-Z-]{1,8}",
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    scalar()
        .prop_map(Doc::Scalar)
        .prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Doc::Seq),
                prop::collection::vec((key(), inner), 0..6).prop_map(Doc::Map),
            ]
        })
}

fn flow(d: &Doc) -> String {
    match d {
        Doc::Scalar(s) => s.clone(),
        Doc::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Doc::Map(entries) => {
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", flow(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

fn block(d: &Doc, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match d {
        Doc::Map(entries) if !entries.is_empty() => {
            for (k, v) in entries {
                match v {
                    Doc::Scalar(s) => out.push_str(&format!("{pad}{k}: {s}\n")),
                    _ => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        block(v, indent + 2, out);
                    }
                }
            }
        }
        Doc::Seq(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&format!("{pad}- {}\n", flow(item)));
            }
        }
        other => out.push_str(&format!("{pad}{}\n", flow(other))),
    }
}

/// A case proptest once found: an unclosed quote followed by a byte that is not UTF-8.
#[test]
fn an_unclosed_quote_before_invalid_utf8_does_not_panic() {
    let text = String::from_utf8_lossy(&[34, 34, 128]);
    check(&text, &config::load(&text, &env));
}

proptest! {
    // A failure is printed with its minimal input, to be kept as a plain test: no file is
        // written beside the sources.
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        check(&text, &config::load(&text, &env));
    }

    #[test]
    fn yaml_shaped_documents_never_panic(d in doc(), as_block in any::<bool>()) {
        let text = if as_block {
            let mut s = String::new();
            block(&d, 0, &mut s);
            s
        } else {
            flow(&d)
        };
        check(&text, &config::load(&text, &env));
    }

    #[test]
    fn generated_webhook_lists_never_panic(
        hooks in prop::collection::vec(prop::collection::vec((key(), doc()), 0..5), 0..4),
    ) {
        let mut text = String::from("version: 1\nwebhooks:\n");
        for hook in &hooks {
            let d = Doc::Map(hook.clone());
            text.push_str(&format!("  - {}\n", flow(&d)));
        }
        check(&text, &config::load(&text, &env));
    }
}
