//! Outbound HTTP safety: which addresses Atrium may connect to when it calls a webhook or a
//! platform API.
//!
//! Public addresses are allowed. Loopback, link-local (cloud metadata lives there), private
//! (RFC 1918, unique-local, carrier-grade NAT), unspecified, multicast and reserved ranges are
//! refused unless a sysadmin lists them in `outbound.allow` — on-premise the customer system is
//! usually on the intranet, so its range is allowed explicitly, and nothing else inside is.
//!
//! The check runs on the address a name resolves to, in the HTTP client's own resolver, so a
//! name that resolves to a refused address (or changes its answer between a check and the
//! connection) never reaches it. Redirects are never followed (see [`super::Channels`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The ranges a sysadmin allowed on top of the public internet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allow: Vec<IpNet>,
}

/// An address the policy refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: outbound connections there are not allowed (a sysadmin can allow its range in outbound.allow)", self.what())]
pub struct Refused {
    pub ip: IpAddr,
    pub class: &'static str,
    /// The name that resolved to `ip`: then the message names it and not the address, so the
    /// refusal does not reveal internal DNS answers.
    pub name: Option<String>,
}

impl Refused {
    fn what(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} resolves to {}", self.class),
            None => format!("{} is {}", self.ip, self.class),
        }
    }

    fn for_name(mut self, name: &str) -> Refused {
        self.name = Some(name.to_string());
        self
    }
}

impl OutboundPolicy {
    /// Parse `outbound.allow`: CIDRs or single addresses separated by commas or spaces.
    pub fn parse(list: &str) -> Result<OutboundPolicy, String> {
        let mut allow = Vec::new();
        for item in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an address or a CIDR range"))?;
            allow.push(net.trunc());
        }
        Ok(OutboundPolicy { allow })
    }

    /// The allowed ranges, for display.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// `Ok` when Atrium may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let ip = canonical(ip);
        if self.allow.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        match class(ip) {
            None => Ok(()),
            Some(class) => Err(Refused {
                ip,
                class,
                name: None,
            }),
        }
    }

    /// Check a URL's host before sending: an address literal directly, a name by resolving it
    /// (every address it resolves to must be allowed). A name that does not resolve is not
    /// refused here: the send itself then fails and is retried.
    pub async fn check_url(&self, url: &str) -> Result<(), Refused> {
        let Ok(u) = reqwest::Url::parse(url.trim()) else {
            return Ok(());
        };
        let port = u.port_or_known_default().unwrap_or(80);
        match u.host() {
            Some(url::Host::Ipv4(ip)) => self.check(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let Ok(found) = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    tokio::net::lookup_host((name, port)),
                )
                .await
                else {
                    return Ok(());
                };
                for a in found.into_iter().flatten() {
                    self.check(a.ip()).map_err(|r| r.for_name(name))?;
                }
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// IPv4-mapped and -compatible IPv6 addresses are checked as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Why an address is not public, or `None` for a public one.
fn class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => class_v4(v4),
        IpAddr::V6(v6) => class_v6(v6),
    }
}

fn class_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_private() {
        Some("a private address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if a == 0 {
        Some("an unspecified address")
    } else if (a == 192 && b == 0 && ip.octets()[2] == 0) || (a == 198 && (b & 0xfe) == 18) {
        Some("a special-purpose address")
    } else if ip.is_multicast() || a >= 240 {
        Some("a multicast or reserved address")
    } else {
        None
    }
}

/// The IPv4 address in the 32 bits of `s` starting at segment `at` (0.0.0.0 past the end).
fn v4_in(s: [u16; 8], at: usize) -> Ipv4Addr {
    let word = |i: usize| s.get(i).copied().unwrap_or(0);
    let (g, h) = (word(at), word(at + 1));
    Ipv4Addr::new(
        (g >> 8) as u8,
        (g & 0xff) as u8,
        (h >> 8) as u8,
        (h & 0xff) as u8,
    )
}

fn class_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let first = s[0];
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (RFC 6052 well-known prefix): reaches the IPv4 address it carries.
        return class_v4(v4_in(s, 6));
    }
    if first == 0x2002 {
        // 6to4: the IPv4 address of the relay target sits in bits 16..48.
        return class_v4(v4_in(s, 1));
    }
    if (s[0], s[1], s[2]) == (0x64, 0xff9b, 1) {
        // Local-use NAT64 (64:ff9b:1::/48): whatever it maps to is internal.
        return Some("a private address");
    }
    if (s[0], s[1]) == (0x2001, 0) {
        return Some("a tunnelled (Teredo) address");
    }
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        Some("link-local")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private address")
    } else if ip.is_multicast() {
        Some("a multicast or reserved address")
    } else if s[..6] == [0, 0, 0, 0, 0, 0] || s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        // IPv4-compatible (deprecated) and IPv4-translated (SIIT) addresses: judge the IPv4
        // address inside.
        class_v4(v4_in(s, 6))
    } else {
        None
    }
}

/// The HTTP client's resolver: resolves with the system resolver and keeps only the addresses
/// the policy allows, failing with [`Refused`] when none is left.
pub struct GuardedResolver {
    pub policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refused.get_or_insert(r.for_name(name.as_str()));
                        false
                    }
                })
                .collect();
            if allowed.is_empty()
                && let Some(r) = refused
            {
                return Err(Box::new(r) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The policy's refusal inside a client error, if that is what failed.
pub fn refusal(e: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r.clone());
        }
        cur = err.source();
    }
    None
}

/// Whether `url` can be a webhook address: an absolute `http` or `https` URL with a host, at
/// most 2000 characters (where it may point is the policy's question).
pub fn webhook_url_shape(url: &str) -> Result<(), &'static str> {
    let url = url.trim();
    if url.len() > 2000 {
        return Err("at most 2000 characters");
    }
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err("must be an http:// or https:// URL with a host"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass_and_internal_ones_are_refused_by_default() {
        let p = OutboundPolicy::default();
        for ok in [
            "1.1.1.1",
            "101.226.1.1",
            "2400:3200::1",
            "172.32.0.1",
            "100.128.0.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "198.20.0.1",
            "192.0.1.1",
        ] {
            assert_eq!(p.check(ip(ok)), Ok(()), "{ok}");
        }
        for (bad, class) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::127.0.0.1", "loopback"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("10.1.2.3", "a private address"),
            ("172.16.0.1", "a private address"),
            ("192.168.1.1", "a private address"),
            ("fd00::1", "a private address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("0.0.0.0", "an unspecified address"),
            ("::", "an unspecified address"),
            ("224.0.0.1", "a multicast or reserved address"),
            ("255.255.255.255", "a multicast or reserved address"),
            ("ff02::1", "a multicast or reserved address"),
            ("64:ff9b::a00:5", "a private address"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b:1::1", "a private address"),
            ("2002:a00:1::1", "a private address"),
            ("2002:a9fe:a9fe::1", "link-local"),
            ("2001:0:4136:e378::1", "a tunnelled (Teredo) address"),
            ("::ffff:0:a00:1", "a private address"),
            ("192.0.0.8", "a special-purpose address"),
            ("198.18.0.1", "a special-purpose address"),
            ("198.19.255.1", "a special-purpose address"),
        ] {
            let r = p.check(ip(bad)).unwrap_err();
            assert_eq!(r.class, class, "{bad}");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_its_ranges() {
        let p = OutboundPolicy::parse("10.20.0.0/16, 192.168.5.10 127.0.0.1/32").unwrap();
        assert_eq!(p.check(ip("10.20.3.4")), Ok(()));
        assert_eq!(p.check(ip("::ffff:10.20.3.4")), Ok(()));
        assert!(p.check(ip("10.21.0.1")).is_err());
        assert_eq!(p.check(ip("192.168.5.10")), Ok(()));
        assert!(p.check(ip("192.168.5.11")).is_err());
        assert_eq!(p.check(ip("127.0.0.1")), Ok(()));
        assert!(p.check(ip("127.0.0.2")).is_err());
        assert!(p.check(ip("::1")).is_err());
        // Host bits are dropped: 10.20.1.1/16 means 10.20.0.0/16.
        let p = OutboundPolicy::parse("10.20.1.1/16").unwrap();
        assert_eq!(p.allowed()[0].to_string(), "10.20.0.0/16");
        assert_eq!(
            OutboundPolicy::parse("  ").unwrap(),
            OutboundPolicy::default()
        );
        for bad in ["10.0.0.0/33", "intranet", "10.0.0/8", "::1/129"] {
            assert!(OutboundPolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_by_literal_and_by_what_names_resolve_to() {
        let p = OutboundPolicy::default();
        for bad in [
            "http://127.0.0.1:9/hook",
            "http://[::1]:9/hook",
            "http://localhost:9/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://2130706433/hook",
            "http://0x7f.1/hook",
        ] {
            assert!(p.check_url(bad).await.is_err(), "{bad}");
        }
        assert_eq!(p.check_url("http://203.0.113.9/hook").await, Ok(()));
        // A name's refusal names the name, not what it resolved to.
        let r = p.check_url("http://localhost:9/hook").await.unwrap_err();
        assert!(
            r.to_string().starts_with("localhost resolves to loopback"),
            "{r}"
        );
        let open = OutboundPolicy::parse("127.0.0.0/8,::1").unwrap();
        assert_eq!(open.check_url("http://localhost:9/hook").await, Ok(()));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_only_reach_refused_addresses() {
        use reqwest::dns::Resolve;
        let r = GuardedResolver {
            policy: Arc::new(OutboundPolicy::default()),
        };
        let err = match r.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost resolved through the guard"),
            Err(e) => e,
        };
        assert_eq!(refusal(err.as_ref()).unwrap().class, "loopback");
        let r = GuardedResolver {
            policy: Arc::new(OutboundPolicy::parse("127.0.0.1").unwrap()),
        };
        let addrs: Vec<SocketAddr> = match r.resolve("localhost".parse().unwrap()).await {
            Ok(a) => a.collect(),
            Err(e) => panic!("{e}"),
        };
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip() == ip("127.0.0.1")));
    }
}
