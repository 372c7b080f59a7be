//! Errors that end a command, each with a code and what to do next.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub(crate) enum Error {
    #[error("cannot read the config file `{}`: {source}", path.display())]
    #[diagnostic(
        code(io::config_read),
        help("check the path, or pass another with `-c FILE` (`-c -` reads standard input)")
    )]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the config file `{}` is not valid UTF-8 text", path.display())]
    #[diagnostic(code(io::config_encoding), help("save the file as UTF-8"))]
    ConfigEncoding { path: PathBuf },

    #[error("`{file}` has {}; nothing was done", crate::render::text::count(*errors, "error"))]
    #[diagnostic(
        code(config::invalid),
        help("fix the errors shown above; `saleshandy-webhooks validate -c {file}` checks the file alone")
    )]
    ConfigInvalid { file: String, errors: usize },

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(Box<crate::state::StateError>),

    #[error("no API key: SALESHANDY_API_KEY is not set")]
    #[diagnostic(
        code(api::no_key),
        help("export SALESHANDY_API_KEY (Saleshandy → Settings → API), or pass --api-key-file PATH; to try the tool without an account, use `apply --sandbox`")
    )]
    MissingApiKey,

    #[error("cannot read the API key file `{}`: {source}", path.display())]
    #[diagnostic(code(api::key_file), help("check the path given to --api-key-file"))]
    ApiKeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the state `{state}` belongs to {recorded}, but this run targets {current}")]
    #[diagnostic(
        code(state::endpoint_mismatch),
        help("a state made against the sandbox can never be used against the real API, or the reverse: use the state file for {current} (--state FILE), or run against {recorded}")
    )]
    EndpointMismatch {
        state: String,
        recorded: String,
        current: String,
    },

    #[error("apply needs approval, and there is no terminal to ask on")]
    #[diagnostic(
        code(apply::not_approved),
        help("review the plan above, then re-run with --auto-approve (as a CI job on merge does); nothing was sent")
    )]
    NotApproved,

    #[error(transparent)]
    #[diagnostic(transparent)]
    Api(#[from] crate::api::ApiError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] crate::store::LockError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    TimeScale(#[from] crate::clock::ScaleError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Signals(#[from] crate::interrupt::InstallError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(Box<crate::store::JournalError>),

    #[error("there is no webhook named `{name}` in the state `{state}`")]
    #[diagnostic(code(state::no_such_webhook))]
    NoSuchWebhook {
        name: String,
        state: String,
        #[help]
        help: String,
    },

    #[error("`{name}` is already recorded with id {recorded}, not {id}")]
    #[diagnostic(
        code(state::already_recorded),
        help("if {id} is the right webhook, run `saleshandy-webhooks state rm \"{name}\"` first, then import it")
    )]
    AlreadyRecorded {
        name: String,
        recorded: String,
        id: String,
    },

    #[error("`{name}` is already in the state `{state}`")]
    #[diagnostic(
        code(state::name_taken),
        help("one name holds one webhook; if the entry `{name}` is wrong, run `saleshandy-webhooks state rm \"{name}\"` first, or pick another name; the state was not changed")
    )]
    NameTaken { name: String, state: String },

    #[error("the id {id} is already recorded, as `{name}`")]
    #[diagnostic(
        code(state::id_taken),
        help("one webhook can be recorded under one name only; if `{name}` is wrong, run `saleshandy-webhooks state rm \"{name}\"` first")
    )]
    IdTaken { id: String, name: String },

    #[error("Saleshandy has no webhook with id {id} for this API key")]
    #[diagnostic(
        code(state::import_not_found),
        help("check the id in Saleshandy (Settings → Integrations → Webhooks) and that SALESHANDY_API_KEY is the key of that account; the state was not changed")
    )]
    ImportNotFound { id: String },

    #[error("could not read webhook {id} from the API: {reason}")]
    #[diagnostic(
        code(state::import_failed),
        help("try again; the state was not changed")
    )]
    ImportFailed { id: String, reason: String },

    #[error("the sandbox cannot listen on 127.0.0.1:{port}: {io}")]
    #[diagnostic(code(sandbox::listen))]
    SandboxListen {
        port: u16,
        io: std::io::Error,
        #[help]
        help: String,
    },

    #[error(transparent)]
    #[diagnostic(
        code(sandbox::data),
        help("the file was left as it is: pass another file, or move this one away to start an empty sandbox")
    )]
    SandboxData(Box<crate::emulator::DataError>),

    #[error("the sandbox file `{}` is in use by another {by}", path.display())]
    #[diagnostic(code(sandbox::in_use))]
    SandboxInUse {
        path: PathBuf,
        by: &'static str,
        #[help]
        help: String,
    },

    #[error("there is no sandbox file `{}`", path.display())]
    #[diagnostic(
        code(sandbox::missing),
        help("`apply --sandbox` keeps its sandbox's webhooks in the file beside its state, and `sandbox --data FILE` in FILE; check the path (nothing was created), or point the command at a running sandbox (--api-url, --sandbox-url)")
    )]
    SandboxMissing { path: PathBuf },

    #[error("cannot reach the sandbox at {url}: {reason}")]
    #[diagnostic(code(sandbox::unreachable))]
    SandboxUnreachable {
        url: String,
        reason: String,
        #[help]
        help: String,
    },

    #[error("the sandbox refused: {message}")]
    #[diagnostic(code(sandbox::refused))]
    SandboxRefused {
        message: String,
        #[help]
        help: String,
    },

    #[error("`{url}` is not a sandbox address: {reason}")]
    #[diagnostic(
        code(sandbox::not_local),
        help("the sandbox's own commands work only on a sandbox on this machine, e.g. --sandbox-url http://127.0.0.1:8080; they can never reach Saleshandy")
    )]
    SandboxNotLocal { url: String, reason: &'static str },

    #[error("cannot start: {0}")]
    #[diagnostic(
        code(io::runtime),
        help("the process could not start its network runtime or bind a loopback port; check the system's limits on threads and open files, then run again")
    )]
    Runtime(#[source] std::io::Error),

    #[error("cannot write the plan file `{}`: {source}", path.display())]
    #[diagnostic(
        code(saved_plan::write),
        help("check that the directory exists and is writable")
    )]
    WritePlan {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read the plan file `{}`: {reason}", path.display())]
    #[diagnostic(
        code(saved_plan::read),
        help("pass a file written by `saleshandy-webhooks plan --out FILE`")
    )]
    ReadPlan { path: PathBuf, reason: String },

    #[error("the plan file `{}` holds no entries to show: an earlier version saved it", path.display())]
    #[diagnostic(
        code(saved_plan::no_entries),
        help("`apply` still applies it; to see it, make it again with `plan --out FILE`")
    )]
    PlanWithoutEntries { path: PathBuf },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Stale(#[from] crate::saved_plan::Stale),

    #[error("this plan would create {}, more than --max-creates {max}", crate::render::text::count(*creates, "webhook"))]
    #[diagnostic(
        code(apply::max_creates),
        help("creates cannot be undone through the API. Check the plan; if it is right, raise --max-creates to at least {creates} (or split the change); nothing was sent")
    )]
    TooManyCreates { creates: usize, max: usize },

    #[error("the API refused the key while reading webhooks (HTTP {status}: {message})")]
    #[diagnostic(
        code(status::unauthorized),
        help("check SALESHANDY_API_KEY (or --api-key-file): it must be the key of the account that holds these webhooks (Saleshandy → Settings → API); nothing was written")
    )]
    StatusRefused { status: u16, message: String },

    #[error("the directory `{}` holds no config file (*.yaml, *.yml)", path.display())]
    #[diagnostic(
        code(config::empty_dir),
        help("pass config files, or a directory that holds them, with -c")
    )]
    EmptyConfigDir { path: PathBuf },

    #[error("{what} works with one config, and this run has several")]
    #[diagnostic(
        code(config::many_configs),
        help("run it once per config (-c FILE); each config has its own state beside it")
    )]
    ManyConfigs { what: &'static str },

    #[error("`{to}` already holds a state: `state push` only copies to a location where nothing exists yet")]
    #[diagnostic(
        code(state::push_exists),
        help("nothing was changed. Compare the two with `saleshandy-webhooks state pull --state {to}`; to use the one there, point the config's `state:` at it")
    )]
    PushExists { to: String },

    #[error("`{given}` is not a state location: {reason}")]
    #[diagnostic(code(state::push_to), help("pass `s3://BUCKET/KEY` (or a file path)"))]
    PushTo { given: String, reason: String },

    #[error("the API URL `{url}` (shown without it) has {part}, which would be stored in the state and printed")]
    #[diagnostic(
        code(api::url_parts),
        help("pass the bare base URL (`--api-url` or SALESHANDY_API_URL), such as https://open-api.saleshandy.com; the API key goes in SALESHANDY_API_KEY or --api-key-file, never in the URL")
    )]
    ApiUrlParts { url: String, part: &'static str },

    #[error("`--state {given}` is not a state location: {reason}")]
    #[diagnostic(
        code(cli::state),
        help("pass a file (`--state prod.state.json`) or an object (`--state s3://BUCKET/KEY`)")
    )]
    StateLocation { given: String, reason: String },

    #[error("`{first}` and `{second}` would share the state `{state}`")]
    #[diagnostic(
        code(config::shared_state),
        help("each config is one account with a state of its own (`<config stem>.state.json` beside it): rename one of them, or leave the duplicate out of this run; nothing was done")
    )]
    SharedState {
        first: String,
        second: String,
        state: String,
    },

    #[error("no API key: `{var}` (named by `apiKeyEnv` in `{config}`) is not set")]
    #[diagnostic(
        code(api::no_account_key),
        help("export {var} with this account's key (Saleshandy → Settings → API), or remove `apiKeyEnv` to use SALESHANDY_API_KEY")
    )]
    MissingAccountKey { var: String, config: String },

    #[error("cannot write to standard output: {0}")]
    #[diagnostic(
        code(io::stdout),
        help("the output stream was closed (e.g. a pipe whose reader exited); run again with the output going somewhere that stays open")
    )]
    Stdout(#[source] std::io::Error),
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Self {
        Error::State(Box::new(e))
    }
}

impl From<crate::store::JournalError> for Error {
    fn from(e: crate::store::JournalError) -> Self {
        Error::Journal(Box::new(e))
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::State(e) => Error::State(e),
            crate::store::StoreError::Journal(e) => Error::Journal(e),
            crate::store::StoreError::Lock(e) => Error::Lock(e),
        }
    }
}
