//! Command-line definitions: commands, options, environment bindings and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::DiagnosticFormat;

/// Manage Saleshandy webhooks as code: declare them in YAML, plan, and apply.
#[derive(Debug, Parser)]
#[command(
    name = "saleshandy-webhooks",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SHW_GIT_COMMIT"), ")"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Never use colour (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a config file offline: syntax, keys, names, URLs, events, headers, variables.
    ///
    /// Exits 0 when the file is valid, 1 when it is not. Needs no API key, no secret and makes
    /// no network call: a `${VAR}` that is not set is listed as needed by `plan` and `apply`
    /// (an error with `--require-env`), and a URL built from one is checked once it is set.
    Validate(ValidateArgs),

    /// Show what apply would do: compare the config with the state, without the API.
    ///
    /// Each webhook is to create (+), unchanged, changed (~), orphaned (-) or unknown (?).
    /// The API can neither update nor delete, so changed, orphaned and unknown webhooks need a
    /// person; the plan says what to do. Needs no API key; the only network call is reading a
    /// state kept in a bucket (read access is enough: plan takes no lock).
    Plan(PlanArgs),

    /// Create the webhooks the plan says are missing, and record their ids in the state.
    ///
    /// Shows the plan and asks for `yes` on a terminal; without a terminal it refuses unless
    /// `--auto-approve` is given. The state is saved around every create, so an interrupted
    /// run loses no id. Exit 0 when everything planned was created, 1 otherwise.
    Apply(ApplyArgs),

    /// Show a plan saved by `plan --out FILE` as `plan` printed it, without reading anything
    /// else: no config, no state, no API.
    ///
    /// For reviewing what `apply PLAN` would do, e.g. a plan an earlier CI job saved as an
    /// artifact: human, JSON or Markdown, as `plan --format` prints them. Secret values are not
    /// in a saved plan, so they show as `(secret)`.
    Show(ShowPlanArgs),

    /// Read every webhook the state knows from the API: active or paused, the last delivery
    /// failure, and drift (edited or deleted in Saleshandy).
    ///
    /// Needs the API key and only reads: one GET per recorded webhook, several at once. The
    /// state is not changed unless `--update-state` is given. Exit 1 when a webhook could not
    /// be read; with `--detailed-exitcode`, 2 when anything needs attention; 0 otherwise.
    Status(StatusArgs),

    /// Print a shell completion script (bash, zsh, fish, powershell) to standard output.
    ///
    /// Redirect it to where the shell reads completions, e.g.
    /// `saleshandy-webhooks completions bash > ~/.local/share/bash-completion/completions/saleshandy-webhooks`.
    Completions(CompletionsArgs),

    /// Inspect or repair the state: list, show, adopt an existing webhook, or forget one.
    #[command(subcommand)]
    State(StateCommand),

    /// Serve the embedded Saleshandy API emulator on 127.0.0.1 until interrupted, or act on
    /// one as a person would in Saleshandy's UI (list, edit, pause, delete, faults).
    ///
    /// Point the tool at it with `--api-url` and any `SALESHANDY_API_KEY=sandbox-NAME` (each
    /// such key is an account of its own). Its page, at its URL, lists every account's
    /// webhooks. Nothing leaves this machine: test deliveries go to loopback URLs only.
    Sandbox(SandboxArgs),
}

/// How an apply reports its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    /// The plan, then one line per webhook and a summary.
    Human,
    /// One JSON document with the result of every create, on standard output.
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan --out FILE`: apply exactly it, refusing if anything changed since.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,

    #[command(flatten)]
    pub config: ApplyConfigsArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// Refuse, before sending anything, a plan that would create more than N webhooks.
    #[arg(long, value_name = "N")]
    pub max_creates: Option<usize>,

    /// How many creates to send at once (1 to 256). Results are reported in config order
    /// either way.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = parallelism)]
    pub parallelism: usize,

    /// At most this many requests per second to the account (default: no ceiling; a 429
    /// always slows every worker).
    #[arg(long, value_name = "RPS", value_parser = requests_per_second)]
    pub max_rps: Option<f64>,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    /// Apply against an embedded sandbox started for this run: no Saleshandy account needed.
    /// The API URL and key are not used (`SALESHANDY_API_URL` in the environment is ignored).
    // Only the key file conflicts: `--api-url` also comes from SALESHANDY_API_URL, and an
    // exported variable must not make `--sandbox` an error.
    #[arg(long, conflicts_with = "api_key_file")]
    pub sandbox: bool,

    /// Treat webhooks created paused (their test delivery failed) as errors.
    #[arg(long)]
    pub require_active: bool,

    /// How to print the results.
    #[arg(long, value_enum, default_value_t = ApplyFormat::Human)]
    pub format: ApplyFormat,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// How the API is reached. The key is never a command-line value.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The API's base URL. Plain http is refused except on loopback.
    #[arg(long, env = "SALESHANDY_API_URL", value_name = "URL", default_value = crate::api::DEFAULT_BASE_URL)]
    pub api_url: String,

    /// Read the API key from this file instead of SALESHANDY_API_KEY.
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,

    /// Seconds to wait for each API answer (connecting waits at most 10).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Waiting for another run that holds the state.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Seconds to wait for the state's lock when another run holds it (0: fail at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub lock_timeout: u64,
    /// Seconds a remote state's lock lasts without renewal: it is renewed while the run
    /// lasts, and another run takes it over once it has run out (a runner that died).
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub lock_lease: u64,
}

impl LockArgs {
    /// How a command that writes takes the lock.
    pub(crate) fn locking(&self) -> crate::store::Locking {
        crate::store::Locking {
            timeout: std::time::Duration::from_secs(self.lock_timeout),
            lease: std::time::Duration::from_secs(self.lock_lease),
        }
    }
}

/// How a status report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// A line per webhook, with what to do about each problem.
    Human,
    /// One JSON document on standard output.
    Json,
    /// A pull-request or issue comment, always under 65,000 characters.
    Markdown,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigsArgs,

    #[command(flatten)]
    pub state: StateArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// How to print the report.
    #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
    pub format: StatusFormat,

    /// Exit 2 when anything is paused, failing, drifted or deleted.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Record the live status in the state (under the lock).
    #[arg(long)]
    pub update_state: bool,

    /// How many webhooks to read at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = parallelism)]
    pub parallelism: usize,

    /// Read them from the sandbox `apply --sandbox` created them in (kept beside the state).
    #[arg(long, conflicts_with = "api_key_file")]
    pub sandbox: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// How state inspection is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned text for people.
    Human,
    /// One JSON document on standard output.
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// How to print the list.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The webhook's name in the state.
    pub name: String,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// How to print the webhook's record.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the webhooks the state knows: name, id, status (and unknown creates).
    ///
    /// Offline: needs no API key, takes no lock and writes nothing (a state kept in a bucket
    /// is read from it). Unknown creates are listed with when and why they became unknown.
    List(ListArgs),

    /// Show everything the state records about one webhook (secrets as `(secret)`).
    ///
    /// Its id, status, test delivery, when it was created, what was sent and the last live
    /// check; for an unknown create, how to resolve it. Offline, like `state list`.
    Show(ShowArgs),

    /// Adopt a webhook that exists in Saleshandy: read it by id, compare, and record it.
    ///
    /// Resolves an `unknown` entry (the webhook turned out to exist) or records a webhook
    /// made by hand. The webhook is read with GET /v1/webhook/ID first; an id the API does
    /// not know changes nothing.
    Import(ImportArgs),

    /// Rename a webhook in the state (after renaming it in the config), keeping its id.
    ///
    /// Moves the recorded or unknown entry and its last status check; sends nothing. Rename
    /// it in Saleshandy too, or `status` reports the name that differs.
    Mv(MvArgs),

    /// Forget a webhook, so that the next apply creates it again if it is in the config.
    ///
    /// Resolves an `unknown` entry (the webhook does not exist) or an orphaned one (you
    /// deleted it in Saleshandy). It does not delete anything in Saleshandy.
    Rm(RmArgs),

    /// Copy the state (with an interrupted apply's journal replayed) to a new location.
    ///
    /// For moving a committed local state to remote state: `state push s3://BUCKET/KEY`.
    /// Refused if anything exists there already. The source is locked while it is read, so
    /// an interrupted apply's journal beside it is folded into it first; nothing else changes.
    Push(PushArgs),

    /// Print the state as a local state file holds it (e.g. a remote one, to inspect or keep).
    ///
    /// Writes to standard output only: redirect it to keep a copy. Takes no lock and changes
    /// nothing.
    Pull(PullArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Where to copy it: `s3://BUCKET/KEY` (or a file).
    #[arg(value_name = "URL")]
    pub to: String,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The webhook's name in the config.
    pub name: String,

    /// Its id in Saleshandy (24 hex characters).
    pub id: String,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// Read it from the sandbox `apply --sandbox` uses (kept beside the state).
    #[arg(long, conflicts_with = "api_key_file")]
    pub sandbox: bool,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct MvArgs {
    /// The webhook's name in the state now.
    pub old: String,

    /// Its new name (the one in the config).
    pub new: String,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The webhook's name in the state.
    pub name: String,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: Option<SandboxCommand>,

    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Keep the webhooks in this file across restarts (created if missing), e.g. the
    /// `*.sandbox.json` that `apply --sandbox` keeps beside a state. Without it, nothing is
    /// kept after the sandbox stops.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
}

/// What a person does in Saleshandy's UI, done to a sandbox: for rehearsing drift, pauses,
/// deletions, lost answers and rate limits. These reach a sandbox only, never Saleshandy.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// List a sandbox's webhooks: id, name, status, last failure, URL, by account.
    ///
    /// What Saleshandy's Integrations page shows: for finding the id of a webhook whose create
    /// answer was lost, before `state import NAME ID`.
    List(SandboxListArgs),
    /// Edit a webhook's name, URL, events or headers, as in Saleshandy's UI (drift).
    ///
    /// Each value is checked as a create checks it. `status` then reports the webhook as
    /// drifted, and says how to resolve it.
    Edit(SandboxEditArgs),
    /// Pause a webhook, as in Saleshandy's UI.
    ///
    /// It delivers nothing while paused, and no longer counts against its account's 50 active
    /// webhooks; `status` reports it paused.
    Pause(SandboxIdArgs),
    /// Resume a paused webhook (refused when its account has 50 active ones).
    ///
    /// The opposite of `sandbox pause`: it is active again.
    Resume(SandboxIdArgs),
    /// Delete a webhook, as in Saleshandy's UI.
    ///
    /// Its id is gone for good: `status` reports it deleted (HTTP 404) and says how to
    /// resolve that.
    Delete(SandboxIdArgs),
    /// Mark a webhook's last delivery failed, as when its URL stopped answering.
    ///
    /// Records a failure now with the status code and message given; its status stays as it
    /// is. `status` then reports the failure.
    Fail(SandboxFailArgs),
    /// Make the next create requests fail: rate limits, server errors, lost answers, garbage,
    /// latency.
    ///
    /// Each fault is used by one create request, in order (`--name` keeps it for the creates
    /// of one webhook). The sandbox's page lists the faults still waiting.
    Fault(SandboxFaultArgs),
}

/// Which sandbox a sandbox command acts on.
#[derive(Debug, Args)]
pub struct SandboxAt {
    /// The running sandbox to act on; it must be on this machine.
    #[arg(
        long,
        env = "SALESHANDY_SANDBOX_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub sandbox_url: String,

    /// Act on the sandbox kept in this file instead (the sandbox serving it, else the file
    /// itself), e.g. the `*.sandbox.json` beside a state that `apply --sandbox` made.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SandboxListArgs {
    /// Only this account's webhooks (its API key, e.g. sandbox-api-key).
    #[arg(long, value_name = "KEY")]
    pub account: Option<String>,

    /// How to print the list.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,

    #[command(flatten)]
    pub at: SandboxAt,
}

#[derive(Debug, Args)]
pub struct SandboxIdArgs {
    /// The webhook's id (`sandbox list` shows them).
    pub id: String,

    #[command(flatten)]
    pub at: SandboxAt,
}

#[derive(Debug, Args)]
pub struct SandboxEditArgs {
    /// The webhook's id (`sandbox list` shows them).
    pub id: String,

    /// Its new name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Its new URL.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Its new events, separated by commas (e.g. email-sent,email-opened).
    #[arg(long, value_name = "EVENTS", value_delimiter = ',')]
    pub events: Option<Vec<String>>,

    /// A header of its new set of headers, `Name: value`; repeat for several. The headers
    /// given replace all of them.
    #[arg(long, value_name = "NAME: VALUE", conflicts_with = "no_headers", value_parser = header_arg)]
    pub header: Vec<(String, String)>,

    /// Remove all its headers.
    #[arg(long)]
    pub no_headers: bool,

    #[command(flatten)]
    pub at: SandboxAt,
}

#[derive(Debug, Args)]
pub struct SandboxFailArgs {
    /// The webhook's id (`sandbox list` shows them).
    pub id: String,

    /// The HTTP status its URL answered (0: no answer at all).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u16).range(0..=599))]
    pub status_code: u16,

    /// What went wrong, as the failure's message (default: says the status).
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,

    #[command(flatten)]
    pub at: SandboxAt,
}

/// A fault for the next create requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultKind {
    /// 429 Too Many Requests (with Retry-After when --retry-after is given); nothing created.
    RateLimit,
    /// A 5xx answer (--status, default 503); nothing created.
    ServerError,
    /// The webhook is created, then the connection closes without an answer.
    LostAnswer,
    /// The webhook is created, then a 201 whose body is not JSON.
    #[value(name = "garbage-201")]
    Garbage201,
    /// The create waits --delay-ms more before it is handled.
    Latency,
}

#[derive(Debug, Args)]
pub struct SandboxFaultArgs {
    /// What goes wrong.
    #[arg(value_enum)]
    pub kind: FaultKind,

    /// For how many create requests (one fault each).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub count: u64,

    /// Only for the creates of the webhook with this name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// rate-limit: the Retry-After seconds to send.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub retry_after: Option<u64>,

    /// server-error: the status to answer.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(500..=599))]
    pub status: Option<u16>,

    /// latency: how long each create waits, in milliseconds.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub delay_ms: Option<u64>,

    #[command(flatten)]
    pub at: SandboxAt,
}

/// A `Name: value` header given on the command line.
fn header_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err("expected `Name: value`, e.g. `X-Source: saleshandy`".to_string()),
    }
}

/// Where the config is read from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config file; `-` reads standard input.
    #[arg(short, long, value_name = "FILE", default_value = "webhooks.yaml")]
    pub config: PathBuf,
}

/// Where the configs are read from: one Saleshandy account per file.
#[derive(Debug, Args)]
pub struct ConfigsArgs {
    /// A config file, or a directory of them (each `*.yaml` / `*.yml` in it with a top-level
    /// `webhooks` key, hidden files left out); `-` reads standard input. Repeat `-c` for several accounts: each has its own state and lock.
    #[arg(short = 'c', long = "config", value_name = "FILE|DIR", default_value = "webhooks.yaml", action = clap::ArgAction::Append)]
    pub configs: Vec<PathBuf>,
}

/// The config file a command reads when no `-c` is given.
pub(crate) const DEFAULT_CONFIG: &str = "webhooks.yaml";

/// Where `apply` reads its configs: as for the other commands, except that with a saved
/// PLAN the default is the plan's own config.
#[derive(Debug, Args)]
pub struct ApplyConfigsArgs {
    /// A config file, or a directory of them (each `*.yaml` / `*.yml` in it); `-` reads
    /// standard input. Repeat `-c` for several accounts: each has its own state and lock.
    /// Default: webhooks.yaml; with a saved PLAN, the config it was made from.
    #[arg(short = 'c', long = "config", value_name = "FILE|DIR", action = clap::ArgAction::Append)]
    pub configs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShowPlanArgs {
    /// A plan saved by `plan --out FILE`.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = ShowFormat::Human)]
    pub format: ShowFormat,

    /// List unchanged webhooks too.
    #[arg(short, long)]
    pub verbose: bool,
}

/// How a saved plan is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    /// As `plan` prints it for people.
    Human,
    /// As `plan --format json` prints it (schemas/plan.schema.json).
    Json,
    /// As `plan --format markdown` prints it.
    Markdown,
}

/// Where the state is read from.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    /// The state: a file, `s3://BUCKET/KEY` (S3 or an S3-compatible store) or
    /// `az://CONTAINER/KEY` (Azure Blob Storage). Default: the config's `state:`, else
    /// `<config stem>.state.json` beside the config.
    #[arg(long, value_name = "FILE|URL")]
    pub state: Option<String>,
}

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// For people: signs, diffs, manual steps, a summary line.
    Human,
    /// One JSON document on standard output (schemas/plan.schema.json).
    Json,
    /// A pull-request comment, always under 65,000 characters.
    Markdown,
    /// GitHub Actions workflow commands: a notice per create, a warning per webhook that
    /// needs a person.
    Github,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigsArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,

    /// Exit 2 when apply would create something, 0 when not, 1 on error. Changed, orphaned,
    /// unknown and deleted webhooks do not count (apply does nothing with them); `--format
    /// json` reports them as `needs_person`.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// List unchanged webhooks too.
    #[arg(short, long)]
    pub verbose: bool,

    /// Save the plan to FILE, for `apply FILE` to apply exactly it (once).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Check that each URL to be created answers (DNS, TCP, TLS, HTTP HEAD — never a
    /// payload), and warn when Saleshandy's test delivery would likely fail.
    #[arg(long)]
    pub probe: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigsArgs,

    /// Fail on warnings too (plain http, hosts Saleshandy cannot reach).
    #[arg(long)]
    pub strict: bool,

    /// Fail when a `${VAR}` the config uses is not set, as `plan` and `apply` do. Without
    /// it, unset variables are listed in one line and only their names are checked.
    #[arg(long)]
    pub require_env: bool,

    /// How to print problems.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}

/// `--parallelism`: a whole number from 1 to 256 (more would only queue at the API).
fn parallelism(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err("expected a whole number from 1 to 256".to_string()),
    }
}

/// `--max-rps`: a number of requests per second from 0.01 to 10000.
fn requests_per_second(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.01..=10_000.0).contains(&r) => Ok(r),
        _ => Err("expected a number of requests per second from 0.01 to 10000".to_string()),
    }
}
