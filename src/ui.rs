//! How a run may print: colour on each stream, decided once at start.

use std::io::IsTerminal;

/// Output settings shared by all commands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    /// Colour on standard error.
    pub color_stderr: bool,
    /// Colour on standard output.
    pub color_stdout: bool,
}

impl Ui {
    /// Colour only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`.
    pub(crate) fn detect(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ui {
            color_stderr: allowed && std::io::stderr().is_terminal(),
            color_stdout: allowed && std::io::stdout().is_terminal(),
        }
    }
}

/// Writes `text` to standard output and flushes it: a closed stream (a pipe whose reader
/// exited) is an error, never a panic.
pub(crate) fn print(text: &str) -> Result<(), crate::error::Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(crate::error::Error::Stdout)
}
