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

    #[error("cannot write to standard output: {0}")]
    #[diagnostic(code(io::stdout))]
    Stdout(#[source] std::io::Error),
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Self {
        Error::State(Box::new(e))
    }
}
