//! Read queries behind `report` and `export`: typed results, bound parameters.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store};
use crate::ingest::timestamp::TimeSpec;
use crate::model::delivery::CauseOrigin;
use crate::model::report::TimeWindow;
use crate::model::{DeliveryStatus, Reason};

pub(crate) use super::traffic::sender_key_sql;
pub use crate::model::report::SenderKey;
pub use crate::model::report::{
    AtRisk, BounceConflict, CauseCount, CauseEvidence, DeliveryRecord, DomainTraffic,
    FrozenMessage, Group, Recipient, SenderGroup, SourceInfo, Totals, Traffic, TypoDomain,
};

/// The deferred attempt row a delivery's cause (`d.last_deferral_text`) was read from,
/// packed as `counted␟ts␟relay␟source` (`␟` = U+001F): this message's own attempt first,
/// else the latest line that repeats it. NULL without a deferral.
macro_rules! cause_origin_sql {
    () => {
        "CASE WHEN d.last_deferral_text IS NOT NULL THEN
            (SELECT a.counted || char(31) || a.ts || char(31) || coalesce(a.relay, '')
                    || char(31) || coalesce(a.source, '')
             FROM attempts a
             WHERE a.delivery_id = d.id AND a.status = 'deferred'
               AND a.text = d.last_deferral_text
             ORDER BY a.counted DESC, a.seq DESC LIMIT 1)
        END"
    };
}

/// `cause_source` in words, from the packed row `cause_origin_sql!` selects.
fn cause_source(
    packed: Option<String>,
    last_deferral_text: Option<&str>,
    expired_source: Option<&str>,
) -> Option<String> {
    let packed = packed?;
    let mut f = packed.split('\u{1f}');
    let counted = f.next()? == "1";
    let at = f.next()?.parse().ok()?;
    let relay = f.next().map(str::to_string);
    let source = f.next().map(str::to_string);
    Some(
        CauseOrigin::new(
            counted,
            at,
            relay,
            source,
            expired_source,
            last_deferral_text.unwrap_or_default(),
        )
        .describe(),
    )
}

fn delivery_record(r: &Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    let ts = |i| -> rusqlite::Result<Option<String>> {
        Ok(r.get::<_, Option<i64>>(i)?
            .map(crate::model::time::format_rfc3339))
    };
    Ok(DeliveryRecord {
        queue_id: r.get(0)?,
        message_id: r.get(1)?,
        sender: r.get(2)?,
        recipient: r.get(3)?,
        domain: r.get(4)?,
        provider: r.get(5)?,
        host: r.get(6)?,
        status: r.get(7)?,
        code: r.get(8)?,
        reply_code: r.get(9)?,
        reason: r.get(10)?,
        cause: r.get(11)?,
        last_deferral_code: r.get(12)?,
        last_deferral_text: r.get(13)?,
        attempts: r.get(14)?,
        first_attempt: ts(15)?,
        last_attempt: ts(16)?,
        relay: r.get(17)?,
        typo_of: r.get(18)?,
        source: r.get(19)?,
        arrived_at: ts(20)?,
        queue_age: r.get(21)?,
        cause_source: cause_source(
            r.get(22)?,
            r.get::<_, Option<String>>(13)?.as_deref(),
            r.get::<_, Option<String>>(23)?.as_deref(),
        ),
    })
}

impl Store {
    /// Messages still queued and frozen that the log names no recipient of, longest
    /// frozen first; in the window (`restrict_to_window`) when one is set: logged in it.
    pub fn frozen_recipients_unknown(&self) -> Result<Vec<FrozenMessage>> {
        let run = || -> rusqlite::Result<Vec<FrozenMessage>> {
            let windowed: bool = self.conn.query_row(
                "SELECT count(*) > 0 FROM sqlite_temp_master WHERE type = 'table' AND name = 'time_window'",
                [],
                |r| r.get(0),
            )?;
            // Recipients of the whole store, not of the window: a message whose recipients
            // were logged outside it still has known recipients.
            let base = "SELECT m.queue_id, m.host, m.sender, m.frozen_at, coalesce(m.frozen, ''),
                        m.arrived_at, m.last_seen
                 FROM messages m
                 WHERE m.frozen_at IS NOT NULL AND m.closed != 1
                   AND NOT EXISTS (SELECT 1 FROM main.deliveries d WHERE d.message_ref = m.id)";
            let window = "
                   AND EXISTS (
                       SELECT 1 FROM temp.time_window,
                            (SELECT max(last_seen) AS now FROM main.messages WHERE format != 'eml')
                       WHERE (coalesce(since_at, now - since_ago) IS NULL
                              OR m.last_seen >= coalesce(since_at, now - since_ago))
                         AND (coalesce(until_at, now - until_ago) IS NULL
                              OR m.first_seen <= coalesce(until_at, now - until_ago)))";
            let sql = format!(
                "{base}{} ORDER BY m.frozen_at, m.id",
                if windowed { window } else { "" }
            );
            let mut stmt = self.conn.prepare(&sql)?;
            stmt.query_map([], |r| {
                Ok(FrozenMessage {
                    queue_id: r.get(0)?,
                    host: r.get(1)?,
                    sender: r.get(2)?,
                    frozen_since: r.get(3)?,
                    frozen: r.get(4)?,
                    arrived_at: r.get(5)?,
                    last_seen: r.get(6)?,
                    recipients: "unknown",
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    pub fn totals(&self) -> Result<Totals> {
        let mut t = Totals::default();
        let run = || -> rusqlite::Result<Vec<(DeliveryStatus, u64)>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT status, count(*) FROM deliveries GROUP BY status")?;

            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        };
        for (status, n) in run().map_err(|e| self.err(e))? {
            t.add(status, n);
        }
        Ok(t)
    }

    /// First and last attempt in the store: the span the numbers cover.
    pub fn span(&self) -> Result<Option<(i64, i64)>> {
        self.conn
            .query_row(
                "SELECT min(first_attempt), max(last_attempt) FROM deliveries",
                [],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// Failed deliveries grouped by code × domain, with their causes; biggest codes
    /// first, then biggest domains.
    pub fn groups(&self) -> Result<Vec<Group>> {
        let run = || -> rusqlite::Result<Vec<Group>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT code, domain, cause, count(*), max(provider), max(typo_of) FROM deliveries
                 WHERE status != 'sent' GROUP BY code, domain, cause",
            )?;
            let mut by_key: BTreeMap<(String, String), Group> = BTreeMap::new();
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Reason>>(2)?,
                    r.get::<_, u64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?;
            for row in rows {
                let (code, domain, cause, n, provider, typo) = row?;
                let label = code
                    .parse::<crate::classify::EnhancedCode>()
                    .map(|c| c.label())
                    .unwrap_or("");
                let g = by_key
                    .entry((code.clone(), domain.clone()))
                    .or_insert(Group {
                        code,
                        label,
                        domain,
                        provider: None,
                        count: 0,
                        causes: Vec::new(),
                        typo_of: None,
                    });
                g.count += n;
                g.provider = g.provider.take().or(provider);
                g.typo_of = g.typo_of.take().or(typo);
                g.causes.push(CauseCount { cause, count: n });
            }
            let mut code_totals: BTreeMap<String, u64> = BTreeMap::new();
            for g in by_key.values() {
                *code_totals.entry(g.code.clone()).or_default() += g.count;
            }
            let mut groups: Vec<Group> = by_key.into_values().collect();
            for g in &mut groups {
                g.causes
                    .sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
            }
            groups.sort_by(|a, b| {
                code_totals[&b.code]
                    .cmp(&code_totals[&a.code])
                    .then(a.code.cmp(&b.code))
                    .then(b.count.cmp(&a.count))
                    .then(a.domain.cmp(&b.domain))
            });
            Ok(groups)
        };
        run().map_err(|e| self.err(e))
    }

    /// Causes of failed deliveries with their evidence, most frequent first.
    pub fn causes(&self) -> Result<Vec<CauseEvidence>> {
        let run = || -> rusqlite::Result<Vec<CauseEvidence>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT cause, count(*), sum(status = 'expired'), sum(status = 'deferred'), sum(status = 'bounced'),
                        count(DISTINCT domain), min(first_attempt), max(last_attempt),
                        max(coalesce(last_deferral_text, final_text))
                 FROM deliveries WHERE status != 'sent' AND cause IS NOT NULL
                 GROUP BY cause ORDER BY count(*) DESC, cause",
            )?;
            let mut out: Vec<CauseEvidence> = stmt
                .query_map([], |r| {
                    Ok(CauseEvidence {
                        cause: r.get(0)?,
                        count: r.get(1)?,
                        expired: r.get(2)?,
                        deferred: r.get(3)?,
                        bounced: r.get(4)?,
                        domains: r.get(5)?,
                        top_domains: Vec::new(),
                        hosts: Vec::new(),
                        first_seen: r.get(6)?,
                        last_seen: r.get(7)?,
                        example: r.get(8)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut top = self.conn.prepare_cached(
                "SELECT domain, count(*) FROM deliveries WHERE status != 'sent' AND cause = ?1
                 GROUP BY domain ORDER BY count(*) DESC, domain LIMIT 3",
            )?;
            let mut hosts = self.conn.prepare_cached(
                "SELECT host, count(*) FROM deliveries WHERE status != 'sent' AND cause = ?1
                 GROUP BY host ORDER BY count(*) DESC, host LIMIT 3",
            )?;
            for c in &mut out {
                c.top_domains = top
                    .query_map([&c.cause], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                c.hosts = hosts
                    .query_map([&c.cause], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }

    /// The queue lifetime saved with `import --queue-lifetime`, if any (seconds).
    pub(crate) fn saved_queue_lifetime(&self) -> Result<Option<i64>> {
        let run = || -> rusqlite::Result<Option<i64>> {
            let value: Option<String> = self
                .conn
                .query_row(
                    "SELECT value FROM settings WHERE key = 'queue_lifetime'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(value.and_then(|v| v.parse().ok()))
        };
        run().map_err(|e| self.err(e))
    }

    pub(crate) fn save_queue_lifetime(&self, seconds: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES ('queue_lifetime', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [seconds.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// From now on, this connection's reads see only the deliveries active in the window:
    /// last event at or after `since`, first event at or before `until`. A temporary
    /// view shadows the table for this connection alone (the file is not touched), so
    /// every report and export query keeps its one SQL text. An age (`7d`) counts back
    /// from the last log line as the store holds it when read, so a TUI import that adds
    /// lines moves the window with it. The view is read-only: writers lift it first
    /// (`suspend_window`).
    pub fn restrict_to_window(
        &self,
        since: Option<TimeSpec>,
        until: Option<TimeSpec>,
    ) -> Result<()> {
        let split = |t: Option<TimeSpec>| match t {
            Some(TimeSpec::At(t)) => (Some(t), None),
            Some(TimeSpec::Ago(d)) => (None, Some(d)),
            None => (None, None),
        };
        let (since_at, since_ago) = split(since);
        let (until_at, until_ago) = split(until);
        let run = || -> rusqlite::Result<()> {
            // A read-only store is also `query_only`, which refuses even the connection's own
            // temporary tables; the window lives only there (the file is opened read-only
            // all the same), so it is lifted for as long as the window is set up.
            let query_only: bool = self.conn.query_row("PRAGMA query_only", [], |r| r.get(0))?;
            if query_only {
                self.conn.pragma_update(None, "query_only", false)?;
            }
            let set_up = self.set_up_window(since_at, since_ago, until_at, until_ago);
            if query_only {
                self.conn.pragma_update(None, "query_only", true)?;
            }
            set_up
        };
        run().map_err(|e| self.err(e))
    }

    fn set_up_window(
        &self,
        since_at: Option<i64>,
        since_ago: Option<i64>,
        until_at: Option<i64>,
        until_ago: Option<i64>,
    ) -> rusqlite::Result<()> {
        self.conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS time_window
                 (since_at INTEGER, since_ago INTEGER, until_at INTEGER, until_ago INTEGER,
                  span INTEGER);
             DELETE FROM temp.time_window;",
        )?;
        self.conn.execute(
            "INSERT INTO temp.time_window (since_at, since_ago, until_at, until_ago)
             VALUES (?1, ?2, ?3, ?4)",
            params![since_at, since_ago, until_at, until_ago],
        )?;
        self.resume_window()
    }

    /// Narrows (halves) or widens (doubles, up to all) the window inside `--since`/
    /// `--until`, as `TimeWindow` decides with the extent read here, from the span this
    /// connection has (so keys pressed faster than the screens reload each take a step);
    /// the window then set, with that extent. Like `--since` given as an age, the span
    /// counts back from the last line as the store holds it when read, so a followed log
    /// moves it along.
    pub fn step_window(&self, narrow: bool) -> Result<TimeWindow> {
        let run = || -> rusqlite::Result<TimeWindow> {
            self.conn.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS time_window
                     (since_at INTEGER, since_ago INTEGER, until_at INTEGER, until_ago INTEGER,
                      span INTEGER);
                 INSERT INTO temp.time_window (span)
                     SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM temp.time_window);",
            )?;
            let span: Option<i64> =
                self.conn
                    .query_row("SELECT span FROM temp.time_window", [], |r| r.get(0))?;
            self.conn
                .execute_batch("UPDATE temp.time_window SET span = NULL")?;
            self.resume_window()?;
            let extent: Option<(i64, i64)> = self.conn.query_row(
                "SELECT (SELECT min(min(coalesce(first_attempt, expired_at),
                                       coalesce(expired_at, first_attempt))) FROM deliveries),
                        (SELECT max(last_seen) FROM main.messages WHERE format != 'eml')",
                [],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )?;
            let from = TimeWindow { span, extent };
            let span = if narrow {
                from.narrowed()
            } else {
                from.widened()
            };
            self.conn
                .execute("UPDATE temp.time_window SET span = ?1", [span])?;
            Ok(TimeWindow { span, extent })
        };
        run().map_err(|e| self.err(e))
    }

    /// Lifts the window's view so the tables can be written; true when there was one.
    pub(crate) fn suspend_window(&self) -> Result<bool> {
        let run = || -> rusqlite::Result<bool> {
            let had: bool = self.conn.query_row(
                "SELECT count(*) > 0 FROM sqlite_temp_master WHERE type = 'view' AND name = 'deliveries'",
                [],
                |r| r.get(0),
            )?;
            self.conn
                .execute_batch("DROP VIEW IF EXISTS temp.deliveries")?;
            Ok(had)
        };
        run().map_err(|e| self.err(e))
    }

    /// Puts back the window `restrict_to_window` set.
    pub(crate) fn restore_window(&self) -> Result<()> {
        self.resume_window().map_err(|e| self.err(e))
    }

    fn resume_window(&self) -> rusqlite::Result<()> {
        self.conn.execute_batch(
            "CREATE TEMP VIEW IF NOT EXISTS deliveries AS
                 -- Materialised, and the last line a scalar subquery: otherwise SQLite may
                 -- scan every message again for each delivery a query reads.
                 WITH w AS MATERIALIZED (
                     -- `span` (the screens' `]`) only ever narrows `--since`.
                     SELECT CASE WHEN span IS NULL THEN coalesce(since_at, now - since_ago)
                                 ELSE max(coalesce(since_at, now - since_ago, now - span),
                                          now - span) END AS since,
                            coalesce(until_at, now - until_ago) AS until
                     FROM (SELECT t.*,
                                  -- the last log line, as `log_now` reads it
                                  (SELECT max(last_seen) FROM main.messages
                                   WHERE format != 'eml') AS now
                           FROM temp.time_window t)
                 )
                 SELECT d.* FROM main.deliveries d, w
                 WHERE (w.since IS NULL OR max(coalesce(d.last_attempt, d.expired_at),
                                               coalesce(d.expired_at, d.last_attempt)) >= w.since)
                   AND (w.until IS NULL OR min(coalesce(d.first_attempt, d.expired_at),
                                               coalesce(d.expired_at, d.first_attempt)) <= w.until);",
        )
    }

    /// The time of the last logged event in the store: what "now" is for a log read
    /// later than it was written (a log read a month on is not a month older). Bounce
    /// emails are not log lines: a report dated later does not move it.
    pub(crate) fn log_now(&self) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT max(last_seen) FROM messages WHERE format != 'eml'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Deferred deliveries past `warn_fraction` of their queue lifetime as of `now` (by
    /// default the last log line), soonest to expire first. The lifetime is `lifetime`,
    /// else the saved one, else the format's default. Age counts from the arrival the log
    /// tells (`delay=`, the Exim id, arrival columns); where it tells none, from the first
    /// line of the message, and the row says the age is at least that. Mail already past
    /// its lifetime shows with a negative time left: its expiry is missing from the logs,
    /// or the lifetime is longer than assumed.
    pub fn at_risk(
        &self,
        lifetime: Option<i64>,
        warn_fraction: f64,
        now: Option<i64>,
    ) -> Result<Vec<AtRisk>> {
        let Some(now) = now.map_or_else(|| self.log_now(), |t| Ok(Some(t)))? else {
            return Ok(Vec::new());
        };
        let lifetime = match lifetime {
            Some(l) => Some(l),
            None => self.saved_queue_lifetime()?,
        };
        let run = || -> rusqlite::Result<Vec<AtRisk>> {
            let mut stmt = self.conn.prepare_cached(concat!(
                "SELECT d.recipient, d.domain, m.queue_id, d.host, coalesce(m.arrived_at, m.first_seen),
                        d.cause, m.format, m.arrived_at IS NOT NULL, d.last_deferral_text, d.expired_source,
                        ",
                cause_origin_sql!(),
                "
                 FROM deliveries d JOIN messages m ON m.id = d.message_ref
                 WHERE d.status = 'deferred' ORDER BY 5, d.id",
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    AtRisk {
                        recipient: r.get(0)?,
                        domain: r.get(1)?,
                        queue_id: r.get(2)?,
                        host: r.get(3)?,
                        queued_since: r.get(4)?,
                        arrival_known: r.get(7)?,
                        age: 0,
                        seconds_left: 0,
                        cause: r.get(5)?,
                        cause_source: cause_source(
                            r.get(10)?,
                            r.get::<_, Option<String>>(8)?.as_deref(),
                            r.get::<_, Option<String>>(9)?.as_deref(),
                        ),
                    },
                    r.get::<_, String>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (mut a, format) = row?;
                let life =
                    lifetime.unwrap_or_else(|| crate::model::default_queue_lifetime(&format));
                let age = now - a.queued_since;
                if age as f64 >= life as f64 * warn_fraction {
                    a.age = age;
                    a.seconds_left = life - age;
                    out.push(a);
                }
            }
            // Soonest to expire first (lifetimes differ between formats).
            out.sort_by_key(|a| a.seconds_left);
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }

    pub fn typo_domains(&self) -> Result<Vec<TypoDomain>> {
        let run = || -> rusqlite::Result<Vec<TypoDomain>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT domain, typo_of, count(*) FROM deliveries WHERE typo_of IS NOT NULL
                 GROUP BY domain, typo_of ORDER BY count(*) DESC, domain",
            )?;

            stmt.query_map([], |r| {
                Ok(TypoDomain {
                    domain: r.get(0)?,
                    suggestion: r.get(1)?,
                    count: r.get(2)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Bounce reports that contradict the log, oldest import first.
    pub(crate) fn bounce_conflicts(&self) -> Result<Vec<BounceConflict>> {
        let run = || -> rusqlite::Result<Vec<BounceConflict>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT recipient, report, conflict FROM bounces WHERE conflict IS NOT NULL
                 ORDER BY id",
            )?;
            stmt.query_map([], |r| {
                Ok(BounceConflict {
                    recipient: r.get(0)?,
                    report: r.get(1)?,
                    conflict: r.get(2)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let run = || -> rusqlite::Result<Vec<SourceInfo>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT path, format, lines_read, events, lines_skipped, skipped_sample FROM sources ORDER BY id",
            )?;

            stmt.query_map([], |r| {
                Ok(SourceInfo {
                    path: r.get(0)?,
                    format: r.get(1)?,
                    lines_read: r.get(2)?,
                    events: r.get(3)?,
                    lines_skipped: r.get(4)?,
                    unparsed: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Streams delivery records (optionally only some statuses) to `each`, in store order.
    pub fn for_each_delivery(
        &self,
        statuses: &[DeliveryStatus],
        mut each: impl FnMut(DeliveryRecord) -> std::io::Result<()>,
    ) -> Result<std::io::Result<()>> {
        let wanted = |s| statuses.is_empty() || statuses.contains(&s);
        let mut run = || -> rusqlite::Result<std::io::Result<()>> {
            let mut stmt = self.conn.prepare_cached(concat!(
                "SELECT m.queue_id, m.message_id, m.sender, d.recipient, d.domain, d.provider, d.host, d.status,
                        d.code, d.reply_code, d.reason, d.cause, d.last_deferral_code, d.last_deferral_text,
                        d.attempts, d.first_attempt, d.last_attempt, d.relay, d.typo_of, d.source,
                        m.arrived_at,
                        max(coalesce(d.last_attempt, d.expired_at), coalesce(d.expired_at, d.last_attempt))
                            - m.arrived_at,
                        ",
                cause_origin_sql!(),
                ",
                        d.expired_source
                 FROM deliveries d JOIN messages m ON m.id = d.message_ref
                 WHERE (d.status = ?1 AND ?2) OR (d.status = ?3 AND ?4)
                    OR (d.status = ?5 AND ?6) OR (d.status = ?7 AND ?8)
                 ORDER BY d.id",
            ))?;
            let [a, b, c, d] = DeliveryStatus::ALL;
            let mut rows = stmt.query(params![
                a,
                wanted(a),
                b,
                wanted(b),
                c,
                wanted(c),
                d,
                wanted(d)
            ])?;
            while let Some(r) = rows.next()? {
                if let Err(e) = each(delivery_record(r)?) {
                    return Ok(Err(e));
                }
            }
            Ok(Ok(()))
        };
        run().map_err(|e| self.err(e))
    }
}
