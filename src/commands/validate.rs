//! `validate`: check config files offline and report every problem.

use crate::account::read_config_with;
use crate::accounts::Accounts;
use crate::cli::ValidateArgs;
use crate::config::{Loaded, UnsetEnv};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::report::{self, DiagnosticFormat, Record, SourceFile};
use crate::ui::{self, Ui};

pub(crate) fn run(args: &ValidateArgs, ui: Ui) -> Result<Outcome, Error> {
    let accounts = Accounts::configs(&args.config, ui)?;
    // JSON is one list over every file; the other formats print file by file.
    let mut records = Vec::new();
    let outcome = accounts.each(|path| {
        let unset = if args.require_env {
            UnsetEnv::Error
        } else {
            UnsetEnv::Listed
        };
        let (file, loaded) = read_config_with(path, unset)?;
        let failed = loaded.errors() > 0 || (args.strict && loaded.warnings() > 0);
        if args.format == DiagnosticFormat::Json {
            records.extend(loaded.problems.iter().map(|p| Record::new(p, &file)));
        } else {
            let out = render(&loaded, &file, args.format, args.strict, ui);
            ui::print(&out.stdout)?;
            eprint!("{}", out.stderr);
        }
        eprint!("{}", needed_env(&loaded, &file));
        Ok(if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        })
    })?;
    if args.format == DiagnosticFormat::Json {
        ui::print(&report::json(&records))?;
    }
    Ok(outcome)
}

/// What `validate` prints, split by stream.
pub(crate) struct Rendered {
    pub stdout: String,
    pub stderr: String,
}

/// Renders the result of loading a file in the chosen format; with `strict`, warnings fail it.
/// Pure, for snapshot tests.
pub(crate) fn render(
    loaded: &Loaded,
    file: &SourceFile,
    format: DiagnosticFormat,
    strict: bool,
    ui: Ui,
) -> Rendered {
    let records = || loaded.problems.iter().map(|p| Record::new(p, file));
    match format {
        DiagnosticFormat::Json => Rendered {
            stdout: report::json(&records().collect::<Vec<_>>()),
            stderr: String::new(),
        },
        DiagnosticFormat::Github => Rendered {
            stdout: records().map(|r| report::github(&r)).collect(),
            stderr: String::new(),
        },
        DiagnosticFormat::Human => {
            let mut stderr: String = loaded
                .problems
                .iter()
                .map(|p| report::human(p, file, ui.color_stderr) + "\n")
                .collect();
            stderr.extend(report::omitted(loaded));
            let (errors, warnings) = (loaded.errors(), loaded.warnings());
            let warned = match warnings {
                0 => String::new(),
                n => format!(", {n} warning{}", plural(n)),
            };
            let stdout = match &loaded.config {
                Some(c) if errors == 0 && strict && warnings > 0 => {
                    let n = c.webhooks.len();
                    stderr.push_str(&format!(
                        "{} failed --strict because of its {warnings} warning{}: it is otherwise valid ({n} webhook{}, no errors).\n",
                        file.name(),
                        plural(warnings),
                        plural(n)
                    ));
                    String::new()
                }
                Some(c) if errors == 0 => {
                    let n = c.webhooks.len();
                    format!(
                        "{} is valid: {n} webhook{}{warned}.\n",
                        file.name(),
                        plural(n)
                    )
                }
                _ => {
                    stderr.push_str(&format!(
                        "{} is not valid: {errors} error{}{warned}.\n",
                        file.name(),
                        plural(errors)
                    ));
                    String::new()
                }
            };
            Rendered { stdout, stderr }
        }
    }
}

/// The one line naming the variables `plan` and `apply` will need that are not set here.
fn needed_env(loaded: &Loaded, file: &SourceFile) -> String {
    match loaded.unset_env.as_slice() {
        [] => String::new(),
        vars => format!(
            "{}: `plan` and `apply` will need {} {}, not set here (`validate --require-env` checks {}).\n",
            file.name(),
            if vars.len() == 1 { "the variable" } else { "the variables" },
            vars.join(", "),
            if vars.len() == 1 { "it" } else { "them" },
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
