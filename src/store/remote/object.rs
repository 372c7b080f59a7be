//! One JSON object in a bucket, read with its ETag and written only conditionally: created if
//! absent, or replaced if still at the ETag the writer saw. Every write carries a fresh write
//! id, so that a write whose answer was lost (a timeout, a 5xx, or a client retry that then
//! reports a conflict with its own first attempt) is recognised by reading the object back.

use std::sync::Arc;

use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::reason;

/// An object as read: its bytes' value, its ETag, and when the store last wrote it.
pub(crate) struct Read<T> {
    pub(crate) value: T,
    pub(crate) etag: String,
    pub(crate) modified: chrono::DateTime<chrono::Utc>,
}

/// How a conditional write ended.
pub(crate) enum Written {
    /// The object now holds what was written, at this ETag.
    Done(String),
    /// Someone else wrote it first: nothing was written.
    Lost,
}

/// Why an object could not be read or written.
pub(crate) enum Failure {
    /// The store failed or could not be reached (its answer, made safe).
    Store(String),
    /// The object is not what this tool writes.
    Invalid(String),
}

/// An object store and one key in it.
#[derive(Clone)]
pub(crate) struct Object {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) key: Key,
}

/// Implemented by what is kept in an object: where its write id is.
pub(crate) trait Stamped: Serialize + DeserializeOwned {
    fn write_id(&self) -> &str;
}

impl Object {
    /// The object, or `None` if there is none.
    pub(crate) async fn read<T: Stamped>(&self) -> Result<Option<Read<T>>, Failure> {
        let got = match self.store.get(&self.key).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(Failure::Store(reason(&e))),
        };
        let meta = got.meta.clone();
        let bytes = got.bytes().await.map_err(|e| Failure::Store(reason(&e)))?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Invalid(crate::terminal_text::printable_line(&e.to_string())))?;
        let etag = meta
            .e_tag
            .ok_or_else(|| Failure::Store("the store gave the object no ETag".into()))?;
        Ok(Some(Read {
            value,
            etag,
            modified: meta.last_modified,
        }))
    }

    /// Writes `value` if the object is still at `seen` (`None`: if there is none), then
    /// settles any doubt about the outcome by reading the object back.
    pub(crate) async fn write<T: Stamped>(
        &self,
        value: &T,
        seen: Option<&str>,
    ) -> Result<Written, Failure> {
        self.write_checked(value, seen, true).await
    }

    /// [`Object::write`] that takes a refusal at its word, without reading back: for a write
    /// meant to be refused (the conditions probe), where only its own answer matters.
    pub(crate) async fn write_refusable<T: Stamped>(
        &self,
        value: &T,
        seen: Option<&str>,
    ) -> Result<Written, Failure> {
        self.write_checked(value, seen, false).await
    }

    async fn write_checked<T: Stamped>(
        &self,
        value: &T,
        seen: Option<&str>,
        settle_refusal: bool,
    ) -> Result<Written, Failure> {
        let body = serde_json::to_vec(value).map_err(|e| Failure::Invalid(e.to_string()))?;
        let mode = match seen {
            None => PutMode::Create,
            Some(etag) => PutMode::Update(UpdateVersion {
                e_tag: Some(etag.to_string()),
                version: None,
            }),
        };
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&self.key, PutPayload::from(body), opts)
            .await
        {
            Ok(put) => match put.e_tag {
                Some(etag) => Ok(Written::Done(etag)),
                None => self.settle::<T>(value.write_id(), None).await,
            },
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) if !settle_refusal => Ok(Written::Lost),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => match self.settle::<T>(value.write_id(), None).await? {
                Written::Done(etag) => Ok(Written::Done(etag)),
                Written::Lost => Ok(Written::Lost),
            },
            Err(e) => self.settle::<T>(value.write_id(), Some(reason(&e))).await,
        }
    }

    /// Reads the object back after a write whose outcome is in doubt: it is ours if it carries
    /// our write id. Otherwise the write was refused (`failed` is `None`) or failed.
    async fn settle<T: Stamped>(
        &self,
        ours: &str,
        failed: Option<String>,
    ) -> Result<Written, Failure> {
        let back = self.read::<T>().await;
        match (back, failed) {
            (Ok(Some(r)), _) if r.value.write_id() == ours => Ok(Written::Done(r.etag)),
            (Ok(_), None) => Ok(Written::Lost),
            (Ok(_), Some(why)) => Err(Failure::Store(why)),
            (Err(_), Some(why)) => Err(Failure::Store(why)),
            (Err(e), None) => Err(e),
        }
    }

    /// Writes `body` whatever the object holds (for objects no run depends on).
    pub(crate) async fn overwrite(&self, body: Vec<u8>) -> Result<String, Failure> {
        let put = self
            .store
            .put(&self.key, PutPayload::from(body))
            .await
            .map_err(|e| Failure::Store(reason(&e)))?;
        put.e_tag
            .ok_or_else(|| Failure::Store("the store gave the object no ETag".into()))
    }

    /// Removes the object, if it can (for this run's own probes; failures are ignored).
    pub(crate) async fn remove(&self) {
        let _ = self.store.delete(&self.key).await;
    }

    /// When the store last wrote the object.
    pub(crate) async fn modified(&self) -> Result<chrono::DateTime<chrono::Utc>, Failure> {
        self.store
            .head(&self.key)
            .await
            .map(|m| m.last_modified)
            .map_err(|e| Failure::Store(reason(&e)))
    }

    /// The same store, another key.
    pub(crate) fn sibling(&self, suffix: &str) -> Object {
        Object {
            store: self.store.clone(),
            key: Key::from(format!("{}{suffix}", self.key)),
        }
    }
}
