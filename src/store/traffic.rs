//! The report's traffic tables, on a par with pflogsumm's: mail per time bucket and hour of
//! the day, per destination domain, per sender (grouped by `report --by`), top senders and
//! recipients, sizes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::{Result, Store};
use crate::model::report::{DomainTraffic, Recipient, SenderGroup, SenderKey, Traffic};

/// A sender key as SQL over `deliveries d JOIN messages m`: fixed text, chosen here.
pub(crate) fn sender_key_sql(key: SenderKey) -> &'static str {
    match key {
        SenderKey::Sender => "coalesce(nullif(m.sender, ''), '<>')",
        SenderKey::SenderDomain => {
            "CASE WHEN instr(m.sender, '@') > 0
                  THEN lower(substr(m.sender, instr(m.sender, '@') + 1))
                  ELSE coalesce(nullif(m.sender, ''), '<>') END"
        }
        SenderKey::Host => "d.host",
        SenderKey::Campaign => "coalesce(nullif(m.subject, ''), '(no subject logged)')",
    }
}

/// Deliveries decided (sent, bounced, expired) and deferral lines per time bucket of
/// `bucket` seconds, or per hour of the day (UTC) when `hour_of_day`.
fn bucket_sql(ts: &str, bucket: i64, hour_of_day: bool) -> String {
    if hour_of_day {
        format!("(({ts}) % 86400) / 3600")
    } else {
        format!("(({ts}) / {bucket}) * {bucket}")
    }
}

/// Decided deliveries (sent, bounced) per bucket. Most deliveries are decided: `likely`
/// tells SQLite so, and it reads the table in order instead of looking up each row from
/// the status index (1.6 s → 0.5 s on a million deliveries, most of the pages read once).
fn decided_sql(bucket: i64, hour_of_day: bool) -> String {
    format!(
        "SELECT {b}, sum(status = 'sent'), sum(status = 'bounced') FROM deliveries
         WHERE last_attempt IS NOT NULL AND likely(status IN ('sent', 'bounced')) GROUP BY 1",
        b = bucket_sql("last_attempt", bucket, hour_of_day)
    )
}

/// Sent deliveries per recipient, with the bytes of their messages. Most deliveries are
/// sent: read in order, as in `decided_sql` (3.3 s → 1.4 s on a million deliveries).
const RECIPIENTS_SENT_SQL: &str = "SELECT lower(d.recipient), count(*), coalesce(sum(m.size), 0)
     FROM deliveries d JOIN messages m ON m.id = d.message_ref
     WHERE likely(d.status = 'sent') GROUP BY 1";

/// Messages per sender that had a delivery, with their bytes.
const SENDERS_SQL: &str =
    "SELECT coalesce(nullif(m.sender, ''), '<>'), count(*), coalesce(sum(m.size), 0)
     FROM messages m WHERE m.sender IS NOT NULL
       AND EXISTS (SELECT 1 FROM deliveries d WHERE d.message_ref = m.id)
     GROUP BY 1";

/// A ranked row: key, count, bytes.
type Ranked = (String, u64, u64);

/// The first two columns ranked (best is least), then the key.
type RankHeap = BinaryHeap<(Reverse<u64>, Reverse<u64>, String)>;

/// The `limit` first of `(key, count, bytes)` rows in two orders at once, from one pass:
/// by count (ties by bytes), and by bytes (ties by count); remaining ties by key. pflogsumm
/// lists both, and each order read the whole store again (on 10 M lines a pass over the
/// recipients took 1 s). Holds `2 × limit` rows, however many groups go by.
struct TopTwoWays {
    limit: usize,
    /// Max-heaps whose top is the row the next better one pushes out.
    by_count: RankHeap,
    by_bytes: RankHeap,
}

impl TopTwoWays {
    fn new(limit: usize) -> Self {
        TopTwoWays {
            limit,
            by_count: Default::default(),
            by_bytes: Default::default(),
        }
    }

    fn offer(&mut self, key: &str, count: u64, bytes: u64) {
        fn keep(heap: &mut RankHeap, limit: usize, first: u64, second: u64, key: &str) {
            if limit == 0 {
                return;
            }
            if heap.len() == limit
                && let Some((Reverse(f), Reverse(s), k)) = heap.peek()
                && (Reverse(first), Reverse(second), key) >= (Reverse(*f), Reverse(*s), k.as_str())
            {
                return;
            }
            heap.push((Reverse(first), Reverse(second), key.to_string()));
            if heap.len() > limit {
                heap.pop();
            }
        }
        keep(&mut self.by_count, self.limit, count, bytes, key);
        keep(&mut self.by_bytes, self.limit, bytes, count, key);
    }

    /// (by count, by bytes), each best first, as `(key, count, bytes)`.
    fn finish(self) -> (Vec<Ranked>, Vec<Ranked>) {
        let best_first = |heap: RankHeap, count_first: bool| -> Vec<Ranked> {
            heap.into_sorted_vec()
                .into_iter()
                .map(|(Reverse(first), Reverse(second), key)| {
                    if count_first {
                        (key, first, second)
                    } else {
                        (key, second, first)
                    }
                })
                .collect()
        };
        (
            best_first(self.by_count, true),
            best_first(self.by_bytes, false),
        )
    }
}

impl Store {
    /// Traffic per time bucket (`bucket` seconds: 3600 an hour, 86400 a day, UTC), or per
    /// hour of the day summed over days (`hour_of_day`), oldest first. Intake counts are
    /// taken between `since` and `until`; deliveries as the window has them.
    pub fn traffic(
        &self,
        bucket: i64,
        hour_of_day: bool,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<Traffic>> {
        let bucket = bucket.max(1);
        let run = || -> rusqlite::Result<Vec<Traffic>> {
            let mut by: BTreeMap<i64, Traffic> = BTreeMap::new();
            let decided = decided_sql(bucket, hour_of_day);
            let rows: Vec<(i64, u64, u64)> = self
                .conn
                .prepare_cached(&decided)?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (b, sent, bounced) in rows {
                let t = by.entry(b).or_insert_with(|| Traffic {
                    start: b,
                    ..Traffic::default()
                });
                t.delivered += sent;
                t.bounced += bounced;
            }
            let expired = format!(
                "SELECT {b}, count(*) FROM deliveries
                 WHERE status = 'expired' AND coalesce(expired_at, last_attempt) IS NOT NULL GROUP BY 1",
                b = bucket_sql("coalesce(expired_at, last_attempt)", bucket, hour_of_day)
            );
            self.add_per_bucket(&mut by, &expired, |t, n| t.expired += n)?;
            // Every deferral line, retries included. Postfix's are counted per hour at
            // import; other formats' come from the attempts (a run of identical ones is one
            // row with its repeats, filed under its first line's time).
            let deferrals = format!(
                "SELECT {b}, sum(a.repeats) FROM delivery_attempts a
                 JOIN deliveries d ON d.id = a.delivery_id
                 JOIN messages m ON m.id = d.message_ref
                 WHERE a.status = 'deferred' AND m.format != 'postfix' GROUP BY 1",
                b = bucket_sql("a.ts", bucket, hour_of_day)
            );
            self.add_per_bucket(&mut by, &deferrals, |t, n| t.deferred += n)?;
            Ok(by.into_values().collect())
        };
        let mut out = run().map_err(|e| self.err(e))?;
        for (hour, received, rejected, deferred) in self.line_counts_per_hour(since, until)? {
            let b = if hour_of_day {
                hour.rem_euclid(86400) / 3600
            } else {
                hour.div_euclid(bucket) * bucket
            };
            match out.binary_search_by_key(&b, |t| t.start) {
                Ok(i) => {
                    out[i].received += received;
                    out[i].rejected += rejected;
                    out[i].deferred += deferred;
                }
                Err(i) => out.insert(
                    i,
                    Traffic {
                        start: b,
                        received,
                        rejected,
                        deferred,
                        ..Traffic::default()
                    },
                ),
            }
        }
        Ok(out)
    }

    /// Mail per destination domain, most sent first: pflogsumm's "Host/Domain Summary:
    /// Message Delivery" with expiries and bounces. At most `limit` domains.
    pub fn domain_traffic(&self, limit: usize) -> Result<Vec<DomainTraffic>> {
        let run = || -> rusqlite::Result<Vec<DomainTraffic>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.domain, sum(d.status = 'sent'),
                        coalesce(sum(CASE WHEN d.status = 'sent' THEN m.size END), 0),
                        sum(d.deferrals), sum(d.status = 'bounced'), sum(d.status = 'expired'),
                        avg(CASE WHEN d.status = 'sent' THEN d.last_attempt - m.arrived_at END),
                        max(max(coalesce(d.last_attempt, d.expired_at),
                                coalesce(d.expired_at, d.last_attempt)) - m.arrived_at)
                 FROM deliveries d JOIN messages m ON m.id = d.message_ref
                 GROUP BY d.domain ORDER BY 2 DESC, 4 DESC, 1 LIMIT ?1",
            )?;
            stmt.query_map([limit as i64], |r| {
                Ok(DomainTraffic {
                    domain: r.get(0)?,
                    sent: r.get(1)?,
                    bytes: r.get(2)?,
                    deferrals: r.get(3)?,
                    bounced: r.get(4)?,
                    expired: r.get(5)?,
                    avg_delay: r.get(6)?,
                    max_delay: r.get(7)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Senders (or sender domains, sending hosts, campaigns) with their mail and where it
    /// fails: most failed deliveries first, then most deliveries. At most `limit`.
    pub fn sender_groups(&self, key: SenderKey, limit: usize) -> Result<Vec<SenderGroup>> {
        let k = sender_key_sql(key);
        let run = || -> rusqlite::Result<Vec<SenderGroup>> {
            // One pass per message first (a message is one size, however many recipients),
            // then per key: no subquery per group.
            let groups = format!(
                "WITH per AS (
                     SELECT {k} AS k, m.id AS mid, max(m.size) AS size, count(*) AS n,
                            sum(d.status = 'sent') AS sent, sum(d.status = 'deferred') AS deferred,
                            sum(d.status = 'bounced') AS bounced,
                            sum(d.status = 'expired') AS expired
                     FROM deliveries d JOIN messages m ON m.id = d.message_ref GROUP BY 1, 2)
                 SELECT k, count(*), sum(n), sum(sent), sum(deferred), sum(bounced), sum(expired),
                        coalesce(sum(size), 0)
                 FROM per GROUP BY k
                 ORDER BY sum(n) - sum(sent) DESC, sum(n) DESC, k LIMIT ?1"
            );
            let mut out: Vec<SenderGroup> = self
                .conn
                .prepare_cached(&groups)?
                .query_map([limit as i64], |r| {
                    Ok(SenderGroup {
                        key: r.get(0)?,
                        messages: r.get(1)?,
                        deliveries: r.get(2)?,
                        sent: r.get(3)?,
                        deferred: r.get(4)?,
                        bounced: r.get(5)?,
                        expired: r.get(6)?,
                        bytes: r.get(7)?,
                        failing_destinations: Vec::new(),
                        causes: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            // Where and why each listed key fails: one pass over the failed deliveries for
            // each, the three largest kept per key (rows come most first).
            let wanted: std::collections::HashMap<String, usize> = out
                .iter()
                .enumerate()
                .filter(|(_, g)| g.sent < g.deliveries)
                .map(|(i, g)| (g.key.clone(), i))
                .collect();
            for (what, by_cause) in [
                ("coalesce(d.provider, d.domain)", false),
                ("coalesce(d.cause, d.code)", true),
            ] {
                let sql = format!(
                    "SELECT {k}, {what}, count(*)
                     FROM deliveries d JOIN messages m ON m.id = d.message_ref
                     WHERE d.status != 'sent'
                     GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    let key: String = r.get(0)?;
                    let Some(&i) = wanted.get(&key) else { continue };
                    let list = if by_cause {
                        &mut out[i].causes
                    } else {
                        &mut out[i].failing_destinations
                    };
                    if list.len() < 3 {
                        list.push((r.get(1)?, r.get(2)?));
                    }
                }
            }
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }

    /// The `limit` first of `(key, count, bytes)` rows of `sql` by count and by bytes.
    fn top_two_ways(&self, sql: &str, limit: usize) -> Result<(Vec<Ranked>, Vec<Ranked>)> {
        let run = || -> rusqlite::Result<_> {
            let mut top = TopTwoWays::new(limit);
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                top.offer(r.get_ref(0)?.as_str()?, r.get(1)?, r.get(2)?);
            }
            Ok(top.finish())
        };
        run().map_err(|e| self.err(e))
    }

    /// Senders by messages and by bytes, pflogsumm's "Senders by message count / size":
    /// at most `limit` in each, as `(sender, messages, bytes)`.
    pub fn top_senders(&self, limit: usize) -> Result<(Vec<Ranked>, Vec<Ranked>)> {
        self.top_two_ways(SENDERS_SQL, limit)
    }

    /// Recipients by deliveries sent and by bytes delivered: at most `limit` in each.
    pub fn top_recipients(&self, limit: usize) -> Result<(Vec<Recipient>, Vec<Recipient>)> {
        let (by_count, by_bytes) = self.top_two_ways(RECIPIENTS_SENT_SQL, limit)?;
        let recipients = |rows: Vec<Ranked>| {
            rows.into_iter()
                .map(|(recipient, delivered, bytes)| Recipient {
                    recipient,
                    delivered,
                    bytes,
                })
                .collect()
        };
        Ok((recipients(by_count), recipients(by_bytes)))
    }

    /// Bytes of the messages that had a delivery, and of those sent (once per message).
    pub fn bytes_total(&self) -> Result<(u64, u64)> {
        self.conn
            .query_row(
                "SELECT coalesce(sum(size), 0),
                        coalesce(sum(size * EXISTS (SELECT 1 FROM deliveries d
                                     WHERE d.message_ref = m.id AND d.status = 'sent')), 0)
                 FROM messages m
                 WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.message_ref = m.id)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// Messages with a deferral (pflogsumm's "deferred": messages, not lines), and the
    /// deferral lines.
    pub fn deferred_messages(&self) -> Result<(u64, u64)> {
        self.conn
            .query_row(
                "SELECT count(DISTINCT message_ref), coalesce(sum(deferrals), 0)
                 FROM deliveries WHERE deferrals > 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// Runs `sql` (bucket, count rows) and adds each count to its bucket's traffic.
    fn add_per_bucket(
        &self,
        by: &mut BTreeMap<i64, Traffic>,
        sql: &str,
        add: impl Fn(&mut Traffic, u64),
    ) -> rusqlite::Result<()> {
        let rows: Vec<(i64, u64)> = self
            .conn
            .prepare_cached(sql)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (b, n) in rows {
            add(
                by.entry(b).or_insert_with(|| Traffic {
                    start: b,
                    ..Traffic::default()
                }),
                n,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both lists against the obvious model: every row sorted each way, cut at the limit.
    /// Few distinct counts and sizes, so that ties run two and three columns deep.
    #[test]
    fn the_two_rankings_match_sorting_every_row() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rows = Vec::new();
        for i in 0..3_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rows.push((
                // Unique, as grouped keys are; in no particular order.
                format!("r{:04}-{i}@example.org", (x >> 20) % 5_000),
                x % 7,
                (x >> 8) % 5,
            ));
        }
        for limit in [0, 1, 3, 10, 50, 5_000] {
            let mut top = TopTwoWays::new(limit);
            for (k, c, b) in &rows {
                top.offer(k, *c, *b);
            }
            let (by_count, by_bytes) = top.finish();
            let mut model = rows.clone();
            model.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
            model.truncate(limit);
            assert_eq!(by_count, model, "by count, limit {limit}");
            let mut model = rows.clone();
            model.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
            model.truncate(limit);
            assert_eq!(by_bytes, model, "by bytes, limit {limit}");
        }
    }

    /// The tables that count most deliveries read the deliveries in order: looking each
    /// one up from an index on its status reads the pages of a big store many times over.
    #[test]
    fn tables_over_most_deliveries_read_them_in_order() {
        let store = Store::open(":memory:").unwrap();
        for sql in [
            decided_sql(86_400, false),
            decided_sql(3600, true),
            RECIPIENTS_SENT_SQL.to_string(),
        ] {
            let plan = crate::store::query_plan(&store.conn, &sql);
            assert!(
                plan.iter()
                    .any(|step| step == "SCAN d" || step == "SCAN deliveries"),
                "{plan:?}"
            );
        }
    }
}
