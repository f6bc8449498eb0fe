//! Marking failed deliveries whose domain looks like a typo of a real one.

use rusqlite::{OptionalExtension, params};

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
            mark_typo_domains(&tx, first_new)?;
            tx.commit()
        };
        let path = self.path.clone();
        run(&mut self.conn).map_err(|e| sql_error(&path, e))
    }
}

impl Load<'_> {
    /// `Store::mark_typo_domains` in this load's transaction, after its rows: the flags
    /// and the rows they go on are then written once, at its commit.
    pub(crate) fn mark_typo_domains(&self, first_new: i64) -> Result<()> {
        mark_typo_domains(&self.tx, first_new).map_err(|e| self.err(e))
    }
}

fn mark_typo_domains(tx: &rusqlite::Connection, first_new: i64) -> rusqlite::Result<()> {
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
            // Per domain, how many deliveries went out and failed, in two reads.
            let mut flagged_before = false;
            let mut tally: Vec<(String, i64, i64)> = {
                // The sent rows in the order of their group index (status, code,
                // domain), summed here: grouped by domain alone, SQLite would sort
                // them first (0.08 s instead of 0.19 for 10 M lines' deliveries).
                let mut sent: std::collections::HashMap<String, i64> =
                    std::collections::HashMap::new();
                let mut stmt = tx.prepare(SENT_BY_CODE_AND_DOMAIN)?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    *sent.entry(r.get(0)?).or_default() += r.get::<_, i64>(1)?;
                }
                // `reached`: failures where a mail server of the domain was found
                // and answered or was tried (a relay other than `none`, for a reason
                // other than a DNS failure): the domain exists with a mail host, so
                // it is no typo.
                let failed: Vec<(String, i64, i64, i64)> = tx
                    .prepare(FAILED_BY_DOMAIN)?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                // A domain with any reached failure is out entirely.
                let mut tally: Vec<(String, i64, i64)> = failed
                    .into_iter()
                    .map(|(d, failed, reached, flagged)| {
                        flagged_before |= flagged > 0;
                        let sent = sent.remove(&d).unwrap_or(0);
                        (d, sent, if reached > 0 { 0 } else { failed })
                    })
                    .collect();
                tally.extend(sent.into_iter().map(|(d, sent)| (d, sent, 0)));
                tally
            };
            // Only domains none of whose mail reached a server of their own, and none
            // of whose mail was delivered.
            let failed: Vec<String> = tally
                .iter()
                .filter(|(_, sent, unreached)| *unreached > 0 && *sent == 0)
                .map(|(d, _, _)| d.clone())
                .collect();
            // The busiest delivered domains are the ones people mean; comparing with
            // every domain that ever received mail would grow with the square of the store.
            tally.retain(|(_, sent, _)| *sent >= 3);
            tally.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            tally.truncate(2000);
            let popular: Vec<String> = tally.into_iter().map(|(d, _, _)| d).collect();
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
}
