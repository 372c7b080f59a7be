//! How an error or a problem is drawn for a person: the crate's one miette handler, so that
//! every diagnostic has the same theme and width.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

use crate::error::Error;
use crate::terminal_text::{printable, Printable};
use crate::ui::Ui;

/// The most of a file a snippet may show: lines around a label longer than this (a minified
/// or garbage file) are not drawn, and neither are columns miette cannot draw (past 65,535).
const MAX_SNIPPET_BYTES: usize = 4000;

/// Draws `d` with its code, help, labels and any source snippet; `color` picks the themed or
/// plain drawing. A snippet that would be too wide is left out, and the message says where
/// instead. Fails only if formatting into a string fails.
pub(crate) fn draw(d: &dyn Diagnostic, color: bool) -> Result<String, std::fmt::Error> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    // Wrapped to a terminal's width, never inside a word; not at all without a terminal.
    let handler = match crate::ui::width_stderr() {
        Some(width) => GraphicalReportHandler::new_themed(theme)
            .with_width(width)
            .with_break_words(false),
        None => GraphicalReportHandler::new_themed(theme).with_wrap_lines(false),
    };
    match too_wide(d) {
        Some((line, column)) => handler.render_report(&mut out, &Unsnipped { d, line, column })?,
        None => handler.render_report(&mut out, d)?,
    }
    Ok(out)
}

/// The 1-based line and column of `d`'s first label, if its snippet would be too wide.
fn too_wide(d: &dyn Diagnostic) -> Option<(usize, usize)> {
    let source = d.source_code()?;
    let label = d.labels()?.next()?;
    // What the snippet would show: the label's lines and one line of context each side, as
    // the handler draws them (the rest of a line after the label included).
    let shown = source.read_span(label.inner(), 1, 1).ok()?;
    let at = source.read_span(label.inner(), 0, 0).ok()?;
    let wide = shown.data().len() > MAX_SNIPPET_BYTES
        || at.column() + label.inner().len() > MAX_SNIPPET_BYTES;
    wide.then(|| (at.line() + 1, at.column() + 1))
}

/// `d` without its source snippet, its message saying where the snippet would have been.
struct Unsnipped<'a> {
    d: &'a dyn Diagnostic,
    line: usize,
    column: usize,
}

impl std::fmt::Debug for Unsnipped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.d, f)
    }
}

impl std::fmt::Display for Unsnipped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (at line {}, column {}; the line is too long to show)",
            self.d, self.line, self.column
        )
    }
}

impl std::error::Error for Unsnipped<'_> {}

impl Diagnostic for Unsnipped<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.d.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.d.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.d.help()
    }
}

/// An error that ends a command, as standard error shows it. Its message, help and labels may
/// quote a server or a file, so they are drawn [`crate::terminal_text::printable`].
pub(crate) fn render_error(e: &Error, ui: Ui) -> String {
    draw(&Printable::new(e), ui.color_stderr)
        .unwrap_or_else(|_| format!("error: {}\n", printable(&e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_quoting_a_server_is_drawn_without_its_control_characters() {
        let e = Error::ImportFailed {
            id: "abc".into(),
            reason: "HTTP 500: \u{1b}]0;owned\u{7}gone".into(),
        };
        let ui = Ui {
            color_stderr: false,
            color_stdout: false,
            width_stdout: None,
        };
        let drawn = render_error(&e, ui);
        assert!(
            !drawn.contains('\u{1b}') && !drawn.contains('\u{7}'),
            "{drawn}"
        );
        assert!(drawn.contains("HTTP 500: ?]0;owned?gone"), "{drawn}");
        assert!(drawn.contains("state::import_failed"), "{drawn}");
    }
}
