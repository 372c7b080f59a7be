//! `apply`: create what the plan says is missing, after approval, and report each result.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::account::{Account, Opened, Rehearsal, Target};
use crate::accounts::Accounts;
use crate::api::Api;
use crate::cli::{ApplyArgs, ApplyFormat, ConfigsArgs, DEFAULT_CONFIG};
use crate::error::Error;
use crate::execute::{self, Done, Report, Tally};
use crate::interrupt::{Signal, Stop};
use crate::outcome::Outcome;
use crate::planner::{plan, Plan};
use crate::render::text::{paragraph, Painter, GREEN, MAGENTA, RED, YELLOW};
use crate::render::{self, Context};
use crate::saved_plan::{SavedPlan, Stale, STDIN_NAME};
use crate::secret::Secret;
use crate::terminal_text::{printable, printable_line};
use crate::ui::Ui;

pub(crate) fn run(args: &ApplyArgs, ui: Ui) -> Result<Outcome, Error> {
    let single_only = [("a saved plan", args.plan.is_some())];
    let given = &args.config.configs;
    let read = || args.plan.as_deref().map(SavedPlan::read).transpose();
    let (accounts, saved) = if given.is_empty() {
        let saved = read()?;
        let configs = ConfigsArgs {
            configs: vec![default_config(saved.as_ref())?],
        };
        let accounts = Accounts::with_states(&configs, &args.state, &single_only, ui)?;
        (accounts, saved)
    } else {
        // Several configs with a saved plan are refused here, before it is read.
        let configs = ConfigsArgs {
            configs: given.clone(),
        };
        let accounts = Accounts::with_states(&configs, &args.state, &single_only, ui)?;
        let saved = read()?;
        if let (Some(saved), [one]) = (&saved, given.as_slice()) {
            check_config(saved, one)?;
        }
        (accounts, saved)
    };
    crate::runtime::block_on(run_accounts(&accounts, saved.as_ref(), args, ui))?
}

/// The config of a run without `-c`: a saved plan's own (one read on standard input must be
/// given again), else `webhooks.yaml`.
fn default_config(saved: Option<&SavedPlan>) -> Result<PathBuf, Error> {
    match saved {
        None => Ok(PathBuf::from(DEFAULT_CONFIG)),
        Some(saved) if saved.config == STDIN_NAME => Err(Stale::PlannedFromStdin.into()),
        Some(saved) => Ok(PathBuf::from(&saved.config)),
    }
}

/// Refuses a config given with `-c` that is not the one the saved plan was made from.
fn check_config(saved: &SavedPlan, given: &Path) -> Result<(), Error> {
    if saved.config == STDIN_NAME && given != Path::new("-") {
        return Err(Stale::StdinNotFile {
            now: given.display().to_string(),
        }
        .into());
    }
    if !same_config(given, &saved.config) {
        return Err(Stale::OtherConfig {
            planned: saved.config.clone(),
            now: given.display().to_string(),
        }
        .into());
    }
    Ok(())
}

/// Whether `given` names the config a plan recorded as `planned` (standard input as such).
fn same_config(given: &Path, planned: &str) -> bool {
    if given == Path::new("-") || planned == STDIN_NAME {
        return given == Path::new("-") && planned == STDIN_NAME;
    }
    let planned = Path::new(planned);
    match (given.canonicalize(), planned.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => given == planned,
    }
}

/// One account, checked and planned, with its state locked, ready to apply.
struct Prepared {
    opened: Opened,
    plan: Plan,
    endpoint: String,
    key: Secret,
    state_name: String,
    /// With `--sandbox`: the account's sandbox.
    rehearsal: Option<Rehearsal>,
}

/// What became of one account's apply.
struct Applied {
    state_name: String,
    endpoint: String,
    result: Result<Report, Error>,
}

async fn run_accounts(
    accounts: &Accounts,
    saved: Option<&SavedPlan>,
    args: &ApplyArgs,
    ui: Ui,
) -> Result<Outcome, Error> {
    // 1. Check and plan every account; nothing is sent until all are planned.
    let planned = accounts.try_each(|file| prepare(file, saved, args, ui, accounts))?;
    let failed = planned.iter().filter(|p| p.is_none()).count();
    let prepared: Vec<Prepared> = planned.into_iter().flatten().flatten().collect();
    let creates: usize = prepared.iter().map(|p| p.plan.summary.create).sum();
    if creates == 0 {
        return Ok(failure_if(failed > 0));
    }
    // 2. One approval for the whole run. A saved plan was reviewed when it was made.
    let mut endpoints: Vec<&str> = prepared.iter().map(|p| p.endpoint.as_str()).collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    let endpoints = endpoints.join(", ");
    if args.plan.is_none() && !args.auto_approve && !approved(creates, &endpoints)? {
        eprintln!("Apply cancelled: nothing was sent.");
        return Ok(Outcome::Failure);
    }
    // 3. Every account at once, under one limit of requests in flight; a signal stops them all.
    let (applied, interrupted) = execute_all(prepared, creates, &endpoints, accounts, args).await?;
    // 4. Results per account, in order, then the total.
    report_all(&applied, failed, interrupted, accounts, args, ui)
}

fn failure_if(failed: bool) -> Outcome {
    if failed {
        Outcome::Failure
    } else {
        Outcome::Success
    }
}

/// Sends the creates of every prepared account at once (with `--sandbox`, each to its own
/// account's sandbox), and waits for them all; a signal meanwhile stops them gracefully
/// ([`crate::interrupt`]) and is returned.
async fn execute_all(
    prepared: Vec<Prepared>,
    creates: usize,
    endpoints: &str,
    accounts: &Accounts,
    args: &ApplyArgs,
) -> Result<(Vec<Applied>, Option<Signal>), Error> {
    let human = args.format == ApplyFormat::Human;
    if human {
        let rehearsals: Vec<&Rehearsal> = prepared
            .iter()
            .filter_map(|p| p.rehearsal.as_ref())
            .collect();
        let target = match rehearsals.as_slice() {
            [] => endpoints.to_string(),
            [one] => one.describe(),
            _ => "the embedded sandbox (each account's kept beside its state)".to_string(),
        };
        let for_accounts = if accounts.many() {
            format!(
                " for {}",
                crate::render::text::count(prepared.len(), "account")
            )
        } else {
            String::new()
        };
        println!(
            "\nCreating {creates} webhook{}{for_accounts} in {target}…",
            if creates == 1 { "" } else { "s" }
        );
    }
    let global = Arc::new(tokio::sync::Semaphore::new(args.parallelism.max(1)));
    let progress = crate::progress::Reporter::new(creates, "creating", !human);
    // Only now, with the plan approved and the creates about to go: before, a signal kills.
    let stop = crate::interrupt::arm(progress.notice())?;
    let mut rehearsals = Vec::new();
    let runs = prepared.into_iter().map(|mut p| {
        let base = match p.rehearsal.take() {
            Some(r) => {
                let url = r.url();
                rehearsals.push(r);
                url
            }
            None => args.api.api_url.clone(),
        };
        let global = global.clone();
        let (progress, stop) = (&progress, &stop);
        async move { execute(p, &base, args, global, progress, stop).await }
    });
    let runs: Vec<_> = runs.collect();
    let mut applied = futures_util::future::join_all(runs).await;
    let interrupted = stop.finish();
    progress.finish();
    for r in rehearsals {
        r.finish().await;
    }
    // The stop is the whole run's: an account that was done sending before it still ends in
    // an interrupted run.
    for report in applied.iter_mut().filter_map(|a| a.result.as_mut().ok()) {
        report.interrupted = report.interrupted.or(interrupted);
    }
    Ok((applied, interrupted))
}

/// Prints each account's results in order, then (with several) the total.
fn report_all(
    applied: &[Applied],
    mut failed: usize,
    interrupted: Option<Signal>,
    accounts: &Accounts,
    args: &ApplyArgs,
    ui: Ui,
) -> Result<Outcome, Error> {
    let human = args.format == ApplyFormat::Human;
    let mut outcome = failure_if(failed > 0);
    let mut total = Tally::default();
    for a in applied {
        match &a.result {
            Ok(report) => {
                let kept = keep_unrecorded(report, &a.state_name);
                if human {
                    print!(
                        "{}",
                        results_text(report, &a.state_name, ui.color_stdout, ui.width_stdout)
                    );
                    if let Some(note) = kept {
                        println!("{note}");
                    }
                } else {
                    accounts.print_json(&json_report(report, &a.endpoint, &a.state_name))?;
                }
                let t = report.tally();
                let paused_fails = t.paused > 0 && args.require_active;
                if t.fell_short() || paused_fails {
                    outcome = Outcome::Failure;
                    failed += 1;
                }
                total.add(&t);
            }
            Err(e) => {
                accounts.print_error(&a.state_name, e);
                outcome = Outcome::Failure;
                failed += 1;
            }
        }
    }
    if human {
        accounts.print_total(|n| {
            format!("\nTotal over {n} accounts ({failed} with failures): {total}.")
        });
    }
    if let Some(signal) = interrupted {
        if human {
            print!("{}", interrupted_text(signal, &total));
        }
        outcome = outcome.worse(Outcome::Interrupted(signal));
    }
    Ok(outcome)
}

/// What a run stopped by `signal` did, and what to do next.
fn interrupted_text(signal: Signal, total: &Tally) -> String {
    let mut out = format!(
        "\nInterrupted by {}: no create was sent after it. {} created, {} failed, {} unknown, {} not sent.\n",
        signal.name(),
        total.created,
        total.failed,
        total.unknown,
        total.not_sent
    );
    if total.not_sent > 0 {
        out.push_str(
            "Not sent: nothing was created for them; run the same apply again to create them.\n",
        );
    }
    if total.unknown > 0 {
        out.push_str("Unknown: each may exist and will not be sent again on its own; `saleshandy-webhooks plan` says how to resolve it (state import / state rm).\n");
    }
    out
}

/// Loads, checks and plans one account, printing its plan. `None`: nothing to create.
fn prepare(
    file: &Path,
    saved: Option<&SavedPlan>,
    args: &ApplyArgs,
    ui: Ui,
    accounts: &Accounts,
) -> Result<Option<Prepared>, Error> {
    // A saved plan applies to the state it was made against, wherever that is kept.
    let mut state_args = args.state.clone();
    if let Some(location) = saved.and_then(|s| s.state.location.clone()) {
        state_args.state.get_or_insert(location);
    }
    let mut opened = Account::open(file, &state_args, ui)?.read_state(Some(args.lock.locking()))?;
    // Everything that can refuse the run is checked before anything is sent.
    let target = if args.sandbox {
        Target::Sandbox
    } else {
        Target::Api(&args.api)
    };
    let endpoint = target.endpoint()?;
    let key = opened.account.key(&target)?;
    let state_name = opened.state_name();
    opened.check_endpoint(&endpoint)?;
    if let Some(saved) = saved {
        if let Some(planned) = &saved.state.location {
            let args = crate::cli::StateArgs {
                state: Some(planned.clone()),
            };
            let planned_file = crate::account::StateFile::of(file, &args, None)?;
            if planned_file.identity() != opened.account.state_file.identity() {
                return Err(crate::saved_plan::Stale::OtherLocation {
                    planned: planned.clone(),
                    now: state_name,
                }
                .into());
            }
        }
        if saved.creates.is_empty() {
            if args.format == ApplyFormat::Human {
                println!("The saved plan has nothing to create: no request was sent.");
            } else {
                print_empty_results(&endpoint, &state_name, accounts)?;
            }
            return Ok(None);
        }
        check_saved(saved, &mut opened)?;
    }
    let plan = plan(&opened.account.config, &opened.state);
    if let Some(saved) = saved {
        let now: Vec<&str> = plan.creates().map(|e| e.name.as_str()).collect();
        if now != saved.creates.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(crate::saved_plan::Stale::ConfigChanged.into());
        }
    }
    if let Some(max) = args.max_creates {
        if plan.summary.create > max {
            return Err(Error::TooManyCreates {
                creates: plan.summary.create,
                max,
            });
        }
    }
    show_plan(&plan, &opened, &endpoint, accounts, args, ui)?;
    if plan.summary.create == 0 {
        return Ok(None);
    }
    // Its sandbox, kept beside its state, is started (or found serving) before approval: a
    // sandbox file that cannot be used refuses the run before anything is sent.
    let rehearsal = match args.sandbox {
        true => Some(
            crate::runtime::wait(Rehearsal::attach(&opened.account.sandbox_file()))
                .map_err(Error::Runtime)??,
        ),
        false => None,
    };
    Ok(Some(Prepared {
        opened,
        plan,
        endpoint,
        key,
        state_name,
        rehearsal,
    }))
}

/// Refuses a saved plan made against another state or config. A plan made before any state
/// existed chose the lineage the state starts with.
fn check_saved(saved: &SavedPlan, opened: &mut Opened) -> Result<(), Error> {
    let state_name = opened.state_name();
    saved.check(
        &opened.account.config,
        &opened.state,
        opened.read_serial,
        opened.state_exists,
        &state_name,
    )?;
    if !opened.state_exists {
        opened.state.lineage = saved.state.lineage.clone();
    }
    Ok(())
}

/// Prints one account's plan (human), or, with nothing to create, its empty results.
fn show_plan(
    plan: &Plan,
    opened: &Opened,
    endpoint: &str,
    accounts: &Accounts,
    args: &ApplyArgs,
    ui: Ui,
) -> Result<(), Error> {
    let human = args.format == ApplyFormat::Human;
    let state_name = opened.state_name();
    if human {
        let ctx = Context {
            config: opened.account.file.name(),
            state: &state_name,
            state_exists: opened.state_exists,
        };
        let options = render::human::Options {
            color: ui.color_stdout,
            verbose: false,
            width: ui.width_stdout,
        };
        print!("{}", render::human::render(plan, &ctx, options));
    }
    if plan.summary.create > 0 {
        return Ok(());
    }
    if human {
        println!("\nNothing to create: no request was sent.");
        return Ok(());
    }
    print_empty_results(endpoint, &state_name, accounts)
}

/// The JSON results of an account with nothing to create.
fn print_empty_results(endpoint: &str, state_name: &str, accounts: &Accounts) -> Result<(), Error> {
    let empty = Report {
        results: Vec::new(),
        unauthorized: None,
        stopped: None,
        unrecorded: Vec::new(),
        interrupted: None,
    };
    accounts.print_json(&json_report(&empty, endpoint, state_name))
}

/// Applies one prepared account. Its errors are its own: other accounts go on.
async fn execute(
    p: Prepared,
    base: &str,
    args: &ApplyArgs,
    global: Arc<tokio::sync::Semaphore>,
    progress: &crate::progress::Reporter,
    stop: &Stop,
) -> Applied {
    let Prepared {
        opened,
        plan,
        endpoint,
        key,
        state_name,
        ..
    } = p;
    let result = async {
        let api = Api::new(base, key, Duration::from_secs(args.api.timeout.max(1)))?
            .with_max_rps(args.max_rps)
            .with_secrets(opened.account.config.secrets());
        let mut state = opened.state;
        let options = execute::Options {
            parallelism: args.parallelism.max(1),
            global: Some(global),
        };
        let run = execute::Run {
            api: &api,
            endpoint: &endpoint,
            options,
            progress,
            lock: opened.lock.as_ref(),
            stop,
        };
        let config = &opened.account.config;
        let report = execute::apply(config, &plan, &mut state, opened.store.as_ref(), run).await?;
        Ok(report)
    }
    .await;
    Applied {
        state_name,
        endpoint,
        result,
    }
}

/// Asks on the terminal; without one, refuses.
fn approved(creates: usize, endpoint: &str) -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NotApproved);
    }
    eprint!(
        "\nCreate {} in {endpoint}? The API cannot delete {} afterwards.\nOnly 'yes' will be accepted: ",
        crate::render::text::count(creates, "webhook"),
        if creates == 1 { "it" } else { "them" }
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::Stdout)?;
    Ok(answer.trim() == "yes")
}

/// One line per planned create, then a summary.
fn results_text(report: &Report, state: &str, color: bool, width: Option<usize>) -> String {
    let painter = Painter(color);
    let paint = |style: &str, s: &str| painter.paint(style, s);
    let mut out = String::from("\n");
    for (name, done) in &report.results {
        let line = match done {
            Done::Created { id, .. } if done.is_paused() => {
                format!(
                    "  {} {name}  created but PAUSED, id {id}\n{}",
                    paint(YELLOW, "!"),
                    paragraph("Saleshandy's test delivery to its URL failed: the webhook exists but delivers nothing until the URL answers and the webhook is resumed in Saleshandy.", "      ", width)
                )
            }
            Done::Created { id, .. } => {
                format!("  {} {name}  created, id {id}\n", paint(GREEN, "✓"))
            }
            Done::Failed { reason } => {
                format!(
                    "  {} {name}  failed: {}\n{}",
                    paint(RED, "✗"),
                    printable_line(reason),
                    paragraph(
                        "Nothing was created; fix the cause and apply again.",
                        "      ",
                        width
                    )
                )
            }
            Done::Unknown { reason } => {
                format!(
                    "  {} {name}  unknown: {}\n{}",
                    paint(MAGENTA, "?"),
                    printable_line(reason),
                    paragraph("The webhook may exist. It was recorded as unknown and will not be sent again on its own: `saleshandy-webhooks plan` says how to resolve it (state import / state rm).", "      ", width)
                )
            }
            Done::NotSent => format!("  - {name}  not sent (the run stopped)\n"),
        };
        out.push_str(&line);
    }
    if let Some((status, message)) = &report.unauthorized {
        let _ = writeln!(
            out,
            "\n{} the API refused the key (HTTP {status}: {}). Check SALESHANDY_API_KEY (or --api-key-file); no further request was sent.",
            paint(RED, "Stopped:"),
            printable_line(message)
        );
    }
    if let Some(why) = &report.stopped {
        let _ = writeln!(
            out,
            "\n{} {}\nNo further create was sent.",
            paint(RED, "Stopped:"),
            printable(why)
        );
    }
    let lines = import_lines(report, state);
    if !lines.is_empty() {
        let _ = writeln!(
            out,
            "\nThese ids arrived but could not be recorded in {state}. Record each once the state can be written again:"
        );
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
    }
    let recorded = report
        .results
        .iter()
        .any(|(_, d)| matches!(d, Done::Created { .. } | Done::Unknown { .. }));
    let state_line = match (recorded, report.unrecorded.is_empty()) {
        (false, _) => format!("State: not written (nothing to record): {state} is unchanged."),
        (true, false) => format!("State: {state} could not be written (see above)."),
        (true, true) => format!("State: {state}"),
    };
    let _ = writeln!(out, "\nApply: {}. {state_line}", report.tally());
    out
}

/// The `state import` lines that record each id the state could not take.
fn import_lines(report: &Report, state: &str) -> Vec<String> {
    report
        .unrecorded
        .iter()
        .filter_map(
            |name| match report.results.iter().find(|(n, _)| n == name) {
                Some((_, Done::Created { id, .. })) => Some(format!(
                    "saleshandy-webhooks state import {} {} --state {}",
                    shell_word(name),
                    shell_word(id),
                    shell_word(state)
                )),
                _ => None,
            },
        )
        .collect()
}

/// Appends the ids the state could not take, as the commands that record them, to a file in
/// the current directory, so that they outlive the terminal; says where (or why not).
fn keep_unrecorded(report: &Report, state: &str) -> Option<String> {
    use std::io::Write;
    let lines = import_lines(report, state);
    if lines.is_empty() {
        return None;
    }
    let base = state.rsplit('/').next().unwrap_or(state);
    let path = format!("{base}.unrecorded.sh");
    let mut text = format!(
        "# Ids that arrived but could not be recorded in {state}, at {}. Run these once it can be written again.\n",
        crate::execute::now()
    );
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()));
    Some(match written {
        Ok(()) => format!("The same lines were appended to ./{path}."),
        Err(e) => format!("They could not be kept in ./{path} either ({e}): copy them from here."),
    })
}

/// `s` as one word for a POSIX shell.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", printable_line(s).replace('\'', "'\\''"))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format_version: u32,
    endpoint: &'a str,
    state: &'a str,
    webhooks: Vec<JsonResult<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unauthorized: Option<String>,
    /// Why the run stopped sending creates (the store or the lock failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<&'a str>,
    /// Names whose answer arrived but could not be recorded in the state.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    unrecorded: &'a [String],
    /// `SIGINT` or `SIGTERM` when a signal stopped the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    name: &'a str,
    /// created, paused, failed, unknown or not_sent.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// One account's results as `--format json` shows them.
fn json_report<'a>(report: &'a Report, endpoint: &'a str, state: &'a str) -> JsonReport<'a> {
    JsonReport {
        format_version: 1,
        endpoint,
        state,
        webhooks: report
            .results
            .iter()
            .map(|(name, d)| {
                let (id, reason) = match d {
                    Done::Created { id, .. } => (Some(id.as_str()), None),
                    Done::Failed { reason } | Done::Unknown { reason } => {
                        (None, Some(reason.as_str()))
                    }
                    Done::NotSent => (None, None),
                };
                JsonResult {
                    name,
                    result: d.result(),
                    id,
                    reason,
                }
            })
            .collect(),
        unauthorized: report
            .unauthorized
            .as_ref()
            .map(|(s, m)| format!("HTTP {s}: {m}")),
        stopped: report.stopped.as_deref(),
        unrecorded: &report.unrecorded,
        interrupted: report.interrupted.map(Signal::name),
    }
}
