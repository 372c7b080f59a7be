//! `status`: live status and drift of every webhook the state knows.
//!
//! Reads each recorded webhook with `GET /v1/webhook/{id}` (at most `--parallelism` at once)
//! and reports it. Without `--update-state` nothing is written, not even a replayed journal;
//! with it, the state is locked before it is read and saved once at the end.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::account::{Account, Opened, Rehearsal, Target};
use crate::accounts::{Accounts, Doc};
use crate::api::Api;
use crate::cli::{StatusArgs, StatusFormat};
use crate::error::Error;
use crate::live::{check_all, record, Report};
use crate::outcome::Outcome;
use crate::render::budget::LIMIT;
use crate::render::status_report::{self as render, Context};
use crate::state::StateError;
use crate::ui::Ui;

pub(crate) fn run(args: &StatusArgs, ui: Ui) -> Result<Outcome, Error> {
    let accounts = Accounts::with_states(&args.config, &args.state, &[], ui)?;
    // Each account's share of one comment, as for `plan --format markdown`.
    let share = LIMIT / accounts.len().max(1);
    accounts.each(|config| {
        let checked = check(config, args, ui)?;
        let ctx = Context {
            state: &checked.state_name,
            endpoint: &checked.endpoint,
            checked_at: &checked.checked_at,
            state_updated: checked.state_updated,
        };
        let report = &checked.report;
        accounts.print(match args.format {
            StatusFormat::Human => Doc::Plain(render::human(
                report,
                &ctx,
                ui.color_stdout,
                ui.width_stdout,
            )),
            StatusFormat::Json => Doc::Json(render::json(report, &ctx)),
            StatusFormat::Markdown => Doc::Plain(render::markdown_within(report, &ctx, share)),
        })?;
        let s = &report.summary;
        Ok(if s.unreadable > 0 {
            // The report is incomplete: that is an error whatever the flags.
            Outcome::Failure
        } else if args.detailed_exitcode && s.needs_attention() {
            Outcome::Changes
        } else {
            Outcome::Success
        })
    })
}

/// One account's live check, and what it wrote.
struct Checked {
    report: Report,
    state_name: String,
    endpoint: String,
    checked_at: String,
    state_updated: bool,
}

/// Reads every webhook one account's state knows, recording what was found with
/// `--update-state`.
fn check(config: &Path, args: &StatusArgs, ui: Ui) -> Result<Checked, Error> {
    // Everything that can refuse the run is checked before anything is sent.
    let target = match args.sandbox {
        true => Target::Sandbox,
        false => Target::Api(&args.api),
    };
    let endpoint = target.endpoint()?;
    let account = Account::open(config, &args.state, ui)?;
    let key = account.key(&target)?;
    let locking = args.update_state.then(|| args.lock.locking());
    let mut opened = account.read_state(locking)?;
    let state_name = opened.state_name();
    if !opened.state_exists {
        return Err(StateError::Read {
            path: state_name,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "there is no state file, so no webhook to check (apply writes it)",
            ),
        }
        .into());
    }
    opened.check_endpoint(&endpoint)?;
    let sandbox_file = args.sandbox.then(|| opened.account.sandbox_file());
    let secrets = opened.account.config.secrets();
    let timeout = Duration::from_secs(args.api.timeout.max(1));
    let checks = crate::runtime::block_on(async {
        let rehearsal = match &sandbox_file {
            Some(file) => Some(Rehearsal::attach_existing(file).await?),
            None => None,
        };
        let base = rehearsal
            .as_ref()
            .map_or_else(|| args.api.api_url.clone(), Rehearsal::url);
        let api = Api::new(&base, key, timeout)?.with_secrets(secrets);
        let checks = check_all(Arc::new(api), &opened.state, args.parallelism).await;
        if let Some(r) = rehearsal {
            r.finish().await;
        }
        Ok::<_, Error>(checks)
    })??
    .map_err(|r| Error::StatusRefused {
        status: r.status,
        message: r.message,
    })?;
    let checked_at = crate::execute::now();
    let report = Report::new(checks, &opened.state);
    let state_updated = args.update_state && save_checks(&mut opened, &report, &checked_at)?;
    Ok(Checked {
        report,
        state_name,
        endpoint,
        checked_at,
        state_updated,
    })
}

/// Records the live checks in the state; saves it only if that changed anything, and says
/// whether it did.
fn save_checks(opened: &mut Opened, report: &Report, checked_at: &str) -> Result<bool, Error> {
    let before = opened.state.clone();
    record(&mut opened.state, &report.checks, checked_at);
    if opened.state == before {
        return Ok(false);
    }
    opened.save()?;
    Ok(true)
}
