//! Why a remote state could not be read, written or locked. Every message names the location
//! and says what the store answered (made safe for a terminal); none holds a credential.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum RemoteError {
    #[error("cannot reach the state `{place}`: {reason}")]
    #[diagnostic(
        code(remote::unreachable),
        help("check the bucket or container name, the network, and the credentials: for s3://, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or web-identity or container credentials (AWS_ENDPOINT_URL, and AWS_ALLOW_HTTP=true for plain http, for an S3-compatible server); for az://, AZURE_STORAGE_ACCOUNT_NAME with a key, a SAS or an identity. Nothing was written")
    )]
    Unreachable { place: String, reason: String },

    #[error("the store of `{place}` ignores conditional writes: {what}")]
    #[diagnostic(
        code(remote::ignores_conditions),
        help("this tool needs a store that honours If-None-Match and If-Match on PUT (AWS S3, R2, MinIO, SeaweedFS, …): without them two runners could both create every webhook. Check for a proxy or gateway in front of the store that drops these headers; nothing was created")
    )]
    IgnoresConditions { place: String, what: String },

    #[error("the state `{place}` was changed by another run since this run read it")]
    #[diagnostic(
        code(remote::fenced),
        help("this run lost its lock (its lease ran out: was the runner paused or cut off?) and another run took over; this run sent no further create. The other run reports this run's requests in flight as `unknown`: run `saleshandy-webhooks plan` to see them")
    )]
    Fenced { place: String },

    #[error("cannot write the state `{place}`: {reason}")]
    #[diagnostic(
        code(remote::write),
        help("the store failed or could not be reached, so this write may or may not have been stored; nothing it held is lost. Run the command again once the store answers: it reads what the store holds (`plan` shows it)")
    )]
    Write { place: String, reason: String },

    #[error("the state `{place}` is not a state this tool wrote: {reason}")]
    #[diagnostic(
        code(remote::invalid),
        help("it was not changed. Look at it with the store's own tools (`aws s3 cp s3://… -`, `az storage blob download`); if it was replaced by mistake, restore a previous version of the object (bucket versioning) or `state push` a good copy to a new key")
    )]
    Invalid { place: String, reason: String },

    #[error("the lock of `{place}` is damaged: {reason}")]
    #[diagnostic(
        code(remote::lock_invalid),
        help("no run holds a lock this tool can read. If no apply is running, remove the lock object `{place}` with the store's own tools (`aws s3 rm`, `az storage blob delete`) and run again")
    )]
    LockInvalid { place: String, reason: String },
}

impl RemoteError {
    /// The store could not be reached: nothing was written.
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, RemoteError::Unreachable { .. })
    }
}

/// The store's answer in one line, safe for a terminal and a CI log: it quotes the store's
/// own error text (object_store's message already quotes its causes).
pub(crate) fn reason(e: &object_store::Error) -> String {
    crate::server_text::one_line(&e.to_string())
}
