//! A run over one or several accounts: which configs it covers, whether they are "several"
//! (decided once, from the config files the `-c` arguments expand to), and how each account's
//! report, its error and the run's total are printed.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::account::StateFile;
use crate::cli::{ConfigsArgs, StateArgs};
use crate::diagnostic::render_error;
use crate::error::Error;
use crate::outcome::Outcome;
use crate::ui::{self, Ui};

/// The configs of one run, one account each.
pub(crate) struct Accounts {
    files: Vec<PathBuf>,
    ui: Ui,
}

/// One account's report, as the command renders it for an account alone.
pub(crate) enum Doc {
    /// A pretty JSON document; with several accounts, one compact line each (JSON Lines).
    Json(String),
    /// Text for a person; with several accounts, a blank line after each.
    Text(String),
    /// Printed as it is, however many accounts there are.
    Plain(String),
}

impl Accounts {
    /// The configs of a run that reads no state (`validate`).
    pub(crate) fn configs(args: &ConfigsArgs, ui: Ui) -> Result<Accounts, Error> {
        Ok(Accounts {
            files: expand(args)?,
            ui,
        })
    }

    /// The configs of a run over their states. With several configs it refuses each option of
    /// `single_only` that is given (then `--state`): they work with one config only. Two
    /// configs that resolve to one state are refused, whatever the command.
    pub(crate) fn with_states(
        args: &ConfigsArgs,
        state: &StateArgs,
        single_only: &[(&'static str, bool)],
        ui: Ui,
    ) -> Result<Accounts, Error> {
        let accounts = Accounts::configs(args, ui)?;
        if accounts.many() {
            let options = single_only.iter().copied();
            for (what, given) in options.chain([("--state", state.state.is_some())]) {
                if given {
                    return Err(Error::ManyConfigs { what });
                }
            }
        }
        accounts.refuse_shared_states(state)?;
        Ok(accounts)
    }

    /// Two accounts of one state would plan against each other's records and take each
    /// other's lock: refused before anything is read, naming the first two that share one.
    fn refuse_shared_states(&self, state: &StateArgs) -> Result<(), Error> {
        // One config shares with nobody (and standard input is read once, by the account).
        if self.files.len() < 2 {
            return Ok(());
        }
        let mut seen: Vec<(&Path, StateFile, PathBuf)> = Vec::new();
        for file in &self.files {
            // A config that cannot be read fails its own account when it is opened.
            let Ok(location) = StateFile::of_config_file(file, state) else {
                continue;
            };
            let identity = location.identity();
            if let Some((first, first_state, _)) = seen.iter().find(|(_, _, i)| *i == identity) {
                return Err(Error::SharedState {
                    first: first.display().to_string(),
                    second: file.display().to_string(),
                    state: first_state.name(),
                });
            }
            seen.push((file, location, identity));
        }
        Ok(())
    }

    /// Whether this run covers several accounts: the one place that decides it.
    pub(crate) fn many(&self) -> bool {
        self.files.len() > 1
    }

    /// How many accounts this run covers (at least one).
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Runs `one` for each account, in order. Alone, an account's error is the run's; with
    /// several, it is printed against the account (`None` in its place) and the others go on.
    pub(crate) fn try_each<T>(
        &self,
        mut one: impl FnMut(&Path) -> Result<T, Error>,
    ) -> Result<Vec<Option<T>>, Error> {
        if let [only] = self.files.as_slice() {
            return Ok(vec![Some(one(only)?)]);
        }
        Ok(self
            .files
            .iter()
            .map(|file| {
                one(file)
                    .map_err(|e| self.print_error(&file.display().to_string(), &e))
                    .ok()
            })
            .collect())
    }

    /// [`Accounts::try_each`] for outcomes: with several accounts, a count of those that
    /// failed goes to standard error. The worst outcome is the run's.
    pub(crate) fn each(
        &self,
        one: impl FnMut(&Path) -> Result<Outcome, Error>,
    ) -> Result<Outcome, Error> {
        let outcomes: Vec<Outcome> = self
            .try_each(one)?
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Failure))
            .collect();
        if self.many() {
            let failed = outcomes.iter().filter(|o| **o == Outcome::Failure).count();
            eprintln!(
                "{} accounts: {} ok, {failed} failed.",
                self.len(),
                self.len() - failed
            );
        }
        Ok(outcomes.into_iter().fold(Outcome::Success, Outcome::worse))
    }

    /// Prints the error that ended one account's part of the run, named by `account`.
    pub(crate) fn print_error(&self, account: &str, e: &Error) {
        eprintln!("{account}: {}", render_error(e, self.ui));
    }

    /// Prints one account's report on standard output.
    pub(crate) fn print(&self, doc: Doc) -> Result<(), Error> {
        let text = match (doc, self.many()) {
            (Doc::Json(text), true) => format!("{}\n", compact(&text)),
            (Doc::Text(text), true) => format!("{text}\n"),
            (Doc::Json(text) | Doc::Text(text) | Doc::Plain(text), _) => text,
        };
        ui::print(&text)
    }

    /// Prints one account's JSON document: pretty alone, one compact line with several.
    pub(crate) fn print_json(&self, doc: &impl Serialize) -> Result<(), Error> {
        let mut text = if self.many() {
            serde_json::to_string(doc)
        } else {
            serde_json::to_string_pretty(doc)
        }
        .unwrap_or_default();
        text.push('\n');
        ui::print(&text)
    }

    /// Prints the run's total on standard output, only when it covers several accounts;
    /// `line` is given their number.
    pub(crate) fn print_total(&self, line: impl FnOnce(usize) -> String) {
        if self.many() {
            println!("{}", line(self.len()));
        }
    }
}

/// A JSON document on one line: the whitespace between its tokens removed, its keys in the
/// order they were written.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

/// The config files of `args`: each file as given, each directory's `*.yaml` / `*.yml`
/// files sorted, without hidden files and without the YAML files that are not webhooks
/// configs (each skipped with a note on standard error).
fn expand(args: &ConfigsArgs) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for path in &args.configs {
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
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
            })
            .collect();
        found.sort();
        found.retain(|p| {
            let webhooks = is_webhooks_config(p);
            if !webhooks {
                eprintln!(
                    "Note: skipped {}: it has no top-level `webhooks` key, so it is not a webhooks config.",
                    crate::terminal_text::printable(&p.display().to_string())
                );
            }
            webhooks
        });
        if found.is_empty() {
            return Err(Error::EmptyConfigDir { path: path.clone() });
        }
        files.extend(found);
    }
    Ok(files)
}

/// Whether a YAML file found in a directory is a webhooks config: anything but a readable
/// YAML document without a top-level `webhooks` key, so that a broken config is kept and its
/// errors reported rather than skipped.
fn is_webhooks_config(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    match crate::yaml::parse(&text) {
        Err(_) => true,
        Ok(None) => false,
        Ok(Some(root)) => match &root.kind {
            crate::yaml::NodeKind::Map(entries) => {
                entries.iter().any(|(k, _)| k.as_str() == Some("webhooks"))
            }
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compacting_keeps_strings_and_key_order() {
        let pretty = "{\n  \"z\": \"a b\\\" }\",\n  \"a\": [\n    1,\n    {}\n  ]\n}\n";
        assert_eq!(compact(pretty), "{\"z\":\"a b\\\" }\",\"a\":[1,{}]}");
        let doc: serde_json::Value = serde_json::from_str(pretty).expect("json");
        let back: serde_json::Value = serde_json::from_str(&compact(pretty)).expect("json");
        assert_eq!(doc, back);
    }
}
