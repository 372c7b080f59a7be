//! `schemas/webhooks.schema.json` (for editors) agrees with the config loader (for the tool).
//!
//! Every YAML file under `tests/fixtures/good/`, `tests/fixtures/bad/` and `examples/` goes
//! through both, and so do a few edge cases written below:
//!
//! - a file the loader accepts (warnings allowed) must be valid under the schema;
//! - a file the loader refuses with at least one error in [`SCHEMA_CODES`] must be invalid
//!   under the schema.
//!
//! Some rules are beyond JSON Schema, so a file whose only errors are these may pass the schema:
//!
//! - `config::name_duplicate`: unique names across webhooks (`uniqueItems` compares whole items);
//! - `config::header_duplicate`: header names that differ only in case (JSON keys are exact);
//! - `config::duplicate_key`: a repeated YAML key (JSON has no such thing; the YAML reader
//!   refuses it, so such files are skipped here);
//! - `config::env_unset`, `config::env_empty`, `config::interpolation_syntax`: `${NAME}` is resolved from the
//!   environment, and a value that uses it is checked only after resolution;
//! - `config::url_invalid`, `config::url_credentials`: the schema checks only that the URL
//!   starts with `http(s)://` and a host; parsing the URL is the tool's job;
//! - `config::syntax`, `config::too_large`: not a schema matter (files YAML cannot read are
//!   skipped).
//!
//! Beyond the JSON data model, so skipped here: YAML mapping keys that are not strings, custom
//! tags, `.inf` and `.nan`. And some known differences are left out of the edge cases:
//!
//! - `version: 1.0` is a float to the tool (refused) but equal to the integer 1 in JSON Schema;
//! - `version: 0x1` and `version: 0o1` are the integer 1 to YAML readers (and so to the schema)
//!   but the tool compares the text with `1` and refuses them as unsupported;
//! - serde_yaml, which this test uses to read YAML, does not follow the YAML 1.2 core schema
//!   for `01` (a string to it, an integer to the tool and to editors) or `0b11` (an integer to
//!   it, a string to the tool and to editors).

use crate::support::assert_every_entry_described;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use miette::Diagnostic;
use saleshandy_webhooks::config::{self, rules, ConfigProblem};
use saleshandy_webhooks::event::Event;
use serde_json::{json, Value};

/// The loader's error codes that the schema expresses: a file with one of them is invalid.
const SCHEMA_CODES: &[&str] = &[
    "config::wrong_type",
    "config::missing_field",
    "config::unknown_key",
    "config::version_missing",
    "config::version_unsupported",
    "config::state",
    "config::state_interpolation",
    "config::name_blank",
    "config::name_workflow_command",
    "config::url_scheme",
    "config::events_empty",
    "config::event_unknown",
    "config::event_duplicate",
    "config::header_name_invalid",
    "config::header_value_invalid",
    "config::header_forbidden",
    "config::empty",
];

/// Where the fixtures are, relative to the crate root.
const FIXTURE_DIRS: &[&str] = &["tests/fixtures/good", "tests/fixtures/bad", "examples"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Value {
    let path = root().join("schemas/webhooks.schema.json");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn validator() -> Validator {
    jsonschema::draft202012::new(&schema())
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// The environment of every check: these variables are set, nothing else is.
fn env(name: &str) -> Option<String> {
    matches!(
        name,
        "TOKEN" | "SENT_HOOK_TOKEN" | "CRM_TOKEN" | "SLACK_TOKEN"
    )
    .then(|| "dummy-value".to_string())
}

fn code(p: &ConfigProblem) -> String {
    Diagnostic::code(p)
        .expect("every problem has a code")
        .to_string()
}

/// The JSON an editor would validate, or why the YAML has none.
fn to_json(yaml: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                let f = n.as_f64().expect("a YAML number is i64, u64 or f64");
                Value::Number(
                    serde_json::Number::from_f64(f)
                        .ok_or_else(|| format!("the number {n} has no JSON form"))?,
                )
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Y::Mapping(map) => {
            let mut object = serde_json::Map::new();
            for (k, v) in map {
                let Y::String(k) = k else {
                    return Err(format!("the mapping key {k:?} is not a string"));
                };
                object.insert(k, to_json(v)?);
            }
            Value::Object(object)
        }
        Y::Tagged(t) => return Err(format!("the custom tag {}", t.tag)),
    })
}

/// What comparing the loader and the schema on one file found.
enum Check {
    /// The file has no JSON form; why.
    Skipped(String),
    /// Both accept it.
    Accepted,
    /// Both refuse it.
    Rejected,
    /// The loader refuses it only for rules beyond JSON Schema; its codes.
    Beyond(Vec<String>),
    /// They disagree; how.
    Disagree(String),
}

fn check(validator: &Validator, text: &str) -> Check {
    let yaml = match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Ok(y) => y,
        Err(e) => return Check::Skipped(format!("YAML the reader cannot read: {e}")),
    };
    let instance = match to_json(yaml) {
        Ok(v) => v,
        Err(why) => return Check::Skipped(format!("no JSON form: {why}")),
    };
    let loaded = config::load(text, &env);
    let errors: Vec<String> = loaded
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(code)
        .collect();
    let schema_errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    let expressible: Vec<&String> = errors
        .iter()
        .filter(|c| SCHEMA_CODES.contains(&c.as_str()))
        .collect();
    match (errors.is_empty(), expressible.is_empty(), schema_errors.is_empty()) {
        (true, _, true) => Check::Accepted,
        (true, _, false) => Check::Disagree(format!(
            "the tool accepts it (warnings: {:?}) but the schema refuses it:\n      {}",
            loaded.problems.iter().map(code).collect::<Vec<_>>(),
            schema_errors.join("\n      ")
        )),
        (false, true, _) => Check::Beyond(errors),
        (false, false, false) => Check::Rejected,
        (false, false, true) => Check::Disagree(format!(
            "the tool refuses it with {expressible:?} (all errors: {errors:?}) but the schema accepts it"
        )),
    }
}

/// Every `*.yaml` under `dir`, recursively, except in `examples/ci/` (CI files, not configs).
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            if path != root().join("examples/ci") {
                yaml_files(&path, out);
            }
        } else if path.extension().is_some_and(|x| x == "yaml") {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Tally {
    accepted: usize,
    rejected: usize,
    beyond: usize,
    skipped: usize,
    disagreements: String,
}

impl Tally {
    fn record(&mut self, label: &str, check: Check) {
        match check {
            Check::Accepted => self.accepted += 1,
            Check::Rejected => self.rejected += 1,
            Check::Beyond(codes) => {
                self.beyond += 1;
                eprintln!("beyond the schema: {label}: {codes:?}");
            }
            Check::Skipped(why) => {
                self.skipped += 1;
                eprintln!("skipped: {label}: {why}");
            }
            Check::Disagree(how) => {
                let _ = writeln!(self.disagreements, "  {label}: {how}");
            }
        }
    }

    fn assert_agreement(&self, what: &str) {
        eprintln!(
            "{what}: {} accepted by both, {} refused by both, {} refused by the tool for rules beyond the schema, {} skipped",
            self.accepted, self.rejected, self.beyond, self.skipped
        );
        assert!(
            self.disagreements.is_empty(),
            "the schema and the tool disagree on {what}:\n{}",
            self.disagreements
        );
    }
}

#[test]
fn schema_agrees_with_the_tool_on_every_fixture() {
    let mut files = Vec::new();
    for dir in FIXTURE_DIRS {
        yaml_files(&root().join(dir), &mut files);
    }
    assert!(
        !files.is_empty(),
        "found no *.yaml in any of {FIXTURE_DIRS:?} (relative to {}); they hold the fixtures this test compares, \
         and examples/ at least must exist",
        root().display()
    );
    files.sort();
    let validator = validator();
    let mut tally = Tally::default();
    for path in &files {
        let label = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {label}: {e}"));
        tally.record(&label, check(&validator, &text));
    }
    tally.assert_agreement("the fixtures");
}

/// Cases where the two could easily drift apart, beyond what the fixtures show.
#[test]
fn schema_agrees_with_the_tool_on_edge_cases() {
    let hook = |extra: &str| {
        format!("version: 1\nwebhooks:\n  - name: Email Sent\n    url: https://example.org/hooks/sent\n    events: [email-sent]\n{extra}")
    };
    let with_url = |url: &str| {
        format!("version: 1\nwebhooks:\n  - name: Email Sent\n    url: {url}\n    events: [email-sent]\n")
    };
    let mut cases: Vec<(String, String)> = vec![
        ("no webhooks".into(), "version: 1\nwebhooks: []\n".into()),
        ("null webhooks".into(), "version: 1\nwebhooks:\n".into()),
        ("null root".into(), "~\n".into()),
        ("float version".into(), "version: 1.5\nwebhooks: []\n".into()),
        ("version 0".into(), "version: 0\nwebhooks: []\n".into()),
        ("version +1".into(), "version: +1\nwebhooks: []\n".into()),
        ("version !!int 1".into(), "version: !!int 1\nwebhooks: []\n".into()),
        ("name 1_000".into(), "version: 1\nwebhooks:\n  - name: 1_000\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("name 0x1F".into(), "version: 1\nwebhooks:\n  - name: 0x1F\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("name 1e3".into(), "version: 1\nwebhooks:\n  - name: 1e3\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("name .inf".into(), "version: 1\nwebhooks:\n  - name: .inf\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("name yes".into(), "version: 1\nwebhooks:\n  - name: yes\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("name null".into(), "version: 1\nwebhooks:\n  - name: null\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("null headers".into(), hook("    headers:\n")),
        ("empty headers".into(), hook("    headers: {}\n")),
        ("header from the environment".into(), hook("    headers:\n      Authorization: \"Bearer ${SENT_HOOK_TOKEN}\"\n")),
        ("literal ${ in a header".into(), hook("    headers:\n      X-Template: \"$${NOT_A_VAR}\"\n")),
        ("null header value".into(), hook("    headers:\n      X-Empty:\n")),
        ("empty header value".into(), hook("    headers:\n      X-Empty: \"\"\n")),
        ("boolean header value".into(), hook("    headers:\n      X-Flag: true\n")),
        ("null webhook".into(), "version: 1\nwebhooks:\n  -\n".into()),
        ("event that is a number".into(), "version: 1\nwebhooks:\n  - name: a\n    url: https://example.org\n    events: [1]\n".into()),
        ("events null".into(), "version: 1\nwebhooks:\n  - name: a\n    url: https://example.org\n    events:\n".into()),
        ("empty name".into(), "version: 1\nwebhooks:\n  - name: \"\"\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("null name".into(), "version: 1\nwebhooks:\n  - name:\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("quoted number name".into(), "version: 1\nwebhooks:\n  - name: \"2024\"\n    url: https://example.org\n    events: [email-sent]\n".into()),
        ("merge key".into(), "version: 1\nwebhooks:\n  - <<: {name: a}\n    url: https://example.org\n    events: [email-sent]\n".into()),
    ];
    for url in [
        "https://example.org/hooks/sent",
        "http://example.org/hooks/sent",
        "HTTPS://EXAMPLE.ORG/hooks/sent",
        "Http://example.org",
        "\" https://example.org/hooks/sent \"",
        "https:example.org/hooks/sent",
        "https:/example.org/hooks/sent",
        "https:///hooks/sent",
        "https://?x=1",
        "${TOKEN}",
        "https://localhost:8080/x",
        "https://example.org/hooks/sent?key=${TOKEN}",
        "https://${TOKEN}.example.org/x",
        "ftp://example.org/x",
        "mailto:hooks@example.org",
        "wss://example.org/x",
        "example.org/hooks",
        "//example.org/hooks",
        "\"\"",
        "42",
    ] {
        cases.push((format!("url {url}"), with_url(url)));
    }
    for state in [
        "s3://acme-infra/saleshandy/prod.state.json",
        "s3://a.b-c/k",
        "s3://a-b/...",
        "s3://a-b/.k/..k/k.",
        "s3://a-b/k:1/x@y",
        "prod.state.json",
        "../states/prod.state.json",
        "/var/lib/sh/prod.state.json",
        "'C:\\states\\prod.json'",
        "prod$1.json",
        "s3:/acme-infra/k",
        "\"\"",
        "\"   \"",
        "\" prod.json \"",
        "\"s3://acme-infra/k \"",
        "\" s3://acme-infra/k\"",
        "S3://acme-infra/k",
        "s3://acme-infra",
        "s3://acme-infra/",
        "s3://acme-infra/a/",
        "s3://acme-infra/a//b",
        "s3://acme-infra/./k",
        "s3://acme-infra/a/..",
        "s3://acme-infra/k?v=1",
        "s3://acme-infra/k#x",
        "s3://ab/k",
        "s3://a23456789012345678901234567890123456789012345678901234567890123/k",
        "s3://a234567890123456789012345678901234567890123456789012345678901234/k",
        "s3://-ab/k",
        "s3://ab-/k",
        "s3://Acme/k",
        "s3://acme_infra/k",
        "s3:///k",
        "s3://",
        "az://states/prod.json",
        "az://st/prod.json",
        "az://my--states/prod.json",
        "az://-states/prod.json",
        "az://states-/prod.json",
        "az://States/prod.json",
        "az://states/",
        "az://states/a//b",
        "az://a23456789012345678901234567890123456789012345678901234567890123/k",
        "az://a234567890123456789012345678901234567890123456789012345678901234/k",
        "azure://states/prod.json",
        "gs://acme/prod.json",
        "file:///var/lib/prod.json",
        "http://example.org/prod.json",
        "https://example.org/prod.json",
        "states://prod.json",
        "a/b://c",
        "s3://acme-infra/k://x",
        "s3://${BUCKET}/k",
        "${STATE}",
        "\"$${HOME}/prod.json\"",
        "42",
        "true",
        "[a]",
        "{bucket: a}",
        "~",
    ] {
        cases.push((
            format!("state {state}"),
            format!("version: 1\nstate: {state}\nwebhooks: []\n"),
        ));
    }
    for name in [
        "Host",
        "HOST",
        "hOsT",
        "Content-Length",
        "CONTENT-TYPE",
        "content-type",
        "Transfer-encoding",
        "CONNECTION",
        "Hosts",
        "X-Host",
        "Content-Types",
    ] {
        cases.push((
            format!("header {name}"),
            hook(&format!("    headers:\n      {name}: x\n")),
        ));
    }
    let validator = validator();
    let mut tally = Tally::default();
    for (label, text) in &cases {
        tally.record(label, check(&validator, text));
    }
    tally.assert_agreement("the edge cases");
}

/// One character at a time, through YAML double-quoted escapes, for the rules on characters:
/// blank names, header name tokens, forbidden characters in header values and state locations.
#[test]
fn schema_agrees_with_the_tool_on_every_character() {
    let validator = validator();
    let mut tally = Tally::default();
    let chars = (0u32..0x3100)
        .chain([0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff, 0x1_0000])
        .filter_map(char::from_u32);
    for c in chars {
        let esc = format!("\\U{:08X}", c as u32);
        let name = format!(
            "version: 1\nwebhooks:\n  - name: \"{esc}\"\n    url: https://example.org/x\n    events: [email-sent]\n"
        );
        tally.record(&format!("name {esc}"), check(&validator, &name));
        let name_around = name.replace(&format!("\"{esc}\""), &format!("\" {esc} \""));
        tally.record(&format!("name ' {esc} '"), check(&validator, &name_around));
        if (c as u32) < 0x100 {
            for state in ["a{c}b", "s3://acme-infra/a{c}b", "s3://acme{c}infra/k"] {
                let state = state.replace("{c}", &esc);
                let text = format!("version: 1\nstate: \"{state}\"\nwebhooks: []\n");
                tally.record(&format!("state {state}"), check(&validator, &text));
            }
        }
        if c.is_ascii() {
            let header = |k: &str, v: &str| {
                format!("version: 1\nwebhooks:\n  - name: a\n    url: https://example.org/x\n    events: [email-sent]\n    headers:\n      \"{k}\": \"{v}\"\n")
            };
            tally.record(
                &format!("header name X{esc}Y"),
                check(&validator, &header(&format!("X{esc}Y"), "v")),
            );
            tally.record(
                &format!("header name {esc}"),
                check(&validator, &header(&esc, "v")),
            );
            tally.record(
                &format!("header value a{esc}b"),
                check(&validator, &header("X-Test", &format!("a{esc}b"))),
            );
        }
    }
    tally.assert_agreement("single characters");
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, found {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("expected a string, found {s}"))
                .to_string()
        })
        .collect()
}

fn property_names(v: &Value) -> BTreeSet<String> {
    v["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no `properties` in {v}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn schema_names_what_the_code_names() {
    let schema = schema();
    let events: Vec<String> = Event::ALL.iter().map(|e| e.as_str().to_string()).collect();
    assert_eq!(
        strings(&schema["$defs"]["event"]["enum"]),
        events,
        "the schema's events, in order"
    );

    let root_keys: BTreeSet<String> = config::ROOT_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(property_names(&schema), root_keys, "the top-level keys");
    let webhook = &schema["$defs"]["webhook"];
    let webhook_keys: BTreeSet<String> =
        config::WEBHOOK_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(property_names(webhook), webhook_keys, "the webhook keys");

    for (what, v) in [("the top level", &schema), ("a webhook", webhook)] {
        assert_eq!(
            v["additionalProperties"],
            json!(false),
            "{what} must refuse unknown keys"
        );
        for key in strings(&v["required"]) {
            assert!(
                property_names(v).contains(&key),
                "{what} requires `{key}`, which it does not define"
            );
        }
    }
    assert_eq!(
        schema["properties"]["version"]["const"],
        json!(config::SUPPORTED_VERSION),
        "the supported version"
    );

    // The forbidden header names, in any case.
    let validator = validator();
    for name in rules::FORBIDDEN_HEADERS {
        for variant in [
            name.to_string(),
            name.to_ascii_uppercase(),
            capitalised(name),
        ] {
            let doc = json!({"version": 1, "webhooks": [{
                "name": "a", "url": "https://example.org", "events": ["email-sent"], "headers": {variant.clone(): "x"}
            }]});
            assert!(
                !validator.is_valid(&doc),
                "the schema allows the forbidden header `{variant}`"
            );
        }
    }
}

/// `content-length` as `Content-Length`.
fn capitalised(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[test]
fn every_property_has_a_description() {
    let schema = schema();
    jsonschema::draft202012::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("the schema is not a valid draft 2020-12 schema: {e}"));
    assert!(
        schema["title"]
            .as_str()
            .is_some_and(|t| !t.trim().is_empty()),
        "the schema has no title"
    );

    assert_every_entry_described(&schema, "schemas/webhooks.schema.json", 8);
}
