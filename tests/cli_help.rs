//! Every command and option says what it does in `--help`; the messages of small failures
//! say what to do.

use clap::CommandFactory;
use saleshandy_webhooks::cli::Cli;

/// Every command below the top, with its path (`["state", "list"]`).
fn commands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(path: &[String], cmd: &clap::Command, out: &mut Vec<(Vec<String>, clap::Command)>) {
        // clap's own `help` subcommands are not ours to describe.
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            out.push((p.clone(), sub.clone()));
            walk(&p, sub, out);
        }
    }
    let mut cli = Cli::command();
    cli.build();
    let mut out = Vec::new();
    walk(&[], &cli, &mut out);
    out
}

/// The options and arguments a user can give a command, without help, version and globals.
fn own_args(cmd: &clap::Command) -> Vec<clap::Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set())
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .cloned()
        .collect()
}

#[test]
fn every_command_option_and_value_has_help() {
    let mut missing = Vec::new();
    for (path, cmd) in commands() {
        let name = path.join(" ");
        if cmd.get_about().is_none() {
            missing.push(format!("`{name}`: no description"));
        }
        let leaf = !cmd.has_subcommands();
        if leaf && cmd.get_long_about().is_none() {
            missing.push(format!("`{name}`: no long help (a second paragraph)"));
        }
        for arg in own_args(&cmd) {
            let id = arg.get_id().to_string();
            if arg.get_help().is_none() {
                missing.push(format!("`{name}` {id}: no help"));
            }
            // The shells' names are clap_complete's, and say what they are.
            if id == "shell" {
                continue;
            }
            for value in arg.get_possible_values() {
                if value.get_help().is_none() && !value.is_hide_set() {
                    missing.push(format!(
                        "`{name}` {id}: the value `{}` has no help",
                        value.get_name()
                    ));
                }
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}

/// `sandbox --port` on a port another program holds names the port and says what to do.
#[test]
fn the_sandbox_on_a_taken_port_names_it_and_says_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let o = crate::support::test(["sandbox", "--port", &port])
        .status(1)
        .stderr_unchecked()
        .run();
    // The port appears in the message and the help: the filter hides it only after `127.0.0.1:`.
    let stderr = crate::support::stderr_text(&o).replace(&port, "[N]");
    assert_eq!(
        crate::support::flat(&stderr),
        crate::support::flat("sandbox::listen\n\n  × the sandbox cannot listen on 127.0.0.1:[N]: Address already in use (os error 98)\n  help: another program is listening on port [N]: stop it, or run `saleshandy-webhooks sandbox --port N` with another port (`--port 0` picks a free one)\n"),
    );
}
