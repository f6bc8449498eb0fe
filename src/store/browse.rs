//! Read queries behind the TUI: failed deliveries grouped by code, a second level by
//! destination domain / provider / sending host, keyset pages of any status's deliveries
//! in any of the sort orders, and one delivery's attempts. Every query is made of fixed SQL
//! fragments chosen here with bound parameters; pages are keyset (`(key, id) > (?, ?)`),
//! never OFFSET, so a page costs the same at row 10 and at row 1,000,000.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params};

use super::report::{CauseCount, Totals, sender_key_sql};
use super::{Result, Store};
use crate::model::{DeliveryStatus, Reason};

pub use crate::model::delivery::{
    Anchor, AttemptRow, Breakdown, CodeCount, DeliveryDetail, DeliveryFilter, DeliveryRow,
    Dimension, LinkedBounce, Overview, Sort, SortKey, Sparklines, StatusFilter,
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
        code: r.get(8)?,
        deferrals: r.get(9)?,
        delay: r.get(10)?,
    })
}

/// One delivery's row, by id. Read from the table itself: the page query has already
/// decided which rows belong.
const ROW_SQL: &str =
    "SELECT d.id, d.recipient, d.domain, d.host, d.status, d.attempts, d.last_attempt,
        d.cause, d.code, d.deferrals,
        max(coalesce(d.last_attempt, d.expired_at), coalesce(d.expired_at, d.last_attempt))
            - coalesce(m.arrived_at, m.first_seen)
 FROM main.deliveries d JOIN main.messages m ON m.id = d.message_ref WHERE d.id = ?1";

/// A sort key as SQL over `deliveries d` (and `messages m` when `needs_message`): fixed
/// text chosen here, never NULL (a NULL would drop out of the keyset's row-value
/// comparison), so missing times sort first.
fn sort_sql(key: SortKey) -> &'static str {
    match key {
        SortKey::Logged => "d.id",
        SortKey::LastAttempt => "coalesce(d.last_attempt, d.expired_at, 0)",
        SortKey::Recipient => "d.recipient",
        SortKey::Domain => "d.domain",
        SortKey::Code => "d.code",
        SortKey::Status => "d.status",
        SortKey::Host => "d.host",
        SortKey::Deferrals => "d.deferrals",
        SortKey::Cause => "coalesce(d.cause, '')",
        SortKey::Delay => {
            "coalesce(max(coalesce(d.last_attempt, d.expired_at), coalesce(d.expired_at, d.last_attempt))
                      - coalesce(m.arrived_at, m.first_seen), -1)"
        }
        SortKey::Attempts => "d.attempts",
    }
}

fn needs_message(key: SortKey) -> bool {
    key == SortKey::Delay
}

/// The conditions of a filter as SQL with named parameters, and their values. Only fixed
/// fragments are joined; every value is bound. The failed statuses also say
/// `status != 'sent'` in so many words: SQLite reads the partial indexes only then.
fn filter_sql(filter: &DeliveryFilter) -> (String, Vec<(&'static str, Value)>) {
    let mut conds: Vec<&str> = vec![match filter.status {
        StatusFilter::Failed => "d.status != 'sent'",
        StatusFilter::Only(DeliveryStatus::Sent) => "d.status = 'sent'",
        StatusFilter::Only(DeliveryStatus::Deferred) => {
            "d.status != 'sent' AND d.status = 'deferred'"
        }
        StatusFilter::Only(DeliveryStatus::Bounced) => {
            "d.status != 'sent' AND d.status = 'bounced'"
        }
        StatusFilter::Only(DeliveryStatus::Expired) => {
            "d.status != 'sent' AND d.status = 'expired'"
        }
        StatusFilter::SentAfterDeferrals => "d.status = 'sent' AND d.deferrals > 0",
    }];
    let mut values: Vec<(&'static str, Value)> = Vec::new();
    if let Some(code) = &filter.code {
        conds.push("d.code = :code");
        values.push((":code", Value::Text(code.clone())));
    }
    if let Some((dim, value)) = &filter.narrow {
        // `IS` rather than `=`: a NULL provider is a value one can open like any other.
        conds.push(match dim {
            Dimension::Domain => "d.domain IS :narrow",
            Dimension::Provider => "d.provider IS :narrow",
            Dimension::Host => "d.host IS :narrow",
        });
        values.push((":narrow", value.clone().map_or(Value::Null, Value::Text)));
    }
    let sender_cond;
    if let Some((key, value)) = &filter.sender {
        sender_cond = format!("{} = :sender", sender_key_sql(*key));
        conds.push(&sender_cond);
        values.push((":sender", Value::Text(value.clone())));
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        conds.push("instr(lower(d.recipient), lower(:text)) > 0");
        values.push((":text", Value::Text(text.to_string())));
    }
    (conds.join(" AND "), values)
}

fn from_sql(filter: &DeliveryFilter) -> &'static str {
    if needs_message(filter.sort.key) || filter.sender.is_some() {
        "FROM deliveries d JOIN messages m ON m.id = d.message_ref"
    } else {
        "FROM deliveries d"
    }
}

/// A filter's values as named parameters, bound by rusqlite.
fn named<'v>(values: &'v [(&'static str, Value)]) -> Vec<(&'static str, &'v dyn rusqlite::ToSql)> {
    values
        .iter()
        .map(|(n, v)| (*n, v as &dyn rusqlite::ToSql))
        .collect()
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

    /// Up to `limit` deliveries of `filter` next to `anchor`, in the filter's order. Keyset
    /// over (sort key, id): the anchor's key is read from its row, so a page costs the same
    /// wherever it starts.
    pub fn deliveries_page(
        &self,
        filter: &DeliveryFilter,
        anchor: Anchor,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>> {
        let key = sort_sql(filter.sort.key);
        let (conds, mut values) = filter_sql(filter);
        let (id, after) = match anchor {
            Anchor::After(id) => (id, true),
            Anchor::Before(id) => (id, false),
        };
        let edge = id == i64::MIN || id == i64::MAX;
        // Reading forwards in the list's order, or backwards (then reversed).
        let ascending = after != filter.sort.descending;
        let (cmp, order) = if ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        let keyset = if edge {
            String::new()
        } else if filter.sort.key == SortKey::Logged {
            values.push((":anchor", Value::Integer(id)));
            format!(" AND d.id {cmp} :anchor")
        } else {
            values.push((":anchor", Value::Integer(id)));
            format!(
                " AND ({key}, d.id) {cmp} ((SELECT {key} FROM main.deliveries d
                      JOIN main.messages m ON m.id = d.message_ref WHERE d.id = :anchor), :anchor)"
            )
        };
        values.push((":limit", Value::Integer(limit as i64)));
        let sql = format!(
            "SELECT d.id {from} WHERE {conds}{keyset} ORDER BY {key} {order}, d.id {order} LIMIT :limit",
            from = from_sql(filter),
        );
        let run = || -> rusqlite::Result<Vec<DeliveryRow>> {
            let params = named(&values);
            let ids: Vec<i64> = self
                .conn
                .prepare_cached(&sql)?
                .query_map(params.as_slice(), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut row = self.conn.prepare_cached(ROW_SQL)?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(r) = row.query_row([id], delivery_row).optional()? {
                    rows.push(r);
                }
            }
            if !after {
                rows.reverse();
            }
            Ok(rows)
        };
        run().map_err(|e| self.err(e))
    }

    /// How many deliveries `filter` lists.
    pub fn deliveries_count(&self, filter: &DeliveryFilter) -> Result<u64> {
        let (conds, values) = filter_sql(filter);
        let from = match filter.sender {
            Some(_) => "FROM deliveries d JOIN messages m ON m.id = d.message_ref",
            None => "FROM deliveries d",
        };
        let sql = format!("SELECT count(*) {from} WHERE {conds}");
        let run = || -> rusqlite::Result<u64> {
            let params = named(&values);
            self.conn
                .prepare_cached(&sql)?
                .query_row(params.as_slice(), |r| r.get(0))
        };
        run().map_err(|e| self.err(e))
    }

    /// The ids of every delivery `filter` lists (what "all in view" marks), in no order.
    pub fn delivery_ids(&self, filter: &DeliveryFilter) -> Result<Vec<i64>> {
        let (conds, values) = filter_sql(filter);
        let sql = format!("SELECT d.id {} WHERE {conds}", from_sql(filter));
        let run = || -> rusqlite::Result<Vec<i64>> {
            let params = named(&values);
            self.conn
                .prepare_cached(&sql)?
                .query_map(params.as_slice(), |r| r.get(0))?
                .collect()
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
