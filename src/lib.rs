//! saleshandy-webhooks: Saleshandy webhooks as code.
//!
//! The flow is one direction (see DESIGN.md): the config is loaded and validated
//! ([`config`]), compared with the state, and rendered; only the applier talks to the network.

mod account;
mod accounts;
pub mod api;
pub mod app;
pub mod apply;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod error;
mod error_chain;
pub mod event;
mod host;
pub mod outcome;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod render;
pub mod report;
mod runtime;
pub mod sandbox;
pub mod saved_plan;
pub mod secret;
pub mod state;
pub mod status;
pub mod store;
mod suggest;
mod terminal_text;
pub mod ui;
pub mod yaml;

/// The held lock a command keeps, at the path commands name it by.
pub use store::lock;
