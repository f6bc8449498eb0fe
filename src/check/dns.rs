//! The DNS side of a check: one resolver (the system's, or the one `--resolver` names), and
//! answers sorted into what they mean for a cause. NXDOMAIN is a fact about the domain;
//! SERVFAIL, a timeout or no answer at all is a fact about the path to it, and settles
//! nothing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    Found(T),
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The name exists with no record of that type.
    NoData,
    /// No usable answer (SERVFAIL, REFUSED, a timeout): the lookup settles nothing.
    Transient(String),
}

/// A resolver, and whether any server has answered it at all: when none has, the checks
/// could not run and their "results" are noise.
#[derive(Clone)]
pub struct Dns {
    resolver: Arc<TokioResolver>,
    answered: Arc<AtomicBool>,
}

impl Dns {
    /// The resolver at `server` (UDP, then TCP for a truncated answer), else the system's
    /// (`/etc/resolv.conf`). Lookups time out after `timeout`, tried twice.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Dns, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 256;
        let builder = match server {
            Some(addr) => {
                let conn = |mut c: ConnectionConfig| {
                    c.port = addr.port();
                    c
                };
                let ns = NameServerConfig::new(
                    addr.ip(),
                    true,
                    vec![conn(ConnectionConfig::udp()), conn(ConnectionConfig::tcp())],
                );
                // The server named is asked, and nothing else: not /etc/hosts either.
                opts.use_hosts_file = ResolveHosts::Never;
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => Resolver::builder_tokio()
                .map_err(|e| format!("no DNS resolver configured on this machine ({e})"))?,
        };
        let resolver = builder
            .with_options(opts)
            .build()
            .map_err(|e| format!("the DNS resolver could not be set up ({e})"))?;
        Ok(Dns {
            resolver: Arc::new(resolver),
            answered: Arc::new(AtomicBool::new(false)),
        })
    }

    /// True once any server answered any lookup, even with NXDOMAIN or SERVFAIL.
    pub fn any_answer(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    async fn records(&self, name: &str, rtype: RecordType) -> Answer<Vec<RData>> {
        // Asking nothing settles nothing: the callers that can say "this is no domain"
        // check the name before they ask.
        let Some(name) = fqdn(name) else {
            return Answer::Transient(format!("{name:?} is not a domain name"));
        };
        match self.resolver.lookup(name, rtype).await {
            Ok(lookup) => {
                self.answered.store(true, Ordering::Relaxed);
                let found: Vec<RData> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect();
                if found.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Found(found)
                }
            }
            Err(e) => self.sort_error(&e),
        }
    }

    fn sort_error<T>(&self, e: &NetError) -> Answer<T> {
        if e.is_nx_domain() {
            self.answered.store(true, Ordering::Relaxed);
            return Answer::NxDomain;
        }
        if e.is_no_records_found() {
            self.answered.store(true, Ordering::Relaxed);
            return Answer::NoData;
        }
        if let NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(code)) = e {
            self.answered.store(true, Ordering::Relaxed);
            return Answer::Transient(format!("the resolver answered {code}"));
        }
        Answer::Transient(match e {
            NetError::Timeout => "no answer in time".to_string(),
            NetError::NoConnections => "no DNS server reachable".to_string(),
            other => other.to_string(),
        })
    }

    /// The MX set, lowest preference first. A null MX (RFC 7505) is `Found` with the
    /// single host `"."`.
    pub async fn mx(&self, domain: &str) -> Answer<Vec<(u16, String)>> {
        match self.records(domain, RecordType::MX).await {
            Answer::Found(rs) => {
                let mut mx: Vec<(u16, String)> = rs
                    .into_iter()
                    .filter_map(|r| match r {
                        RData::MX(mx) => Some((mx.preference, host_name(&mx.exchange))),
                        _ => None,
                    })
                    .collect();
                mx.sort();
                mx.dedup();
                Answer::Found(mx)
            }
            other => other.map_empty(),
        }
    }

    /// A then AAAA records of `name`: NXDOMAIN when the first says so.
    pub async fn addresses(&self, name: &str) -> Answer<Vec<IpAddr>> {
        let v4 = self.records(name, RecordType::A).await;
        if matches!(v4, Answer::NxDomain) {
            return Answer::NxDomain;
        }
        let v6 = self.records(name, RecordType::AAAA).await;
        let mut ips = Vec::new();
        for a in [&v4, &v6] {
            if let Answer::Found(rs) = a {
                ips.extend(rs.iter().filter_map(|r| match r {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                }));
            }
        }
        if !ips.is_empty() {
            return Answer::Found(ips);
        }
        match (v4, v6) {
            (Answer::Transient(e), _) | (_, Answer::Transient(e)) => Answer::Transient(e),
            (_, Answer::NxDomain) => Answer::NxDomain,
            _ => Answer::NoData,
        }
    }

    /// IPv4 addresses only (a blocklist's answer).
    pub async fn ipv4(&self, name: &str) -> Answer<Vec<std::net::Ipv4Addr>> {
        match self.records(name, RecordType::A).await {
            Answer::Found(rs) => Answer::Found(
                rs.into_iter()
                    .filter_map(|r| match r {
                        RData::A(a) => Some(a.0),
                        _ => None,
                    })
                    .collect(),
            ),
            other => other.map_empty(),
        }
    }

    /// TXT records, each one's strings joined (a long SPF record is split in 255-byte
    /// strings that mean one text).
    pub async fn txt(&self, name: &str) -> Answer<Vec<String>> {
        match self.records(name, RecordType::TXT).await {
            Answer::Found(rs) => Answer::Found(
                rs.into_iter()
                    .filter_map(|r| match r {
                        RData::TXT(t) => Some(
                            t.txt_data
                                .iter()
                                .map(|s| String::from_utf8_lossy(s).into_owned())
                                .collect::<String>(),
                        ),
                        _ => None,
                    })
                    .collect(),
            ),
            other => other.map_empty(),
        }
    }
}

impl<T> Answer<T> {
    /// Any answer that is not `Found`, as an answer of another type.
    fn map_empty<U>(self) -> Answer<U> {
        match self {
            Answer::Found(_) | Answer::NoData => Answer::NoData,
            Answer::NxDomain => Answer::NxDomain,
            Answer::Transient(e) => Answer::Transient(e),
        }
    }
}

/// A name as asked: absolute, so no search domain of the machine is tried after it.
/// `None` for text that is no domain name (a log's domain is hostile input).
pub fn fqdn(name: &str) -> Option<Name> {
    let name = name.trim().trim_end_matches('.');
    if name.is_empty()
        || name.len() > 253
        || name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "\"'\\;()<>@,[]".contains(c))
    {
        return None;
    }
    let mut n = Name::from_utf8(name).ok()?;
    n.set_fqdn(true);
    Some(n)
}

/// A host name as the user reads it: without the trailing dot.
fn host_name(n: &Name) -> String {
    let s = n.to_ascii();
    if s == "." {
        return s;
    }
    s.strip_suffix('.').map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_logs() {
        assert_eq!(
            fqdn("Example.COM").map(|n| n.to_ascii()),
            Some("example.com.".to_string())
        );
        assert!(fqdn("").is_none());
        assert!(fqdn("a b.example").is_none());
        assert!(fqdn("x\u{1b}[2J.example").is_none());
        assert!(fqdn("bücher.example").is_some());
        assert_eq!(host_name(&Name::root()), ".");
        assert_eq!(
            host_name(&Name::from_ascii("mx1.example.").unwrap()),
            "mx1.example"
        );
    }
}
