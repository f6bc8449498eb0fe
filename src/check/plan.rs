//! Which check fits which cause, and what each check is asked about: the recipient
//! domains of a cause, its sending addresses, its senders' domains.

use crate::model::Reason;
use std::net::IpAddr;

use crate::triage::causes::{Cause, CauseState};
use crate::triage::requeue::{destination_matches, host_matches};

/// The kind of check a cause gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The recipient domain's MX, then its addresses.
    Dns,
    /// The recipient domain's MX hosts answer SMTP.
    Smtp,
    /// The sending addresses are on no DNS blocklist.
    Dnsbl,
    /// The sender domains publish SPF and DMARC records that parse.
    Auth,
    /// Nothing a lookup can settle: only time (and the receiver) can.
    Wait,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dns => "dns",
            Kind::Smtp => "smtp",
            Kind::Dnsbl => "dnsbl",
            Kind::Auth => "auth",
            Kind::Wait => "none",
        }
    }

    pub fn for_reason(reason: Reason) -> Kind {
        match reason {
            Reason::HostUnknown => Kind::Dns,
            Reason::NetworkError | Reason::NotAccept => Kind::Smtp,
            Reason::Blocked | Reason::BadReputation => Kind::Dnsbl,
            Reason::AuthFailure => Kind::Auth,
            _ => Kind::Wait,
        }
    }

    pub fn uses_network(self) -> bool {
        self != Kind::Wait
    }
}

/// The causes a run takes: as `sendlog check --cause --domain --host` narrow them.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub cause: Option<Reason>,
    pub domain: Option<String>,
    pub host: Option<String>,
}

/// One thing to check for one cause.
#[derive(Debug, Clone)]
pub struct Target {
    pub reason: String,
    pub destination: String,
    pub host: String,
    /// The recipient domain asked about (DNS and SMTP checks).
    pub domain: Option<String>,
    pub kind: Kind,
    /// Sending addresses (blocklist checks).
    pub ips: Vec<IpAddr>,
    /// Sender domains (authentication checks); the caller fills them from the store.
    pub senders: Vec<String>,
    pub last_seen: Option<i64>,
    /// The receiver's latest words on the cause.
    pub last_text: Option<String>,
    /// For a cause only time can settle: what the panel of the receiver's code says about
    /// how long it lasts, and where that comes from.
    pub wait_advice: Option<String>,
}

/// The most recipient domains of one cause asked about in one run.
pub const DOMAINS_PER_CAUSE: usize = 5;

/// What to check for each cause in `scope` that is not wholly resolved. `ips` are the
/// sending addresses the user gave, asked about when a cause's replies name none.
pub fn targets(causes: &[Cause], scope: &Scope, ips: &[IpAddr]) -> Vec<Target> {
    let mut out = Vec::new();
    for c in causes {
        if c.state == CauseState::Resolved
            || scope.cause.is_some_and(|r| r != c.reason)
            || scope
                .host
                .as_deref()
                .is_some_and(|h| !host_matches(h, &c.host))
        {
            continue;
        }
        let domains: Vec<&str> = c.top_domains.iter().map(|(d, _)| d.as_str()).collect();
        let wanted_domains: Vec<&str> = match scope.domain.as_deref() {
            None => domains.clone(),
            Some(w) if w.eq_ignore_ascii_case(&c.destination) => domains.clone(),
            Some(w) => domains
                .iter()
                .copied()
                .filter(|d| destination_matches(w, d, None))
                .collect(),
        };
        if wanted_domains.is_empty() {
            continue;
        }
        let kind = Kind::for_reason(c.reason);
        let base = Target {
            reason: c.reason.as_str().to_string(),
            destination: c.destination.clone(),
            host: c.host.clone(),
            domain: None,
            kind,
            ips: Vec::new(),
            senders: Vec::new(),
            last_seen: c.last_seen,
            last_text: c.examples.last().cloned(),
            wait_advice: None,
        };
        match kind {
            Kind::Dns | Kind::Smtp => {
                for d in wanted_domains.into_iter().take(DOMAINS_PER_CAUSE) {
                    out.push(Target {
                        domain: Some(d.to_string()),
                        ..base.clone()
                    });
                }
            }
            Kind::Dnsbl => {
                let mut found: Vec<IpAddr> = Vec::new();
                for text in &c.examples {
                    for ip in super::dnsbl::ips_in_text(receiver_words(text)) {
                        if !found.contains(&ip) {
                            found.push(ip);
                        }
                    }
                }
                out.push(Target {
                    ips: if found.is_empty() {
                        ips.to_vec()
                    } else {
                        found
                    },
                    ..base
                });
            }
            Kind::Auth | Kind::Wait => out.push(base),
        }
    }
    out
}

/// What to check for the causes of `store` in `scope`, with the sender domains the
/// authentication checks ask about (the busiest three of each cause).
pub fn for_store(
    store: &crate::store::Store,
    scope: &Scope,
    ips: &[IpAddr],
    knowledge: &crate::knowledge::Knowledge,
) -> crate::store::Result<Vec<Target>> {
    let (causes, _) = crate::requeue::basket::list_causes(store)?;
    let mut out = targets(&causes, scope, ips);
    for t in out.iter_mut() {
        match t.kind {
            Kind::Auth => {
                t.senders = store.sender_domains_of(&t.reason, &t.destination, &t.host, 3)?;
            }
            Kind::Wait => {
                t.wait_advice = t.last_text.as_deref().and_then(|r| knowledge.how_long(r));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The receiver's reply within a log's text: after Postfix's "host mx[198.51.100.5]
/// said:", whose address is the receiver's, not the sender's.
fn receiver_words(text: &str) -> &str {
    text.rfind("said:").map_or(text, |i| &text[i + 5..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_to_checks() {
        assert_eq!(Kind::for_reason("hostunknown".parse().unwrap()), Kind::Dns);
        assert_eq!(
            Kind::for_reason("networkerror".parse().unwrap()),
            Kind::Smtp
        );
        assert_eq!(Kind::for_reason("blocked".parse().unwrap()), Kind::Dnsbl);
        assert_eq!(
            Kind::for_reason("badreputation".parse().unwrap()),
            Kind::Dnsbl
        );
        assert_eq!(Kind::for_reason("authfailure".parse().unwrap()), Kind::Auth);
        for wait in ["greylisted", "speeding", "mailboxfull", "policyviolation"] {
            assert_eq!(
                Kind::for_reason(wait.parse().unwrap()),
                Kind::Wait,
                "{wait}"
            );
        }
    }

    #[test]
    fn the_receivers_address_is_not_the_senders() {
        assert_eq!(
            super::super::dnsbl::ips_in_text(receiver_words(
                "host mx.example[198.51.100.5] said: 554 5.7.1 Client host [203.0.113.13] blocked"
            )),
            vec!["203.0.113.13".parse::<IpAddr>().unwrap()]
        );
    }
}
