//! The user's own evidence for one code, shown under its explanation panel: how many
//! deliveries, the causes behind them, where they went, which hosts sent them, typo and
//! DNS evidence, and when. Every query is keyed on `deliveries.code` (indexed) and binds
//! its parameters.

use rusqlite::Connection;
use serde::Serialize;

use super::{Result, Store};

/// How many rows each top list keeps.
pub const TOP: usize = 5;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StatusCounts {
    pub total: u64,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Count {
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
pub struct CodeEvidence {
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
    pub typo_domains: Vec<Typo>,
    /// Deliveries whose cause is a DNS failure of the recipient domain (`hostunknown`),
    /// and the domains behind them.
    pub dns_failures: u64,
    pub dns_domains: Vec<Count>,
    pub first_attempt: Option<i64>,
    pub last_attempt: Option<i64>,
}

impl CodeEvidence {
    pub fn is_empty(&self) -> bool {
        self.counts.total == 0
    }

    /// The sending host behind most of these deliveries when they reach many domains:
    /// one host failing everywhere points at that host's reputation, not at the
    /// destinations (DESIGN.md, "Widespread").
    pub fn widespread_host(&self) -> Option<&Count> {
        let top = self.sending_hosts.first()?;
        (self.domains >= 5 && top.count * 10 >= self.counts.total * 8).then_some(top)
    }
}

fn top_counts(conn: &Connection, sql: &str, code: &str) -> rusqlite::Result<Vec<Count>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params![code, TOP as i64], |r| {
        Ok(Count {
            name: r.get(0)?,
            count: r.get(1)?,
        })
    })?;
    rows.collect()
}

impl Store {
    /// Evidence for `code` as stored (e.g. `4.4.7`). A code with no deliveries gives an
    /// empty `CodeEvidence`, not an error.
    pub fn code_evidence(&self, code: &str) -> Result<CodeEvidence> {
        let run = || -> rusqlite::Result<CodeEvidence> {
            let c = &self.conn;
            let (counts, first_attempt, last_attempt, domains, hosts) = c
                .prepare_cached(
                    "SELECT count(*), coalesce(sum(status = 'sent'), 0),
                            coalesce(sum(status = 'deferred'), 0), coalesce(sum(status = 'bounced'), 0),
                            coalesce(sum(status = 'expired'), 0), min(first_attempt), max(last_attempt),
                            count(DISTINCT domain), count(DISTINCT host)
                     FROM deliveries WHERE code = ?1",
                )?
                .query_row([code], |r| {
                    Ok((
                        StatusCounts {
                            total: r.get(0)?,
                            sent: r.get(1)?,
                            deferred: r.get(2)?,
                            bounced: r.get(3)?,
                            expired: r.get(4)?,
                        },
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })?;

            let causes = top_counts(
                c,
                "SELECT coalesce(cause, 'unknown'), count(*) FROM deliveries WHERE code = ?1
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?2",
                code,
            )?;
            let last_deferral_codes = top_counts(
                c,
                "SELECT last_deferral_code, count(*) FROM deliveries
                 WHERE code = ?1 AND last_deferral_code IS NOT NULL
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?2",
                code,
            )?;
            let example = match causes.first() {
                Some(top) => c
                    .prepare_cached(
                        "SELECT coalesce(last_deferral_text, final_text) FROM deliveries
                         WHERE code = ?1 AND coalesce(cause, 'unknown') = ?2
                           AND coalesce(last_deferral_text, final_text) IS NOT NULL
                         ORDER BY last_attempt DESC, id DESC LIMIT 1",
                    )?
                    .query_map(rusqlite::params![code, top.name], |r| r.get(0))?
                    .next()
                    .transpose()?,
                None => None,
            };
            let destinations = c
                .prepare_cached(
                    "SELECT domain, max(provider), count(*) FROM deliveries WHERE code = ?1
                     GROUP BY domain ORDER BY 3 DESC, domain LIMIT ?2",
                )?
                .query_map(rusqlite::params![code, TOP as i64], |r| {
                    Ok(Destination {
                        domain: r.get(0)?,
                        provider: r.get(1)?,
                        count: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let sending_hosts = top_counts(
                c,
                "SELECT host, count(*) FROM deliveries WHERE code = ?1
                 GROUP BY host ORDER BY 2 DESC, host LIMIT ?2",
                code,
            )?;
            let typo_domains = c
                .prepare_cached(
                    "SELECT domain, typo_of, count(*) FROM deliveries
                     WHERE code = ?1 AND typo_of IS NOT NULL
                     GROUP BY domain, typo_of ORDER BY 3 DESC, domain LIMIT ?2",
                )?
                .query_map(rusqlite::params![code, TOP as i64], |r| {
                    Ok(Typo {
                        domain: r.get(0)?,
                        suggestion: r.get(1)?,
                        count: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let dns_failures: u64 = c
                .prepare_cached(
                    "SELECT count(*) FROM deliveries WHERE code = ?1 AND cause = 'hostunknown'",
                )?
                .query_row([code], |r| r.get(0))?;
            let dns_domains = top_counts(
                c,
                "SELECT domain, count(*) FROM deliveries WHERE code = ?1 AND cause = 'hostunknown'
                 GROUP BY domain ORDER BY 2 DESC, domain LIMIT ?2",
                code,
            )?;
            Ok(CodeEvidence {
                code: code.to_string(),
                counts,
                causes,
                last_deferral_codes,
                example,
                domains,
                destinations,
                hosts,
                sending_hosts,
                typo_domains,
                dns_failures,
                dns_domains,
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
        assert_eq!(e.widespread_host().map(|h| h.name.as_str()), Some("out1"));
    }
}
