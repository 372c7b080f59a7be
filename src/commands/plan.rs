//! `plan`: compare the config with the state and show what apply would do. Offline, unless
//! `--probe` is given.

use std::collections::HashMap;
use std::io::Write;

use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::{load_inputs, Outcome, Ui};
use crate::error::Error;
use crate::plan::plan;
use crate::render::{self, Context};
use crate::saved_plan::SavedPlan;

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
        PlanFormat::Human => {
            let options = render::human::Options {
                color: ui.color_stdout,
                verbose: args.verbose,
            };
            render::human::render(&plan, &ctx, options)
        }
        PlanFormat::Json => render::json::render(&plan, &ctx),
        PlanFormat::Markdown => render::markdown::render(&plan, &ctx),
        PlanFormat::Github => {
            let lines: HashMap<String, usize> = inputs
                .config
                .webhooks
                .iter()
                .map(|w| (w.name.clone(), inputs.file.location(w.span.start).0))
                .collect();
            render::github::render(&plan, inputs.file.name(), &lines)
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Stdout)?;
    if args.probe {
        let targets: Vec<(String, String)> = plan
            .creates()
            .filter_map(|e| inputs.config.webhooks.iter().find(|w| w.name == e.name))
            .map(|w| (w.name.clone(), w.url.expose().to_string()))
            .collect();
        let findings = crate::probe::probe_blocking(&targets);
        let failing = findings.iter().filter(|f| !f.ok).count();
        eprintln!(
            "probe: {} of {} URL(s) to create answered.",
            findings.len() - failing,
            findings.len()
        );
        for finding in findings {
            if !finding.ok {
                eprintln!(
                    "warning: `{}`: {}. Saleshandy's test delivery would likely fail, and the webhook be created paused.",
                    finding.name, finding.detail
                );
            }
        }
    }
    if let Some(out) = &args.out {
        let saved = SavedPlan::new(
            inputs.file.name(),
            &inputs.config,
            &inputs.state,
            inputs.state_exists,
            &plan,
        );
        crate::state::atomic_write(out, saved.to_json().as_bytes()).map_err(|source| {
            Error::WritePlan {
                path: out.clone(),
                source,
            }
        })?;
        eprintln!(
            "Saved the plan to {}; `saleshandy-webhooks apply {}` applies exactly it, once.",
            out.display(),
            out.display()
        );
    }
    Ok(if args.detailed_exitcode && plan.summary.create > 0 {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
