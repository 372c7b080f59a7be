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

/// A state file that a merge left with both sides in it, between conflict markers.
#[derive(Debug, Error, Diagnostic)]
#[error("the state file `{path}` holds an unresolved merge conflict (line {line}): both sides of a merge are in it")]
#[diagnostic(
    code(state::merge_conflict),
    help("every entry on either side holds the id of a webhook that exists in Saleshandy, so keep both sides: delete only the marker lines (`<<<<<<<`, `=======`, `>>>>>>>`) and the duplicated lines around them, keep the higher `serial`, and check the result with `saleshandy-webhooks state list`. Taking one side's file whole forgets the other side's ids, and the next apply creates those webhooks again. The file has not been changed")
)]
pub struct MergeConflict {
    pub path: String,
    /// The first marker's line, 1-based.
    pub line: usize,
    #[source_code]
    pub(super) src: NamedSource<String>,
    #[label("the conflict starts here")]
    pub(super) at: SourceSpan,
}

impl MergeConflict {
    /// The conflict in `text`, if a line starts with git's `<<<<<<<` marker.
    pub(super) fn find(text: &str, name: &str) -> Option<MergeConflict> {
        let mut offset = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let bare = line.trim_end_matches(['\n', '\r']);
            if bare == "<<<<<<<" || bare.starts_with("<<<<<<< ") {
                return Some(MergeConflict {
                    path: name.to_string(),
                    line: i + 1,
                    src: NamedSource::new(name, text.to_string()).with_language("json"),
                    at: (offset, bare.len()).into(),
                });
            }
            offset += line.len();
        }
        None
    }
}

/// A state file that names one key twice in one object: serde would keep the last value and
/// silently drop the other (for `webhooks`, a recorded id).
#[derive(Debug, Error, Diagnostic)]
#[error("the state file `{path}` has the key `{key}` twice in one object (line {line}, column {column}): one of its values would be silently lost")]
#[diagnostic(
    code(state::duplicate_key),
    help("a state names each webhook, and each field of an entry, once: keep the entry whose id is the webhook's in Saleshandy (Settings → Integrations → Webhooks) and delete the other, or restore the file from version control; it has not been changed")
)]
pub struct DuplicateKey {
    pub path: String,
    pub key: String,
    /// Where the repeated key starts, 1-based as editors count.
    pub line: usize,
    pub column: usize,
    #[source_code]
    pub(super) src: NamedSource<String>,
    #[label("again here")]
    pub(super) at: SourceSpan,
}

impl DuplicateKey {
    /// The duplicate that `e` reports, if it is one: serde stops at the repeated key's closing
    /// quote (`offset`), so the key is the JSON string that ends there.
    pub(super) fn find(
        e: &serde_json::Error,
        text: &str,
        offset: usize,
        name: &str,
    ) -> Option<DuplicateKey> {
        let message = e.to_string();
        if !(message.starts_with(super::unique_keys::DUPLICATE)
            || message.starts_with("duplicate field `"))
        {
            return None;
        }
        // serde_json's column is that of the key's closing quote.
        let bytes = text.as_bytes();
        let after = offset + usize::from(bytes.get(offset) == Some(&b'"'));
        let (start, end) = string_before(bytes, after)?;
        let key: String = serde_json::from_str(&text[start..end]).ok()?;
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some(DuplicateKey {
            path: name.to_string(),
            key,
            line,
            column,
            src: NamedSource::new(name, text.to_string()).with_language("json"),
            at: (start, end - start).into(),
        })
    }
}

/// The byte range of the JSON string that ends at or just before `end` (skipping blanks and a
/// colon), quotes included.
fn string_before(text: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut close = end.min(text.len());
    while close > 0 && (text[close - 1].is_ascii_whitespace() || text[close - 1] == b':') {
        close -= 1;
    }
    if close == 0 || text[close - 1] != b'"' {
        return None;
    }
    let mut i = close - 1;
    while i > 0 {
        i -= 1;
        if text[i] == b'"' {
            let backslashes = text[..i].iter().rev().take_while(|b| **b == b'\\').count();
            if backslashes % 2 == 0 {
                return Some((i, close));
            }
        }
    }
    None
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

    #[error(transparent)]
    #[diagnostic(transparent)]
    DuplicateKey(Box<DuplicateKey>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    MergeConflict(Box<MergeConflict>),

    #[error("the state file `{path}` is {kind}, not a regular file")]
    #[diagnostic(
        code(state::not_regular_file),
        help("a state is a regular file (a symbolic link to one is followed): pass the path of one with `--state FILE`, or move this one out of the way; nothing was read from it or written to it")
    )]
    NotRegular { path: String, kind: &'static str },

    #[error("the state file `{path}` has {links} hard links: each path to it would get its own lock and journal, so runs through different paths could each create every webhook")]
    #[diagnostic(
        code(state::hard_links),
        help("keep one path to the file: find the others with `find / -xdev -samefile {path}`, then remove each or replace it with a symbolic link (`ln -sf`), which is followed to the one file; nothing was read or written")
    )]
    HardLinks { path: String, links: u64 },

    #[error("the state file `{path}` changed since this run read it")]
    #[diagnostic(
        code(state::conflict),
        help("something wrote it without holding its lock (another tool, or an edit by hand); nothing was written: run the command again, which starts from what the file holds now and replays any journal this run left")
    )]
    Conflict { path: String },

    #[error("the state file `{path}` was about to be written without its lock")]
    #[diagnostic(
        code(state::not_locked),
        help("this is a bug in saleshandy-webhooks: nothing was written; please report it with the command you ran")
    )]
    NotLocked { path: String },

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

    #[error(transparent)]
    #[diagnostic(transparent)]
    Remote(Box<crate::store::remote::RemoteError>),
}

impl StateError {
    /// Whether the same save may succeed if tried again: the disk refused the write (full,
    /// or any other I/O error) or the store could not be reached. A conflict, a lost lock or
    /// a write whose fate is unknown is final.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            StateError::Write { .. } => true,
            StateError::Remote(e) => e.is_unreachable(),
            _ => false,
        }
    }
}
