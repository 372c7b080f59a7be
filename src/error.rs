//! Errors that end a command, each with a code and what to do next.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum Error {
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

    #[error("`{file}` has {errors} error(s); nothing was done")]
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

    #[error("cannot start: {0}")]
    #[diagnostic(code(io::runtime))]
    Runtime(#[source] std::io::Error),

    #[error("cannot write to standard output: {0}")]
    #[diagnostic(code(io::stdout))]
    Stdout(#[source] std::io::Error),
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Self {
        Error::State(Box::new(e))
    }
}
