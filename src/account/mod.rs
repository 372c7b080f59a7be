//! One account: a config file and everything that belongs to it — the validated config, where
//! its state lives, the key it is reached with, the endpoint its state is bound to, and the
//! state's lock. Every command that works on an account opens it here.

mod location;
mod rehearsal;
mod source;

pub(crate) use location::StateFile;
pub(crate) use rehearsal::Rehearsal;
pub(crate) use source::{configured_state, read_config, read_config_with};

use std::path::{Path, PathBuf};

use crate::cli::{ApiArgs, StateArgs};
use crate::config::Config;
use crate::emulator::SANDBOX_API_KEY;
use crate::error::Error;
use crate::lock::Lock;
use crate::report::{self, SourceFile};
use crate::secret::Secret;
use crate::state::State;
use crate::store::{Locking, Store};
use crate::ui::Ui;

/// How a state names the sandbox, whatever port it ran on.
pub(crate) const SANDBOX_ENDPOINT: &str = "sandbox";

/// A config that validated, with the location of its state.
pub(crate) struct Account {
    /// The config's path as given (`-` for standard input).
    pub(crate) config_path: PathBuf,
    pub(crate) file: SourceFile,
    pub(crate) config: Config,
    pub(crate) state_file: StateFile,
}

impl Account {
    /// Reads and validates the config at `config_path`, printing each of its problems once on
    /// standard error. A config with errors is refused: nothing about the account is guessed.
    pub(crate) fn open(config_path: &Path, state: &StateArgs, ui: Ui) -> Result<Account, Error> {
        let (file, loaded) = read_config(config_path)?;
        for p in &loaded.problems {
            eprintln!("{}", report::human(p, &file, ui.color_stderr));
        }
        eprint!("{}", report::omitted(&loaded).unwrap_or_default());
        let errors = loaded.errors();
        let config = loaded.config.ok_or_else(|| Error::ConfigInvalid {
            file: file.name().to_string(),
            errors,
        })?;
        let state_file = StateFile::of(config_path, state, config.state.as_ref())?;
        Ok(Account {
            config_path: config_path.to_path_buf(),
            file,
            config,
            state_file,
        })
    }

    /// The key this account is reached with at `target`: the sandbox's own key; else the
    /// variable the config's `apiKeyEnv` names, or, without one, `--api-key-file` or
    /// `SALESHANDY_API_KEY`. Never from the command line.
    pub(crate) fn key(&self, target: &Target) -> Result<Secret, Error> {
        let api = match target {
            Target::Sandbox => return Ok(Secret::new(SANDBOX_API_KEY.into())),
            Target::Api(api) => api,
        };
        match &self.config.api_key_env {
            Some(var) => match std::env::var(var) {
                Ok(k) if !k.trim().is_empty() => Ok(Secret::new(k.trim().to_string())),
                _ => Err(Error::MissingAccountKey {
                    var: var.clone(),
                    config: self.config_path.display().to_string(),
                }),
            },
            None => shared_key(api),
        }
    }

    /// The file the account's `--sandbox` runs keep their sandbox in.
    pub(crate) fn sandbox_file(&self) -> PathBuf {
        self.state_file.sandbox_file(&self.config_path)
    }

    /// Reads the account's state; with `locking` it is locked first, and stays locked while
    /// the [`Opened`] lives.
    pub(crate) fn read_state(self, locking: Option<Locking>) -> Result<Opened, Error> {
        let opened = self.state_file.open(locking)?;
        Ok(Opened {
            account: self,
            state: opened.state,
            state_exists: opened.exists,
            store: opened.store,
            lock: opened.lock,
            read_serial: opened.read_serial,
        })
    }
}

/// An account with its state read: what plan, apply and status work on.
pub(crate) struct Opened {
    pub(crate) account: Account,
    pub(crate) state: State,
    /// Whether the state existed (a first run has none).
    pub(crate) state_exists: bool,
    /// Where the state is kept: saves go here.
    pub(crate) store: Box<dyn Store>,
    /// The state's lock, for commands that write it: held while this lives.
    pub(crate) lock: Option<Lock>,
    /// The serial as stored, before an interrupted run's journal was folded in: what `plan`
    /// (which only reads) saw, and what a saved plan is checked against.
    pub(crate) read_serial: u64,
}

impl Opened {
    /// Saves the state with its serial incremented, only if the stored state is still the
    /// one it was read at (under the lock).
    pub(crate) fn save(&mut self) -> Result<(), Error> {
        let seen = crate::store::Version::of(&self.state);
        self.store.save(&mut self.state, &seen)?;
        Ok(())
    }

    /// The state's path as messages show it.
    pub(crate) fn state_name(&self) -> String {
        self.account.state_file.name()
    }

    /// Refuses a state that belongs to another endpoint (the sandbox versus the real API). A
    /// state that records nothing belongs to none.
    pub(crate) fn check_endpoint(&self, endpoint: &str) -> Result<(), Error> {
        match &self.state.endpoint {
            _ if self.state.holds_nothing() => Ok(()),
            Some(recorded) if recorded != endpoint => Err(Error::EndpointMismatch {
                state: self.state_name(),
                recorded: recorded.clone(),
                current: endpoint.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// The API a run talks to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The embedded sandbox, started for the run.
    Sandbox,
    /// The API at `--api-url` (or `SALESHANDY_API_URL`).
    Api(&'a ApiArgs),
}

impl Target<'_> {
    /// How a state names this API: `sandbox`, or the base URL without a trailing slash.
    /// A URL with a user name, password, query or fragment is refused (they would be stored
    /// in the state and printed), and the error shows it without them.
    pub(crate) fn endpoint(&self) -> Result<String, Error> {
        let raw = match self {
            Target::Sandbox => return Ok(SANDBOX_ENDPOINT.to_string()),
            Target::Api(api) => &api.api_url,
        };
        // A URL that does not parse is reported by the API client, without being stored.
        let Ok(url) = url::Url::parse(raw) else {
            return Ok(raw.trim_end_matches('/').to_string());
        };
        let part = if !url.username().is_empty() || url.password().is_some() {
            Some("a user name or password")
        } else if url.query().is_some() {
            Some("a query (`?…`)")
        } else if url.fragment().is_some() {
            Some("a fragment (`#…`)")
        } else {
            None
        };
        match part {
            None => Ok(raw.trim_end_matches('/').to_string()),
            Some(part) => {
                let mut shown = url.clone();
                let _ = shown.set_username("");
                let _ = shown.set_password(None);
                shown.set_query(None);
                shown.set_fragment(None);
                Err(Error::ApiUrlParts {
                    url: shown.to_string(),
                    part,
                })
            }
        }
    }
}

/// The key of accounts that name no variable: from `--api-key-file`, or `SALESHANDY_API_KEY`.
fn shared_key(args: &ApiArgs) -> Result<Secret, Error> {
    let key = match &args.api_key_file {
        Some(path) => std::fs::read_to_string(path).map_err(|source| Error::ApiKeyFile {
            path: path.clone(),
            source,
        })?,
        None => std::env::var("SALESHANDY_API_KEY").unwrap_or_default(),
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::MissingApiKey);
    }
    Ok(Secret::new(key.to_string()))
}
