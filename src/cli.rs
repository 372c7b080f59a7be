//! Command-line definitions: commands, options, environment bindings and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::DiagnosticFormat;

/// Manage Saleshandy webhooks as code: declare them in YAML, plan, and apply.
#[derive(Debug, Parser)]
#[command(
    name = "saleshandy-webhooks",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Never use colour (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a config file offline: syntax, keys, names, URLs, events, headers, variables.
    ///
    /// Exits 0 when the file is valid, 1 when it is not. Needs no API key and makes no
    /// network call.
    Validate(ValidateArgs),
}

/// Where the config is read from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config file; `-` reads standard input.
    #[arg(short, long, value_name = "FILE", default_value = "webhooks.yaml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Fail on warnings too (plain http, hosts Saleshandy cannot reach).
    #[arg(long)]
    pub strict: bool,

    /// How to print problems.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}
