//! `completions SHELL`: a completion script for the shell, on standard output.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Error;
use crate::outcome::Outcome;

/// The name the scripts complete: the installed binary's.
const BIN_NAME: &str = "saleshandy-webhooks";

pub(crate) fn run(args: &CompletionsArgs) -> Result<Outcome, Error> {
    let script = script(args.shell);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(Error::Stdout)?;
    Ok(Outcome::Success)
}

/// The completion script for `shell`. Generated into memory first: clap_complete panics on a
/// failed write, and standard output may be a closed pipe.
pub(crate) fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN_NAME, &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        for shell in clap_complete::Shell::value_variants() {
            let text = String::from_utf8(script(*shell)).expect("scripts are UTF-8");
            assert!(text.contains(BIN_NAME), "{shell}: no binary name");
            assert!(text.contains("validate"), "{shell}: no `validate`");
            assert!(text.contains("apply"), "{shell}: no `apply`");
        }
    }
}
