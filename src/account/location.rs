//! Where an account's state lives, and reading it (with the journal of an interrupted apply
//! replayed, and the lock taken first when asked).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::StateArgs;
use crate::error::Error;
use crate::lock::Lock;
use crate::state::State;

/// The state file of one account: `--state FILE`, or `<config stem>.state.json` beside its
/// config. This is the one place that resolves it.
#[derive(Debug, Clone)]
pub(crate) struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state of the config at `config`, as `args` name it.
    pub(crate) fn of(config: &Path, args: &StateArgs) -> StateFile {
        StateFile {
            path: args
                .state
                .clone()
                .unwrap_or_else(|| crate::state::default_path(config)),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path as messages show it.
    pub(crate) fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The file this names as the file system sees it, so that `clients/./acme.state.json`
    /// and `clients/acme.state.json` are one state: the directory is resolved (links, `..`),
    /// the file itself need not exist yet.
    pub(crate) fn identity(&self) -> PathBuf {
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        match (dir.canonicalize(), self.path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone()),
        }
    }

    /// Reads the state (see [`load_state`]): the state, whether its file existed, and the
    /// lock when `lock_timeout` asked for one.
    pub(crate) fn read(
        &self,
        lock_timeout: Option<Duration>,
    ) -> Result<(State, bool, Option<Lock>), Error> {
        load_state(&self.path, lock_timeout)
    }
}

/// Reads the state, replaying the journal of an interrupted apply if one was left. With a
/// `lock_timeout` the state is locked first, and a replayed journal is folded into the file.
pub(super) fn load_state(
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
