//! `plan`: compare the config with the state and show what apply would do. Offline, unless
//! `--probe` is given.

use std::collections::HashMap;
use std::path::Path;

use crate::account::{Account, Opened};
use crate::accounts::{Accounts, Doc};
use crate::cli::{PlanArgs, PlanFormat};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::planner::{plan, Plan, Summary};
use crate::probe::ProbeOptions;
use crate::render::{self, budget, markdown, Context};
use crate::saved_plan::SavedPlan;
use crate::ui::Ui;

pub(crate) fn run(args: &PlanArgs, ui: Ui) -> Result<Outcome, Error> {
    let single_only = [("--out", args.out.is_some())];
    let accounts = Accounts::with_states(&args.config, &args.state, &single_only, ui)?;
    let mut total = Summary::default();
    let share = budget::LIMIT / accounts.len().max(1);
    let outcome = accounts.each(|path| {
        let (text, summary) = plan_one(path, args, ui, share)?;
        accounts.print(match args.format {
            PlanFormat::Json => Doc::Json(text),
            PlanFormat::Human | PlanFormat::Markdown => Doc::Text(text),
            PlanFormat::Github => Doc::Plain(text),
        })?;
        total.add(&summary);
        Ok(if args.detailed_exitcode && summary.create > 0 {
            Outcome::Changes
        } else {
            Outcome::Success
        })
    })?;
    if matches!(args.format, PlanFormat::Human | PlanFormat::Markdown) {
        accounts.print_total(|n| {
            format!(
                "Total over {n} accounts: {}.",
                crate::render::counts(&total)
            )
        });
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
    let opened = Account::open(path, &args.state, ui)?.read_state(None)?;
    let plan = plan(&opened.account.config, &opened.state);
    let text = render_plan(&plan, &opened, args, ui, share);
    if args.probe {
        probe(&plan, &opened);
    }
    if let Some(out) = &args.out {
        save(&plan, &opened, out)?;
    }
    Ok((text, plan.summary))
}

/// The plan of one account in the format asked for.
fn render_plan(plan: &Plan, opened: &Opened, args: &PlanArgs, ui: Ui, share: usize) -> String {
    let account = &opened.account;
    let state_name = opened.state_name();
    let ctx = Context {
        config: account.file.name(),
        state: &state_name,
        state_exists: opened.state_exists,
    };
    match args.format {
        PlanFormat::Human => {
            let options = render::human::Options {
                color: ui.color_stdout,
                verbose: args.verbose,
                width: ui.width_stdout,
            };
            render::human::render(plan, &ctx, options)
        }
        PlanFormat::Json => render::json::render(plan, &ctx),
        PlanFormat::Markdown => markdown::render_within(plan, &ctx, share),
        PlanFormat::Github => {
            let lines: HashMap<String, usize> = account
                .config
                .webhooks
                .iter()
                .map(|w| (w.name.clone(), account.file.location(w.span.start).0))
                .collect();
            render::github::render(plan, account.file.name(), &lines)
        }
    }
}

/// Checks the URL of every webhook to create, and warns on standard error about each that
/// would likely fail Saleshandy's test delivery.
fn probe(plan: &Plan, opened: &Opened) {
    let webhooks = &opened.account.config.webhooks;
    let targets: Vec<(String, String)> = plan
        .creates()
        .filter_map(|e| webhooks.iter().find(|w| w.name == e.name))
        .map(|w| (w.name.clone(), w.url.expose().to_string()))
        .collect();
    let probed = crate::runtime::block_on(crate::probe::probe(&targets, &ProbeOptions::default()));
    let findings = match probed {
        Ok(findings) => findings,
        Err(e) => {
            // The probe only warns: it never fails the plan, even when it cannot run at all.
            eprintln!("warning: the probe could not run ({e}); no URL was checked.");
            return;
        }
    };
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

/// Saves the plan to `out`, for `apply PLAN` to apply exactly it, once.
fn save(plan: &Plan, opened: &Opened, out: &Path) -> Result<(), Error> {
    let saved = SavedPlan::new(
        opened.account.file.name(),
        &opened.account.config,
        &opened.state,
        opened.state_exists,
        opened.state_name(),
        plan,
    );
    crate::store::local::atomic_write(out, saved.to_json().as_bytes()).map_err(|source| {
        Error::WritePlan {
            path: out.to_path_buf(),
            source,
        }
    })?;
    eprintln!(
        "Saved the plan to {}; `saleshandy-webhooks apply {}` applies exactly it, once.",
        out.display(),
        out.display()
    );
    Ok(())
}
