//! The SSRF guard: a reqwest DNS resolver that drops every resolved address that is not a
//! public unicast address (loopback, private, link-local and cloud metadata, carrier-grade NAT,
//! unique-local, multicast, documentation, reserved), so a connection can only be opened to a
//! public host whatever name or redirect led there. IP-literal URLs never reach a resolver:
//! [`AddressPolicy::check_url`] refuses them before a request (and on every redirect). Private
//! addresses are allowed only by an explicit [`AddressPolicy::allow_private`] (development and
//! tests; refused in production by the config).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// An address the guard refused (the error a blocked connection carries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} resolves only to non-public addresses")]
pub struct BlockedAddress {
    /// The name or address asked for.
    pub host: String,
}

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// Also allow loopback, private and link-local addresses (development and tests only).
    pub allow_private: bool,
}

impl AddressPolicy {
    /// Public addresses only (production).
    pub const PUBLIC_ONLY: AddressPolicy = AddressPolicy {
        allow_private: false,
    };

    /// True when `ip` may be connected to.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Refuses a URL whose host is an IP literal outside the policy (names are checked by the
    /// resolver at connect time).
    pub fn check_url(&self, url: &Url) -> Result<(), BlockedAddress> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(BlockedAddress {
                host: ip.to_string(),
            })
        }
    }
}

/// True for a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..=127).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..=19).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) embeds an IPv4 address.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6].iter().all(|s| *s == 0) {
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00
        || (seg[0] & 0xffc0) == 0xfe80
        || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        || seg[..6].iter().all(|s| *s == 0))
}

/// Looks a host name up (the system resolver in production; a table in tests).
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;
}

/// The operating system's resolver (through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    }
}

/// The filtering resolver given to reqwest.
#[derive(Clone)]
pub struct GuardedResolver {
    policy: AddressPolicy,
    lookup: Arc<dyn Lookup>,
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl GuardedResolver {
    /// A resolver over the system's, keeping the addresses `policy` permits.
    pub fn new(policy: AddressPolicy) -> Self {
        Self::with_lookup(policy, Arc::new(SystemLookup))
    }

    /// A resolver over `lookup` (tests give a table).
    pub fn with_lookup(policy: AddressPolicy, lookup: Arc<dyn Lookup>) -> Self {
        Self { policy, lookup }
    }

    /// The permitted addresses of `host`, or [`BlockedAddress`] when none is left.
    pub async fn resolve_host(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let all = self.lookup.lookup(host.to_owned()).await?;
        let permitted: Vec<SocketAddr> = all
            .iter()
            .copied()
            .filter(|a| self.policy.permits(a.ip()))
            .collect();
        if permitted.is_empty() && !all.is_empty() {
            tracing::warn!(host, "refused a connection to a non-public address");
            return Err(Box::new(BlockedAddress {
                host: host.to_owned(),
            }));
        }
        Ok(permitted)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.resolve_host(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// True when `err` (or any error it wraps) is the guard's refusal.
pub fn is_blocked(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<BlockedAddress>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for blocked in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.10",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(blocked)), "{blocked} must be blocked");
            assert!(!AddressPolicy::PUBLIC_ONLY.permits(ip(blocked)));
            assert!(
                AddressPolicy {
                    allow_private: true
                }
                .permits(ip(blocked))
            );
        }
        for public in [
            "1.1.1.1",
            "172.32.0.1",
            "203.2.218.214",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn ip_literal_urls_are_checked_before_any_request() {
        let p = AddressPolicy::PUBLIC_ONLY;
        for url in [
            "http://127.0.0.1:8080/",
            "http://10.0.0.5/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
        ] {
            assert!(p.check_url(&Url::parse(url).unwrap()).is_err(), "{url}");
        }
        assert!(
            p.check_url(&Url::parse("https://example.com.au/").unwrap())
                .is_ok()
        );
        assert!(p.check_url(&Url::parse("http://1.1.1.1/").unwrap()).is_ok());
    }
}
