//! The test delivery Saleshandy sends to a new webhook, emulated without leaving the machine.
//!
//! - A loopback destination ([`crate::host::is_loopback`]: `localhost`, `*.localhost`,
//!   127.0.0.0/8, `::1`, `::ffff:127.0.0.1`) really gets a small
//!   JSON POST, with the webhook's headers, a timeout (2 s by default) and no redirects: 2xx
//!   succeeds.
//! - A destination Saleshandy could not reach (private, link-local, `.local`, …) fails at once,
//!   with no traffic, as if the connection could not be made.
//! - Any other (public) destination is assumed to succeed: the sandbox never sends a packet off
//!   this machine, not even a DNS query (its resolver only knows the loopback names).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::json;
use url::Url;

use crate::config::rules::FORBIDDEN_HEADERS;
use crate::error_chain::one_line;
use crate::host::{is_loopback, is_loopback_name, unreachable_reason};

/// How long a test delivery may take, unless [`super::SandboxOptions`] says otherwise.
pub(super) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(2);

/// What the test delivery of a new webhook came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Succeeded,
    /// `status_code` is 0 when the destination gave no HTTP answer.
    Failed {
        status_code: u16,
        message: String,
    },
}

/// The webhook a test delivery is for.
pub(super) struct Delivery<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub headers: &'a BTreeMap<String, String>,
}

/// Sends test deliveries; its HTTP client is built on first use.
pub(super) struct Deliverer {
    /// How long one test delivery may take.
    timeout: Duration,
    client: OnceLock<Result<reqwest::Client, String>>,
}

/// Where a destination is, as far as the sandbox is concerned.
enum Destination {
    Loopback,
    Unreachable(String),
    Public,
}

impl Deliverer {
    /// A deliverer whose deliveries time out after `timeout`.
    pub(super) fn new(timeout: Duration) -> Deliverer {
        Deliverer {
            timeout,
            client: OnceLock::new(),
        }
    }

    /// Runs the test delivery for a new webhook.
    pub(super) async fn deliver(&self, delivery: &Delivery<'_>) -> Outcome {
        let url = match Url::parse(delivery.url) {
            Ok(url) => url,
            Err(e) => return failed(0, format!("could not connect: invalid URL ({e})")),
        };
        match destination(&url) {
            Destination::Public => Outcome::Succeeded,
            Destination::Unreachable(message) => failed(0, message),
            Destination::Loopback => self.post(url, delivery).await,
        }
    }

    /// POSTs the test payload to a loopback destination.
    async fn post(&self, url: Url, delivery: &Delivery<'_>) -> Outcome {
        let client = match self.client.get_or_init(|| build_client(self.timeout)) {
            Ok(client) => client,
            Err(e) => return failed(0, format!("could not connect: {e}")),
        };
        let mut request = client.post(url).json(&json!({
            "event": "webhook-test",
            "webhookId": delivery.id,
            "webhookName": delivery.name,
            "sentAt": super::now_rfc3339(),
        }));
        for (name, value) in delivery.headers {
            if !FORBIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Outcome::Succeeded,
            Ok(response) => failed(
                response.status().as_u16(),
                format!(
                    "the test delivery was answered with HTTP {}",
                    response.status()
                ),
            ),
            Err(e) if e.is_timeout() => failed(
                0,
                format!("the test delivery timed out after {:?}", self.timeout),
            ),
            Err(e) => failed(0, format!("could not connect: {}", one_line(&e))),
        }
    }
}

fn failed(status_code: u16, message: String) -> Outcome {
    Outcome::Failed {
        status_code,
        message,
    }
}

/// The client for loopback deliveries: no proxy, no redirects, loopback-only name resolution.
fn build_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .dns_resolver(Arc::new(LoopbackResolver))
        .user_agent("saleshandy-webhooks-sandbox")
        .build()
        .map_err(|e| e.to_string())
}

/// Classifies a destination by its host.
fn destination(url: &Url) -> Destination {
    let Some(host) = url.host() else {
        return Destination::Unreachable("could not connect: the URL has no host".into());
    };
    if is_loopback(&host) {
        return Destination::Loopback;
    }
    match unreachable_reason(&host) {
        Some(reason) => Destination::Unreachable(format!("could not connect to {host}: {reason}")),
        None => Destination::Public,
    }
}

/// Resolves the loopback names to the loopback addresses, and nothing else.
pub(super) struct LoopbackResolver;

impl Resolve for LoopbackResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let result = if is_loopback_name(name.as_str()) {
            let addrs: Addrs = Box::new(
                [
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                    SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
                ]
                .into_iter(),
            );
            Ok(addrs)
        } else {
            Err(format!("the sandbox does not resolve `{}`", name.as_str()).into())
        };
        Box::pin(std::future::ready(result))
    }
}
