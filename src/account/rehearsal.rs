//! The sandbox a `--sandbox` run talks to: the one kept in the account's sandbox file, so that
//! `apply --sandbox`, `status --sandbox` and `state import --sandbox` see the same webhooks.
//!
//! When a `saleshandy-webhooks sandbox --data FILE` serves that file, the run talks to it (its
//! page then shows the run's creates); otherwise it starts one in-process over the file for
//! the run. The file is local only, whatever the state is kept in.

use std::path::{Path, PathBuf};

use crate::emulator::{self, DataError, Sandbox, SandboxOptions, StartError};
use crate::error::Error;

/// The sandbox of one account for the length of a run.
pub(crate) enum Rehearsal {
    /// A `sandbox` command serving the file, at this URL.
    Served { url: String, file: PathBuf },
    /// One started in-process over the file.
    Own { sandbox: Sandbox, file: PathBuf },
}

impl Rehearsal {
    /// The sandbox kept in `file`: the one serving it, else a new one in this process.
    pub(crate) async fn attach(file: &Path) -> Result<Rehearsal, Error> {
        let options = SandboxOptions {
            data: Some(file.to_path_buf()),
            ..SandboxOptions::default()
        };
        match emulator::start(options).await {
            Ok(sandbox) => Ok(Rehearsal::Own {
                sandbox,
                file: file.to_path_buf(),
            }),
            Err(StartError::Data(DataError::InUse {
                served_at: Some(url),
                ..
            })) => Ok(Rehearsal::Served {
                url,
                file: file.to_path_buf(),
            }),
            Err(StartError::Data(DataError::InUse { path, .. })) => Err(Error::SandboxInUse {
                path,
                by: "run",
                help: "another `--sandbox` run is using it: wait for it to end, then run again"
                    .to_string(),
            }),
            Err(StartError::Data(e)) => Err(Error::SandboxData(Box::new(e))),
            Err(StartError::Listen(e)) => Err(Error::Runtime(e)),
        }
    }

    /// The sandbox kept in `file`, which must exist: a run that only reads or edits what a
    /// sandbox holds (`status`, `state import`, the `sandbox` subcommands) would otherwise make
    /// an empty one, and find nothing.
    pub(crate) async fn attach_existing(file: &Path) -> Result<Rehearsal, Error> {
        if !file.exists() {
            return Err(Error::SandboxMissing {
                path: file.to_path_buf(),
            });
        }
        Rehearsal::attach(file).await
    }

    /// Its base URL.
    pub(crate) fn url(&self) -> String {
        match self {
            Rehearsal::Served { url, .. } => url.clone(),
            Rehearsal::Own { sandbox, .. } => sandbox.url(),
        }
    }

    /// Where the run's requests go, as its messages say it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Rehearsal::Served { url, file } => {
                format!("the sandbox at {url} (serving {})", file.display())
            }
            Rehearsal::Own { file, .. } => {
                format!("the embedded sandbox (kept in {})", file.display())
            }
        }
    }

    /// Ends the run's use of it: an in-process one stops, its file written.
    pub(crate) async fn finish(self) {
        if let Rehearsal::Own { sandbox, .. } = self {
            sandbox.shutdown().await;
        }
    }
}
