//! The per-value rules for webhook URLs and headers, free of YAML and spans.

use url::Url;

use crate::host::unreachable_reason;

/// Something about a URL that is wrong (or, for the last two, worth a warning).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UrlIssue {
    Invalid(String),
    Scheme(String),
    Credentials,
    Insecure,
    Unreachable { host: String, reason: &'static str },
}

impl UrlIssue {
    pub(crate) fn is_warning(&self) -> bool {
        matches!(self, UrlIssue::Insecure | UrlIssue::Unreachable { .. })
    }
}

/// Checks a webhook URL. An empty result means it is a valid, public `https://` URL.
pub(crate) fn check_url(raw: &str) -> Vec<UrlIssue> {
    // The WHATWG parser repairs `https:/x` and `https:///x` into URLs with host `x`; a webhook
    // URL must spell its host, so look at the authority before parsing.
    match raw.trim().split_once("://") {
        None => {
            return vec![UrlIssue::Invalid(
                "an absolute URL starts with `https://`".into(),
            )]
        }
        Some((_, rest)) if rest.is_empty() || rest.starts_with(['/', '?', '#']) => {
            return vec![UrlIssue::Invalid("the URL has no host".into())]
        }
        Some(_) => {}
    }
    if has_control(raw) {
        return vec![UrlIssue::Invalid("it contains a control character".into())];
    }
    let url = match Url::parse(raw.trim()) {
        Ok(url) => url,
        Err(e) => return vec![UrlIssue::Invalid(e.to_string())],
    };
    let mut issues = Vec::new();
    match url.scheme() {
        "https" => {}
        "http" => issues.push(UrlIssue::Insecure),
        other => return vec![UrlIssue::Scheme(other.to_string())],
    }
    if !url.username().is_empty() || url.password().is_some() {
        issues.insert(0, UrlIssue::Credentials);
    }
    match url.host() {
        None => return vec![UrlIssue::Invalid("the URL has no host".into())],
        Some(host) => {
            if let Some(reason) = unreachable_reason(&host) {
                issues.push(UrlIssue::Unreachable {
                    host: host.to_string(),
                    reason,
                });
            }
        }
    }
    issues
}

/// Headers Saleshandy sets on each delivery itself; a webhook may not set them.
pub const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
];

/// An RFC 9110 token: what a header name may be.
pub(crate) fn is_header_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What makes a header value unusable, if anything.
pub(crate) fn header_value_problem(value: &str) -> Option<&'static str> {
    if value.contains('\r') || value.contains('\n') {
        Some("a line break")
    } else if value.contains('\0') {
        Some("a NUL character")
    } else if value.chars().any(|c| c.is_control() && c != '\t') {
        // HTTP allows no other control character in a field value (RFC 9110), and one would
        // reach the terminal whenever the plan shows the header.
        Some("a control character")
    } else {
        None
    }
}

/// Whether a CI runner could take `name`, printed in a log, as a workflow command: at the start
/// of a line (`::error::…`, after blanks) or anywhere (`##[error]`, `##vso[…]`).
pub(crate) fn reads_as_workflow_command(name: &str) -> bool {
    name.trim_start().starts_with("::") || name.contains("##[") || name.contains("##vso[")
}

/// Whether text has a control character: it could drive the terminal it is printed on.
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_https_url_is_clean() {
        assert_eq!(check_url("https://hooks.example.org/a?b=c"), vec![]);
    }

    #[test]
    fn url_errors() {
        assert!(matches!(check_url("/relative")[..], [UrlIssue::Invalid(_)]));
        assert_eq!(
            check_url("https:///path"),
            vec![UrlIssue::Invalid("the URL has no host".into())]
        );
        assert!(matches!(
            check_url("https:example.org")[..],
            [UrlIssue::Invalid(_)]
        ));
        assert_eq!(
            check_url("ftp://example.org"),
            vec![UrlIssue::Scheme("ftp".into())]
        );
        assert_eq!(
            check_url("https://u:p@example.org"),
            vec![UrlIssue::Credentials]
        );
        assert_eq!(
            check_url("https://u@example.org"),
            vec![UrlIssue::Credentials]
        );
    }

    #[test]
    fn url_warnings() {
        assert_eq!(check_url("http://example.org"), vec![UrlIssue::Insecure]);
        for host in [
            "localhost",
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.4",
            "172.20.0.1",
            "169.254.1.1",
            "[::1]",
            "[fd00::1]",
            "[fe80::1]",
            "printer.local",
            "intranet",
            "100.64.0.1",
            "[::ffff:10.0.0.1]",
        ] {
            let issues = check_url(&format!("https://{host}/x"));
            assert!(
                matches!(issues[..], [UrlIssue::Unreachable { .. }]),
                "{host}: {issues:?}"
            );
        }
        assert!(check_url("https://8.8.8.8/x").is_empty());
        assert!(check_url("https://[2001:db8::1]/x").is_empty());
    }

    #[test]
    fn header_rules() {
        assert!(is_header_token("X-Webhook-Source"));
        assert!(!is_header_token("X Webhook"));
        assert!(!is_header_token("X:Y"));
        assert!(!is_header_token(""));
        assert_eq!(header_value_problem("a\nb"), Some("a line break"));
        assert_eq!(header_value_problem("a\0b"), Some("a NUL character"));
        assert_eq!(header_value_problem("Bearer x"), None);
        assert_eq!(
            header_value_problem("a\u{1b}[31m"),
            Some("a control character")
        );
        assert_eq!(header_value_problem("tab\tok"), None);
    }
}
