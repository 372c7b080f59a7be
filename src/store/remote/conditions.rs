//! The check that a store honours conditional writes, made before a run locks a location:
//! a second create-if-absent of one object must be refused, and so must a compare-and-swap
//! on an ETag the object no longer has. Several S3-compatible stores (and proxies in front of
//! them) silently drop `If-None-Match` and `If-Match`; with such a store two runners could
//! both take the lock and both create every webhook.

use serde::{Deserialize, Serialize};

use super::object::{Failure, Object, Stamped, Written};
use super::RemoteError;
use crate::store::lock::LockError;

#[derive(Serialize, Deserialize)]
struct Probe {
    write: String,
}

impl Stamped for Probe {
    fn write_id(&self) -> &str {
        &self.write
    }
}

fn probe() -> Probe {
    Probe {
        write: uuid::Uuid::new_v4().to_string(),
    }
}

/// Checks the store of `probe_object` (an object no run depends on, overwritten here).
pub(super) async fn check(object: &Object, place: &str) -> Result<(), LockError> {
    let fail = |f: Failure| {
        LockError::Remote(Box::new(match f {
            Failure::Store(reason) | Failure::Invalid(reason) => RemoteError::Unreachable {
                place: place.to_string(),
                reason,
            },
        }))
    };
    let ignores = |what: &str| {
        LockError::Remote(Box::new(RemoteError::IgnoresConditions {
            place: place.to_string(),
            what: what.to_string(),
        }))
    };
    let first = serde_json::to_vec(&probe()).unwrap_or_default();
    let etag = object.overwrite(first).await.map_err(fail)?;
    let verdict = verdict(object, &etag).await.map_err(fail);
    // The probe is this run's own object: removing it cannot disturb another run.
    object.remove().await;
    match verdict? {
        None => Ok(()),
        Some(what) => Err(ignores(what)),
    }
}

/// What the store got wrong about the probe at `etag`, if anything.
async fn verdict(object: &Object, etag: &str) -> Result<Option<&'static str>, Failure> {
    if let Written::Done(_) = object.write_refusable(&probe(), None).await? {
        return Ok(Some(
            "a create-if-absent (If-None-Match: *) of an object that exists was accepted",
        ));
    }
    if let Written::Done(_) = object
        .write_refusable(&probe(), Some("\"0123456789abcdef0123456789abcdef\""))
        .await?
    {
        return Ok(Some(
            "a compare-and-swap (If-Match) on an ETag the object does not have was accepted",
        ));
    }
    Ok(match object.write(&probe(), Some(etag)).await? {
        Written::Done(_) => None,
        Written::Lost => Some("a compare-and-swap (If-Match) on the object's own ETag was refused"),
    })
}
