//! Whether a sending address is on a DNS blocklist: the address, reversed, under the
//! list's zone. An A record in 127.0.0.0/8 is a listing; NXDOMAIN is none. Lists answer
//! 127.255.255.x to say they refused the query (most often: it came through a large public
//! resolver), which settles nothing.

use std::net::{IpAddr, Ipv4Addr};

use super::dns::{Answer, Dns};

/// Zones asked when none is configured.
pub const DEFAULT_ZONES: &[&str] = &[
    "zen.spamhaus.org",
    "bl.spamcop.net",
    "b.barracudacentral.org",
];

/// One address against one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    Listed(Ipv4Addr),
    NotListed,
    /// The list refused to answer (its code), or gave no usable answer.
    Unknown(String),
}

/// The name asked for `ip` in `zone`: 203.0.113.13 → 13.113.0.203.zone; an IPv6 address
/// by its 32 nibbles, reversed.
pub fn query_name(ip: IpAddr, zone: &str) -> String {
    let zone = zone.trim().trim_matches('.');
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.{zone}")
        }
        IpAddr::V6(v6) => {
            let mut parts: Vec<String> = Vec::with_capacity(33);
            for byte in v6.octets().iter().rev() {
                parts.push(format!("{:x}", byte & 0xf));
                parts.push(format!("{:x}", byte >> 4));
            }
            parts.push(zone.to_string());
            parts.join(".")
        }
    }
}

pub async fn lookup(dns: &Dns, ip: IpAddr, zone: &str) -> Listing {
    match dns.ipv4(&query_name(ip, zone)).await {
        Answer::Found(codes) => interpret(&codes),
        Answer::NxDomain | Answer::NoData => Listing::NotListed,
        Answer::Transient(e) => Listing::Unknown(e),
    }
}

fn interpret(codes: &[Ipv4Addr]) -> Listing {
    if let Some(refusal) = codes.iter().find(|c| c.octets()[..3] == [127, 255, 255]) {
        return Listing::Unknown(format!(
            "the list refused the query ({refusal}): ask it through your own resolver"
        ));
    }
    match codes.iter().find(|c| c.octets()[0] == 127) {
        Some(code) => Listing::Listed(*code),
        // An answer outside 127/8 is a wildcard or a hijacking resolver, not a listing.
        None => Listing::Unknown(format!(
            "an answer that is no listing code ({})",
            codes
                .iter()
                .map(Ipv4Addr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Addresses named in a reply text ("Client host [203.0.113.13] blocked using …"): the
/// sending IP as the receiver saw it. Private, loopback and documentation ranges are kept
/// (a test network uses them); unspecified and broadcast are not.
pub fn ips_in_text(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
        let token = token.trim_matches(|c| c == '.' || c == ':');
        if token.len() < 7 {
            continue;
        }
        if let Ok(ip) = token.parse::<IpAddr>()
            && !ip.is_unspecified()
            && ip != IpAddr::V4(Ipv4Addr::BROADCAST)
            && !out.contains(&ip)
        {
            out.push(ip);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_asked() {
        assert_eq!(
            query_name("203.0.113.13".parse().unwrap(), "zen.spamhaus.org."),
            "13.113.0.203.zen.spamhaus.org"
        );
        assert_eq!(
            query_name("2001:db8::1".parse().unwrap(), "bl.example"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"
        );
    }

    #[test]
    fn answers() {
        assert_eq!(
            interpret(&["127.0.0.2".parse().unwrap()]),
            Listing::Listed("127.0.0.2".parse().unwrap())
        );
        assert!(matches!(
            interpret(&["127.255.255.254".parse().unwrap()]),
            Listing::Unknown(e) if e.contains("own resolver")
        ));
        assert!(matches!(
            interpret(&["198.51.100.7".parse().unwrap()]),
            Listing::Unknown(_)
        ));
    }

    #[test]
    fn addresses_in_replies() {
        assert_eq!(
            ips_in_text(
                "554 5.7.1 Service unavailable; Client host [203.0.113.13] blocked using zen.spamhaus.org"
            ),
            vec!["203.0.113.13".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            ips_in_text("550 5.7.1 (S3140) 2001:db8::25 is on our block list; see 5.7.1"),
            vec!["2001:db8::25".parse::<IpAddr>().unwrap()]
        );
        assert!(ips_in_text("4.4.7 expired after 5 days, 0.0.0.0").is_empty());
    }
}
