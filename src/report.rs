//! Shows problems found in a file: human (miette graphics), JSON, or GitHub Actions commands.

use std::fmt::Write as _;
use std::sync::Arc;

use miette::{Diagnostic, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::Serialize;

use crate::terminal_text::{needs_cleaning, printable, printable_same_length, Printable};

/// A file's text with its display name and a line index, for locating byte offsets.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
    line_starts: Vec<usize>,
    /// The text as snippets show it, when it holds control characters: each replaced by a
    /// printable character of the same UTF-8 length, so that every offset stays valid.
    shown: Option<Arc<str>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let shown = needs_cleaning(&text).then(|| Arc::from(printable_same_length(&text)));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            shown,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn location(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }
}

/// Snippets are cut from a window of lines around the span, found with the line index, so
/// that drawing many diagnostics of a large file stays linear (miette's own `str` source scans
/// from the start of the text for every snippet). The window is then read by miette's `str`
/// source, so the snippet is exactly what miette would draw.
impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let len = self.text.len();
        let start = span.offset().min(len);
        let end = (span.offset() + span.len()).min(len);
        let line_of = |offset: usize| self.line_starts.partition_point(|&s| s <= offset).max(1) - 1;
        // One line more on each side than asked: miette's reader treats a span at the very
        // start or end of its input specially.
        let first = line_of(start).saturating_sub(before + 1);
        let last = (line_of(end) + after + 2).min(self.line_starts.len() - 1);
        let from = self.line_starts[first];
        let to = self.line_starts.get(last + 1).copied().unwrap_or(len);
        let text = self.shown.as_deref().unwrap_or(&self.text);
        let window = &text[from..to];
        let local = SourceSpan::new((start - from).into(), end - start);
        let inner = window.read_span(&local, before, after)?;
        let shifted = SourceSpan::new((inner.span().offset() + from).into(), inner.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            shifted,
            inner.line() + first,
            inner.column(),
            // miette counts the lines from the start of its input to the end of the context.
            inner.line_count() + first,
        )))
    }
}

/// How problems are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    /// Located errors with source snippets, for people.
    Human,
    /// A JSON list of {severity, code, message, file, line, column, help}.
    Json,
    /// GitHub Actions workflow commands, so errors show on the pull request.
    Github,
}

/// One problem as machine output shows it.
#[derive(Debug, Serialize, PartialEq)]
pub struct Record {
    pub severity: &'static str,
    pub code: String,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub help: Option<String>,
}

impl Record {
    pub fn new<D: Diagnostic>(d: &D, file: &SourceFile) -> Self {
        let offset = d
            .labels()
            .and_then(|mut l| l.next())
            .map_or(0, |l| l.offset());
        let (line, column) = file.location(offset);
        Record {
            severity: severity_word(d),
            code: d.code().map(|c| c.to_string()).unwrap_or_default(),
            message: printable(&d.to_string()),
            file: file.name.clone(),
            line,
            column,
            help: d.help().map(|h| printable(&h.to_string())),
        }
    }
}

fn severity_word<D: Diagnostic>(d: &D) -> &'static str {
    match d.severity() {
        Some(miette::Severity::Warning) => "warning",
        Some(miette::Severity::Advice) => "notice",
        _ => "error",
    }
}

/// Renders one diagnostic with its snippet. `color` selects the themed or plain output.
pub fn human<D: Diagnostic>(d: &D, file: &SourceFile, color: bool) -> String {
    // Drawing only fails on a formatter error; fall back to the bare message.
    let shown = Printable::new(d).with_source(file);
    crate::diagnostic::draw(&shown, color).unwrap_or_else(|_| printable(&d.to_string()))
}

/// A JSON list of records, pretty-printed, with a trailing newline.
pub(crate) fn json(records: &[Record]) -> String {
    let mut s = serde_json::to_string_pretty(records).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// One GitHub Actions workflow command, e.g. `::error file=a.yaml,line=3,col=5,title=…::…`.
pub(crate) fn github(r: &Record) -> String {
    let mut message = r.message.clone();
    if let Some(help) = &r.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    format!(
        "::{} file={},line={},col={},title={}::{}\n",
        r.severity,
        escape_property(&r.file),
        r.line,
        r.column,
        escape_property(&r.code),
        escape_data(&message)
    )
}

/// Escapes a workflow command's message.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The line that says how many problems of a file were counted but not shown, if any.
pub(crate) fn omitted(loaded: &crate::config::Loaded) -> Option<String> {
    match loaded.omitted() {
        0 => None,
        n => Some(format!(
            "{n} more problem{} not shown: only the first {} of a file are; fix these and run again.\n",
            if n == 1 { "" } else { "s" },
            crate::config::MAX_PROBLEMS
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_and_count_characters() {
        let f = SourceFile::new("x", "ab\né€x\n");
        assert_eq!(f.location(0), (1, 1));
        assert_eq!(f.location(3), (2, 1));
        assert_eq!(f.location(3 + "é€".len()), (2, 3));
    }

    #[test]
    fn windowed_snippets_equal_what_miette_reads_from_the_whole_text() {
        let text = "a: 1\nbb: 22\r\nccc: [x,\n  y]\n\nlast: é€\nend";
        let file = SourceFile::new("f.yaml", text);
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for &start in &boundaries {
            for &end in boundaries.iter().filter(|e| **e >= start).take(12) {
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let span = SourceSpan::new(start.into(), end - start);
                    let ours = file.read_span(&span, before, after).unwrap();
                    let theirs = text.read_span(&span, before, after).unwrap();
                    let key = |c: &dyn SpanContents| {
                        (
                            c.data().to_vec(),
                            c.span().offset(),
                            c.span().len(),
                            c.line(),
                            c.column(),
                            c.line_count(),
                        )
                    };
                    assert_eq!(
                        key(&*ours),
                        key(&*theirs),
                        "span {start}..{end} context {before}/{after}"
                    );
                }
            }
        }
    }

    #[test]
    fn github_commands_escape_their_fields() {
        let r = Record {
            severity: "error",
            code: "config::syntax".into(),
            message: "50% bad\nreally".into(),
            file: "a,b.yaml".into(),
            line: 3,
            column: 5,
            help: None,
        };
        assert_eq!(
            github(&r),
            "::error file=a%2Cb.yaml,line=3,col=5,title=config%3A%3Asyntax::50%25 bad%0Areally\n"
        );
    }
}
