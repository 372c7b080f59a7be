//! The object-store clients, configured from the environment the way each cloud's own tools
//! read it, with bounded retries so that a store that does not answer fails a run in seconds,
//! not minutes.
//!
//! - S3: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
//!   `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, web identity and container
//!   credentials.
//! - Azure Blob Storage: `AZURE_STORAGE_ACCOUNT_NAME` with `AZURE_STORAGE_ACCOUNT_KEY`, a SAS
//!   or a service principal (`AZURE_CLIENT_ID`, …), managed identity, workload identity;
//!   `AZURE_STORAGE_USE_EMULATOR=true` (with `AZURITE_BLOB_STORAGE_URL`) for Azurite.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};

use super::RemoteError;

/// A few quick retries: a write whose answer is lost is settled by reading it back.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
    }
}

fn unreachable(shown: &str, e: &object_store::Error) -> RemoteError {
    RemoteError::Unreachable {
        place: shown.to_string(),
        reason: super::error::reason(e),
    }
}

/// A client for the S3 bucket `bucket`.
pub(super) fn s3(bucket: &str, shown: &str) -> Result<Arc<dyn ObjectStore>, RemoteError> {
    // Set key by key: replacing the client options would drop AWS_ALLOW_HTTP.
    AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry())
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            "5s",
        )
        .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "20s")
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| unreachable(shown, &e))
}

/// A client for the Azure Blob Storage container `container`.
pub(super) fn azure(container: &str, shown: &str) -> Result<Arc<dyn ObjectStore>, RemoteError> {
    MicrosoftAzureBuilder::from_env()
        .with_container_name(container)
        .with_retry(retry())
        .with_config(
            AzureConfigKey::Client(ClientConfigKey::ConnectTimeout),
            "5s",
        )
        .with_config(AzureConfigKey::Client(ClientConfigKey::Timeout), "20s")
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| unreachable(shown, &e))
}
