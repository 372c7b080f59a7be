//! One module per command: each reads its inputs, calls the pure logic, and prints.

pub mod validate;

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::error::Error;
use crate::report::SourceFile;

/// What a command tells `main` to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran and found a failure it already reported.
    Failure,
    /// Exit 2: changes are present (only with `--detailed-exitcode`).
    Changes,
}

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

/// Reads the config file, or standard input for `-`.
pub fn read_source(path: &Path) -> Result<SourceFile, Error> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|source| Error::ReadConfig {
                path: path.to_path_buf(),
                source,
            })?;
        buf
    } else {
        std::fs::read(path).map_err(|source| Error::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::ConfigEncoding {
        path: path.to_path_buf(),
    })?;
    let name = if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    Ok(SourceFile::new(name, text))
}
