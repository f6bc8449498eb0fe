//! Marking failed deliveries whose domain looks like a typo of a real one.

use rusqlite::{OptionalExtension, params};

use crate::model::{DeliveryStatus, Reason};

use super::load::Load;
use super::{Result, Store, sql_error};

impl Store {
    /// Flags failed deliveries whose domain is a small edit away from a mailbox provider or
    /// from a domain that received mail in this store. An import that is a sizeable part of
    /// the store (or the first one) looks at the whole store and keeps the domains that
    /// received the most mail; a small one (a grown log's tail, a few lines) looks at its own
    /// rows only (from delivery id `first_new`), against those kept domains, so that its cost
    /// follows what it imported, not the store's size.
    pub(crate) fn mark_typo_domains(&mut self, first_new: i64) -> Result<()> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            mark_typo_domains(&tx, first_new, None)?;
            tx.commit()
        };
        let path = self.path.clone();
        run(&mut self.conn).map_err(|e| sql_error(&path, e))
    }
}

impl Load<'_> {
    /// `Store::mark_typo_domains` in this load's transaction, after its rows: the flags
    /// and the rows they go on are then written once, at its commit. A load into an empty
    /// store counted the rows it wrote as it wrote them (`Load::domain_counts`): the store
    /// holds those and no others, so they are not read back.
    pub(crate) fn mark_typo_domains(&self, first_new: i64) -> Result<()> {
        let written = self.domain_counts.borrow_mut().take();
        mark_typo_domains(&self.tx, first_new, written).map_err(|e| self.err(e))
    }
}

/// `written`: every delivery in the store, counted by domain, when the caller has them.
fn mark_typo_domains(
    tx: &rusqlite::Connection,
    first_new: i64,
    written: Option<DomainCounts>,
) -> rusqlite::Result<()> {
    let all_rows = super::highest_delivery_id(tx)?;
    // The ids this import wrote, read off the highest (counting them reads the whole
    // table on a first import): none exactly when it wrote none, and at most one
    // over when it rewrote rows of its own, which only tips it to the full pass.
    let new_rows = (all_rows - first_new + 1).max(0);
    let saved: Option<String> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = 'typo_popular'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let saved: Option<Vec<String>> = saved.and_then(|v| serde_json::from_str(&v).ok());
    if new_rows == 0 {
        return Ok(());
    }
    let (failed, popular, only_new) = match saved {
        Some(popular) if new_rows * 20 < all_rows => {
            // This import's failed domains that no kept domain is (the kept ones
            // received mail) and none of whose new failures reached a mail server of
            // their own: those are no typo.
            let mut stmt = tx.prepare(
                "SELECT domain FROM deliveries WHERE id >= ?1 AND status != 'sent'
                 GROUP BY domain HAVING sum(coalesce(relay, '') NOT IN ('', 'none')
                     AND coalesce(reason, '') != 'hostunknown'
                     AND coalesce(cause, '') != 'hostunknown') = 0",
            )?;
            let failed: Vec<String> = stmt
                .query_map([first_new], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?
                .into_iter()
                .filter(|d| !popular.contains(d))
                .collect();
            (failed, popular, true)
        }
        _ => {
            let (counts, flagged_before) = match written {
                Some(counts) => (counts, false),
                None => counted_in_store(tx)?,
            };
            // Only domains that failed, none of whose mail was delivered, and none of whose
            // failures reached a server of their own (one that did puts it out entirely).
            let failed: Vec<String> = counts
                .iter()
                .filter(|(_, c)| c.failed > 0 && c.reached == 0 && c.sent == 0)
                .map(|(d, _)| d.clone())
                .collect();
            // The busiest delivered domains are the ones people mean; comparing with
            // every domain that ever received mail would grow with the square of the store.
            let mut busiest: Vec<(String, i64)> = counts
                .into_iter()
                .filter(|(_, c)| c.sent >= 3)
                .map(|(d, c)| (d, c.sent))
                .collect();
            busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            busiest.truncate(2000);
            let popular: Vec<String> = busiest.into_iter().map(|(d, _)| d).collect();
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('typo_popular', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [serde_json::to_string(&popular).unwrap_or_else(|_| "[]".into())],
            )?;
            // Only failed rows carry a suggestion; the read above found whether any
            // does (none on a first import).
            if flagged_before {
                tx.execute(
                    "UPDATE deliveries NOT INDEXED SET typo_of = NULL
                     WHERE status != 'sent' AND typo_of IS NOT NULL",
                    [],
                )?;
            }
            (failed, popular, false)
        }
    };
    let mut known: Vec<&str> = crate::classify::provider::well_known_domains().collect();
    known.extend(popular.iter().map(String::as_str));
    let real = real_domains(tx)?;
    let mut suggestions: Vec<(&str, &str)> = Vec::new();
    for d in &failed {
        if d.is_empty() || real.contains(d) {
            continue;
        }
        if let Some(s) = crate::classify::typo::suggest(d, known.iter().copied()) {
            suggestions.push((d, s));
        }
    }
    if only_new {
        let mut update = tx.prepare(
            "UPDATE deliveries SET typo_of = ?2
             WHERE domain = ?1 AND status != 'sent' AND id >= ?3",
        )?;
        for (d, s) in &suggestions {
            update.execute(params![d, s, first_new])?;
        }
    } else {
        // Without a bound on the id, SQLite reads the failed deliveries' partial
        // index instead of the whole table once per suggestion.
        let mut update = tx
            .prepare("UPDATE deliveries SET typo_of = ?2 WHERE domain = ?1 AND status != 'sent'")?;
        for (d, s) in &suggestions {
            update.execute(params![d, s])?;
        }
    }
    Ok(())
}

/// How the typo pass counts one domain's deliveries.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DomainCount {
    pub sent: i64,
    pub failed: i64,
    /// Failures where a mail server of the domain was found and answered or was tried (a
    /// relay other than `none`, for a reason other than a DNS failure): the domain exists
    /// with a mail host, so it is no typo. `FAILED_BY_DOMAIN` counts the same in SQL.
    pub reached: i64,
}

/// Deliveries counted per domain. Counted for every delivery row a load writes: the map's
/// quicker hasher, where std's would run SipHash over each domain.
pub(crate) type DomainCounts = hashbrown::HashMap<String, DomainCount>;

/// Counts one delivery row in (`by` 1) or out (`by` -1, a row deleted).
pub(crate) fn count_row(counts: &mut DomainCounts, domain: &str, row: RowCounted<'_>, by: i64) {
    let count = match counts.get_mut(domain) {
        Some(count) => count,
        None => counts.entry(domain.to_string()).or_default(),
    };
    if row.status == DeliveryStatus::Sent.as_str() {
        count.sent += by;
        return;
    }
    count.failed += by;
    let dns_failure = |r: Option<&str>| r == Some(Reason::HostUnknown.as_str());
    if row.relay.is_some_and(|r| !r.is_empty() && r != "none")
        && !dns_failure(row.reason)
        && !dns_failure(row.cause)
    {
        count.reached += by;
    }
}

/// The columns of a delivery row the typo pass counts by.
pub(crate) struct RowCounted<'a> {
    pub status: &'a str,
    pub relay: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub cause: Option<&'a str>,
}

/// Every delivery in the store counted per domain, in two reads, and whether any failed
/// one carries a typo flag.
fn counted_in_store(tx: &rusqlite::Connection) -> rusqlite::Result<(DomainCounts, bool)> {
    let mut counts = DomainCounts::new();
    // The sent rows in the order of their group index (status, code, domain), summed
    // here: grouped by domain alone, SQLite would sort them first (0.08 s instead of 0.19
    // for 10 M lines' deliveries).
    let mut stmt = tx.prepare(SENT_BY_CODE_AND_DOMAIN)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let domain: String = r.get(0)?;
        counts.entry(domain).or_default().sent += r.get::<_, i64>(1)?;
    }
    let mut flagged_before = false;
    let mut stmt = tx.prepare(FAILED_BY_DOMAIN)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let domain: String = r.get(0)?;
        let count = counts.entry(domain).or_default();
        count.failed += r.get::<_, i64>(1)?;
        count.reached += r.get::<_, i64>(2)?;
        flagged_before |= r.get::<_, i64>(3)? > 0;
    }
    Ok((counts, flagged_before))
}

/// Sent deliveries per code and domain (a domain on as many rows as it has codes).
const SENT_BY_CODE_AND_DOMAIN: &str = "SELECT domain, count(*) FROM deliveries
     WHERE status = 'sent' GROUP BY code, domain";

/// Per domain, its failed deliveries, those that `reached` a mail server, and those that
/// carry a typo flag. Read in one pass over the table: a failed row's columns looked up
/// from a partial index one by one read the same pages again and again (10 M lines'
/// deliveries: 0.18 s in order, 0.50 s through the index).
const FAILED_BY_DOMAIN: &str = "SELECT domain, count(*),
        sum(coalesce(relay, '') NOT IN ('', 'none')
            AND coalesce(reason, '') != 'hostunknown'
            AND coalesce(cause, '') != 'hostunknown'),
        sum(typo_of IS NOT NULL)
     FROM deliveries NOT INDEXED WHERE status != 'sent' GROUP BY domain";

/// A domain flagged as a likely typo, with how many failed deliveries carry the flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypoFlag {
    pub domain: String,
    pub suggestion: String,
    pub deliveries: i64,
}

/// The settings key of the domains a lookup found real (they have a mail host): never
/// flagged again, whatever they look like.
const REAL_DOMAINS: &str = "typo_real_domains";

impl Store {
    /// Domains whose failed deliveries are flagged as typos, the most flagged first.
    pub fn typo_flags(&self) -> Result<Vec<TypoFlag>> {
        let run = || -> rusqlite::Result<Vec<TypoFlag>> {
            let mut stmt = self.conn.prepare(
                "SELECT domain, typo_of, count(*) FROM deliveries
                 WHERE status != 'sent' AND typo_of IS NOT NULL
                 GROUP BY domain, typo_of ORDER BY count(*) DESC, domain",
            )?;
            stmt.query_map([], |r| {
                Ok(TypoFlag {
                    domain: r.get(0)?,
                    suggestion: r.get(1)?,
                    deliveries: r.get(2)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| sql_error(&self.path, e))
    }

    /// Takes the typo flag off `domain` for good: a lookup found it has a mail host.
    /// Returns how many deliveries lost the flag.
    pub fn mark_domain_real(&mut self, domain: &str) -> Result<usize> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<usize> {
            let tx = conn.transaction()?;
            let mut real = real_domains(&tx)?;
            let domain = domain.to_ascii_lowercase();
            if !real.contains(&domain) {
                real.push(domain.clone());
                real.sort();
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![
                        REAL_DOMAINS,
                        serde_json::to_string(&real).unwrap_or_else(|_| "[]".into())
                    ],
                )?;
            }
            let cleared = tx.execute(
                "UPDATE deliveries SET typo_of = NULL
                 WHERE domain = ?1 AND status != 'sent' AND typo_of IS NOT NULL",
                [&domain],
            )?;
            tx.commit()?;
            Ok(cleared)
        };
        let path = self.path.clone();
        run(&mut self.conn).map_err(|e| sql_error(&path, e))
    }
}

fn real_domains(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    let saved: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [REAL_DOMAINS],
            |r| r.get(0),
        )
        .optional()?;
    Ok(saved
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` deliveries of one message each to `domain`; failed ones found no mail host.
    fn add(store: &Store, domain: &str, status: &str, n: usize) {
        for _ in 0..n {
            store
                .conn
                .execute(
                    "INSERT INTO messages (host, queue_id, first_seen, last_seen, format)
                     VALUES ('h', 'Q', 0, 0, 'postfix')",
                    [],
                )
                .unwrap();
            let message = store.conn.last_insert_rowid();
            let code = if status == "sent" { "2.0.0" } else { "5.1.2" };
            store
                .conn
                .execute(
                    "INSERT INTO deliveries (message_ref, recipient, domain, host, status, code,
                       reason, relay, attempts, deferrals)
                     VALUES (?1, 'x@' || ?2, ?2, 'h', ?3, ?4, 'hostunknown', 'none', 1, 0)",
                    params![message, domain, status, code],
                )
                .unwrap();
        }
    }

    fn next_id(store: &Store) -> i64 {
        store.next_delivery_id().unwrap()
    }

    #[test]
    fn a_flag_a_later_whole_pass_no_longer_finds_is_taken_off() {
        let mut store = Store::open(":memory:").unwrap();
        add(&store, "example.com", "sent", 5);
        add(&store, "exampel.com", "bounced", 2);
        store.mark_typo_domains(1).unwrap();
        let flags = store.typo_flags().unwrap();
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(
            (flags[0].domain.as_str(), flags[0].suggestion.as_str()),
            ("exampel.com", "example.com")
        );

        // Mail to it went out after all: a real domain. An import that size is a whole pass.
        let first_new = next_id(&store);
        add(&store, "exampel.com", "sent", 4);
        store.mark_typo_domains(first_new).unwrap();
        assert_eq!(store.typo_flags().unwrap(), vec![]);
    }

    #[test]
    fn the_tally_reads_the_sent_rows_in_index_order_and_the_failed_ones_in_table_order() {
        let store = Store::open(":memory:").unwrap();
        let sent = crate::store::query_plan(&store.conn, SENT_BY_CODE_AND_DOMAIN);
        assert!(
            sent.iter()
                .any(|s| s.contains("COVERING INDEX deliveries_group"))
                && !sent.iter().any(|s| s.contains("TEMP B-TREE")),
            "{sent:?}"
        );
        let failed = crate::store::query_plan(&store.conn, FAILED_BY_DOMAIN);
        assert!(failed.iter().any(|s| s == "SCAN deliveries"), "{failed:?}");
    }

    /// A load into an empty store counts its rows as it writes them, and the counts are
    /// the store's: sent and failed, reached a mail server or not, and a message written
    /// again (its rows replaced) counted once, as it is now.
    #[test]
    fn a_load_counts_its_rows_as_the_store_then_counts_them() {
        use crate::model::{AttemptRecord, AttemptStatus, DeliveryState, MessageState, SourceRef};
        let attempt = |status, relay: &str, code: &str, text: &str| AttemptRecord {
            ts: 100,
            last_ts: 100,
            repeats: 1,
            status,
            code: Some(code.to_string()),
            reply_code: text.get(..3).and_then(|c| c.parse().ok()),
            relay: Some(relay.to_string()),
            text: Some(text.to_string()),
            counted: true,
            source: SourceRef {
                file: "mail.log".into(),
                line: 1,
            },
        };
        let message = |queue_id: &str, deliveries: Vec<(&str, AttemptRecord)>| MessageState {
            host: "h".into(),
            queue_id: queue_id.into(),
            format: "postfix",
            deliveries: deliveries
                .into_iter()
                .map(|(recipient, a)| DeliveryState {
                    recipient: recipient.into(),
                    orig_recipient: None,
                    attempts: vec![a],
                    expired: None,
                    last_attempt: Default::default(),
                })
                .collect(),
            ..MessageState::placeholder()
        };
        let sent = || {
            attempt(
                AttemptStatus::Sent,
                "mx.a.example[192.0.2.1]:25",
                "2.0.0",
                "250 2.0.0 Ok",
            )
        };
        let reached = || {
            attempt(
                AttemptStatus::Bounced,
                "mx.c.example[192.0.2.3]:25",
                "5.1.1",
                "550 5.1.1 <x@c.example>: Recipient address rejected: User unknown",
            )
        };
        let no_host = || {
            attempt(
                AttemptStatus::Bounced,
                "none",
                "5.4.4",
                "Host or domain name not found. Name service error for name=b.example type=A: Host not found",
            )
        };
        let mut store = Store::open(":memory:").unwrap();
        let load = store.begin_load().unwrap();
        {
            let mut writer = load.writer().unwrap();
            let mut first = message(
                "A1",
                vec![("x@a.example", sent()), ("y@b.example", no_host())],
            );
            let mut second = message(
                "A2",
                vec![("x@c.example", reached()), ("z@a.example", no_host())],
            );
            for m in [&mut first, &mut second] {
                let rows = m.rows();
                writer.write_with_rows(m, &rows).unwrap();
            }
            // Written again: its delivery to b.example went out after all, and one more
            // recipient failed at c.example.
            first.deliveries[1].attempts.push(sent());
            first.deliveries.push(DeliveryState {
                recipient: "w@c.example".into(),
                orig_recipient: None,
                attempts: vec![reached()],
                expired: None,
                last_attempt: Default::default(),
            });
            let rows = first.rows();
            writer.write_with_rows(&mut first, &rows).unwrap();
        }
        let mut counted = load.domain_counts.borrow().clone().unwrap();
        counted.retain(|_, c| *c != DomainCount::default());
        let (in_store, flagged) = counted_in_store(&load.tx).unwrap();
        assert!(!flagged);
        assert_eq!(counted, in_store);
        let count = |sent, failed, reached| DomainCount {
            sent,
            failed,
            reached,
        };
        assert_eq!(
            in_store,
            DomainCounts::from([
                ("a.example".to_string(), count(1, 1, 0)),
                ("b.example".to_string(), count(1, 0, 0)),
                ("c.example".to_string(), count(0, 2, 2)),
            ])
        );
    }
}
