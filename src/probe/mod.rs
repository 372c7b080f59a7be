//! Pre-flight reachability of webhook URLs: DNS, TCP, TLS and an HTTP `HEAD`, never a payload.
//!
//! Saleshandy sends a test delivery (a POST) to a new webhook's URL; when it fails, the webhook
//! is created paused. `plan --probe` checks each URL it would create, in stages, and says which
//! stage failed:
//!
//! 1. the host: one Saleshandy cannot reach (private, link-local, `.local`, loopback, …) fails
//!    at once, with no traffic at all;
//! 2. DNS (`lookup_host`), keeping only the addresses Saleshandy could reach;
//! 3. a TCP connection, opened and closed without sending a byte;
//! 4. for `https`, a TLS handshake verified against the system roots, then an HTTP `HEAD` with no
//!    headers of the webhook, no body, no redirect followed, to the address checked in 2–3.
//!
//! A `detail` names the stage and the kind of error only: never the URL nor any part of it (a
//! URL may hold a secret from the environment), never an underlying error's own text (which may
//! quote the host), never a header.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use url::{Host, Url};

use crate::host::{address_reason, is_loopback, is_loopback_ip, unreachable_reason};
use verdict::{dns_detail, judge_error, judge_status, tcp_detail, timed_out};

mod verdict;

/// The result of probing one webhook's URL. `detail` never contains the URL (it may hold a
/// secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub name: String,
    /// Whether Saleshandy's test delivery would likely succeed, as far as the probe can tell.
    pub ok: bool,
    /// What happened, e.g. `connection refused` or `HTTP 405 to HEAD`; no URL, no header.
    pub detail: String,
    /// The last stage the probe reached: where it failed, or [`Stage::Http`] when answered.
    pub stage: Stage,
    /// The HTTP status of the answer to `HEAD`, when there was one.
    pub status: Option<u16>,
}

/// The stages of a probe, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The probe itself could not run (no HTTP client, or a check ended unexpectedly).
    Setup,
    /// The URL does not parse, or is not `http`/`https`.
    Url,
    /// The host is one Saleshandy cannot reach; nothing was sent.
    Host,
    Dns,
    Tcp,
    Tls,
    Http,
}

/// How the probe runs.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Probe loopback hosts (`localhost`, 127.0.0.0/8, `::1`) for real. Saleshandy can never
    /// reach them, so `plan --probe` reports them without traffic; tests set this to probe local
    /// servers.
    pub allow_loopback: bool,
    /// The whole budget for one URL, DNS to the answer to `HEAD`.
    pub timeout: Duration,
    /// How many URLs are probed at once (at least 1).
    pub parallelism: usize,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            allow_loopback: false,
            timeout: Duration::from_secs(5),
            parallelism: 8,
        }
    }
}

/// Probes each `(name, url)`: at most `options.parallelism` at once, each within
/// `options.timeout`. Returns one finding per target, in order. Never panics.
pub async fn probe(targets: &[(String, String)], options: &ProbeOptions) -> Vec<Finding> {
    let shared = Shared {
        client: OnceLock::new(),
        pins: Pins::default(),
        options: options.clone(),
    };
    let shared = &shared;
    crate::bounded::in_order(targets, options.parallelism, |(name, url)| async move {
        check(url, shared).await.finding(name)
    })
    .await
}

/// What the probes of one run share.
struct Shared {
    /// Built on first use: a run whose URLs all fail offline loads no root certificate.
    client: OnceLock<Result<reqwest::Client, String>>,
    pins: Pins,
    options: ProbeOptions,
}

/// A finding without its name.
#[derive(Debug, Clone)]
struct Check {
    ok: bool,
    stage: Stage,
    detail: String,
    status: Option<u16>,
}

impl Check {
    fn fail(stage: Stage, detail: impl Into<String>) -> Check {
        Check {
            ok: false,
            stage,
            detail: detail.into(),
            status: None,
        }
    }

    fn setup(detail: String) -> Check {
        Check::fail(Stage::Setup, detail)
    }

    fn finding(self, name: &str) -> Finding {
        Finding {
            name: name.to_string(),
            ok: self.ok,
            detail: self.detail,
            stage: self.stage,
            status: self.status,
        }
    }
}

/// A URL that passed the offline checks.
struct Target {
    url: Url,
    https: bool,
    port: u16,
    host: Host<String>,
    loopback: bool,
}

/// The checks that need no traffic: the URL, its scheme, its host.
fn classify(raw: &str, allow_loopback: bool) -> Result<Target, Check> {
    let url =
        Url::parse(raw.trim()).map_err(|_| Check::fail(Stage::Url, "the URL does not parse"))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(Check::fail(Stage::Url, "the URL is not `http` or `https`")),
    };
    let host = url
        .host()
        .ok_or_else(|| Check::fail(Stage::Url, "the URL has no host"))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Check::fail(Stage::Url, "the URL has no port"))?;
    let loopback = is_loopback(&host);
    if loopback {
        if !allow_loopback {
            return Err(Check::fail(
                Stage::Host,
                "loopback: Saleshandy cannot reach this machine",
            ));
        }
    } else if let Some(reason) = unreachable_reason(&host) {
        return Err(Check::fail(
            Stage::Host,
            format!("Saleshandy cannot reach the host: {reason}"),
        ));
    }
    let host = host.to_owned();
    Ok(Target {
        url,
        https,
        port,
        host,
        loopback,
    })
}

/// Probes one URL, stage by stage.
async fn check(raw: &str, shared: &Shared) -> Check {
    let options = &shared.options;
    let target = match classify(raw, options.allow_loopback) {
        Ok(target) => target,
        Err(check) => return check,
    };
    let deadline = Instant::now() + options.timeout;
    let addrs = match resolve(&target, options.allow_loopback, deadline).await {
        Ok(addrs) => addrs,
        Err(check) => return check,
    };
    let addr = match connect(&addrs, deadline).await {
        Ok(addr) => addr,
        Err(check) => return check,
    };
    let client = shared
        .client
        .get_or_init(|| build_client(options, shared.pins.clone()));
    let client = match client {
        Ok(client) => client,
        Err(e) => return Check::setup(e.clone()),
    };
    if let Host::Domain(name) = &target.host {
        shared.pins.pin(name, addr);
    }
    // Only what the URL itself says is sent: no header of the webhook, no body.
    match timeout_at(deadline, client.head(target.url.clone()).send()).await {
        Err(_) => Check::fail(Stage::Http, timed_out(target.https, options.timeout)),
        Ok(Ok(response)) => judge_status(response.status().as_u16()),
        Ok(Err(e)) if e.is_timeout() => {
            Check::fail(Stage::Http, timed_out(target.https, options.timeout))
        }
        Ok(Err(e)) => judge_error(&e, target.https),
    }
}

/// The addresses to connect to: the literal one, the loopback ones for a loopback name (no
/// query, RFC 6761), or those DNS gives that Saleshandy could reach.
async fn resolve(
    target: &Target,
    allow_loopback: bool,
    deadline: Instant,
) -> Result<Vec<SocketAddr>, Check> {
    let name = match &target.host {
        Host::Ipv4(ip) => return Ok(vec![SocketAddr::new(IpAddr::V4(*ip), target.port)]),
        Host::Ipv6(ip) => return Ok(vec![SocketAddr::new(IpAddr::V6(*ip), target.port)]),
        Host::Domain(_) if target.loopback => {
            return Ok(vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), target.port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), target.port),
            ])
        }
        Host::Domain(name) => name.as_str(),
    };
    let found: Vec<SocketAddr> =
        match timeout_at(deadline, tokio::net::lookup_host((name, target.port))).await {
            Err(_) => return Err(Check::fail(Stage::Dns, "DNS lookup timed out")),
            Ok(Err(e)) => return Err(Check::fail(Stage::Dns, dns_detail(&e))),
            Ok(Ok(addrs)) => addrs.collect(),
        };
    let Some(first) = found.first() else {
        return Err(Check::fail(
            Stage::Dns,
            "DNS lookup failed: the name has no address",
        ));
    };
    let usable: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|a| address_reason(a.ip()).is_none() || (allow_loopback && is_loopback_ip(a.ip())))
        .collect();
    if usable.is_empty() {
        let reason = address_reason(first.ip()).unwrap_or("it is not a public address");
        return Err(Check::fail(
            Stage::Dns,
            format!("the name resolves only to addresses Saleshandy cannot reach ({reason})"),
        ));
    }
    Ok(usable)
}

/// Opens (and closes, without sending anything) a TCP connection to the first address that
/// accepts one.
async fn connect(addrs: &[SocketAddr], deadline: Instant) -> Result<SocketAddr, Check> {
    let mut worst: Option<io::ErrorKind> = None;
    for addr in addrs {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(Check::fail(Stage::Tcp, "TCP connect timed out")),
            Ok(Ok(stream)) => {
                drop(stream);
                return Ok(*addr);
            }
            Ok(Err(e)) => {
                // A refusal says the most; keep it over what other addresses said.
                if worst != Some(io::ErrorKind::ConnectionRefused) {
                    worst = Some(e.kind());
                }
            }
        }
    }
    Err(Check::fail(Stage::Tcp, tcp_detail(worst)))
}

/// The HTTP client of the TLS + HEAD stage: no proxy (the probe goes where Saleshandy would),
/// no redirect, no pooled connection, and names resolved only to the address checked before.
fn build_client(options: &ProbeOptions, pins: Pins) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .connect_timeout(options.timeout)
        .timeout(options.timeout)
        .dns_resolver(Arc::new(pins))
        .user_agent(concat!(
            "saleshandy-webhooks/",
            env!("CARGO_PKG_VERSION"),
            " (probe)"
        ))
        .build()
        .map_err(|e| {
            format!(
                "the probe could not start its HTTP client ({})",
                crate::error_chain::one_line(&e).to_ascii_lowercase().trim()
            )
        })
}

/// Names resolved by the probe, pinned to the address it connected to, so that the HTTP client
/// neither looks them up again nor goes anywhere else.
#[derive(Clone, Default)]
struct Pins(Arc<Mutex<HashMap<String, SocketAddr>>>);

impl Pins {
    fn pin(&self, name: &str, addr: SocketAddr) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_ascii_lowercase(), addr);
    }
}

impl Resolve for Pins {
    fn resolve(&self, name: Name) -> Resolving {
        let found = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name.as_str().to_ascii_lowercase())
            .copied();
        let result = match found {
            Some(addr) => Ok(Box::new(std::iter::once(addr)) as Addrs),
            None => Err("a name the probe did not resolve".into()),
        };
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::verdict::tls_detail;
    use super::*;

    #[test]
    fn statuses() {
        assert!(judge_status(200).ok);
        assert!(judge_status(404).ok);
        assert!(judge_status(405).ok);
        assert!(judge_status(501).ok);
        assert!(!judge_status(301).ok);
        assert!(!judge_status(500).ok);
        assert!(!judge_status(503).ok);
        assert_eq!(judge_status(503).status, Some(503));
    }

    #[test]
    fn offline_checks_send_nothing_and_quote_nothing() {
        for (raw, stage) in [
            ("not a url ?token=s3cr3t", Stage::Url),
            ("ftp://host.example/x?token=s3cr3t", Stage::Url),
            ("https://10.1.2.3/x?token=s3cr3t", Stage::Host),
            ("https://[fe80::1]/x?token=s3cr3t", Stage::Host),
            ("https://printer.local/x?token=s3cr3t", Stage::Host),
            ("http://localhost:1/x?token=s3cr3t", Stage::Host),
            ("http://127.0.0.2/x?token=s3cr3t", Stage::Host),
            ("http://[::1]/x?token=s3cr3t", Stage::Host),
        ] {
            let Err(check) = classify(raw, false) else {
                panic!("{raw} passed")
            };
            assert_eq!(check.stage, stage, "{raw}");
            assert!(!check.ok);
            assert!(
                !check.detail.contains("s3cr3t") && !check.detail.contains("token"),
                "{}",
                check.detail
            );
        }
        assert!(classify("http://localhost:1/", true).is_ok());
        assert!(classify("https://example.org/", false).is_ok());
    }

    #[test]
    fn resolver_errors_become_kinds() {
        let e = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(dns_detail(&e), "DNS lookup failed: no such host");
        let e = io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        assert!(dns_detail(&e).contains("temporary failure"));
        assert_eq!(
            dns_detail(&io::Error::other("secret.example.org: weird")),
            "DNS lookup failed"
        );
    }

    #[test]
    fn tls_errors_become_kinds() {
        let d = |t: &str| tls_detail(&t.to_ascii_lowercase(), Some(io::ErrorKind::InvalidData));
        assert!(d("invalid peer certificate: UnknownIssuer").contains("not trusted"));
        assert!(
            d("invalid peer certificate: certificate not valid for name \"a.b\"; ...")
                .contains("host name")
        );
        assert!(
            d("invalid peer certificate: certificate expired: verification time 1")
                .contains("expired")
        );
        assert!(d("received corrupt message of type InvalidContentType").contains("plain HTTP"));
        assert_eq!(
            tls_detail("", Some(io::ErrorKind::UnexpectedEof)),
            "TLS: the server closed the connection during the handshake"
        );
    }
}
