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

    /// Show what apply would do: compare the config with the state, offline.
    ///
    /// Each webhook is to create (+), unchanged, changed (~), orphaned (-) or unknown (?).
    /// The API can neither update nor delete, so changed, orphaned and unknown webhooks need a
    /// person; the plan says what to do. Needs no API key and makes no network call.
    Plan(PlanArgs),
}

/// Where the config is read from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config file; `-` reads standard input.
    #[arg(short, long, value_name = "FILE", default_value = "webhooks.yaml")]
    pub config: PathBuf,
}

/// Where the state is read from.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The state file [default: beside the config, `<config stem>.state.json`].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// For people: signs, diffs, manual steps, a summary line.
    Human,
    /// One JSON document on standard output (schemas/plan.schema.json).
    Json,
    /// A pull-request comment, always under 65,000 characters.
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,

    /// Exit 2 when apply would create something, 0 when not, 1 on error. Changed, orphaned
    /// and unknown webhooks do not count (apply does nothing with them); `--format json`
    /// reports them as `needs_person`.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// List unchanged webhooks too.
    #[arg(short, long)]
    pub verbose: bool,
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
