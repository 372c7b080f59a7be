//! Which hosts are this machine, and which Saleshandy's servers cannot reach: one rule for the
//! API client (plain http only to loopback), the probe, the config's warnings and the sandbox's
//! test deliveries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Host;

/// Whether a host is this machine: `localhost` and its subdomains (RFC 6761), 127.0.0.0/8,
/// `::1`, and 127.0.0.0/8 mapped into IPv6 (`::ffff:127.0.0.1`).
pub(crate) fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => is_loopback_name(name),
        Host::Ipv4(ip) => is_loopback_ip(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => is_loopback_ip(IpAddr::V6(*ip)),
    }
}

/// Whether `url` is a plain `http://` URL on this machine: where a sandbox may be reached.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "http")
        .is_some_and(|u| u.host().is_some_and(|h| is_loopback(&h)))
}

/// `localhost` and its subdomains (RFC 6761), in any case, with or without the final dot.
pub(crate) fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into IPv6.
pub(crate) fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Why Saleshandy's servers could not reach this host, if they could not: this machine, a
/// private, link-local, carrier-grade NAT or non-host address, or a name that resolves only
/// inside a private network.
pub(crate) fn unreachable_reason(host: &Host<&str>) -> Option<&'static str> {
    match host {
        Host::Ipv4(ip) => ipv4_reason(ip),
        Host::Ipv6(ip) => ipv6_reason(ip),
        Host::Domain(name) => name_reason(name),
    }
}

/// [`unreachable_reason`] for an address a name resolved to.
pub(crate) fn address_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => ipv4_reason(&v4),
        IpAddr::V6(v6) => ipv6_reason(&v6),
    }
}

fn name_reason(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if is_loopback_name(&name) {
        Some("it is this machine (localhost)")
    } else if name.ends_with(".local") {
        Some("`.local` names resolve only on the local network (mDNS)")
    } else if name.ends_with(".internal") || name.ends_with(".lan") || name.ends_with(".home.arpa")
    {
        Some("the domain is reserved for private networks")
    } else if !name.contains('.') {
        Some("a name without a dot resolves only inside a private network")
    } else {
        None
    }
}

fn ipv4_reason(ip: &Ipv4Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        Some("it is a loopback address")
    } else if ip.is_private() {
        Some("it is a private address")
    } else if ip.is_link_local() {
        Some("it is a link-local address")
    } else if ip.is_unspecified() || ip.is_broadcast() {
        Some("it is not a host address")
    } else if ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64 {
        Some("it is a carrier-grade NAT address")
    } else {
        None
    }
}

fn ipv6_reason(ip: &Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4_reason(&v4);
    }
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("it is a loopback address")
    } else if ip.is_unspecified() {
        Some("it is not a host address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("it is a unique local (private) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("it is a link-local address")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    /// The host of `http://{host}/`, as the URL parser normalises it.
    fn host_of(host: &str) -> Host<String> {
        let url = Url::parse(&format!("http://{host}/")).expect(host);
        url.host().expect(host).to_owned()
    }

    fn borrowed(host: &Host<String>) -> Host<&str> {
        match host {
            Host::Domain(d) => Host::Domain(d.as_str()),
            Host::Ipv4(ip) => Host::Ipv4(*ip),
            Host::Ipv6(ip) => Host::Ipv6(*ip),
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "api.localhost",
            "a.b.LocalHost.",
            "127.0.0.1",
            "127.255.0.9",
            "[::1]",
            "[0:0:0:0:0:0:0:1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:2]",
        ] {
            let h = host_of(host);
            assert!(is_loopback(&borrowed(&h)), "{host}");
            assert!(
                unreachable_reason(&borrowed(&h)).is_some(),
                "{host}: loopback is unreachable for Saleshandy too"
            );
        }
    }

    #[test]
    fn hosts_that_are_not_loopback() {
        for host in [
            "example.org",
            "localhost.example.org",
            "notlocalhost",
            "mylocalhost",
            "localhost-1",
            "128.0.0.1",
            "126.255.255.255",
            "10.0.0.1",
            "0.0.0.0",
            "[::]",
            "[::2]",
            "[::ffff:10.0.0.1]",
            "[::127.0.0.1]",
            "[fe80::1]",
        ] {
            let h = host_of(host);
            assert!(!is_loopback(&borrowed(&h)), "{host}");
        }
    }

    #[test]
    fn loopback_names_and_addresses() {
        assert!(is_loopback_name("localhost"));
        assert!(is_loopback_name("x.localhost."));
        assert!(!is_loopback_name("localhost.com"));
        assert!(!is_loopback_name(""));
        assert!(is_loopback_ip("127.0.0.1".parse().expect("ip")));
        assert!(is_loopback_ip("::ffff:127.1.2.3".parse().expect("ip")));
        assert!(!is_loopback_ip("::ffff:8.8.8.8".parse().expect("ip")));
        assert!(!is_loopback_ip("2001:db8::1".parse().expect("ip")));
    }

    #[test]
    fn hosts_saleshandy_cannot_reach_and_why() {
        for (host, reason) in [
            ("localhost", "it is this machine (localhost)"),
            ("hooks.localhost", "it is this machine (localhost)"),
            ("127.0.0.1", "it is a loopback address"),
            ("[::1]", "it is a loopback address"),
            ("[::ffff:127.0.0.1]", "it is a loopback address"),
            ("10.1.2.3", "it is a private address"),
            ("172.16.0.1", "it is a private address"),
            ("172.31.255.255", "it is a private address"),
            ("192.168.0.4", "it is a private address"),
            ("[::ffff:10.0.0.1]", "it is a private address"),
            ("169.254.1.1", "it is a link-local address"),
            ("[fe80::1]", "it is a link-local address"),
            ("[febf::1]", "it is a link-local address"),
            ("[fc00::1]", "it is a unique local (private) address"),
            ("[fd12::1]", "it is a unique local (private) address"),
            ("100.64.0.1", "it is a carrier-grade NAT address"),
            ("100.127.255.255", "it is a carrier-grade NAT address"),
            ("0.0.0.0", "it is not a host address"),
            ("255.255.255.255", "it is not a host address"),
            ("[::]", "it is not a host address"),
            (
                "printer.local",
                "`.local` names resolve only on the local network (mDNS)",
            ),
            ("db.internal", "the domain is reserved for private networks"),
            ("nas.lan", "the domain is reserved for private networks"),
            (
                "box.home.arpa",
                "the domain is reserved for private networks",
            ),
            (
                "intranet",
                "a name without a dot resolves only inside a private network",
            ),
        ] {
            let h = host_of(host);
            assert_eq!(unreachable_reason(&borrowed(&h)), Some(reason), "{host}");
        }
    }

    #[test]
    fn public_hosts() {
        for host in [
            "hooks.example.org",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "100.63.255.255",
            "169.255.0.1",
            "[2001:db8::1]",
            "[fec0::1]",
            "[::ffff:8.8.8.8]",
        ] {
            let h = host_of(host);
            assert_eq!(unreachable_reason(&borrowed(&h)), None, "{host}");
        }
        assert_eq!(address_reason("8.8.8.8".parse().expect("ip")), None);
        assert_eq!(
            address_reason("::ffff:192.168.1.1".parse().expect("ip")),
            Some("it is a private address")
        );
    }
}
