//! How an error or a problem is drawn for a person: the crate's one miette handler, so that
//! every diagnostic has the same theme and width.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

use crate::error::Error;
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

/// An error that ends a command, as standard error shows it.
pub fn render_error(e: &Error, ui: Ui) -> String {
    draw(e, ui.color_stderr).unwrap_or_else(|_| format!("error: {e}\n"))
}
