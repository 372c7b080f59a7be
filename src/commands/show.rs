//! `show PLAN`: a plan saved by `plan --out`, rendered as `plan` printed it. Reads nothing
//! but the plan file: no config, no state, no API.

use crate::cli::{ShowFormat, ShowPlanArgs};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::render::{self, budget, markdown, Context};
use crate::saved_plan::SavedPlan;
use crate::terminal_text::printable;
use crate::ui::Ui;

pub(crate) fn run(args: &ShowPlanArgs, ui: Ui) -> Result<Outcome, Error> {
    let saved = SavedPlan::read(&args.plan)?;
    let Some(plan) = saved.plan() else {
        return Err(Error::PlanWithoutEntries {
            path: args.plan.clone(),
        });
    };
    let state = saved.state.location.clone().unwrap_or_default();
    let ctx = Context {
        config: &saved.config,
        state: &state,
        state_exists: saved.state.existed,
    };
    // The file may have been edited by hand: its text is shown safe (JSON escapes its own).
    let text = match args.format {
        ShowFormat::Human => printable(&render::human::render(
            &plan,
            &ctx,
            render::human::Options {
                color: ui.color_stdout,
                verbose: args.verbose,
                width: ui.width_stdout,
            },
        )),
        ShowFormat::Json => render::json::render(&plan, &ctx),
        ShowFormat::Markdown => printable(&markdown::render_within(&plan, &ctx, budget::LIMIT)),
    };
    crate::ui::print(&text)?;
    Ok(Outcome::Success)
}
