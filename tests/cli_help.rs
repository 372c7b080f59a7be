//! Every command and option says what it does in `--help`, and the README's synopsis of each
//! command lists exactly the options it has.
//!
//! The README rule: each command has a synopsis line in a plain code fence (```` ``` ````
//! without a language), starting `saleshandy-webhooks COMMAND`, continued on the indented
//! lines below it. Every option of the command appears in it (its long form, or its short form
//! when it has one), every option it names exists, and each positional argument's value name
//! appears as a word. `--help`, `--version` and the global `--no-color` are left out.

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

/// The synopsis of `path` in the README: its first line and the indented lines after it.
fn synopsis(readme: &str, path: &[String]) -> Option<String> {
    let start = format!("saleshandy-webhooks {}", path.join(" "));
    // Inside a fence: whether it has no language.
    let mut fence: Option<bool> = None;
    let mut found: Option<String> = None;
    for line in readme.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.is_empty()),
            };
            if found.is_some() {
                break;
            }
            continue;
        }
        let in_plain_fence = fence == Some(true);
        if !in_plain_fence {
            continue;
        }
        match &mut found {
            Some(text) if line.starts_with(' ') => {
                text.push(' ');
                text.push_str(line.trim());
            }
            Some(_) => break,
            None if line == start || line.starts_with(&format!("{start} ")) => {
                found = Some(line[start.len()..].to_string());
            }
            None => {}
        }
    }
    found
}

/// The options a synopsis names: `--long` and `-s` tokens.
fn named_options(synopsis: &str) -> Vec<String> {
    let options = regex::Regex::new(r"(?:^|[\s\[|])(--?[a-zA-Z][a-zA-Z0-9-]*)").expect("regex");
    options
        .captures_iter(synopsis)
        .map(|c| c[1].to_string())
        .collect()
}

#[test]
fn the_readme_synopsis_of_every_command_lists_exactly_its_options() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let mut wrong = Vec::new();
    for (path, cmd) in commands() {
        if cmd.has_subcommands() {
            continue;
        }
        let name = path.join(" ");
        let Some(text) = synopsis(&readme, &path) else {
            wrong.push(format!("`{name}`: no synopsis in a plain code fence"));
            continue;
        };
        let args = own_args(&cmd);
        let named = named_options(&text);
        for arg in &args {
            if arg.is_positional() {
                let value = arg
                    .get_value_names()
                    .and_then(|v| v.first().map(|s| s.to_string()))
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
                if !text
                    .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .any(|w| w == value)
                {
                    wrong.push(format!("`{name}`: the argument {value} is not in `{text}`"));
                }
                continue;
            }
            let long = arg.get_long().map(|l| format!("--{l}"));
            let short = arg.get_short().map(|s| format!("-{s}"));
            let given = [&long, &short]
                .into_iter()
                .flatten()
                .any(|o| named.contains(o));
            if !given {
                wrong.push(format!(
                    "`{name}`: {} is not in `{text}`",
                    long.or(short).unwrap_or_default()
                ));
            }
        }
        for option in &named {
            let exists = args.iter().any(|a| {
                a.get_long().is_some_and(|l| *option == format!("--{l}"))
                    || a.get_short().is_some_and(|s| *option == format!("-{s}"))
            });
            if !exists {
                wrong.push(format!("`{name}`: {option} is not an option of it"));
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
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
