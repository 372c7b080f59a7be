//! Why a state file could not be used, located in the file where possible.

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use super::STATE_VERSION;

/// Byte offset of a 1-based line and column as serde_json reports them.
pub(super) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = text[line_start..].split('\n').next().unwrap_or("");
    let col_bytes: usize = line_text
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (line_start + col_bytes).min(text.len())
}

/// A state file whose text is not a valid state, with the place where reading stopped.
#[derive(Debug, Error, Diagnostic)]
#[error("the state file `{path}` is not a valid state: {message}")]
#[diagnostic(
    code(state::parse),
    help("restore it from version control (e.g. `git checkout -- {path}`) or fix it by hand; it has not been changed, and nothing will write it until it parses")
)]
pub struct ParseError {
    pub path: String,
    pub message: String,
    #[source_code]
    pub(super) src: NamedSource<String>,
    #[label("here")]
    pub(super) at: SourceSpan,
}

/// Why a state file could not be used. The file is never overwritten in any of these cases.
#[derive(Debug, Error, Diagnostic)]
pub enum StateError {
    #[error("cannot read the state file `{path}`: {source}")]
    #[diagnostic(
        code(state::read),
        help("check the path and its permissions, or pass another with `--state FILE`")
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write the state file `{path}`: {source}")]
    #[diagnostic(
        code(state::write),
        help("check that its directory exists and is writable; the previous state file, if any, is intact")
    )]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the state file `{path}` is not valid UTF-8")]
    #[diagnostic(
        code(state::encoding),
        help("restore it from version control (e.g. `git checkout -- {path}`); it has not been changed")
    )]
    Encoding { path: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Parse(Box<ParseError>),

    #[error("the state file `{path}` is not a valid state: {reason}")]
    #[diagnostic(
        code(state::invalid),
        help("restore it from version control (e.g. `git checkout -- {path}`) or fix it by hand; it has not been changed")
    )]
    Invalid { path: String, reason: String },

    #[error("the state file `{path}` has format version {found}, newer than this build reads ({STATE_VERSION})")]
    #[diagnostic(
        code(state::newer_version),
        help("it was written by a newer saleshandy-webhooks: upgrade this one (`cargo install --path .` from an up-to-date checkout); the file has not been changed")
    )]
    NewerVersion { path: String, found: u32 },
}
