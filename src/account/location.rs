//! Where an account's state lives, and opening it (with the journal of an interrupted apply
//! replayed, and the lock taken first when asked).

use std::path::{Path, PathBuf};

use crate::cli::StateArgs;
use crate::error::Error;
use crate::store::{Address, Locking};

/// The state of one account: `--state`, else the config's `state:`, else
/// `<config stem>.state.json` beside its config. This is the one place that resolves it.
#[derive(Debug, Clone)]
pub(crate) struct StateFile {
    address: Address,
}

impl StateFile {
    /// The state of the config at `config` (which names `configured`, if anything), as `args`
    /// name it.
    pub(crate) fn of(
        config: &Path,
        args: &StateArgs,
        configured: Option<&Address>,
    ) -> Result<StateFile, Error> {
        let address = match (&args.state, configured) {
            (Some(given), _) => Address::parse(given, None).map_err(|e| Error::StateLocation {
                given: crate::terminal_text::printable_line(given),
                reason: e.0,
            })?,
            (None, Some(configured)) => configured.clone(),
            (None, None) => Address::Local(crate::state::default_path(config)),
        };
        Ok(StateFile { address })
    }

    /// The state of the config at `config` for a command that reads nothing else of it: the
    /// config is read for its `state:` only when `--state` is not given.
    pub(crate) fn of_config_file(config: &Path, args: &StateArgs) -> Result<StateFile, Error> {
        let configured = match &args.state {
            Some(_) => None,
            None => super::configured_state(config)?,
        };
        StateFile::of(config, args, configured.as_ref())
    }

    /// The file `--sandbox` runs keep their sandbox in: beside a local state
    /// (`prod.state.json` → `prod.sandbox.json`); beside the config for a remote one, where a
    /// local state would be. It is always local.
    pub(crate) fn sandbox_file(&self, config: &Path) -> PathBuf {
        let state = match &self.address {
            Address::Local(path) => path.clone(),
            _ => crate::state::default_path(config),
        };
        let name = state
            .file_name()
            .map_or_else(|| "webhooks".into(), |n| n.to_string_lossy().into_owned());
        let stem = name.strip_suffix(".state.json").unwrap_or(&name);
        state.with_file_name(format!("{stem}.sandbox.json"))
    }

    /// The location as messages show it.
    pub(crate) fn name(&self) -> String {
        self.address.to_string()
    }

    /// What this names, so that two names of one state compare equal: a local file as the
    /// file system sees it (`clients/./acme.state.json` and `clients/acme.state.json` are one;
    /// the directory is resolved, the file itself need not exist yet), an object as its URL.
    pub(crate) fn identity(&self) -> PathBuf {
        let path = match &self.address {
            Address::Local(path) => path,
            other => return PathBuf::from(other.to_string()),
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        match (dir.canonicalize(), path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
        }
    }

    /// Opens the state: locked first with `locking`, and with an interrupted apply's journal
    /// replayed (and, when locked, folded into the saved state).
    pub(crate) fn open(&self, locking: Option<Locking>) -> Result<crate::store::Opened, Error> {
        let opened = crate::store::open(&self.address, locking)?;
        if let Some(by) = &opened.in_progress {
            eprintln!(
                "Note: an apply by {by} is in progress on {}: its creates in flight read as `unknown` until it records their answers.",
                self.name()
            );
        } else if opened.replayed {
            eprintln!(
                "Note: an earlier apply on {} was interrupted; its journal was replayed (requests whose answer was not recorded are `unknown`).",
                self.name()
            );
        }
        Ok(opened)
    }
}
