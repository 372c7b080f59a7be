//! Human output on a real terminal (a pseudo-terminal made by `script`) is wrapped to its
//! width, never inside a command meant for copy-paste; without a terminal it is not wrapped.

use std::process::Command;

use crate::support::{World, BIN};
use saleshandy_webhooks::emulator::{Fault, Target};

const ONE: &str = "version: 1
webhooks:
  - name: Only
    url: https://only.example.org/hook
    events: [task-created]
";

/// `plan` in `w` under a pseudo-terminal of `columns` columns; what the terminal showed.
fn plan_on_a_terminal(w: &World, columns: usize) -> String {
    let world = w.process();
    let mut c = Command::new("script");
    c.args(["-q", "-e", "-c", &format!("'{BIN}' plan"), "/dev/null"])
        .current_dir(w.dir.path());
    for (name, value) in world.get_envs() {
        match value {
            Some(v) => c.env(name, v),
            None => c.env_remove(name),
        };
    }
    let o = c
        .env("COLUMNS", columns.to_string())
        .env("NO_COLOR", "1")
        .output()
        .expect("script runs (util-linux)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n")
}

#[test]
fn plan_wraps_to_the_terminal_and_keeps_commands_whole() {
    let w = World::new(ONE);
    w.sandbox.inject(Target::Any, Fault::DropAfterCreate);
    w.apply()
        .status(1)
        .stdout_unchecked()
        .stderr_unchecked()
        .run();
    let command = "`saleshandy-webhooks state import \"Only\" ID`";

    let shown = plan_on_a_terminal(&w, 70);
    for line in shown.lines() {
        assert!(
            line.chars().count() <= 70,
            "wider than the terminal:\n{line}\n\n{shown}"
        );
    }
    assert!(
        shown.lines().any(|l| l.contains(command)),
        "the command is on one line:\n{shown}"
    );
    let step: Vec<&str> = shown.lines().filter(|l| l.starts_with("      ")).collect();
    assert!(
        step.len() > 3,
        "the step is wrapped into several lines:\n{shown}"
    );

    // Without a terminal (a pipe, a CI log): each step is one line.
    let piped = w.plan().stdout_unchecked().run();
    let piped = String::from_utf8_lossy(&piped.stdout).into_owned();
    let step_lines: Vec<&str> = piped.lines().filter(|l| l.starts_with("      ")).collect();
    assert_eq!(step_lines.len(), 1, "one line per step:\n{piped}");
    assert!(step_lines[0].contains(command));
    // The same words either way.
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(words(&shown), words(&piped));
}
