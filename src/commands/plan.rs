//! `plan`: compare the config with the state and show what apply would do. Offline.

use std::io::Write;

use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::{load_inputs, Outcome, Ui};
use crate::error::Error;
use crate::plan::plan;
use crate::render::{self, Context};

pub fn run(args: &PlanArgs, ui: Ui) -> Result<Outcome, Error> {
    let inputs = load_inputs(&args.config, &args.state, ui, None)?;
    let plan = plan(&inputs.config, &inputs.state);
    let state_name = inputs.state_path.display().to_string();
    let ctx = Context {
        config: inputs.file.name(),
        state: &state_name,
        state_exists: inputs.state_exists,
    };
    let text = match args.format {
        PlanFormat::Human => render::human::render(
            &plan,
            &ctx,
            render::human::Options {
                color: ui.color_stdout,
                verbose: args.verbose,
            },
        ),
        PlanFormat::Json => render::json::render(&plan, &ctx),
        PlanFormat::Markdown => render::markdown::render(&plan, &ctx),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Stdout)?;
    Ok(if args.detailed_exitcode && plan.summary.create > 0 {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
