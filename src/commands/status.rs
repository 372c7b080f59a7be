//! `status`: live status and drift of every webhook the state knows.
//!
//! Reads each recorded webhook with `GET /v1/webhook/{id}` (at most `--parallelism` at once)
//! and reports it. Without `--update-state` nothing is written, not even a replayed journal;
//! with it, the state is locked before it is read and saved once at the end.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::api::Api;
use crate::cli::{StatusArgs, StatusFormat};
use crate::commands::apply::{account_key, check_endpoint, endpoint_of};
use crate::commands::{for_each_account, load_state, read_source};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::render::status::{self as render, Context};
use crate::state::StateError;
use crate::status::{check_all, record, Report};
use crate::ui::Ui;

pub fn run(args: &StatusArgs, ui: Ui) -> Result<Outcome, Error> {
    let files = args.config.files()?;
    if files.len() > 1 && args.state.state.is_some() {
        return Err(Error::ManyConfigs { what: "--state" });
    }
    let many = files.len() > 1;
    for_each_account(&files, ui, |config| run_one(config, args, ui, many))
}

/// The `apiKeyEnv` of a config, when the file reads as a valid config.
fn key_var(config: &Path) -> Option<String> {
    let file = read_source(config).ok()?;
    crate::config::load(file.text(), &crate::config::process_env)
        .config?
        .api_key_env
}

/// Checks one account; with `many`, JSON is one compact line per account.
fn run_one(config: &Path, args: &StatusArgs, ui: Ui, many: bool) -> Result<Outcome, Error> {
    // Everything that can refuse the run is checked before anything is sent.
    let endpoint = endpoint_of(&args.api);
    let key = account_key(key_var(config).as_deref(), config, &args.api)?;
    let path = args
        .state
        .state
        .clone()
        .unwrap_or_else(|| crate::state::default_path(config));
    let state_name = path.display().to_string();
    let lock_timeout = args
        .update_state
        .then(|| Duration::from_secs(args.lock.lock_timeout));
    let (mut state, exists, _lock) = load_state(&path, lock_timeout)?;
    if !exists {
        return Err(StateError::Read {
            path: state_name,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "there is no state file, so no webhook to check (apply writes it)",
            ),
        }
        .into());
    }
    check_endpoint(&state, &state_name, &endpoint)?;
    let api = Api::new(
        &args.api.api_url,
        key,
        Duration::from_secs(args.api.timeout.max(1)),
    )?;

    let rt = tokio::runtime::Runtime::new().map_err(Error::Runtime)?;
    let checks = rt
        .block_on(check_all(Arc::new(api), &state, args.parallelism))
        .map_err(|r| Error::StatusRefused {
            status: r.status,
            message: r.message,
        })?;
    let checked_at = crate::apply::now();
    let report = Report::new(checks, &state);

    let mut state_updated = false;
    if args.update_state {
        let before = state.clone();
        record(&mut state, &report.checks, &checked_at);
        if state != before {
            state.save(&path)?;
            state_updated = true;
        }
    }

    let ctx = Context {
        state: &state_name,
        endpoint: &endpoint,
        checked_at: &checked_at,
        state_updated,
    };
    let text = match args.format {
        StatusFormat::Human => render::human(&report, &ctx, ui.color_stdout),
        StatusFormat::Json if many => {
            let doc: serde_json::Value =
                serde_json::from_str(&render::json(&report, &ctx)).unwrap_or_default();
            format!("{doc}\n")
        }
        StatusFormat::Json => render::json(&report, &ctx),
        StatusFormat::Markdown => render::markdown(&report, &ctx),
    };
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(Error::Stdout)?;
    }

    let s = &report.summary;
    Ok(if s.unreadable > 0 {
        // The report is incomplete: that is an error whatever the flags.
        Outcome::Failure
    } else if args.detailed_exitcode && s.needs_attention() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
