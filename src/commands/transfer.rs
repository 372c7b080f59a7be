//! `state push` and `state pull`: copying a state between locations, for moving a committed
//! local state to remote state and for looking at a remote one.

use crate::account::StateFile;
use crate::cli::{PullArgs, PushArgs};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::store::{Address, Version};

/// Copies the state (journal replayed) to `args.to`, only if nothing is there yet.
pub(crate) fn push(args: &PushArgs) -> Result<Outcome, Error> {
    let from = StateFile::of_config_file(&args.config.config, &args.state)?;
    let to = Address::parse(&args.to, None).map_err(|e| Error::PushTo {
        given: crate::terminal_text::printable_line(&args.to),
        reason: e.0,
    })?;
    let locking = args.lock.locking();
    let source = from.open(Some(locking))?;
    let target = crate::store::connect(&to, locking.lease)?;
    let _lock = target.lock(locking.timeout)?;
    if target.load()?.exists {
        return Err(Error::PushExists { to: to.to_string() });
    }
    let mut state = source.state;
    target.save(&mut state, &Version::Absent)?;
    println!(
        "Pushed the state of {} ({}, {} unknown) to {to}. Point the config at it with `state: {to}`; the copy at {} is no longer used by runs that do.",
        from.name(),
        crate::render::text::count(state.webhooks.len(), "webhook"),
        state.unknown.len(),
        from.name()
    );
    Ok(Outcome::Success)
}

/// Prints the state as a local state file holds it.
pub(crate) fn pull(args: &PullArgs) -> Result<Outcome, Error> {
    let from = StateFile::of_config_file(&args.config.config, &args.state)?;
    let opened = from.open(None)?;
    if !opened.exists {
        return Err(Error::State(Box::new(crate::state::StateError::Read {
            path: from.name(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no state is stored there"),
        })));
    }
    print!("{}", opened.state.to_json());
    Ok(Outcome::Success)
}
