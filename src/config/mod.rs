//! The config file: its model, and loading it with every problem located in the source.
//!
//! The format is in the README's "The config file" section. Loading never stops at the first problem: [`load()`] returns the
//! config (when there is no error) together with every error and warning, in file order.

mod interpolate;
mod load;
mod problem;
pub mod rules;

pub use load::{load, load_in, load_with, Loaded, UnsetEnv, MAX_PROBLEMS, ROOT_KEYS, WEBHOOK_KEYS};
pub use problem::ConfigProblem;

use crate::event::Event;
use crate::secret::{Secret, Value};
use crate::store::Address;
use crate::yaml::Span;

/// The only config format version this build reads.
pub const SUPPORTED_VERSION: i64 = 1;

/// A valid config: the webhooks an account should have.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The environment variable that holds this account's API key (`apiKeyEnv`), for runs
    /// over several accounts; `SALESHANDY_API_KEY` when absent.
    pub api_key_env: Option<String>,
    /// Where this account's state is kept (`state`), resolved against the config's folder;
    /// None when absent (the default beside the config, or `--state`).
    pub state: Option<Address>,
    pub webhooks: Vec<Webhook>,
    /// The value of every `${NAME}` the webhooks use: what server text is redacted of.
    pub(crate) env_values: Vec<Secret>,
}

impl Config {
    /// Every secret of this config in clear — each `${NAME}` value and each value built from
    /// them — for redacting server text only.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        let built = self.webhooks.iter().flat_map(|w| {
            std::iter::once(&w.url)
                .chain(w.headers.iter().map(|h| &h.value))
                .filter(|v| v.is_secret())
                .map(Value::expose)
        });
        built.chain(self.env_values.iter().map(Secret::expose))
    }
}

/// One desired webhook. Its `name` is its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub name: String,
    pub url: Value,
    /// In file order, without repeats.
    pub events: Vec<Event>,
    /// In file order; names are unique ignoring case.
    pub headers: Vec<Header>,
    /// Where the webhook's `name` stands in the file.
    pub span: Span,
}

/// One custom header sent with every delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub value: Value,
}

/// Reads the process environment, for [`load()`].
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
