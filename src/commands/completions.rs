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
    match shell {
        clap_complete::Shell::Bash => bash_names_agree(&buf),
        _ => buf,
    }
}

/// The bash script with one name per command state. clap_complete's bash generator names a
/// state `saleshandy__webhooks__subcmd__plan` where it walks the words typed, but
/// `saleshandy__subcmd__webhooks__subcmd__plan` where it offers that state's options (the
/// binary name's `-` replaced twice over), so no subcommand's options were ever offered.
/// Every state is renamed to the walk's name; a generator that agrees with itself is left as
/// it is.
fn bash_names_agree(script: &[u8]) -> Vec<u8> {
    let walked = format!("{}__subcmd__", BIN_NAME.replace('-', "__"));
    let offered = format!("{}__subcmd__", BIN_NAME.replace('-', "__subcmd__"));
    String::from_utf8_lossy(script)
        .replace(&offered, &walked)
        .into_bytes()
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

    #[test]
    fn bash_states_have_one_name() {
        let text = String::from_utf8(script(clap_complete::Shell::Bash)).expect("UTF-8");
        assert!(!text.contains("saleshandy__subcmd__webhooks"), "{text}");
        assert!(
            text.contains("\n        saleshandy__webhooks__subcmd__plan)\n"),
            "{text}"
        );
    }
}
