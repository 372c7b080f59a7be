//! `state import`, `state mv` and `state rm`: resolve unknown, changed, renamed and orphaned
//! entries by hand, under the lock.

use std::time::Duration;

use crate::account::{Account, Opened, Rehearsal, StateFile, Target};
use crate::api::{Api, GetOutcome, Live};
use crate::cli::{ImportArgs, MvArgs, RmArgs};
use crate::config::Webhook;
use crate::error::Error;
use crate::live::Drift;
use crate::outcome::Outcome;
use crate::secret::{fingerprint, Secret};
use crate::server_text::Redactor;
use crate::state::{Field, Fingerprint, Recorded, Sent, Stored, WebhookStatus};
use crate::ui::Ui;

pub(crate) fn import(args: &ImportArgs, ui: Ui) -> Result<Outcome, Error> {
    crate::runtime::block_on(import_one(args, ui))?
}

async fn import_one(args: &ImportArgs, ui: Ui) -> Result<Outcome, Error> {
    let target = match args.sandbox {
        true => Target::Sandbox,
        false => Target::Api(&args.api),
    };
    let endpoint = target.endpoint()?;
    let mut opened = Account::open(&args.config.config, &args.state, ui)?
        .read_state(Some(args.lock.locking()))?;
    let key = opened.account.key(&target)?;
    opened.check_endpoint(&endpoint)?;
    let refresh = match opened.state.webhooks.get(&args.name) {
        Some(r) if r.id == args.id => true,
        Some(r) => {
            return Err(Error::AlreadyRecorded {
                name: args.name.clone(),
                recorded: r.id.clone(),
                id: args.id.clone(),
            })
        }
        None => false,
    };
    if !refresh && !crate::api::is_plausible_id(&args.id) {
        return Err(Error::ImportFailed {
            id: args.id.clone(),
            reason: "an id is the letters and digits Saleshandy shows for the webhook (24 hex characters)".into(),
        });
    }
    let taken = opened
        .state
        .webhooks
        .iter()
        .find(|(n, r)| r.id == args.id && **n != args.name);
    if let Some((other, _)) = taken {
        return Err(Error::IdTaken {
            id: args.id.clone(),
            name: other.clone(),
        });
    }
    let rehearsal = match args.sandbox {
        true => Some(Rehearsal::attach_existing(&opened.account.sandbox_file()).await?),
        false => None,
    };
    let base = rehearsal
        .as_ref()
        .map_or_else(|| args.api.api_url.clone(), Rehearsal::url);
    let api = Api::new(&base, key, Duration::from_secs(args.api.timeout.max(1)))?
        .with_secrets(opened.account.config.secrets());
    let live = read_live(&api, &args.id).await;
    if let Some(r) = rehearsal {
        r.finish().await;
    }
    let live = live?;
    let shown_name = api.redactor().clean(&live.name);
    if refresh {
        record_refresh(&mut opened, &live, &shown_name, api.redactor(), &args.name)?;
    } else {
        record_import(&mut opened, &live, &shown_name, endpoint, &args.name)?;
    }
    Ok(Outcome::Success)
}

/// The webhook `id` as the API holds it; any other answer is an error that changes nothing.
async fn read_live(api: &Api, id: &str) -> Result<Live, Error> {
    match api.get(id).await {
        GetOutcome::Found(live) => Ok(*live),
        GetOutcome::NotFound => Err(Error::ImportNotFound { id: id.to_string() }),
        GetOutcome::Unauthorized { status, message } => Err(Error::ImportFailed {
            id: id.to_string(),
            reason: format!(
                "the API refused the key (HTTP {status}: {message}); check SALESHANDY_API_KEY"
            ),
        }),
        GetOutcome::Failed { reason } => Err(Error::ImportFailed {
            id: id.to_string(),
            reason,
        }),
    }
}

/// Records `live` under `name` (resolving an unknown entry), saves the state, and says how
/// it compares with the config.
fn record_import(
    opened: &mut Opened,
    live: &Live,
    shown_name: &str,
    endpoint: String,
    name: &str,
) -> Result<(), Error> {
    let state = &mut opened.state;
    let desired = opened
        .account
        .config
        .webhooks
        .iter()
        .find(|w| w.name == name);
    let sent = sent_from_live(live, desired, &state.lineage);
    let differences = desired.map(|d| sent.differences(&Sent::from_webhook(d, &state.lineage)));
    let status = live.status.clone().unwrap_or(WebhookStatus::Active);
    let was_unknown = state.unknown.remove(name).is_some();
    state.bind(endpoint);
    state.webhooks.insert(
        name.to_string(),
        Recorded {
            id: live.id.clone(),
            sent,
            status: status.clone(),
            test_delivery: None,
            created_at: crate::execute::now(),
        },
    );
    opened.save()?;
    let resolved = if was_unknown {
        " (its unknown entry is resolved)"
    } else {
        ""
    };
    // The id was checked when given, and the API client cleaned the status; the live name
    // is compared as it came, so it is cleaned only to be shown.
    println!(
        "Imported `{name}` (id {}, {status}) into {}{resolved}.",
        live.id,
        opened.account.state_file.name()
    );
    if live.name != name {
        println!("Note: Saleshandy calls it `{shown_name}`; the state records it under `{name}`.");
    }
    print_against_config(differences);
    Ok(())
}

/// Says how a recorded webhook compares with the config: `None` when it is not in it.
fn print_against_config(differences: Option<Vec<Field>>) {
    match differences {
        None => println!("It is not in the config: `plan` shows it as orphaned."),
        Some(d) if d.is_empty() => println!("It matches the config: `plan` shows it as unchanged."),
        Some(d) => {
            let fields: Vec<&str> = d.iter().map(|f| f.as_str()).collect();
            println!(
                "It differs from the config in {}: `plan` shows it as changed.",
                fields.join(", ")
            );
        }
    }
}

/// Re-reads a webhook the state already records under `name` with the same id: records it as
/// Saleshandy holds it now (after an edit made there), field by field, and how it compares
/// with the config. Saves only when something changed.
fn record_refresh(
    opened: &mut Opened,
    live: &Live,
    shown_name: &str,
    redactor: &Redactor,
    name: &str,
) -> Result<(), Error> {
    let state = &mut opened.state;
    let Some(old) = state.webhooks.get(name).cloned() else {
        return Ok(());
    };
    let desired = opened
        .account
        .config
        .webhooks
        .iter()
        .find(|w| w.name == name);
    let edits: Vec<Drift> = crate::live::compare(name, &old, live, &state.lineage)
        .into_iter()
        .filter(|d| d.field != Field::Name)
        .map(|d| d.cleaned(redactor))
        .collect();
    let status = live
        .status
        .clone()
        .filter(|s| !s.is_blank())
        .unwrap_or(WebhookStatus::Active);
    // Unchanged values keep their stored form: a plain value the config now takes from the
    // environment stays as it was recorded until it changes.
    let mut sent = sent_from_live(live, desired, &state.lineage);
    if edits.iter().all(|d| d.field != Field::Url) {
        sent.url = old.sent.url.clone();
    }
    if edits.iter().all(|d| d.field != Field::Headers) {
        sent.headers = old.sent.headers.clone();
    }
    if edits.iter().all(|d| d.field != Field::Events) {
        sent.events = old.sent.events.clone();
    }
    let differences = desired.map(|d| sent.differences(&Sent::from_webhook(d, &state.lineage)));
    // A check's drift is about the old record; a name Saleshandy still differs in stays true.
    let stale_check = state.checks.get(name).is_some_and(|c| {
        c.drift
            .iter()
            .any(|f| *f != Field::Name || live.name == name)
    });
    let id = old.id.clone();
    let state_name = opened.account.state_file.name();
    if edits.is_empty() && old.status == status && !stale_check {
        println!("`{name}` (id {id}, {status}) is recorded as it is in Saleshandy: nothing to do.");
    } else {
        let status_changed = old.status != status;
        let refreshed = Recorded {
            sent,
            status: status.clone(),
            ..old.clone()
        };
        state.webhooks.insert(name.to_string(), refreshed);
        // What `status --update-state` found was about the old record.
        state.checks.remove(name);
        opened.save()?;
        println!("Refreshed `{name}` (id {id}) in {state_name} from Saleshandy:");
        for d in &edits {
            println!("  {}: {} → {}", d.field, d.recorded, d.live);
        }
        if status_changed {
            println!("  status: {} → {status}", old.status);
        }
        if edits.is_empty() && !status_changed {
            println!(
                "  nothing since it was recorded: the drift `status --update-state` found is gone"
            );
        }
    }
    if live.name != name {
        println!("Note: Saleshandy calls it `{shown_name}`; the state records it under `{name}`.");
    }
    print_against_config(differences);
    Ok(())
}

/// What the state records for a live webhook. A value is kept in clear only where the config
/// has it in clear; anything else may be a secret, so only its fingerprint is kept.
fn sent_from_live(live: &Live, desired: Option<&Webhook>, lineage: &str) -> Sent {
    let hidden = |v: &str| {
        Stored::Secret(Fingerprint {
            fingerprint: fingerprint(lineage, &Secret::new(v.to_string())),
        })
    };
    let url = match desired {
        Some(w) if !w.url.is_secret() => Stored::Plain(live.webhook_url.clone()),
        _ => hidden(&live.webhook_url),
    };
    let headers = live
        .headers
        .iter()
        .map(|(k, v)| {
            let plain = desired
                .and_then(|w| w.headers.iter().find(|h| h.name.eq_ignore_ascii_case(k)))
                .is_some_and(|h| !h.value.is_secret());
            (
                k.clone(),
                if plain {
                    Stored::Plain(v.clone())
                } else {
                    hidden(v)
                },
            )
        })
        .collect();
    Sent {
        url,
        events: live.webhook_event.clone(),
        headers,
    }
}

/// `state mv OLD NEW`: the entry `old` (recorded or unknown) and its last check, under `new`.
pub(crate) fn mv(args: &MvArgs) -> Result<Outcome, Error> {
    let state_file = StateFile::of_config_file(&args.config.config, &args.state)?;
    let state_name = state_file.name();
    let mut opened = state_file.open(Some(args.lock.locking()))?;
    let (state, exists) = (&mut opened.state, opened.exists);
    let (old, new) = (&args.old, &args.new);
    if !state.webhooks.contains_key(old) && !state.unknown.contains_key(old) {
        return Err(no_such_webhook(state, exists, old, state_name));
    }
    if old == new {
        println!("`{old}` is already its name: nothing to do.");
        return Ok(Outcome::Success);
    }
    if state.webhooks.contains_key(new) || state.unknown.contains_key(new) {
        return Err(Error::NameTaken {
            name: new.clone(),
            state: state_name,
        });
    }
    let recorded = state.webhooks.remove(old);
    if let Some(r) = &recorded {
        state.webhooks.insert(new.clone(), r.clone());
    }
    if let Some(u) = state.unknown.remove(old) {
        state.unknown.insert(new.clone(), u);
    }
    // The name Saleshandy had was compared with the old one; status compares it again.
    if let Some(mut check) = state.checks.remove(old) {
        check.drift.retain(|f| *f != Field::Name);
        state.checks.insert(new.clone(), check);
    }
    opened.save()?;
    match recorded {
        Some(r) => println!(
            "Moved `{old}` to `{new}` (id {}) in {state_name}. Nothing was sent: if Saleshandy still calls it `{old}`, rename it to `{new}` there too (`status` reports a name that differs).",
            r.id
        ),
        None => println!(
            "Moved the unknown create of `{old}` to `{new}` in {state_name}. If it exists in Saleshandy it is still called `{old}` there: look for that name."
        ),
    }
    Ok(Outcome::Success)
}

/// The error for a name the state does not hold, naming only a close one.
fn no_such_webhook(state: &crate::state::State, exists: bool, name: &str, place: String) -> Error {
    let names = state.webhooks.keys().chain(state.unknown.keys());
    let help = match crate::suggest::closest_name(name, names.map(String::as_str)) {
        Some(n) if exists => format!("names are exact; the closest in the state is `{n}`"),
        _ if exists && !state.holds_nothing() => {
            "names are exact, and none in the state is close; `saleshandy-webhooks state list` lists them".to_string()
        }
        _ => "the state has no webhooks; `plan` shows what it holds".to_string(),
    };
    Error::NoSuchWebhook {
        name: name.to_string(),
        state: place,
        help,
    }
}

pub(crate) fn rm(args: &RmArgs, _ui: Ui) -> Result<Outcome, Error> {
    let state_file = StateFile::of_config_file(&args.config.config, &args.state)?;
    let state_name = state_file.name();
    let mut opened = state_file.open(Some(args.lock.locking()))?;
    let (state, exists) = (&mut opened.state, opened.exists);
    let recorded = state.webhooks.remove(&args.name);
    let unknown = state.unknown.remove(&args.name);
    state.checks.remove(&args.name);
    if recorded.is_none() && unknown.is_none() {
        return Err(no_such_webhook(state, exists, &args.name, state_name));
    }
    // A state that records nothing is bound to nothing: an apply to a wrong URL whose
    // unknowns were all removed does not keep the state tied to that URL.
    let unbound = match state.holds_nothing() {
        true => state.endpoint.take(),
        false => None,
    };
    opened.save()?;
    match recorded {
        Some(r) => println!(
            "Forgot `{}` (id {}). The webhook itself still exists in Saleshandy unless you deleted it there; if it is in the config, the next apply creates it again.",
            args.name, r.id
        ),
        None => println!(
            "Forgot the unknown create of `{}`. If it is in the config, the next apply creates it again.",
            args.name
        ),
    }
    if let Some(endpoint) = unbound {
        println!("The state records nothing now, so it is no longer tied to {endpoint}.");
    }
    Ok(Outcome::Success)
}
