//! One module per command: each reads its inputs, calls the pure logic, and prints.

pub mod apply;
pub mod completions;
pub mod inspect;
pub mod plan;
pub mod sandbox;
pub mod state;
pub mod status;
pub mod validate;

use std::io::{IsTerminal, Read};
use std::path::Path;

use std::path::PathBuf;

use crate::cli::StateArgs;
use crate::config::{self, Config};
use crate::error::Error;
use crate::report::{self, SourceFile};
use crate::state::State;

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

impl crate::cli::ConfigsArgs {
    /// The config files: each file as given, each directory's `*.yaml` / `*.yml` files sorted.
    pub fn files(&self) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        for path in &self.configs {
            if !path.is_dir() {
                files.push(path.clone());
                continue;
            }
            let read = |source| Error::ReadConfig {
                path: path.clone(),
                source,
            };
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(read)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            if found.is_empty() {
                return Err(Error::EmptyConfigDir { path: path.clone() });
            }
            found.sort();
            files.extend(found);
        }
        Ok(files)
    }

    /// The one config of a command that takes a single account.
    pub fn single(&self, what: &'static str) -> Result<PathBuf, Error> {
        match self.files()?.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(Error::ManyConfigs { what }),
        }
    }
}

/// Runs `one` for each account, for commands over several configs. With one config the error
/// is returned as is; with several, each account's error is printed and the others go on.
/// The worst outcome wins.
pub fn for_each_account(
    files: &[PathBuf],
    ui: Ui,
    mut one: impl FnMut(&Path) -> Result<Outcome, Error>,
) -> Result<Outcome, Error> {
    if let [only] = files {
        return one(only);
    }
    let mut worst = Outcome::Success;
    let mut failed = 0;
    for file in files {
        let outcome = one(file).unwrap_or_else(|e| {
            eprintln!("{}: {}", file.display(), crate::app::render_error(&e, ui));
            Outcome::Failure
        });
        if outcome == Outcome::Failure {
            failed += 1;
        }
        worst = worse(worst, outcome);
    }
    eprintln!(
        "{} accounts: {} ok, {failed} failed.",
        files.len(),
        files.len() - failed
    );
    Ok(worst)
}

/// The outcome that matters more: a failure over changes over success.
pub fn worse(a: Outcome, b: Outcome) -> Outcome {
    match (a, b) {
        (Outcome::Failure, _) | (_, Outcome::Failure) => Outcome::Failure,
        (Outcome::Changes, _) | (_, Outcome::Changes) => Outcome::Changes,
        _ => Outcome::Success,
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
    /// The state's lock, for commands that write it.
    pub lock: Option<crate::lock::Lock>,
}

/// Loads the config (printing its warnings, or its errors and failing) and the state. With a
/// `lock_timeout` the state is locked (waiting up to that long) before it is read.
pub fn load_inputs(
    config_path: &Path,
    state_args: &StateArgs,
    ui: Ui,
    lock_timeout: Option<std::time::Duration>,
) -> Result<Inputs, Error> {
    let file = read_source(config_path)?;
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
        .unwrap_or_else(|| crate::state::default_path(config_path));
    let (state, state_exists, lock) = load_state(&state_path, lock_timeout)?;
    Ok(Inputs {
        file,
        config,
        state,
        state_path,
        state_exists,
        lock,
    })
}

/// Reads the state, replaying the journal of an interrupted apply if one was left. With a
/// `lock_timeout` the state is locked first, and a replayed journal is folded into the file.
pub fn load_state(
    path: &Path,
    lock_timeout: Option<std::time::Duration>,
) -> Result<(State, bool, Option<crate::lock::Lock>), Error> {
    let opened = crate::store::open(path, lock_timeout)?;
    if opened.replayed {
        eprintln!(
            "Note: an earlier apply on {} was interrupted; its journal was replayed (requests whose answer was not recorded are `unknown`).",
            path.display()
        );
    }
    Ok((opened.state, opened.exists, opened.lock))
}
