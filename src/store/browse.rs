//! Read queries behind the TUI: failed deliveries grouped by code, a second level by
//! destination domain / provider / sending host, keyset pages of a group's deliveries and
//! one delivery's attempts. Every query is a fixed SQL string with bound parameters; pages
//! are keyset (`id > ?` / `id < ?`), never OFFSET, so a page costs the same at row 10 and
//! at row 1,000,000.

use rusqlite::{OptionalExtension, Row, params};

use super::report::{CauseCount, Totals};
use super::{Result, Store};
use crate::model::{DeliveryStatus, Reason};

pub use crate::model::delivery::{
    Anchor, AttemptRow, Breakdown, CodeCount, DeliveryDetail, DeliveryFilter, DeliveryRow,
    Dimension, LinkedBounce, Overview, Sparklines,
};

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        recipient: r.get(1)?,
        domain: r.get(2)?,
        host: r.get(3)?,
        status: r.get(4)?,
        attempts: r.get(5)?,
        last_attempt: r.get(6)?,
        cause: r.get(7)?,
    })
}

/// The page queries, one fixed string per (narrowing, direction). `IS` rather than `=`
/// so that a `NULL` provider is a value one can open like any other.
fn page_sql(narrow: Option<Dimension>, anchor: Anchor) -> &'static str {
    macro_rules! page {
        ($narrow:literal, $cmp:literal, $order:literal) => {
            concat!(
                "SELECT id, recipient, domain, host, status, attempts, last_attempt, cause
                 FROM deliveries WHERE status != 'sent' AND code = ?1 ",
                $narrow,
                " AND id ",
                $cmp,
                " ?2 ORDER BY id ",
                $order,
                " LIMIT ?3"
            )
        };
    }
    match (narrow, anchor) {
        (None, Anchor::After(_)) => page!("AND ?4 IS ?4", ">", "ASC"),
        (None, Anchor::Before(_)) => page!("AND ?4 IS ?4", "<", "DESC"),
        (Some(Dimension::Domain), Anchor::After(_)) => page!("AND domain IS ?4", ">", "ASC"),
        (Some(Dimension::Domain), Anchor::Before(_)) => page!("AND domain IS ?4", "<", "DESC"),
        (Some(Dimension::Provider), Anchor::After(_)) => page!("AND provider IS ?4", ">", "ASC"),
        (Some(Dimension::Provider), Anchor::Before(_)) => {
            page!("AND provider IS ?4", "<", "DESC")
        }
        (Some(Dimension::Host), Anchor::After(_)) => page!("AND host IS ?4", ">", "ASC"),
        (Some(Dimension::Host), Anchor::Before(_)) => page!("AND host IS ?4", "<", "DESC"),
    }
}

impl Store {
    /// Failed deliveries by code and by status.
    pub fn overview(&self) -> Result<Overview> {
        let run = || -> rusqlite::Result<Overview> {
            // Spelled as the three failed statuses (the schema's CHECK allows no other) so
            // that SQLite reads only their ranges of the (status, code, domain) index.
            let mut stmt = self.conn.prepare_cached(
                "SELECT code, status, count(*) FROM deliveries
                 WHERE status IN ('deferred', 'bounced', 'expired') GROUP BY code, status",
            )?;
            let mut totals = Totals::default();
            let mut codes: Vec<CodeCount> = Vec::new();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let code: String = r.get(0)?;
                let status: DeliveryStatus = r.get(1)?;
                let n: u64 = r.get(2)?;
                totals.add(status, n);
                match codes.iter_mut().find(|c| c.code == code) {
                    Some(c) => c.count += n,
                    None => codes.push(CodeCount { code, count: n }),
                }
            }
            codes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
            Ok(Overview { totals, codes })
        };
        run().map_err(|e| self.err(e))
    }

    /// Deliveries that were sent.
    pub(crate) fn sent_count(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM deliveries WHERE status = 'sent'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Per code, how many failures had their last attempt in each of `buckets` equal slices
    /// of the failures' time span.
    pub fn sparklines(&self, buckets: usize) -> Result<Sparklines> {
        let buckets = buckets.max(1);
        let run = || -> rusqlite::Result<Sparklines> {
            let span: Option<(i64, i64)> = self.conn.query_row(
                "SELECT min(last_attempt), max(last_attempt) FROM deliveries
                 WHERE status != 'sent' AND code IS NOT NULL",
                [],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )?;
            let Some((start, end)) = span else {
                return Ok(Sparklines {
                    span: None,
                    by_code: Vec::new(),
                });
            };
            let width = (end - start).max(1) + 1;
            let mut stmt = self.conn.prepare_cached(
                "SELECT code, (last_attempt - ?1) * ?3 / ?2 AS bucket, count(*) FROM deliveries
                 WHERE status != 'sent' AND code IS NOT NULL AND last_attempt IS NOT NULL
                 GROUP BY code, bucket ORDER BY code",
            )?;
            let mut by_code: Vec<(String, Vec<u64>)> = Vec::new();
            let mut rows = stmt.query(params![start, width, buckets as i64])?;
            while let Some(r) = rows.next()? {
                let code: String = r.get(0)?;
                let bucket = (r.get::<_, i64>(1)?).clamp(0, buckets as i64 - 1) as usize;
                let n: u64 = r.get(2)?;
                if by_code.last().is_none_or(|(c, _)| *c != code) {
                    by_code.push((code, vec![0; buckets]));
                }
                if let Some((_, counts)) = by_code.last_mut() {
                    counts[bucket] += n;
                }
            }
            Ok(Sparklines {
                span: Some((start, end)),
                by_code,
            })
        };
        run().map_err(|e| self.err(e))
    }

    /// A code's failures by one dimension, most first, at most `limit` values.
    pub fn breakdown(&self, code: &str, dim: Dimension, limit: usize) -> Result<Vec<Breakdown>> {
        let sql = match dim {
            Dimension::Domain => {
                "SELECT domain, count(*) FROM deliveries WHERE status != 'sent' AND code = ?1
                 GROUP BY domain ORDER BY count(*) DESC, domain LIMIT ?2"
            }
            Dimension::Provider => {
                "SELECT provider, count(*) FROM deliveries WHERE status != 'sent' AND code = ?1
                 GROUP BY provider ORDER BY count(*) DESC, provider LIMIT ?2"
            }
            Dimension::Host => {
                "SELECT host, count(*) FROM deliveries WHERE status != 'sent' AND code = ?1
                 GROUP BY host ORDER BY count(*) DESC, host LIMIT ?2"
            }
        };
        let run = || -> rusqlite::Result<Vec<Breakdown>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            stmt.query_map(params![code, limit as i64], |r| {
                Ok(Breakdown {
                    value: r.get(0)?,
                    count: r.get(1)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The causes behind a code's failures (for 4.4.7: the last deferral before expiry).
    pub fn causes_of(&self, code: &str) -> Result<Vec<CauseCount>> {
        let run = || -> rusqlite::Result<Vec<CauseCount>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT cause, count(*) FROM deliveries WHERE status != 'sent' AND code = ?1
                 GROUP BY cause ORDER BY count(*) DESC, cause",
            )?;
            stmt.query_map([code], |r| {
                Ok(CauseCount {
                    cause: r.get(0)?,
                    count: r.get(1)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The most common cause of a code's failures within one second-level group (a
    /// destination domain, a provider or a sending host; `None` is the group without one).
    pub(crate) fn main_cause_of_group(
        &self,
        code: &str,
        dim: Dimension,
        value: Option<&str>,
    ) -> Result<Option<Reason>> {
        let sql = match dim {
            Dimension::Domain => {
                "SELECT cause FROM deliveries WHERE status != 'sent' AND code = ?1 AND domain IS ?2
                 AND cause IS NOT NULL GROUP BY cause ORDER BY count(*) DESC, cause LIMIT 1"
            }
            Dimension::Provider => {
                "SELECT cause FROM deliveries WHERE status != 'sent' AND code = ?1 AND provider IS ?2
                 AND cause IS NOT NULL GROUP BY cause ORDER BY count(*) DESC, cause LIMIT 1"
            }
            Dimension::Host => {
                "SELECT cause FROM deliveries WHERE status != 'sent' AND code = ?1 AND host IS ?2
                 AND cause IS NOT NULL GROUP BY cause ORDER BY count(*) DESC, cause LIMIT 1"
            }
        };
        let run = || -> rusqlite::Result<Option<Reason>> {
            self.conn
                .prepare_cached(sql)?
                .query_row(params![code, value], |r| r.get(0))
                .optional()
        };
        run().map_err(|e| self.err(e))
    }

    /// Up to `limit` deliveries of `filter` next to `anchor`, in ascending id order.
    pub fn deliveries_page(
        &self,
        filter: &DeliveryFilter,
        anchor: Anchor,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>> {
        let (dim, value) = match &filter.narrow {
            Some((d, v)) => (Some(*d), v.as_deref()),
            None => (None, None),
        };
        let id = match anchor {
            Anchor::After(id) | Anchor::Before(id) => id,
        };
        let run = || -> rusqlite::Result<Vec<DeliveryRow>> {
            let mut stmt = self.conn.prepare_cached(page_sql(dim, anchor))?;
            let mut rows: Vec<DeliveryRow> = stmt
                .query_map(params![filter.code, id, limit as i64, value], delivery_row)?
                .collect::<rusqlite::Result<_>>()?;
            if matches!(anchor, Anchor::Before(_)) {
                rows.reverse();
            }
            Ok(rows)
        };
        run().map_err(|e| self.err(e))
    }

    /// One delivery with its message's facts and its attempts in order.
    pub fn delivery_detail(&self, id: i64) -> Result<Option<DeliveryDetail>> {
        let run = || -> rusqlite::Result<Option<DeliveryDetail>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.id, m.queue_id, m.message_id, m.sender, m.subject, d.recipient, d.domain,
                        d.provider, d.host, d.status, d.code, d.reply_code, d.reason, d.cause,
                        d.final_text, d.last_deferral_code, d.last_deferral_text, d.relay, d.typo_of,
                        d.source, d.expired_at, d.expired_source, d.message_ref
                 FROM deliveries d JOIN messages m ON m.id = d.message_ref WHERE d.id = ?1",
            )?;
            let mut rows = stmt.query([id])?;
            let Some(r) = rows.next()? else {
                return Ok(None);
            };
            let mut detail = DeliveryDetail {
                id: r.get(0)?,
                queue_id: r.get(1)?,
                message_id: r.get(2)?,
                sender: r.get(3)?,
                subject: r.get(4)?,
                recipient: r.get(5)?,
                domain: r.get(6)?,
                provider: r.get(7)?,
                host: r.get(8)?,
                status: r.get(9)?,
                code: r.get(10)?,
                reply_code: r.get(11)?,
                reason: r.get(12)?,
                cause: r.get(13)?,
                final_text: r.get(14)?,
                last_deferral_code: r.get(15)?,
                last_deferral_text: r.get(16)?,
                relay: r.get(17)?,
                typo_of: r.get(18)?,
                source: r.get(19)?,
                expired_at: r.get(20)?,
                expired_source: r.get(21)?,
                attempts: Vec::new(),
                bounces: Vec::new(),
            };
            let message_ref: i64 = r.get(22)?;
            let mut astmt = self.conn.prepare_cached(
                "SELECT ts, status, code, reply_code, relay, text, source, last_ts, repeats, counted
                 FROM delivery_attempts WHERE delivery_id = ?1 ORDER BY seq",
            )?;
            detail.attempts = astmt
                .query_map([id], |r| {
                    Ok(AttemptRow {
                        counted: r.get(9)?,
                        ts: r.get(0)?,
                        last_ts: r.get(7)?,
                        repeats: r.get(8)?,
                        status: r.get(1)?,
                        code: r.get(2)?,
                        reply_code: r.get(3)?,
                        relay: r.get(4)?,
                        text: r.get(5)?,
                        source: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            // Report recipients keep the case the bounce wrote them in.
            let mut bstmt = self.conn.prepare_cached(
                "SELECT report, kind, linked_by, status, reason, reply_code, diagnostic, remote_mta, reported_at,
                        conflict
                 FROM bounces WHERE message_ref = ?1 AND lower(recipient) = lower(?2) ORDER BY id",
            )?;
            detail.bounces = bstmt
                .query_map(params![message_ref, detail.recipient], |r| {
                    Ok(LinkedBounce {
                        report: r.get(0)?,
                        kind: r.get(1)?,
                        linked_by: r.get(2)?,
                        status: r.get(3)?,
                        reason: r.get(4)?,
                        reply_code: r.get(5)?,
                        diagnostic: r.get(6)?,
                        remote_mta: r.get(7)?,
                        reported_at: r.get(8)?,
                        conflict: r.get(9)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some(detail))
        };
        run().map_err(|e| self.err(e))
    }
}
