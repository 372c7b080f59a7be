//! Text from a file or a server made safe to print on a terminal: a control character (an
//! escape, a backspace, a bell, …) could move the cursor, recolour or clear the screen, so each
//! is replaced by a visible `?` before the text is printed. Every printer of such text uses
//! this module, so that the rule is the same everywhere.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, SourceCode};

/// Whether `c` must not reach a terminal in text of several lines: a control character other
/// than tab and the line ends.
fn is_unsafe(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether [`printable`] would change `s`.
pub(crate) fn needs_cleaning(s: &str) -> bool {
    s.chars().any(is_unsafe)
}

/// Text of one or more lines with each control character but tab and the line ends shown as
/// `?`.
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if is_unsafe(c) { '?' } else { c })
        .collect()
}

/// Text printed inside one line (a name, a server's message): every control character, line
/// ends and tab included, shown as `?`, so that it cannot break the line it is part of either.
pub(crate) fn printable_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Like [`printable`], with each replacement as long in UTF-8 as what it replaces (`?` for a
/// one-byte character, `¿` for a two-byte one), so that byte offsets into `s` stay valid.
pub(crate) fn printable_same_length(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if !is_unsafe(c) => c,
            c if c.len_utf8() == 1 => '?',
            _ => '¿',
        })
        .collect()
}

/// A diagnostic whose message, help and labels are shown [`printable`], with the source code
/// given (if any) in place of its own. Code, severity, URL and the causes (`source()`) are the
/// inner diagnostic's, as they are.
pub(crate) struct Printable<'a> {
    inner: &'a dyn Diagnostic,
    source: Option<&'a dyn SourceCode>,
}

impl<'a> Printable<'a> {
    pub(crate) fn new(inner: &'a dyn Diagnostic) -> Self {
        Printable {
            inner,
            source: None,
        }
    }

    /// The same diagnostic, drawn against `source` (a file it is about).
    pub(crate) fn with_source(mut self, source: &'a dyn SourceCode) -> Self {
        self.source = Some(source);
        self
    }
}

impl fmt::Debug for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printable(&self.inner.to_string()))
    }
}

impl std::error::Error for Printable<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for Printable<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.url()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let help = self.inner.help()?;
        Some(Box::new(printable(&help.to_string())))
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.inner.labels()?;
        Some(Box::new(labels.map(|l| {
            let text = l.label().map(printable);
            if l.primary() {
                LabeledSpan::new_primary_with_span(text, *l.inner())
            } else {
                LabeledSpan::new_with_span(text, *l.inner())
            }
        })))
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.or_else(|| self.inner.source_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_question_marks() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a?[2Jb");
        assert_eq!(printable("bell\u{7}back\u{8}del\u{7f}"), "bell?back?del?");
        assert_eq!(printable("c1\u{9b}31m"), "c1?31m");
        assert_eq!(printable("plain text, é€ 😀"), "plain text, é€ 😀");
    }

    #[test]
    fn text_of_several_lines_keeps_tab_and_line_ends() {
        assert_eq!(printable("a\tb\nc\r\nd"), "a\tb\nc\r\nd");
        assert!(!needs_cleaning("a\tb\nc\r\nd"));
        assert!(needs_cleaning("a\u{1b}b"));
        assert!(needs_cleaning("\u{0}"));
    }

    #[test]
    fn text_inside_one_line_loses_them_too() {
        assert_eq!(printable_line("a\tb\nc\rd\u{1b}[0m"), "a?b?c?d?[0m");
        assert_eq!(printable_line("Email Sent"), "Email Sent");
    }

    #[test]
    fn same_length_replacements_keep_every_offset() {
        let s = "a\u{1b}b\u{85}c\n\td\u{9b}";
        let shown = printable_same_length(s);
        assert_eq!(shown, "a?b¿c\n\td¿");
        assert_eq!(shown.len(), s.len());
        let starts = |t: &str| t.char_indices().map(|(i, _)| i).collect::<Vec<_>>();
        assert_eq!(starts(&shown), starts(s));
    }

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("server said \u{1b}[2J{0}")]
    #[diagnostic(code(test::code), help("help \u{1b}[31m{0}"))]
    struct FromServer(String, #[label("here \u{7}")] miette::SourceSpan);

    #[test]
    fn a_printable_diagnostic_shows_no_control_character() {
        let inner = FromServer("x\u{1b}y".into(), (0, 1).into());
        let shown = Printable::new(&inner);
        assert_eq!(shown.to_string(), "server said ?[2Jx?y");
        assert_eq!(
            shown.help().map(|h| h.to_string()).as_deref(),
            Some("help ?[31mx?y")
        );
        assert_eq!(
            shown.code().map(|c| c.to_string()).as_deref(),
            Some("test::code")
        );
        let labels: Vec<_> = shown.labels().into_iter().flatten().collect();
        assert_eq!(labels[0].label(), Some("here ?"));
        let drawn = crate::diagnostic::draw(&shown, false).expect("drawn");
        assert!(
            !drawn.contains('\u{1b}') && !drawn.contains('\u{7}'),
            "{drawn}"
        );
        assert!(drawn.contains("server said ?[2Jx?y"), "{drawn}");
    }
}
