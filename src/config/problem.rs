//! Everything that can be wrong with a config file, one variant per rule, each with its code,
//! its labels at the exact place in the file, and what to do about it.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// One error or warning found in a config file. Spans are byte ranges of that file.
#[derive(Debug, Clone, Error, Diagnostic, PartialEq)]
pub enum ConfigProblem {
    #[error("YAML syntax error: {message}")]
    #[diagnostic(code(config::syntax))]
    Syntax {
        message: String,
        #[label("here")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("the file is too large to read: its values would take more than {mib} MiB")]
    #[diagnostic(
        code(config::too_large),
        help("a config holds one account's webhooks and takes well under 1 MiB; an alias (`*name`) copies its anchor's whole value each time it is used, so use large anchors fewer times")
    )]
    TooLarge {
        mib: usize,
        #[label("the limit was reached here")]
        at: SourceSpan,
    },

    #[error("the config file is empty")]
    #[diagnostic(
        code(config::empty),
        help("start with `version: 1` and a `webhooks:` list; examples/webhooks.yaml shows one")
    )]
    Empty {
        #[label("nothing here")]
        at: SourceSpan,
    },

    #[error("{what} must be {expected}, found {found}")]
    #[diagnostic(code(config::wrong_type))]
    WrongType {
        what: String,
        expected: &'static str,
        found: &'static str,
        #[label("{found}")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{owner} has no `{field}`")]
    #[diagnostic(code(config::missing_field))]
    MissingField {
        field: &'static str,
        owner: String,
        #[label("`{field}` missing here")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("unknown key `{key}` in {owner}")]
    #[diagnostic(code(config::unknown_key))]
    UnknownKey {
        key: String,
        owner: String,
        #[label("not a known key")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("the key `{key}` appears twice in {owner}")]
    #[diagnostic(
        code(config::duplicate_key),
        help("YAML keeps only one of them: delete one, or merge them")
    )]
    DuplicateKey {
        key: String,
        owner: String,
        #[label("again here")]
        at: SourceSpan,
        #[label("first here")]
        first: SourceSpan,
    },

    #[error("the config file has no `version`")]
    #[diagnostic(
        code(config::version_missing),
        help("add `version: 1` at the top of the file (1 is the version this build supports)")
    )]
    VersionMissing {
        #[label("expected `version: 1` in this mapping")]
        at: SourceSpan,
    },

    #[error("config version {found} is not supported")]
    #[diagnostic(
        code(config::version_unsupported),
        help("this build reads `version: 1`; upgrade saleshandy-webhooks or write the file in version 1")
    )]
    VersionUnsupported {
        found: String,
        #[label("unsupported version")]
        at: SourceSpan,
    },

    // The value is not repeated in the message: a user may have pasted the key itself.
    #[error("`apiKeyEnv` must be the name of an environment variable")]
    #[diagnostic(
        code(config::api_key_env_invalid),
        help("write the variable's name, e.g. `apiKeyEnv: CLIENT_ACME_SALESHANDY_KEY` (letters, digits and `_`), never the key itself")
    )]
    ApiKeyEnvInvalid {
        #[label("not a variable name")]
        at: SourceSpan,
    },

    #[error("invalid `state`: {reason}")]
    #[diagnostic(
        code(config::state),
        help("write `state: s3://BUCKET/KEY` for S3 or an S3-compatible store, `state: az://CONTAINER/KEY` for Azure Blob Storage, or a local path such as `state: prod.state.json` (relative to this file's folder)")
    )]
    StateInvalid {
        reason: String,
        #[label("not a state location")]
        at: SourceSpan,
    },

    #[error("`state` cannot use `${{…}}`: the state location must be readable without the environment's secrets")]
    #[diagnostic(
        code(config::state_interpolation),
        help("write the location itself, e.g. `state: s3://acme-infra/saleshandy/prod.state.json`, so that `validate` and `plan` know it; to pick it per run, pass `--state` instead")
    )]
    StateInterpolation {
        #[label("`${{` here is not interpolated")]
        at: SourceSpan,
    },

    #[error("a webhook's `name` is blank")]
    #[diagnostic(
        code(config::name_blank),
        help("give every webhook a name that says what it is for, e.g. `Email Sent Webhook`; the name is its identity")
    )]
    NameBlank {
        #[label("blank name")]
        at: SourceSpan,
    },

    #[error("a webhook's `name` contains a control character")]
    #[diagnostic(
        code(config::name_control),
        help("names are printed in plans and logs, where a control character (such as an escape written `\\e` in YAML) could drive the terminal; use printable characters only")
    )]
    NameControl {
        #[label("control character in here")]
        at: SourceSpan,
    },

    #[error("this name would read as a CI workflow command")]
    #[diagnostic(
        code(config::name_workflow_command),
        help("CI runners take a line starting with `::` (GitHub Actions) or holding `##[` or `##vso[` (GitHub, Azure Pipelines) as a command, and names are printed in plans and logs: rename it")
    )]
    NameWorkflowCommand {
        #[label("here")]
        at: SourceSpan,
    },

    #[error("two webhooks are named `{name}`")]
    #[diagnostic(
        code(config::name_duplicate),
        help("the name is a webhook's identity in the state: rename one of them")
    )]
    NameDuplicate {
        name: String,
        #[label("used again here")]
        at: SourceSpan,
        #[label("first used here")]
        first: SourceSpan,
    },

    #[error("`url` is not a valid absolute URL: {reason}")]
    #[diagnostic(
        code(config::url_invalid),
        help("write the full address, e.g. `https://example.org/hooks/email-sent`")
    )]
    UrlInvalid {
        reason: String,
        #[label("invalid URL")]
        at: SourceSpan,
    },

    #[error("`url` uses the scheme `{scheme}`; webhooks are delivered over https or http only")]
    #[diagnostic(code(config::url_scheme), help("use an `https://` URL"))]
    UrlScheme {
        scheme: String,
        #[label("unsupported scheme")]
        at: SourceSpan,
    },

    #[error("`url` contains a user name or password")]
    #[diagnostic(
        code(config::url_credentials),
        help("credentials in a URL would be stored in the state and shown in logs; send them in a header instead, e.g. `Authorization: \"Bearer ${{TOKEN}}\"` with TOKEN from the environment")
    )]
    UrlCredentials {
        #[label("credentials here")]
        at: SourceSpan,
    },

    #[error("`url` uses plain http: deliveries to it are not encrypted")]
    #[diagnostic(
        code(config::url_insecure),
        severity(Warning),
        help("use `https://` unless the receiver cannot serve TLS")
    )]
    UrlInsecure {
        #[label("unencrypted")]
        at: SourceSpan,
    },

    #[error("Saleshandy cannot reach `{host}`: {reason}")]
    #[diagnostic(
        code(config::url_unreachable),
        severity(Warning),
        help("Saleshandy sends a test delivery when the webhook is created; if it fails, the webhook is created paused and delivers nothing. Use a public address.")
    )]
    UrlUnreachable {
        host: String,
        reason: &'static str,
        #[label("not reachable from the internet")]
        at: SourceSpan,
    },

    #[error("`events` is empty")]
    #[diagnostic(
        code(config::events_empty),
        help("list at least one event, e.g. `events: [email-sent]`")
    )]
    EventsEmpty {
        #[label("no events")]
        at: SourceSpan,
    },

    #[error("unknown event `{name}`")]
    #[diagnostic(code(config::event_unknown))]
    EventUnknown {
        name: String,
        #[label("not a Saleshandy event")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("the event `{name}` is listed twice")]
    #[diagnostic(code(config::event_duplicate), help("delete one of them"))]
    EventDuplicate {
        name: String,
        #[label("again here")]
        at: SourceSpan,
        #[label("first here")]
        first: SourceSpan,
    },

    #[error("`{name}` is not a valid HTTP header name")]
    #[diagnostic(
        code(config::header_name_invalid),
        help("header names are letters, digits and ``!#$%&'*+-.^_`|~``, with no spaces or colons, e.g. `X-Webhook-Source`")
    )]
    HeaderNameInvalid {
        name: String,
        #[label("invalid header name")]
        at: SourceSpan,
    },

    #[error("the value of header `{name}` contains {what}")]
    #[diagnostic(
        code(config::header_value_invalid),
        help("header values are a single line: remove line breaks and NUL characters (a `|` block adds a line break; use a quoted string)")
    )]
    HeaderValueInvalid {
        name: String,
        what: &'static str,
        #[label("invalid value")]
        at: SourceSpan,
    },

    #[error("the header `{name}` is set twice (header names ignore case)")]
    #[diagnostic(code(config::header_duplicate), help("keep one of them"))]
    HeaderDuplicate {
        name: String,
        #[label("again here")]
        at: SourceSpan,
        #[label("first here")]
        first: SourceSpan,
    },

    #[error("the header `{name}` cannot be set on a webhook")]
    #[diagnostic(
        code(config::header_forbidden),
        help("Host, Content-Length, Content-Type, Transfer-Encoding and Connection are set by Saleshandy for each delivery; remove this header")
    )]
    HeaderForbidden {
        name: String,
        #[label("set by Saleshandy, not by you")]
        at: SourceSpan,
    },

    #[error("the environment variable `{var}` is not set")]
    #[diagnostic(code(config::env_unset))]
    EnvUnset {
        var: String,
        #[label("needs ${var}")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("the environment variable `{var}` is set but empty")]
    #[diagnostic(code(config::env_empty))]
    EnvEmpty {
        var: String,
        #[label("${var} is empty")]
        at: SourceSpan,
        #[help]
        help: String,
    },

    #[error("malformed `${{…}}` reference: {reason}")]
    #[diagnostic(
        code(config::interpolation_syntax),
        help("write `${{NAME}}` with NAME made of letters, digits and `_`; write `$${{` for a literal `${{`")
    )]
    InterpolationSyntax {
        reason: &'static str,
        #[label("here")]
        at: SourceSpan,
    },
}

impl ConfigProblem {
    /// Where the problem is: the first label, which is the main one.
    pub fn primary_span(&self) -> SourceSpan {
        use ConfigProblem::*;
        match self {
            Syntax { at, .. }
            | TooLarge { at, .. }
            | Empty { at }
            | WrongType { at, .. }
            | MissingField { at, .. }
            | UnknownKey { at, .. }
            | DuplicateKey { at, .. }
            | VersionMissing { at }
            | VersionUnsupported { at, .. }
            | ApiKeyEnvInvalid { at, .. }
            | StateInvalid { at, .. }
            | StateInterpolation { at }
            | NameBlank { at }
            | NameControl { at }
            | NameWorkflowCommand { at }
            | NameDuplicate { at, .. }
            | UrlInvalid { at, .. }
            | UrlScheme { at, .. }
            | UrlCredentials { at }
            | UrlInsecure { at }
            | UrlUnreachable { at, .. }
            | EventsEmpty { at }
            | EventUnknown { at, .. }
            | EventDuplicate { at, .. }
            | HeaderNameInvalid { at, .. }
            | HeaderValueInvalid { at, .. }
            | HeaderDuplicate { at, .. }
            | HeaderForbidden { at, .. }
            | EnvUnset { at, .. }
            | EnvEmpty { at, .. }
            | InterpolationSyntax { at, .. } => *at,
        }
    }

    /// Whether this problem fails validation on its own (warnings only do under `--strict`).
    pub fn is_error(&self) -> bool {
        !matches!(self.severity(), Some(miette::Severity::Warning))
    }
}
