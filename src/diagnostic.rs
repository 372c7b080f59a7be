//! How an error or a problem is drawn for a person: the crate's one miette handler, so that
//! every diagnostic has the same theme and width.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

use crate::error::Error;
use crate::terminal_text::{printable, Printable};
use crate::ui::Ui;

/// Draws `d` with its code, help, labels and any source snippet; `color` picks the themed or
/// plain drawing. Fails only if formatting into a string fails.
pub(crate) fn draw(d: &dyn Diagnostic, color: bool) -> Result<String, std::fmt::Error> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .render_report(&mut out, d)?;
    Ok(out)
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
