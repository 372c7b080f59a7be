//! What a failed stage means for Saleshandy's test delivery, in words that never quote the URL.

use std::io;
use std::time::Duration;

use super::{Check, Stage};
use crate::error_chain::{io_kind, one_line};

pub(super) fn timed_out(https: bool, timeout: Duration) -> String {
    let timeout = humantime::format_duration(timeout);
    if https {
        format!("timed out ({timeout}) in the TLS handshake or waiting for the answer to HEAD")
    } else {
        format!("timed out ({timeout}) waiting for the answer to HEAD")
    }
}

/// A resolver error, as a kind: its own text may quote the name.
pub(super) fn dns_detail(error: &io::Error) -> &'static str {
    let text = error.to_string().to_ascii_lowercase();
    if text.contains("not known")
        || text.contains("no such host")
        || text.contains("nodename nor servname")
    {
        "DNS lookup failed: no such host"
    } else if text.contains("no address associated") {
        "DNS lookup failed: the name has no address"
    } else if text.contains("temporary failure") || text.contains("try again") {
        "DNS lookup failed: temporary failure in name resolution (is there a network?)"
    } else {
        "DNS lookup failed"
    }
}

pub(super) fn tcp_detail(kind: Option<io::ErrorKind>) -> &'static str {
    use io::ErrorKind as K;
    match kind {
        Some(K::ConnectionRefused) => "connection refused",
        Some(K::TimedOut) => "TCP connect timed out",
        Some(K::HostUnreachable) => "TCP connect failed: host unreachable",
        Some(K::NetworkUnreachable) => "TCP connect failed: network unreachable",
        Some(K::AddrNotAvailable) => "TCP connect failed: address not available",
        Some(K::PermissionDenied) => "TCP connect failed: not permitted (a firewall?)",
        Some(K::ConnectionReset) | Some(K::ConnectionAborted) => {
            "TCP connect failed: connection reset"
        }
        _ => "TCP connect failed",
    }
}

/// How an answer to `HEAD` bears on the test delivery, a POST: a server error or a redirect
/// likely fails it; anything else (even 404 or 405: some servers route only POST) answered.
pub(super) fn judge_status(code: u16) -> Check {
    let (ok, detail) = match code {
        300..=399 => (false, format!("HTTP {code} to HEAD: the URL redirects, and webhook deliveries are usually not redirected")),
        501 => (true, "HTTP 501 to HEAD: the server does not implement HEAD; the test delivery is a POST".into()),
        500..=599 => (false, format!("HTTP {code} to HEAD: a server error")),
        200..=299 => (true, format!("HTTP {code} to HEAD")),
        _ => (true, format!("HTTP {code} to HEAD; the test delivery is a POST and may still be accepted")),
    };
    Check {
        ok,
        stage: Stage::Http,
        detail,
        status: Some(code),
    }
}

/// An error of the TLS + HEAD stage, as a kind. The error's own text is only searched.
pub(super) fn judge_error(error: &reqwest::Error, https: bool) -> Check {
    // Searched only, never shown: the text may quote the host.
    let text = one_line(error).to_ascii_lowercase();
    let kind = io_kind(error);
    if error.is_connect() {
        match kind {
            Some(io::ErrorKind::ConnectionRefused) => {
                return Check::fail(Stage::Tcp, "connection refused")
            }
            Some(io::ErrorKind::TimedOut) => {
                return Check::fail(Stage::Tcp, "TCP connect timed out")
            }
            _ if https => return Check::fail(Stage::Tls, tls_detail(&text, kind)),
            _ => return Check::fail(Stage::Tcp, tcp_detail(kind)),
        }
    }
    let detail = if text.contains("closed before message completed")
        || matches!(
            kind,
            Some(
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
            )
        ) {
        "the server closed the connection without answering HEAD"
    } else if text.contains("invalid http")
        || text.contains("parse")
        || text.contains("invalid status")
    {
        "the answer to HEAD was not HTTP"
    } else {
        "HEAD failed"
    };
    Check::fail(Stage::Http, detail)
}

pub(super) fn tls_detail(text: &str, kind: Option<io::ErrorKind>) -> &'static str {
    let cert = |variant: &str| text.contains(&format!("invalid peer certificate: {variant}"));
    if cert("unknownissuer") {
        "TLS: certificate not trusted (unknown issuer, or self-signed)"
    } else if cert("notvalidforname") || text.contains("certificate not valid for name") {
        "TLS: certificate not valid for this host name"
    } else if cert("expired") || text.contains("invalid peer certificate: certificate expired") {
        "TLS: certificate expired"
    } else if cert("notvalidyet")
        || text.contains("invalid peer certificate: certificate not valid yet")
    {
        "TLS: certificate not valid yet"
    } else if cert("revoked") {
        "TLS: certificate revoked"
    } else if text.contains("invalid peer certificate") {
        "TLS: certificate rejected"
    } else if text.contains("peer sent no certificates") {
        "TLS: the server sent no certificate"
    } else if text.contains("received fatal alert") {
        "TLS: the server refused the handshake"
    } else if text.contains("peer is incompatible") {
        "TLS: no TLS version or cipher suite in common"
    } else if text.contains("corrupt message") || text.contains("unexpected message") {
        "TLS: the server did not answer in TLS (plain HTTP on an `https` URL?)"
    } else if matches!(
        kind,
        Some(
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
        )
    ) {
        "TLS: the server closed the connection during the handshake"
    } else {
        "TLS handshake failed"
    }
}
