//! Walks the YAML tree of a config file, building the model and collecting every problem.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::interpolate::{interpolate, InterpolationError};
use super::problem::ConfigProblem;
use super::rules::{self, UrlIssue};
use super::{Config, Header, Webhook, SUPPORTED_VERSION};
use crate::event::Event;
use crate::secret::{Secret, Value};
use crate::store::Address;
use crate::yaml::{self, Node, NodeKind, ScalarType, Span};

/// Keys allowed at the top of the file.
pub const ROOT_KEYS: &[&str] = &["version", "apiKeyEnv", "state", "webhooks"];
/// Keys allowed in one webhook.
pub const WEBHOOK_KEYS: &[&str] = &["name", "url", "events", "headers"];

/// What a `${NAME}` whose variable is not set is, when loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsetEnv {
    /// An error (`plan`, `apply`, `validate --require-env`): the value is needed.
    Error,
    /// Listed in [`Loaded::unset_env`] (offline `validate`): a URL using it is not checked.
    Listed,
}

/// The outcome of loading: a config when there was no error, and every problem in file order.
#[derive(Debug)]
pub struct Loaded {
    pub config: Option<Config>,
    /// With [`UnsetEnv::Listed`], the variables used and not set, in file order, each once.
    pub unset_env: Vec<String>,
    /// The first [`MAX_PROBLEMS`] problems.
    pub problems: Vec<ConfigProblem>,
    /// Problems past [`MAX_PROBLEMS`], counted but not kept: `(errors, warnings)`.
    pub omitted: (usize, usize),
}

/// The most problems one load keeps: a file with thousands of broken entries gets the first
/// ones shown and the rest counted, in bounded memory and time.
pub const MAX_PROBLEMS: usize = 200;

impl Loaded {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count() + self.omitted.0
    }

    pub(crate) fn warnings(&self) -> usize {
        self.problems.len() + self.omitted.0 + self.omitted.1 - self.errors()
    }

    /// How many problems were counted but not kept.
    pub(crate) fn omitted(&self) -> usize {
        self.omitted.0 + self.omitted.1
    }
}

/// Loads a config from its text; `env` resolves `${NAME}`. Pure: no I/O besides `env`. A
/// relative `state:` path stays relative (to the current directory), as for standard input.
pub fn load(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Loaded {
    load_in(text, None, env)
}

/// [`load()`] for a config file in the folder `dir`: a relative `state:` path is relative to it.
pub fn load_in(text: &str, dir: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Loaded {
    load_with(text, dir, env, UnsetEnv::Error)
}

/// [`load_in()`] with the choice of what an unset variable is.
pub fn load_with(
    text: &str,
    dir: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    unset: UnsetEnv,
) -> Loaded {
    let mut walker = Walker {
        text,
        dir,
        env,
        unset,
        unset_env: Vec::new(),
        problems: Vec::new(),
        omitted: (0, 0),
        env_values: Vec::new(),
    };
    let config = match yaml::parse(text) {
        Err(e) => {
            walker.problems.push(match e.too_large {
                Some(mib) => ConfigProblem::TooLarge {
                    mib,
                    at: e.span.into(),
                },
                None => ConfigProblem::Syntax {
                    message: e.message,
                    at: e.span.into(),
                    help: e.help.unwrap_or_else(|| {
                        "fix the YAML at the marked place; strings with `: ` or `#` in them need quotes".to_string()
                    }),
                },
            });
            None
        }
        Ok(None) => {
            walker.problems.push(ConfigProblem::Empty {
                at: Span::new(0, text.len()).into(),
            });
            None
        }
        Ok(Some(root)) => walker.root(&root),
    };
    let mut problems = walker.problems;
    problems.sort_by_key(|p| p.primary_span().offset());
    let omitted = walker.omitted;
    let config = config.filter(|_| problems.iter().all(|p| !p.is_error()) && omitted.0 == 0);
    Loaded {
        config,
        unset_env: walker.unset_env,
        problems,
        omitted,
    }
}

/// The name of a webhook item, when it has a usable one.
fn name_of(item: &Node) -> Option<(&str, Span)> {
    let NodeKind::Map(entries) = &item.kind else {
        return None;
    };
    let (_, v) = entries.iter().find(|(k, _)| k.as_str() == Some("name"))?;
    let name = v.as_str()?;
    (!name.trim().is_empty()).then_some((name, v.span))
}

struct Walker<'a> {
    text: &'a str,
    /// The config file's folder, for a relative `state:` path.
    dir: Option<&'a Path>,
    env: &'a dyn Fn(&str) -> Option<String>,
    unset: UnsetEnv,
    /// The variables used and not set, with [`UnsetEnv::Listed`].
    unset_env: Vec<String>,
    problems: Vec<ConfigProblem>,
    /// Problems past [`MAX_PROBLEMS`]: `(errors, warnings)`.
    omitted: (usize, usize),
    /// Every variable's value the webhooks use.
    env_values: Vec<Secret>,
}

/// The entries of a checked mapping: the first occurrence of each allowed key.
type Fields<'n> = HashMap<&'n str, (&'n Node, &'n Node)>;

impl Walker<'_> {
    fn push(&mut self, p: ConfigProblem) {
        match (self.problems.len() < MAX_PROBLEMS, p.is_error()) {
            (true, _) => self.problems.push(p),
            (false, true) => self.omitted.0 += 1,
            (false, false) => self.omitted.1 += 1,
        }
    }

    fn root(&mut self, root: &Node) -> Option<Config> {
        let fields = self.mapping(root, "the config file", "the top level", ROOT_KEYS)?;
        let api_key_env = fields
            .get("apiKeyEnv")
            .and_then(|(_, v)| self.api_key_env(v));
        let state = fields.get("state").and_then(|(k, v)| self.state(k, v));
        match fields.get("version") {
            None => self.push(ConfigProblem::VersionMissing {
                at: root.head().into(),
            }),
            Some((_, v)) => self.version(v),
        }
        let Some((key, list)) = fields.get("webhooks") else {
            self.push(ConfigProblem::MissingField {
                field: "webhooks",
                owner: "the config file".into(),
                at: root.head().into(),
                help: "add `webhooks:` with a list of webhooks (it may be `[]`)".into(),
            });
            return None;
        };
        let items = match &list.kind {
            NodeKind::Seq(items) => items,
            _ => {
                let at = if list.span.is_empty() {
                    key.span
                } else {
                    list.span
                };
                self.wrong_type(
                    "`webhooks`",
                    "a list of webhooks",
                    list,
                    at,
                    "write each webhook as a `- name: …` item under `webhooks:`",
                );
                return None;
            }
        };
        // Names are checked for repeats apart from the rest, so that a repeat is reported even
        // when one of the two webhooks has other errors.
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut webhooks = Vec::with_capacity(items.len());
        for item in items {
            if let Some((name, span)) = name_of(item) {
                match names.get(name) {
                    Some(first) => self.push(ConfigProblem::NameDuplicate {
                        name: name.to_string(),
                        at: span.into(),
                        first: (*first).into(),
                    }),
                    None => {
                        names.insert(name, span);
                    }
                }
            }
            webhooks.extend(self.webhook(item));
        }
        Some(Config {
            api_key_env,
            state,
            webhooks,
            env_values: std::mem::take(&mut self.env_values),
        })
    }

    /// The name of the environment variable holding this account's API key.
    fn api_key_env(&mut self, v: &Node) -> Option<String> {
        let name = self.string(v, "`apiKeyEnv`")?;
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            self.push(ConfigProblem::ApiKeyEnvInvalid { at: v.span.into() });
            return None;
        }
        Some(name.to_string())
    }

    /// Where the state is kept: a location [`Address::parse`] reads, taken literally.
    fn state(&mut self, key: &Node, v: &Node) -> Option<Address> {
        let Some(text) = v.as_str() else {
            let at = if v.span.is_empty() { key.span } else { v.span };
            let help = match &v.kind {
                NodeKind::Scalar(s) if s.resolved_type() != ScalarType::Null => format!(
                    "put the value in quotes to make it a string: \"{}\"",
                    s.value
                ),
                _ => "write the location as a string: `state: s3://BUCKET/KEY` or a path such as `state: prod.state.json`".to_string(),
            };
            self.wrong_type("`state`", "a string", v, at, &help);
            return None;
        };
        let at = v.span.into();
        if text.contains("${") {
            self.push(ConfigProblem::StateInterpolation { at });
            return None;
        }
        let parsed = if rules::has_control(text) {
            Err("the state location contains a control character".to_string())
        } else if !text.is_empty() && text.trim().is_empty() {
            Err("the state location is blank".to_string())
        } else {
            Address::parse(text, self.dir).map_err(|e| e.0)
        };
        match parsed {
            Ok(address) => Some(address),
            Err(reason) => {
                self.push(ConfigProblem::StateInvalid { reason, at });
                None
            }
        }
    }

    fn version(&mut self, v: &Node) {
        match &v.kind {
            NodeKind::Scalar(s) if s.resolved_type() == ScalarType::Int => {
                if s.as_int() != Some(SUPPORTED_VERSION) {
                    self.push(ConfigProblem::VersionUnsupported {
                        found: s.value.clone(),
                        at: v.span.into(),
                    });
                }
            }
            _ => self.wrong_type("`version`", "an integer", v, v.span, "write `version: 1`"),
        }
    }

    fn webhook(&mut self, item: &Node) -> Option<Webhook> {
        let fields = self.mapping(item, "a webhook", "a webhook", WEBHOOK_KEYS)?;
        let missing = |field: &'static str, example: &str| ConfigProblem::MissingField {
            field,
            owner: "this webhook".into(),
            at: item.head().into(),
            help: format!("add `{field}: {example}`"),
        };
        let name = match fields.get("name") {
            None => {
                self.push(missing("name", "Email Sent Webhook"));
                None
            }
            Some((_, n)) => self.string(n, "`name`").and_then(|s| {
                if s.trim().is_empty() {
                    self.push(ConfigProblem::NameBlank { at: n.span.into() });
                    None
                } else if rules::has_control(s) {
                    self.push(ConfigProblem::NameControl { at: n.span.into() });
                    None
                } else if rules::reads_as_workflow_command(s) {
                    self.push(ConfigProblem::NameWorkflowCommand { at: n.span.into() });
                    None
                } else {
                    Some((s.to_string(), n.span))
                }
            }),
        };
        let url = match fields.get("url") {
            None => {
                self.push(missing("url", "https://example.org/hooks/email-sent"));
                None
            }
            Some((_, n)) => self.url(n),
        };
        let events = match fields.get("events") {
            None => {
                self.push(missing("events", "[email-sent]"));
                None
            }
            Some((k, n)) => self.events(k, n),
        };
        let headers = match fields.get("headers") {
            None => Some(Vec::new()),
            Some((_, n)) => self.headers(n),
        };
        let (name, span) = name?;
        Some(Webhook {
            name,
            url: url?,
            events: events?,
            headers: headers?,
            span,
        })
    }

    fn url(&mut self, n: &Node) -> Option<Value> {
        let raw = self.string(n, "`url`")?;
        let (value, complete) = self.interpolated_with_unset(n, raw)?;
        // A URL built from an unset variable is checked once it is set (by `plan`).
        if !complete {
            return Some(value);
        }
        let at = n.span.into();
        let mut ok = true;
        for issue in rules::check_url(value.expose()) {
            ok &= issue.is_warning();
            self.push(match issue {
                UrlIssue::Invalid(reason) => ConfigProblem::UrlInvalid { reason, at },
                UrlIssue::Scheme(scheme) => ConfigProblem::UrlScheme { scheme, at },
                UrlIssue::Credentials => ConfigProblem::UrlCredentials { at },
                UrlIssue::Insecure => ConfigProblem::UrlInsecure { at },
                UrlIssue::Unreachable { host, reason } => ConfigProblem::UrlUnreachable {
                    host: if value.is_secret() {
                        crate::secret::REDACTED.into()
                    } else {
                        host
                    },
                    reason,
                    at,
                },
            });
        }
        ok.then_some(value)
    }

    fn events(&mut self, key: &Node, n: &Node) -> Option<Vec<Event>> {
        let NodeKind::Seq(items) = &n.kind else {
            let at = if n.span.is_empty() { key.span } else { n.span };
            self.wrong_type(
                "`events`",
                "a list of event names",
                n,
                at,
                "write e.g. `events: [email-sent, email-opened]`",
            );
            return None;
        };
        if items.is_empty() {
            self.push(ConfigProblem::EventsEmpty { at: n.span.into() });
            return None;
        }
        let mut events = Vec::with_capacity(items.len());
        let mut seen: HashMap<Event, Span> = HashMap::new();
        let mut ok = true;
        for item in items {
            let Some(name) = self.string(item, "an event") else {
                ok = false;
                continue;
            };
            match Event::parse(name) {
                Some(e) => match seen.get(&e) {
                    Some(first) => {
                        ok = false;
                        self.push(ConfigProblem::EventDuplicate {
                            name: name.to_string(),
                            at: item.span.into(),
                            first: (*first).into(),
                        });
                    }
                    None => {
                        seen.insert(e, item.span);
                        events.push(e);
                    }
                },
                None => {
                    ok = false;
                    let help = match Event::suggest(name) {
                        Some(e) => format!("did you mean `{e}`?"),
                        None => format!(
                            "the accepted events are: {}",
                            Event::ALL
                                .iter()
                                .map(|e| e.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    self.push(ConfigProblem::EventUnknown {
                        name: name.to_string(),
                        at: item.span.into(),
                        help,
                    });
                }
            }
        }
        ok.then_some(events)
    }

    fn headers(&mut self, n: &Node) -> Option<Vec<Header>> {
        let entries = match &n.kind {
            NodeKind::Scalar(s) if s.resolved_type() == ScalarType::Null => return Some(Vec::new()),
            NodeKind::Map(entries) => entries,
            _ => {
                self.wrong_type(
                    "`headers`",
                    "a mapping of header names to values",
                    n,
                    n.span,
                    "write e.g. `headers: {X-Webhook-Source: saleshandy}`, or leave `headers` out",
                );
                return None;
            }
        };
        let mut headers = Vec::with_capacity(entries.len());
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut ok = true;
        for (k, v) in entries {
            let Some(name) = self.string(k, "a header name") else {
                ok = false;
                continue;
            };
            let lower = name.to_ascii_lowercase();
            if let Some(first) = seen.get(&lower) {
                ok = false;
                self.push(ConfigProblem::HeaderDuplicate {
                    name: name.to_string(),
                    at: k.span.into(),
                    first: (*first).into(),
                });
                continue;
            }
            seen.insert(lower.clone(), k.span);
            if !rules::is_header_token(name) {
                ok = false;
                self.push(ConfigProblem::HeaderNameInvalid {
                    name: name.to_string(),
                    at: k.span.into(),
                });
            } else if rules::FORBIDDEN_HEADERS.contains(&lower.as_str()) {
                ok = false;
                self.push(ConfigProblem::HeaderForbidden {
                    name: name.to_string(),
                    at: k.span.into(),
                });
            }
            let Some(raw) = self.string(v, &format!("the value of header `{name}`")) else {
                ok = false;
                continue;
            };
            let Some(value) = self.interpolated(v, raw) else {
                ok = false;
                continue;
            };
            if let Some(what) = rules::header_value_problem(value.expose()) {
                ok = false;
                self.push(ConfigProblem::HeaderValueInvalid {
                    name: name.to_string(),
                    what,
                    at: v.span.into(),
                });
                continue;
            }
            headers.push(Header {
                name: name.to_string(),
                value,
            });
        }
        ok.then_some(headers)
    }

    /// Resolves `${NAME}` in a string node; the result is secret when anything was replaced.
    fn interpolated(&mut self, n: &Node, raw: &str) -> Option<Value> {
        self.interpolated_with_unset(n, raw).map(|(v, _)| v)
    }

    /// [`Self::interpolated`], and whether every variable it uses is set. With
    /// [`UnsetEnv::Listed`], unset variables are listed, not errors, and the value is the raw
    /// text (secret: it is never sent).
    fn interpolated_with_unset(&mut self, n: &Node, raw: &str) -> Option<(Value, bool)> {
        let result = interpolate(raw, self.env).map_err(|errors| {
            if self.unset != UnsetEnv::Listed {
                return errors;
            }
            errors
                .into_iter()
                .filter(|e| match e {
                    InterpolationError::Unset { var, .. } => {
                        if !self.unset_env.contains(var) {
                            self.unset_env.push(var.clone());
                        }
                        false
                    }
                    _ => true,
                })
                .collect()
        });
        match result {
            Ok(r) if r.used_env => {
                self.env_values.extend(r.vars);
                Some((Value::Secret(Secret::new(r.value)), true))
            }
            Ok(r) => Some((Value::Plain(r.value), true)),
            Err(errors) if errors.is_empty() => {
                Some((Value::Secret(Secret::new(raw.to_string())), false))
            }
            Err(errors) => {
                for e in errors {
                    self.push(match e {
                        InterpolationError::Unset { var, at } => ConfigProblem::EnvUnset {
                            help: format!(
                                "export {var} before running, or write `$${{` for a literal `${{`"
                            ),
                            var,
                            at: self.sub_span(n, raw, at).into(),
                        },
                        InterpolationError::Empty { var, at } => ConfigProblem::EnvEmpty {
                            help: format!(
                                "an empty value is almost always a missing secret (CI expands an unset secret to an empty string): set {var}, or write `${{{var}:-}}` to allow an empty value on purpose"
                            ),
                            var,
                            at: self.sub_span(n, raw, at).into(),
                        },
                        InterpolationError::Syntax { reason, at } => {
                            ConfigProblem::InterpolationSyntax {
                                reason,
                                at: self.sub_span(n, raw, at).into(),
                            }
                        }
                    });
                }
                None
            }
        }
    }

    /// The source span of `range` within a scalar's value, when the source spells the value
    /// verbatim (plain or simply quoted); the whole scalar otherwise.
    fn sub_span(&self, n: &Node, value: &str, range: Range<usize>) -> Span {
        let src = self.text.get(n.span.start..n.span.end).unwrap_or("");
        let start = if src == value {
            Some(n.span.start)
        } else if src.len() == value.len() + 2 && src.get(1..src.len() - 1) == Some(value) {
            Some(n.span.start + 1)
        } else {
            self.text
                .get(n.span.start..)
                .and_then(|s| s.find(value))
                .map(|i| n.span.start + i)
        };
        match start {
            Some(s) => Span::new(s + range.start, s + range.end),
            None => n.span,
        }
    }

    /// A string scalar, or a type error.
    fn string<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n str> {
        if let Some(s) = n.as_str() {
            return Some(s);
        }
        let help = match &n.kind {
            NodeKind::Scalar(s) if s.resolved_type() != ScalarType::Null => {
                format!(
                    "put the value in quotes to make it a string: \"{}\"",
                    s.value
                )
            }
            _ => "write a string here".to_string(),
        };
        self.wrong_type(what, "a string", n, n.span, &help);
        None
    }

    fn wrong_type(&mut self, what: &str, expected: &'static str, n: &Node, at: Span, help: &str) {
        self.push(ConfigProblem::WrongType {
            what: what.to_string(),
            expected,
            found: n.describe(),
            at: at.into(),
            help: help.to_string(),
        });
    }

    /// Checks that `n` is a mapping with string keys, no repeated key and only `allowed` keys.
    fn mapping<'n>(
        &mut self,
        n: &'n Node,
        what: &str,
        owner: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let NodeKind::Map(entries) = &n.kind else {
            let example = if owner == "a webhook" {
                "`- name: …` followed by `url:`, `events:`"
            } else {
                "`version: 1` and `webhooks:`"
            };
            self.wrong_type(what, "a mapping", n, n.span, &format!("write {example}"));
            return None;
        };
        let mut fields: Fields<'n> = HashMap::new();
        for (k, v) in entries {
            let Some(key) = self.string(k, "a key") else {
                continue;
            };
            if let Some((first, _)) = fields.get(key) {
                self.push(ConfigProblem::DuplicateKey {
                    key: key.to_string(),
                    owner: owner.to_string(),
                    at: k.span.into(),
                    first: first.span.into(),
                });
                continue;
            }
            if !allowed.contains(&key) {
                let list = allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let help = match crate::suggest::closest(key, allowed.iter().copied()) {
                    Some(a) => {
                        format!("did you mean `{a}`? The keys allowed in {owner} are {list}")
                    }
                    None => format!("the keys allowed in {owner} are {list}"),
                };
                self.push(ConfigProblem::UnknownKey {
                    key: key.to_string(),
                    owner: owner.to_string(),
                    at: k.span.into(),
                    help,
                });
                continue;
            }
            fields.insert(key, (k, v));
        }
        Some(fields)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const HOOKS: &str = "webhooks: []\n";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// The config's `state` from `version: 1`, `state: VALUE`, `webhooks: []` in `dir`.
    fn state_in(value: &str, dir: Option<&Path>) -> Loaded {
        load_in(
            &format!("version: 1\nstate: {value}\n{HOOKS}"),
            dir,
            &no_env,
        )
    }

    /// Where `state: VALUE` puts a scalar value: after `version: 1\nstate: `.
    fn value_span(value: &str) -> miette::SourceSpan {
        (18, value.len()).into()
    }

    #[test]
    fn state_is_none_when_absent() {
        let loaded = load(&format!("version: 1\n{HOOKS}"), &no_env);
        assert_eq!(loaded.problems, vec![]);
        assert_eq!(loaded.config.expect("valid").state, None);
    }

    #[test]
    fn state_is_an_s3_url_or_a_path_relative_to_the_config() {
        let dir = Path::new("infra/accounts");
        for (value, dir, want) in [
            (
                "s3://acme-infra/saleshandy/prod.state.json",
                Some(dir),
                Address::S3 {
                    bucket: "acme-infra".into(),
                    key: "saleshandy/prod.state.json".into(),
                },
            ),
            (
                "states/prod.state.json",
                Some(dir),
                Address::Local(PathBuf::from("infra/accounts/states/prod.state.json")),
            ),
            (
                "../prod.state.json",
                Some(dir),
                Address::Local(PathBuf::from("infra/accounts/../prod.state.json")),
            ),
            (
                "/var/lib/sh/prod.state.json",
                Some(dir),
                Address::Local(PathBuf::from("/var/lib/sh/prod.state.json")),
            ),
            // Standard input: relative to the current directory.
            (
                "prod.state.json",
                None,
                Address::Local(PathBuf::from("prod.state.json")),
            ),
            // `$` alone is no interpolation.
            (
                "\"prod$1.json\"",
                None,
                Address::Local(PathBuf::from("prod$1.json")),
            ),
        ] {
            let loaded = state_in(value, dir);
            assert_eq!(loaded.problems, vec![], "{value}");
            assert_eq!(loaded.config.expect(value).state, Some(want), "{value}");
        }
    }

    #[test]
    fn a_refused_state_says_why_at_its_value() {
        for (value, reason) in [
            ("\"\"", "the state location is empty"),
            ("\"  \"", "the state location is blank"),
            ("\"a\\eb\"", "the state location contains a control character"),
            (
                "gs://acme/prod.json",
                "`gs://` (Google Cloud Storage) is not supported: its conditional writes could not be tested for this tool; keep the state on S3 or an S3-compatible store (`s3://BUCKET/KEY`), on Azure Blob Storage (`az://CONTAINER/KEY`), or in a local file",
            ),
            (
                "s3://Acme/prod.json",
                "`Acme` is not an S3 bucket name (3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit): write it as `s3://BUCKET/KEY`, e.g. `s3://acme-infra/saleshandy/prod.state.json`",
            ),
            (
                "s3://acme/states/",
                "`s3://acme/states/` names a folder, not an object: write it as `s3://BUCKET/KEY`, e.g. `s3://acme-infra/saleshandy/prod.state.json`",
            ),
        ] {
            let loaded = state_in(value, None);
            assert_eq!(
                loaded.problems,
                vec![ConfigProblem::StateInvalid {
                    reason: reason.into(),
                    at: value_span(value),
                }],
                "{value}"
            );
            assert!(loaded.config.is_none(), "{value}");
        }
    }

    #[test]
    fn a_state_with_interpolation_is_refused_not_resolved() {
        let env = |_: &str| Some("bucket".to_string());
        for value in ["s3://${BUCKET}/prod.json", "\"$${HOME}/prod.json\"", "${"] {
            let loaded = load_in(&format!("version: 1\nstate: {value}\n{HOOKS}"), None, &env);
            assert_eq!(
                loaded.problems,
                vec![ConfigProblem::StateInterpolation {
                    at: value_span(value)
                }],
                "{value}"
            );
        }
    }

    #[test]
    fn a_state_that_is_not_a_string_is_a_type_error() {
        let write = "write the location as a string: `state: s3://BUCKET/KEY` or a path such as `state: prod.state.json`";
        // A collection's span ends with its last item (see `yaml`).
        for (value, len, found, help) in [
            (
                "42",
                2,
                "an integer",
                "put the value in quotes to make it a string: \"42\"",
            ),
            ("[a, b]", 5, "a list", write),
            ("{a: b}", 5, "a mapping", write),
            ("~", 1, "nothing (null)", write),
        ] {
            let loaded = state_in(value, None);
            assert_eq!(
                loaded.problems,
                vec![ConfigProblem::WrongType {
                    what: "`state`".into(),
                    expected: "a string",
                    found,
                    at: (18, len).into(),
                    help: help.into(),
                }],
                "{value}"
            );
        }
        // With no value at all, the key is marked.
        let loaded = load("version: 1\nstate:\nwebhooks: []\n", &no_env);
        assert_eq!(
            loaded.problems,
            vec![ConfigProblem::WrongType {
                what: "`state`".into(),
                expected: "a string",
                found: "nothing (null)",
                at: (11, 5).into(),
                help: write.into(),
            }]
        );
    }

    #[test]
    fn a_refused_state_is_reported_with_the_other_errors() {
        let text = "version: 2\nstate: az://c/k\nwebhooks:\n  - name: a\n    url: https://example.org\n    events: [email-snt]\n";
        let codes: Vec<String> = load(text, &no_env)
            .problems
            .iter()
            .map(|p| miette::Diagnostic::code(p).expect("a code").to_string())
            .collect();
        assert_eq!(
            codes,
            [
                "config::version_unsupported",
                "config::state",
                "config::event_unknown"
            ]
        );
    }
}
