//! `plan`: compare the config with the state and show what apply would do. Offline, unless
//! `--probe` is given.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::{for_each_account, load_inputs};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::plan::{plan, Summary};
use crate::render::{self, markdown, Context};
use crate::saved_plan::SavedPlan;
use crate::ui::Ui;

pub fn run(args: &PlanArgs, ui: Ui) -> Result<Outcome, Error> {
    let files = args.config.files()?;
    let many = files.len() > 1;
    if many && args.out.is_some() {
        return Err(Error::ManyConfigs { what: "--out" });
    }
    if many && args.state.state.is_some() {
        return Err(Error::ManyConfigs { what: "--state" });
    }
    let mut total = Summary::default();
    let share = markdown::LIMIT / files.len().max(1);
    let outcome = for_each_account(&files, ui, |path| {
        let (text, summary) = plan_one(path, args, ui, share)?;
        let text = match (many, args.format) {
            // Several accounts in JSON: one compact document per line (JSON Lines).
            (true, PlanFormat::Json) => {
                let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                format!("{doc}\n")
            }
            (true, PlanFormat::Human | PlanFormat::Markdown) => format!("{text}\n"),
            _ => text,
        };
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(Error::Stdout)?;
        total.add(&summary);
        Ok(if args.detailed_exitcode && summary.create > 0 {
            Outcome::Changes
        } else {
            Outcome::Success
        })
    })?;
    if many && matches!(args.format, PlanFormat::Human | PlanFormat::Markdown) {
        let t = total;
        println!(
            "Total over {} accounts: {} to create, {} unchanged, {} changed, {} orphaned, {} unknown.",
            files.len(),
            t.create,
            t.unchanged,
            t.changed,
            t.orphaned,
            t.unknown
        );
    }
    Ok(outcome)
}

/// Plans one account and renders it; `share` is its room in a Markdown comment.
fn plan_one(
    path: &Path,
    args: &PlanArgs,
    ui: Ui,
    share: usize,
) -> Result<(String, Summary), Error> {
    let inputs = load_inputs(path, &args.state, ui, None)?;
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
        PlanFormat::Markdown => markdown::render_within(&plan, &ctx, share),
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
    Ok((text, plan.summary))
}
