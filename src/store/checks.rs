//! Kept results of live checks (`sendlog check`), per cause, and what a check needs to
//! know of a cause that the cause view does not carry (its senders' domains).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::model::check::{CheckDefaults, CheckResult, Outcome};

const CHECK_DEFAULTS: &str = "check_defaults";

impl Store {
    /// What earlier checks were told (sending addresses, zones, resolver); empty when
    /// nothing was, or what was kept no longer reads.
    pub fn check_defaults(&self) -> Result<CheckDefaults> {
        let kept: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [CHECK_DEFAULTS],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(kept
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    pub fn keep_check_defaults(&self, defaults: &CheckDefaults) -> Result<()> {
        let value = serde_json::to_string(defaults).unwrap_or_else(|_| "{}".into());
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![CHECK_DEFAULTS, value],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Keeps the results of one run, all or none.
    pub fn record_checks(&mut self, results: &[CheckResult]) -> Result<()> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO checks (reason, destination, host, domain, kind, result, evidence, checked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for r in results {
                    stmt.execute(params![
                        r.cause,
                        r.destination,
                        r.host,
                        r.domain,
                        r.check,
                        r.result.as_str(),
                        r.evidence,
                        r.checked_at
                    ])?;
                }
            }
            tx.commit()
        };
        run(&mut self.conn).map_err(|e| self.err(e))
    }

    /// Every kept result, oldest first; of one cause (reason, destination, host) when given.
    pub fn check_history(&self, cause: Option<(&str, &str, &str)>) -> Result<Vec<CheckResult>> {
        let run = || -> rusqlite::Result<Vec<CheckResult>> {
            let (reason, destination, host) = match cause {
                Some((r, d, h)) => (Some(r), Some(d), Some(h)),
                None => (None, None, None),
            };
            let mut stmt = self.conn.prepare_cached(
                "SELECT reason, destination, host, domain, kind, result, evidence, checked_at
                 FROM checks
                 WHERE (?1 IS NULL OR (reason = ?1 AND destination = ?2 AND host = ?3))
                 ORDER BY checked_at, id",
            )?;
            stmt.query_map(params![reason, destination, host], row)?
                .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The results of the latest check of each cause (every domain it asked about then).
    pub fn latest_checks(&self) -> Result<Vec<CheckResult>> {
        let run = || -> rusqlite::Result<Vec<CheckResult>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT c.reason, c.destination, c.host, c.domain, c.kind, c.result, c.evidence, c.checked_at
                 FROM checks c
                 JOIN (SELECT reason, destination, host, max(checked_at) AS at
                       FROM checks GROUP BY reason, destination, host) l
                   ON l.reason = c.reason AND l.destination = c.destination
                  AND l.host = c.host AND l.at = c.checked_at
                 ORDER BY c.id",
            )?;
            stmt.query_map([], row)?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The sender domains of a cause's failed deliveries (at most `limit`, busiest first):
    /// whose SPF and DMARC an authentication failure is about.
    pub fn sender_domains_of(
        &self,
        reason: &str,
        destination: &str,
        host: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let run = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT lower(substr(m.sender, instr(m.sender, '@') + 1)) AS sd, count(*) AS n
                 FROM deliveries d JOIN messages m ON m.id = d.message_ref
                 WHERE d.status != 'sent' AND d.cause = ?1 AND d.host = ?3
                   AND (d.provider = ?2 COLLATE NOCASE
                        OR (d.provider IS NULL AND d.domain = ?2 COLLATE NOCASE))
                   AND instr(m.sender, '@') > 0
                 GROUP BY sd ORDER BY n DESC, sd LIMIT ?4",
            )?;
            stmt.query_map(params![reason, destination, host, limit as i64], |r| {
                r.get::<_, String>(0)
            })?
            .map(|r| r.map(|s| s.trim_end_matches('>').to_string()))
            .filter(|r| r.as_ref().map_or(true, |s| !s.is_empty()))
            .collect()
        };
        run().map_err(|e| self.err(e))
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CheckResult> {
    let result: String = r.get(5)?;
    Ok(CheckResult {
        cause: r.get(0)?,
        destination: r.get(1)?,
        host: r.get(2)?,
        domain: r.get(3)?,
        check: r.get(4)?,
        result: Outcome::parse(&result).unwrap_or(Outcome::Unknown),
        evidence: r.get(6)?,
        checked_at: r.get(7)?,
    })
}
