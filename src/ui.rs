//! How a run may print: colour on each stream, decided once at start.

use std::io::IsTerminal;

/// Output settings shared by all commands.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Colour on standard error.
    pub color_stderr: bool,
    /// Colour on standard output.
    pub color_stdout: bool,
}

impl Ui {
    /// Colour only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`.
    pub fn detect(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ui {
            color_stderr: allowed && std::io::stderr().is_terminal(),
            color_stdout: allowed && std::io::stdout().is_terminal(),
        }
    }
}
