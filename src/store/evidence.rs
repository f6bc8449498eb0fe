//! The user's own evidence for one code, shown under its explanation panel: how many
//! deliveries, the causes behind them, where they went, which hosts sent them, typo and
//! DNS evidence, and when. Every query is keyed on `deliveries.code` (indexed) and binds
//! its parameters.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{Result, Store};
use crate::model::{DeliveryStatus, Reason};

/// How many rows each top list keeps.
pub(crate) const TOP: usize = 5;

/// The cause shown for a delivery without one.
pub(crate) const UNKNOWN: &str = "unknown";

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub(crate) struct StatusCounts {
    pub total: u64,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
}

impl From<super::report::Totals> for StatusCounts {
    fn from(t: super::report::Totals) -> Self {
        StatusCounts {
            total: t.deliveries,
            sent: t.sent,
            deferred: t.deferred,
            bounced: t.bounced,
            expired: t.expired,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Count {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Destination {
    pub domain: String,
    pub provider: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Typo {
    pub domain: String,
    pub suggestion: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct CodeEvidence {
    pub code: String,
    pub counts: StatusCounts,
    /// The reason behind each delivery (for expired or deferred mail, its last deferral);
    /// `unknown` when none was found.
    pub causes: Vec<Count>,
    /// The codes of the last deferrals behind these deliveries (the real code behind an
    /// expiry).
    pub last_deferral_codes: Vec<Count>,
    /// A reply text behind the most frequent cause.
    pub example: Option<String>,
    pub domains: u64,
    pub destinations: Vec<Destination>,
    pub hosts: u64,
    pub sending_hosts: Vec<Count>,
    /// The sending host behind most deliveries whose cause is a verdict on the sender
    /// (reputation, blocklist, auth, rate…), with how many and to how many domains.
    pub sender_side_host: Option<SenderSideHost>,
    pub typo_domains: Vec<Typo>,
    /// Deliveries whose cause is a DNS failure of the recipient domain (`hostunknown`),
    /// and the domains behind them.
    pub dns_failures: u64,
    /// Of those, lookups that failed for now (4.4.3: a server failure or a timeout, as in
    /// Postfix's `Host not found, try again`), not a domain that does not exist.
    pub dns_temporary: u64,
    pub dns_domains: Vec<Count>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub first_attempt: Option<i64>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub last_attempt: Option<i64>,
}

/// RFC 3463 X.4.3, "directory server failure": the lookup failed for now (Postfix's
/// `Host not found, try again`), unlike a domain that does not exist.
const DNS_TEMPORARY: &str = "4.4.3";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct SenderSideHost {
    pub host: String,
    pub deliveries: u64,
    pub domains: u64,
    /// Those deliveries' causes, most frequent first.
    pub causes: Vec<Count>,
}

impl CodeEvidence {
    pub fn is_empty(&self) -> bool {
        self.counts.total == 0
    }

    /// The sending host to look at when most of these deliveries carry a verdict on the
    /// sender from it, across many domains. One host alone proves nothing: a site with a
    /// single server sends everything from it, and timeouts at the destinations are not
    /// its reputation.
    pub(crate) fn widespread_host(&self) -> Option<&SenderSideHost> {
        let top = self.sender_side_host.as_ref()?;
        (top.domains >= crate::model::WIDESPREAD_MIN_DOMAINS
            && top.deliveries * 2 >= self.counts.total)
            .then_some(top)
    }
}

/// Tallies by name, then the `TOP` biggest (ties by name, for stable output).
#[derive(Default)]
struct Tally(HashMap<String, u64>);

impl Tally {
    fn add(&mut self, name: &str) {
        match self.0.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.0.insert(name.to_string(), 1);
            }
        }
    }

    fn top(self) -> Vec<Count> {
        let mut v: Vec<Count> = self
            .0
            .into_iter()
            .map(|(name, count)| Count { name, count })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        v.truncate(TOP);
        v
    }
}

impl Store {
    /// Evidence for `code` as stored (e.g. `4.4.7`). A code with no deliveries gives an
    /// empty `CodeEvidence`, not an error.
    ///
    /// One pass over the code's rows (through the `code` index) feeds every tally: the
    /// biggest group of a large store is read once, not once per list.
    pub(crate) fn code_evidence(&self, code: &str) -> Result<CodeEvidence> {
        let run = || -> rusqlite::Result<CodeEvidence> {
            let mut totals = super::report::Totals::default();
            let (mut causes, mut deferral_codes, mut domains, mut hosts, mut dns) = (
                Tally::default(),
                Tally::default(),
                Tally::default(),
                Tally::default(),
                Tally::default(),
            );
            let mut providers: HashMap<String, String> = HashMap::new();
            let mut typos: HashMap<(String, String), u64> = HashMap::new();
            let (mut first_attempt, mut last_attempt): (Option<i64>, Option<i64>) = (None, None);
            let mut dns_failures = 0;
            let mut dns_temporary = 0;
            // Per sending host: its sender-side deliveries' domains and causes.
            let mut sender_side: HashMap<String, (u64, HashSet<String>, Tally)> = HashMap::new();

            let mut stmt = self.conn.prepare_cached(
                "SELECT status, cause, domain, provider, host, typo_of, last_deferral_code,
                        first_attempt, last_attempt
                 FROM deliveries WHERE code = ?1",
            )?;
            let mut rows = stmt.query([code])?;
            while let Some(r) = rows.next()? {
                let status: DeliveryStatus = r.get(0)?;
                totals.add(status, 1);
                let reason: Option<Reason> = r.get(1)?;
                let cause = reason.map_or(UNKNOWN, Reason::as_str);
                causes.add(cause);
                let domain = r.get_ref(2)?.as_str()?;
                domains.add(domain);
                if let Some(p) = r.get_ref(3)?.as_str_or_null()?
                    && !providers.contains_key(domain)
                {
                    providers.insert(domain.to_string(), p.to_string());
                }
                let host = r.get_ref(4)?.as_str()?;
                hosts.add(host);
                if reason.is_some_and(Reason::is_sender_side) {
                    let (n, doms, why) = sender_side.entry(host.to_string()).or_default();
                    *n += 1;
                    doms.insert(domain.to_string());
                    why.add(cause);
                }
                if let Some(t) = r.get_ref(5)?.as_str_or_null()? {
                    *typos
                        .entry((domain.to_string(), t.to_string()))
                        .or_default() += 1;
                }
                if let Some(c) = r.get_ref(6)?.as_str_or_null()? {
                    deferral_codes.add(c);
                }
                if reason == Some(Reason::HostUnknown) {
                    dns_failures += 1;
                    dns.add(domain);
                    // The deciding code, or for an expiry the last deferral's.
                    let deciding = if status == DeliveryStatus::Expired {
                        r.get_ref(6)?.as_str_or_null()?
                    } else {
                        Some(code)
                    };
                    if deciding == Some(DNS_TEMPORARY) {
                        dns_temporary += 1;
                    }
                }
                if let Some(t) = r.get::<_, Option<i64>>(7)? {
                    first_attempt = Some(first_attempt.map_or(t, |f| f.min(t)));
                }
                if let Some(t) = r.get::<_, Option<i64>>(8)? {
                    last_attempt = Some(last_attempt.map_or(t, |l| l.max(t)));
                }
            }
            drop(rows);

            let domain_count = domains.0.len() as u64;
            let host_count = hosts.0.len() as u64;
            let sender_side_host = sender_side
                .into_iter()
                .max_by(|a, b| a.1.0.cmp(&b.1.0).then_with(|| b.0.cmp(&a.0)))
                .map(|(host, (deliveries, doms, why))| SenderSideHost {
                    host,
                    deliveries,
                    domains: doms.len() as u64,
                    causes: why.top(),
                });
            let causes = causes.top();
            let destinations = domains
                .top()
                .into_iter()
                .map(|c| Destination {
                    provider: providers.get(&c.name).cloned(),
                    domain: c.name,
                    count: c.count,
                })
                .collect();
            let mut typo_domains: Vec<Typo> = typos
                .into_iter()
                .map(|((domain, suggestion), count)| Typo {
                    domain,
                    suggestion,
                    count,
                })
                .collect();
            typo_domains
                .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.domain.cmp(&b.domain)));
            typo_domains.truncate(TOP);

            // The newest reply behind the top cause: walking the index backwards stops at
            // the first match instead of sorting every row.
            let example = match causes.first() {
                Some(top) => self
                    .conn
                    .prepare_cached(
                        "SELECT coalesce(last_deferral_text, final_text) FROM deliveries
                         WHERE code = ?1 AND coalesce(cause, ?3) = ?2
                           AND coalesce(last_deferral_text, final_text) IS NOT NULL
                         ORDER BY id DESC LIMIT 1",
                    )?
                    .query_map(rusqlite::params![code, top.name, UNKNOWN], |r| r.get(0))?
                    .next()
                    .transpose()?,
                None => None,
            };
            Ok(CodeEvidence {
                code: code.to_string(),
                counts: StatusCounts::from(totals),
                causes,
                last_deferral_codes: deferral_codes.top(),
                example,
                domains: domain_count,
                destinations,
                hosts: host_count,
                sending_hosts: hosts.top(),
                sender_side_host,
                typo_domains,
                dns_failures,
                dns_temporary,
                dns_domains: dns.top(),
                first_attempt,
                last_attempt,
            })
        };
        run().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// code, status, cause, domain, sending host, typo_of, attempt time
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
        &'a str,
        Option<&'a str>,
        i64,
    );

    fn store_with(rows: &[Row<'_>]) -> Store {
        let store = Store::open(":memory:").unwrap();
        store
            .conn
            .execute(
                "INSERT INTO messages (id, host, queue_id, first_seen, last_seen, format)
                 VALUES (1, 'mx1', 'Q1', 0, 0, 'postfix')",
                [],
            )
            .unwrap();
        for (code, status, cause, domain, host, typo, ts) in rows {
            store
                .conn
                .execute(
                    "INSERT INTO deliveries (message_ref, recipient, domain, host, status, code, cause,
                     typo_of, attempts, deferrals, first_attempt, last_attempt, last_deferral_text)
                     VALUES (1, 'u@' || ?4, ?4, ?5, ?2, ?1, ?3, ?6, 1, 0, ?7, ?7, 'text ' || ?3)",
                    rusqlite::params![code, status, cause, domain, host, typo, ts],
                )
                .unwrap();
        }
        store
    }

    #[test]
    fn evidence_counts_only_the_code_asked_for() {
        let s = store_with(&[
            (
                "4.4.7",
                "expired",
                Some("networkerror"),
                "a.example",
                "mx1",
                None,
                100,
            ),
            (
                "4.4.7",
                "expired",
                Some("networkerror"),
                "a.example",
                "mx1",
                None,
                200,
            ),
            (
                "4.4.7",
                "expired",
                Some("hostunknown"),
                "gmial.com",
                "mx2",
                Some("gmail.com"),
                50,
            ),
            ("4.4.7", "deferred", None, "b.example", "mx1", None, 300),
            (
                "5.1.1",
                "bounced",
                Some("userunknown"),
                "c.example",
                "mx1",
                None,
                999,
            ),
        ]);
        let e = s.code_evidence("4.4.7").unwrap();
        assert_eq!(
            e.counts,
            StatusCounts {
                total: 4,
                sent: 0,
                deferred: 1,
                bounced: 0,
                expired: 3
            }
        );
        assert_eq!(
            e.causes[0],
            Count {
                name: "networkerror".into(),
                count: 2
            }
        );
        assert!(e.causes.iter().any(|c| c.name == "unknown" && c.count == 1));
        assert_eq!(e.example.as_deref(), Some("text networkerror"));
        assert_eq!((e.domains, e.hosts), (3, 2));
        assert_eq!(
            e.sending_hosts[0],
            Count {
                name: "mx1".into(),
                count: 3
            }
        );
        assert_eq!(e.typo_domains.len(), 1);
        assert_eq!(e.typo_domains[0].suggestion, "gmail.com");
        assert_eq!(e.dns_failures, 1);
        assert_eq!(e.dns_domains[0].name, "gmial.com");
        assert_eq!((e.first_attempt, e.last_attempt), (Some(50), Some(300)));
        assert!(
            e.widespread_host().is_none(),
            "three domains are not widespread"
        );

        let none = s.code_evidence("5.7.1").unwrap();
        assert!(none.is_empty());
        assert!(none.causes.is_empty() && none.example.is_none());
    }

    #[test]
    fn one_host_failing_across_many_domains_is_flagged() {
        let rows: Vec<_> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|d| {
                (
                    "4.7.650",
                    "deferred",
                    Some("badreputation"),
                    *d,
                    "out1",
                    None,
                    1,
                )
            })
            .collect();
        let s = store_with(&rows);
        let e = s.code_evidence("4.7.650").unwrap();
        assert_eq!(e.widespread_host().map(|h| h.host.as_str()), Some("out1"));
    }

    /// A single-server site sends everything from one host: timeouts at many destinations
    /// say nothing about that host's reputation.
    #[test]
    fn one_host_with_destination_side_causes_is_not_flagged() {
        let rows: Vec<_> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|d| {
                (
                    "4.4.7",
                    "expired",
                    Some("networkerror"),
                    *d,
                    "out1",
                    None,
                    1,
                )
            })
            .collect();
        let s = store_with(&rows);
        let e = s.code_evidence("4.4.7").unwrap();
        assert_eq!(e.sending_hosts[0].count, 6);
        assert!(e.widespread_host().is_none());
    }
}
