//! One module per command: each reads its inputs, calls the pure logic, and prints.

pub mod apply;
pub mod plan;
pub mod sandbox;
pub mod validate;

use std::io::{IsTerminal, Read};
use std::path::Path;

use std::path::PathBuf;

use crate::cli::{ConfigArgs, StateArgs};
use crate::config::{self, Config};
use crate::error::Error;
use crate::report::{self, SourceFile};
use crate::state::{self, State};

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

/// A valid config and its state, ready to plan.
pub struct Inputs {
    pub file: SourceFile,
    pub config: Config,
    pub state: State,
    pub state_path: PathBuf,
    /// Whether the state file existed (a first run has none).
    pub state_exists: bool,
}

/// Loads the config (printing its warnings, or its errors and failing) and the state.
pub fn load_inputs(
    config_args: &ConfigArgs,
    state_args: &StateArgs,
    ui: Ui,
) -> Result<Inputs, Error> {
    let file = read_source(&config_args.config)?;
    let loaded = config::load(file.text(), &config::process_env);
    for p in &loaded.problems {
        eprintln!("{}", report::human(p, &file, ui.color_stderr));
    }
    let errors = loaded.errors();
    let config = loaded.config.ok_or_else(|| Error::ConfigInvalid {
        file: file.name().to_string(),
        errors,
    })?;
    let state_path = state_args
        .state
        .clone()
        .unwrap_or_else(|| state::default_path(&config_args.config));
    let found = State::load(&state_path)?;
    let state_exists = found.is_some();
    Ok(Inputs {
        file,
        config,
        state: found.unwrap_or_default(),
        state_path,
        state_exists,
    })
}
