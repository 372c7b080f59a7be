//! Runs a parsed command line and turns the outcome into an exit code.

use std::process::ExitCode;

use crate::cli::{Cli, Command, StateCommand};
use crate::commands;
use crate::diagnostic::render_error;
use crate::ui::Ui;

/// Runs the command; errors are printed to standard error with their help.
pub fn run(cli: Cli) -> ExitCode {
    let ui = Ui::detect(cli.no_color);
    if let Err(e) = crate::clock::check() {
        eprint!("{}", render_error(&e.into(), ui));
        return ExitCode::from(1);
    }
    let result = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, ui),
        Command::Plan(args) => commands::plan::run(args, ui),
        Command::Apply(args) => commands::apply::run(args, ui),
        Command::Show(args) => commands::show::run(args, ui),
        Command::Sandbox(args) => commands::sandbox::run(args, ui),
        Command::Status(args) => commands::status::run(args, ui),
        Command::Completions(args) => commands::completions::run(args),
        Command::State(StateCommand::List(args)) => commands::inspect::list(args),
        Command::State(StateCommand::Show(args)) => commands::inspect::show(args),
        Command::State(StateCommand::Import(args)) => commands::reconcile::import(args, ui),
        Command::State(StateCommand::Mv(args)) => commands::reconcile::mv(args),
        Command::State(StateCommand::Rm(args)) => commands::reconcile::rm(args, ui),
        Command::State(StateCommand::Push(args)) => commands::transfer::push(args),
        Command::State(StateCommand::Pull(args)) => commands::transfer::pull(args),
    };
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprint!("{}", render_error(&e, ui));
            ExitCode::from(1)
        }
    }
}
