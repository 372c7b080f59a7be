//! The integration suite: one binary, one module per area, sharing [`support`]'s harness.
//! The binary under test is run over real sockets against the embedded sandbox or small
//! servers on 127.0.0.1.

mod support;

mod accounts;
mod apply_sandbox;
mod browser_kit;
mod ci_files;
mod ci_git;
mod circuit_breaker;
mod cli_help;
mod cli_validate;
mod concurrency;
mod config_fixtures;
mod config_limits;
mod config_props;
mod crash_and_lock;
mod faults;
mod hostile_server;
mod journal_failure;
mod json_schemas;
mod local_state;
mod object_servers;
mod plan_cli;
mod probe;
mod recovery;
mod rehearsal;
mod remote_state;
mod sandbox_page;
mod saved_plan;
mod schema;
mod signals;
mod state_commands;
mod state_inspect;
mod status;
mod terminal_width;
