//! `apply`: create what the plan says is missing, after approval, and report each result.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::api::Api;
use crate::apply::{self, Done, Report};
use crate::cli::{ApiArgs, ApplyArgs, ApplyFormat};
use crate::commands::{load_inputs, Inputs, Outcome, Ui};
use crate::error::Error;
use crate::plan::plan;
use crate::render::text::{Painter, GREEN, MAGENTA, RED, YELLOW};
use crate::render::{self, Context};
use crate::sandbox::{self, SandboxOptions, SANDBOX_API_KEY};
use crate::secret::Secret;

/// How a state names the sandbox, whatever port it ran on.
pub const SANDBOX_ENDPOINT: &str = "sandbox";

pub fn run(args: &ApplyArgs, ui: Ui) -> Result<Outcome, Error> {
    let files = args.config.files()?;
    if files.len() > 1 && args.plan.is_some() {
        return Err(Error::ManyConfigs {
            what: "a saved plan",
        });
    }
    if files.len() > 1 && args.state.state.is_some() {
        return Err(Error::ManyConfigs { what: "--state" });
    }
    let rt = tokio::runtime::Runtime::new().map_err(Error::Runtime)?;
    rt.block_on(run_accounts(&files, args, ui))
}

/// One account, checked and planned, with its state locked, ready to apply.
struct Prepared {
    inputs: Inputs,
    plan: crate::plan::Plan,
    endpoint: String,
    key: Secret,
    state_name: String,
}

/// What became of one account's apply.
struct Applied {
    state_name: String,
    endpoint: String,
    result: Result<Report, Error>,
}

async fn run_accounts(files: &[PathBuf], args: &ApplyArgs, ui: Ui) -> Result<Outcome, Error> {
    let many = files.len() > 1;
    let human = args.format == ApplyFormat::Human;
    // 1. Check and plan every account; nothing is sent until all are planned.
    let mut prepared = Vec::new();
    let mut failed_accounts = 0;
    for file in files {
        match prepare(file, args, ui) {
            Ok(Some(p)) => prepared.push(p),
            Ok(None) => {}
            Err(e) if many => {
                eprintln!("{}: {}", file.display(), crate::app::render_error(&e, ui));
                failed_accounts += 1;
            }
            Err(e) => return Err(e),
        }
    }
    let creates: usize = prepared.iter().map(|p| p.plan.summary.create).sum();
    if creates == 0 {
        return Ok(if failed_accounts > 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        });
    }
    // 2. One approval for the whole run. A saved plan was reviewed when it was made.
    let mut endpoints: Vec<&str> = prepared.iter().map(|p| p.endpoint.as_str()).collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    if args.plan.is_none() && !args.auto_approve && !approved(creates, &endpoints.join(", "))? {
        eprintln!("Apply cancelled: nothing was sent.");
        return Ok(Outcome::Failure);
    }
    // 3. Every account at once, under one limit of requests in flight.
    let sandbox = match args.sandbox {
        true => Some(
            sandbox::start(SandboxOptions::default())
                .await
                .map_err(Error::Runtime)?,
        ),
        false => None,
    };
    let base = sandbox
        .as_ref()
        .map_or_else(|| args.api.api_url.clone(), |s| s.url());
    if human {
        let target = if args.sandbox {
            format!("the embedded sandbox ({base})")
        } else {
            endpoints.join(", ")
        };
        let accounts = if many {
            format!(" for {} accounts", prepared.len())
        } else {
            String::new()
        };
        println!(
            "\nCreating {creates} webhook{}{accounts} in {target}…",
            if creates == 1 { "" } else { "s" }
        );
    }
    let global = Arc::new(tokio::sync::Semaphore::new(args.parallelism.max(1)));
    let progress = crate::progress::Reporter::new(creates, "creating", !human);
    let runs = prepared
        .into_iter()
        .map(|p| execute(p, &base, args, global.clone(), &progress));
    let applied = futures_util::future::join_all(runs).await;
    progress.finish();
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    // 4. Results per account, in order, then the total.
    let mut outcome = if failed_accounts > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let mut total = Totals::default();
    for a in &applied {
        match &a.result {
            Ok(report) => {
                if human {
                    print!("{}", results_text(report, &a.state_name, ui.color_stdout));
                } else {
                    print_json(report, &a.endpoint, &a.state_name, many)?;
                }
                let t = Totals::of(report);
                let paused_fails = t.paused > 0 && args.require_active;
                if t.failed + t.unknown + t.not_sent > 0 || paused_fails {
                    outcome = Outcome::Failure;
                    failed_accounts += 1;
                }
                total.add(&t);
            }
            Err(e) => {
                eprintln!("{}: {}", a.state_name, crate::app::render_error(e, ui));
                outcome = Outcome::Failure;
                failed_accounts += 1;
            }
        }
    }
    if many && human {
        let t = total;
        println!(
            "\nTotal over {} accounts ({failed_accounts} with failures): {} created ({} paused), {} failed, {} unknown, {} not sent.",
            files.len(),
            t.created,
            t.paused,
            t.failed,
            t.unknown,
            t.not_sent
        );
    }
    Ok(outcome)
}

/// Loads, checks and plans one account, printing its plan. `None`: nothing to create.
fn prepare(file: &Path, args: &ApplyArgs, ui: Ui) -> Result<Option<Prepared>, Error> {
    let lock_timeout = Duration::from_secs(args.lock.lock_timeout);
    let mut inputs = load_inputs(file, &args.state, ui, Some(lock_timeout))?;
    // Everything that can refuse the run is checked before anything is sent.
    let (endpoint, key) = if args.sandbox {
        (
            SANDBOX_ENDPOINT.to_string(),
            Secret::new(SANDBOX_API_KEY.into()),
        )
    } else {
        (
            endpoint_of(&args.api),
            account_key(inputs.config.api_key_env.as_deref(), file, &args.api)?,
        )
    };
    let state_name = inputs.state_path.display().to_string();
    check_endpoint(&inputs.state, &state_name, &endpoint)?;
    let saved = match &args.plan {
        Some(path) => Some(read_saved(path)?),
        None => None,
    };
    let human = args.format == ApplyFormat::Human;
    if let Some(saved) = &saved {
        if saved.creates.is_empty() {
            println!("The saved plan has nothing to create: no request was sent.");
            return Ok(None);
        }
        saved.check(
            &inputs.config,
            &inputs.state,
            inputs.state_exists,
            &state_name,
        )?;
        // A plan made before any state existed chose the lineage the state starts with.
        if !inputs.state_exists {
            inputs.state.lineage = saved.state.lineage.clone();
        }
    }
    let plan = plan(&inputs.config, &inputs.state);
    if let Some(saved) = &saved {
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
    if human {
        let ctx = Context {
            config: inputs.file.name(),
            state: &state_name,
            state_exists: inputs.state_exists,
        };
        let options = render::human::Options {
            color: ui.color_stdout,
            verbose: false,
        };
        print!("{}", render::human::render(&plan, &ctx, options));
    }
    if plan.summary.create == 0 {
        if human {
            println!("\nNothing to create: no request was sent.");
        } else {
            let empty = Report {
                results: Vec::new(),
                unauthorized: None,
            };
            print_json(
                &empty,
                &endpoint,
                &state_name,
                args.config.configs.len() > 1,
            )?;
        }
        return Ok(None);
    }
    Ok(Some(Prepared {
        inputs,
        plan,
        endpoint,
        key,
        state_name,
    }))
}

/// Applies one prepared account. Its errors are its own: other accounts go on.
async fn execute(
    p: Prepared,
    base: &str,
    args: &ApplyArgs,
    global: Arc<tokio::sync::Semaphore>,
    progress: &crate::progress::Reporter,
) -> Applied {
    let Prepared {
        inputs,
        plan,
        endpoint,
        key,
        state_name,
    } = p;
    let result = async {
        let api = Api::new(base, key, Duration::from_secs(args.api.timeout.max(1)))?
            .with_max_rps(args.max_rps);
        let mut state = inputs.state;
        let options = apply::Options {
            parallelism: args.parallelism.max(1),
            global: Some(global),
        };
        let run = apply::Run {
            api: &api,
            endpoint: &endpoint,
            options,
            progress,
        };
        let store = crate::store::LocalStore::open(&inputs.state_path)?;
        let report = apply::apply(&inputs.config, &plan, &mut state, &store, run).await?;
        Ok(report)
    }
    .await;
    Applied {
        state_name,
        endpoint,
        result,
    }
}

/// Counts over the results of a run.
#[derive(Default, Clone, Copy)]
struct Totals {
    created: usize,
    paused: usize,
    failed: usize,
    unknown: usize,
    not_sent: usize,
}

impl Totals {
    fn of(report: &Report) -> Totals {
        let mut t = Totals::default();
        for (_, d) in &report.results {
            match d {
                Done::Created { .. } => {
                    t.created += 1;
                    t.paused += usize::from(d.is_paused());
                }
                Done::Failed { .. } => t.failed += 1,
                Done::Unknown { .. } => t.unknown += 1,
                Done::NotSent => t.not_sent += 1,
            }
        }
        t
    }

    fn add(&mut self, o: &Totals) {
        self.created += o.created;
        self.paused += o.paused;
        self.failed += o.failed;
        self.unknown += o.unknown;
        self.not_sent += o.not_sent;
    }
}

/// The key of one account: from its config's `apiKeyEnv` variable when it names one, else
/// from --api-key-file or SALESHANDY_API_KEY.
pub fn account_key(var: Option<&str>, config: &Path, api: &ApiArgs) -> Result<Secret, Error> {
    match var {
        Some(var) => match std::env::var(var) {
            Ok(k) if !k.trim().is_empty() => Ok(Secret::new(k.trim().to_string())),
            _ => Err(Error::MissingAccountKey {
                var: var.to_string(),
                config: config.display().to_string(),
            }),
        },
        None => api_key(api),
    }
}

/// Reads a plan saved by `plan --out`.
fn read_saved(path: &std::path::Path) -> Result<crate::saved_plan::SavedPlan, Error> {
    let read = |reason: String| Error::ReadPlan {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
    crate::saved_plan::SavedPlan::parse(&text).map_err(read)
}

/// How a state names an API: its base URL without a trailing slash.
pub fn endpoint_of(api: &ApiArgs) -> String {
    api.api_url.trim_end_matches('/').to_string()
}

/// Refuses a state that belongs to another endpoint (the sandbox versus the real API).
pub fn check_endpoint(
    state: &crate::state::State,
    state_name: &str,
    endpoint: &str,
) -> Result<(), Error> {
    match &state.endpoint {
        Some(recorded) if recorded != endpoint => Err(Error::EndpointMismatch {
            state: state_name.to_string(),
            recorded: recorded.clone(),
            current: endpoint.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The API key: from --api-key-file, or SALESHANDY_API_KEY. Never from the command line.
pub fn api_key(args: &ApiArgs) -> Result<Secret, Error> {
    let key = match &args.api_key_file {
        Some(path) => std::fs::read_to_string(path).map_err(|source| Error::ApiKeyFile {
            path: path.clone(),
            source,
        })?,
        None => std::env::var("SALESHANDY_API_KEY").unwrap_or_default(),
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::MissingApiKey);
    }
    Ok(Secret::new(key.to_string()))
}

/// Asks on the terminal; without one, refuses.
fn approved(creates: usize, endpoint: &str) -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NotApproved);
    }
    eprint!(
        "\nCreate {creates} webhook(s) in {endpoint}? The API cannot delete them afterwards.\nOnly 'yes' will be accepted: "
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
pub fn results_text(report: &Report, state: &str, color: bool) -> String {
    let painter = Painter(color);
    let paint = |style: &str, s: &str| painter.paint(style, s);
    let mut out = String::from("\n");
    let (mut created, mut paused, mut failed, mut unknown, mut not_sent) = (0, 0, 0, 0, 0);
    for (name, done) in &report.results {
        let line = match done {
            Done::Created { id, status } if status == "paused" => {
                paused += 1;
                created += 1;
                format!(
                    "  {} {name}  created but PAUSED, id {id}\n      Saleshandy's test delivery to its URL failed: the webhook exists but delivers nothing\n      until the URL answers and the webhook is resumed in Saleshandy.\n",
                    paint(YELLOW, "!")
                )
            }
            Done::Created { id, .. } => {
                created += 1;
                format!("  {} {name}  created, id {id}\n", paint(GREEN, "✓"))
            }
            Done::Failed { reason } => {
                failed += 1;
                format!("  {} {name}  failed: {reason}\n      Nothing was created; fix the cause and apply again.\n", paint(RED, "✗"))
            }
            Done::Unknown { reason } => {
                unknown += 1;
                format!(
                    "  {} {name}  unknown: {reason}\n      The webhook may exist. It was recorded as unknown and will not be sent again on its own:\n      `saleshandy-webhooks plan` says how to resolve it (state import / state rm).\n",
                    paint(MAGENTA, "?")
                )
            }
            Done::NotSent => {
                not_sent += 1;
                format!("  - {name}  not sent (the run stopped)\n")
            }
        };
        out.push_str(&line);
    }
    if let Some((status, message)) = &report.unauthorized {
        let _ = writeln!(
            out,
            "\n{} the API refused the key (HTTP {status}: {message}). Check SALESHANDY_API_KEY (or --api-key-file); no further request was sent.",
            paint(RED, "Stopped:")
        );
    }
    let _ = writeln!(
        out,
        "\nApply: {created} created ({paused} paused), {failed} failed, {unknown} unknown, {not_sent} not sent. State: {state}"
    );
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format_version: u32,
    endpoint: &'a str,
    state: &'a str,
    webhooks: Vec<JsonResult<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unauthorized: Option<String>,
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

/// Prints one account's results as JSON: pretty, or one compact line per account (`lines`).
fn print_json(report: &Report, endpoint: &str, state: &str, lines: bool) -> Result<(), Error> {
    let doc = JsonReport {
        format_version: 1,
        endpoint,
        state,
        webhooks: report
            .results
            .iter()
            .map(|(name, d)| {
                let (result, id, reason) = match d {
                    Done::Created { id, status } if status == "paused" => {
                        ("paused", Some(id.as_str()), None)
                    }
                    Done::Created { id, .. } => ("created", Some(id.as_str()), None),
                    Done::Failed { reason } => ("failed", None, Some(reason.as_str())),
                    Done::Unknown { reason } => ("unknown", None, Some(reason.as_str())),
                    Done::NotSent => ("not_sent", None, None),
                };
                JsonResult {
                    name,
                    result,
                    id,
                    reason,
                }
            })
            .collect(),
        unauthorized: report
            .unauthorized
            .as_ref()
            .map(|(s, m)| format!("HTTP {s}: {m}")),
    };
    let mut text = if lines {
        serde_json::to_string(&doc)
    } else {
        serde_json::to_string_pretty(&doc)
    }
    .unwrap_or_default();
    text.push('\n');
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Stdout)
}
