//! How a run may print: colour on each stream, decided once at start.

use std::io::IsTerminal;

/// Output settings shared by all commands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    /// Colour on standard error.
    pub color_stderr: bool,
    /// Colour on standard output.
    pub color_stdout: bool,
    /// The columns to wrap standard output's text at; None (no wrapping) without a terminal.
    pub width_stdout: Option<usize>,
}

/// The columns to wrap standard error's diagnostics at, once [`Ui::detect`] has run.
static WIDTH_STDERR: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

impl Ui {
    /// Colour only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`; text
    /// wrapped to a terminal's width only.
    pub(crate) fn detect(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let stderr = std::io::stderr().is_terminal();
        let stdout = std::io::stdout().is_terminal();
        let _ = WIDTH_STDERR.set(terminal_width(stderr, libc::STDERR_FILENO));
        Ui {
            color_stderr: allowed && stderr,
            color_stdout: allowed && stdout,
            width_stdout: terminal_width(stdout, libc::STDOUT_FILENO),
        }
    }
}

/// The columns to wrap standard error's diagnostics at: None when it is not a terminal (or
/// before [`Ui::detect`], as in the library's own use).
pub(crate) fn width_stderr() -> Option<usize> {
    WIDTH_STDERR.get().copied().flatten()
}

/// A terminal's width: `COLUMNS` when it is set to a number, else what the terminal says;
/// None when the stream is not a terminal.
fn terminal_width(is_terminal: bool, fd: libc::c_int) -> Option<usize> {
    if !is_terminal {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0);
    let measured = || {
        // SAFETY: TIOCGWINSZ only fills the winsize it is given, for a descriptor we own.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
        (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
    };
    Some(
        columns
            .or_else(measured)
            .unwrap_or(80)
            .clamp(MIN_WIDTH, 1000),
    )
}

/// Narrower than this, wrapping would put a word or two on each line.
const MIN_WIDTH: usize = 40;

/// Writes `text` to standard output and flushes it: a closed stream (a pipe whose reader
/// exited) is an error, never a panic.
pub(crate) fn print(text: &str) -> Result<(), crate::error::Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(crate::error::Error::Stdout)
}
