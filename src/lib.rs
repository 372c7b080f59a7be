//! saleshandy-webhooks: Saleshandy webhooks as code.
//!
//! A YAML file declares the webhooks an account should have; `plan` compares it with a state
//! file and shows what is missing; `apply` creates the missing ones through Saleshandy's
//! create endpoint and records every id it gets back. The API can create and read but never
//! update, list or delete, and a create is not idempotent: every design choice below follows
//! from that.
//!
//! # The flow of data
//!
//! ```text
//! config file ──config──► Config ─┐
//!                                  ├─► planner::plan() ──► Plan ──render──► terminal / JSON / Markdown
//! state ──────store───► State  ───┘                         │
//!                                                           ▼
//!                     execute::apply(Plan) ──► api::Api::create ──► store (intent before, answer after)
//! ```
//!
//! # The modules
//!
//! - Input: [`config`] (the YAML model: a spanned tree from [`yaml`], `${VAR}` interpolation,
//!   every rule with a located diagnostic), [`event`] (the 19 event names), [`secret`] (values
//!   that cannot be printed or stored in clear by accident).
//! - The state: [`state`] (the versioned file model, fingerprints of secrets), [`store`] (the
//!   one seam for every read and write of a state, its lock and its journal; [`store::local`]
//!   keeps them in files beside the state), [`saved_plan`] (`plan --out` / `apply PLAN` /
//!   `show PLAN`).
//! - Pure logic, no I/O: [`planner`] (config + state → plan), [`render`] (human, JSON, Markdown and
//!   GitHub output of plans and status reports), [`report`] (config diagnostics),
//!   `reported` (a webhook's status and last failure as the API reports them).
//! - The network: [`api`] (the Saleshandy client: requests, classification of every answer),
//!   [`execute`] (executes a plan's creates, several at once, each intent durable before its
//!   request), [`live`] (reads recorded webhooks back: live status and drift), [`probe`]
//!   (`plan --probe`: can Saleshandy reach each URL), [`emulator`] (the embedded emulator of the
//!   API that the quickstart, the rehearsals and the tests run against, on loopback only: an
//!   account per `sandbox-NAME` key, a data file kept across restarts, and a "Saleshandy UI" —
//!   its `/sandbox/` requests and its page — that only it has).
//! - The commands: [`cli`] (clap definitions), [`app`] (runs a command line, maps the outcome
//!   to an exit code), [`commands`] (one short function per command), `account` (one config
//!   and everything that belongs to it: state location, key, endpoint, lock, and the sandbox
//!   file its `--sandbox` runs share) and `accounts`
//!   (runs over several configs), [`diagnostic`] (the one miette handler), [`ui`], [`outcome`],
//!   [`progress`], [`clock`] (the tool's own waits, shortened in test builds only),
//!   [`interrupt`] (Ctrl-C and SIGTERM during `apply`'s creates: a graceful stop).
//! - One of each helper, used everywhere: `suggest` (the closest name, for did-you-mean),
//!   `host` (what is loopback, private or unreachable from the internet), `server_text`
//!   (what a server wrote, redacted and made safe before it is shown or stored),
//!   `terminal_text` (config text and diagnostics made safe to print), `error_chain` (an
//!   error's causes in one line), `bounded` (ordered, bounded concurrency), `runtime` (the
//!   one async runtime).
//!
//! # What must stay true
//!
//! - No create is sent before its intent is durable in the store, and every answer is recorded
//!   after it: a run killed at any moment leaves an id or an `unknown` entry, never a webhook
//!   the state forgot. An `unknown` is never sent again on its own.
//! - Requests to Saleshandy go only through [`api::Api`] (used by `apply`, `status` and
//!   `state import`); the only other traffic is `plan --probe`, the sandbox's test
//!   deliveries and the `sandbox` subcommands' requests to a sandbox (loopback only). `plan` and the renderers are pure.
//! - A state that cannot be read is never overwritten; every save is conditional on the
//!   version the writer read, under the state's lock.
//! - A secret (the API key, every `${VAR}` value) is never printed, logged or stored in clear;
//!   server text is redacted of them, and kept on one line without control characters.
//! - Nothing a user, a file or a server controls can make the tool panic.
//!
//! Read this map with `cargo doc --document-private-items`: most modules it names are internal.

// The map above links to internal modules on purpose (see its last line).
#![allow(rustdoc::private_intra_doc_links)]
// An item no other crate can reach is `pub(crate)`, so its visibility says what it is.
#![warn(unreachable_pub)]

mod account;
mod accounts;
pub(crate) mod api;
pub mod app;
mod bounded;
pub mod cli;
pub mod clock;
pub(crate) mod commands;
pub mod config;
pub(crate) mod diagnostic;
pub mod emulator;
pub(crate) mod error;
mod error_chain;
pub mod event;
pub(crate) mod execute;
mod host;
pub(crate) mod interrupt;
pub(crate) mod live;
pub(crate) mod outcome;
pub(crate) mod planner;
pub mod probe;
pub(crate) mod progress;
pub(crate) mod render;
pub mod report;
mod reported;
mod runtime;
pub(crate) mod saved_plan;
pub mod secret;
mod server_text;
pub mod state;
pub mod store;
mod suggest;
mod terminal_text;
pub(crate) mod ui;
pub(crate) mod yaml;

/// The held lock a command keeps, at the path commands name it by.
pub use store::lock;
