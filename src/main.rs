use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    saleshandy_webhooks::app::run(saleshandy_webhooks::cli::Cli::parse())
}
