//! The chart screen's numbers: failures over time by code or provider, queue ages of
//! still-deferred mail against the queue lifetime, failures per provider.

use std::collections::BTreeMap;

use rusqlite::params;

use super::{Result, Store};
use crate::model::report::{SeriesBy, Timeline};

/// Series drawn; the rest are summed as "other".
const SERIES: usize = 5;
/// Providers in the bar chart.
const PROVIDERS: usize = 8;
/// Spans longer than this are charted per day, shorter ones per hour.
const HOURLY_UP_TO: i64 = 3 * 86_400;
/// Queue-age buckets as fractions of the lifetime (the last is past it).
const AGE_EDGES: [(f64, &str); 5] = [
    (0.1, "<10%"),
    (0.25, "<25%"),
    (0.5, "<50%"),
    (0.75, "<75%"),
    (1.0, "<100%"),
];

impl Store {
    /// The chart screen's numbers over the last `span` seconds before the last log line
    /// (`None`: everything the window holds). `lifetime` and `now` as for `at_risk`.
    pub fn timeline(
        &self,
        by: SeriesBy,
        span: Option<i64>,
        lifetime: Option<i64>,
        now: Option<i64>,
    ) -> Result<Timeline> {
        let Some((first, last)) = self.failure_span()? else {
            return Ok(Timeline {
                by,
                ..Timeline::default()
            });
        };
        let end = last;
        let start = match span {
            Some(s) => first.max(end - s),
            None => first,
        };
        let clipped_from = (start > first).then_some(first);
        let bucket = if end - start > HOURLY_UP_TO {
            86_400
        } else {
            3600
        };
        let start = start.div_euclid(bucket) * bucket;
        let buckets = ((end - start) / bucket + 1) as usize;
        let key = match by {
            SeriesBy::Code => "coalesce(a.code, d.code)",
            SeriesBy::Provider => "coalesce(d.provider, d.domain)",
        };
        let sql = format!(
            "SELECT {key}, (a.ts - ?1) / ?2, sum(a.repeats) FROM delivery_attempts a
             JOIN deliveries d ON d.id = a.delivery_id
             WHERE a.status IN ('deferred', 'bounced') AND a.ts BETWEEN ?1 AND ?3
             GROUP BY 1, 2
             UNION ALL
             SELECT {key_d}, (coalesce(d.expired_at, d.last_attempt) - ?1) / ?2, count(*)
             FROM deliveries d
             WHERE d.status = 'expired' AND coalesce(d.expired_at, d.last_attempt) BETWEEN ?1 AND ?3
             GROUP BY 1, 2",
            key_d = match by {
                SeriesBy::Code => "d.code",
                SeriesBy::Provider => "coalesce(d.provider, d.domain)",
            }
        );
        let run = || -> rusqlite::Result<Vec<(String, i64, u64)>> {
            self.conn
                .prepare_cached(&sql)?
                .query_map(params![start, bucket, end], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
        };
        let mut per_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (k, i, n) in run().map_err(|e| self.err(e))? {
            let row = per_key.entry(k).or_insert_with(|| vec![0; buckets]);
            if let Some(slot) = row.get_mut(i.max(0) as usize) {
                *slot += n;
            }
        }
        let mut series: Vec<(String, Vec<u64>)> = per_key.into_iter().collect();
        series.sort_by(|a, b| {
            let total = |s: &[u64]| s.iter().sum::<u64>();
            total(&b.1).cmp(&total(&a.1)).then(a.0.cmp(&b.0))
        });
        if series.len() > SERIES {
            let mut other = vec![0; buckets];
            for (_, s) in series.drain(SERIES..) {
                for (o, n) in other.iter_mut().zip(s) {
                    *o += n;
                }
            }
            series.push(("other".into(), other));
        }

        let deferred = self.at_risk(lifetime, 0.0, now)?;
        let mut queue_ages: Vec<(String, u64)> = AGE_EDGES
            .iter()
            .map(|(_, l)| (l.to_string(), 0))
            .chain(std::iter::once(("over".to_string(), 0)))
            .collect();
        let mut longest: Option<i64> = None;
        for a in &deferred {
            let life = a.age + a.seconds_left;
            longest = longest.max(Some(life));
            let used = if life > 0 {
                a.age as f64 / life as f64
            } else {
                f64::INFINITY
            };
            let i = AGE_EDGES
                .iter()
                .position(|(edge, _)| used < *edge)
                .unwrap_or(AGE_EDGES.len());
            queue_ages[i].1 += 1;
        }
        let lifetime = lifetime.or(self.saved_queue_lifetime()?).or(longest);

        let providers = || -> rusqlite::Result<Vec<(String, u64, u64)>> {
            self.conn
                .prepare_cached(
                    "SELECT coalesce(provider, domain), sum(status != 'sent'), sum(status = 'sent')
                     FROM deliveries
                     WHERE max(coalesce(last_attempt, expired_at), coalesce(expired_at, last_attempt)) >= ?1
                     GROUP BY 1 HAVING sum(status != 'sent') > 0
                     ORDER BY 2 DESC, 1 LIMIT ?2",
                )?
                .query_map(params![start, PROVIDERS as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
        };
        Ok(Timeline {
            bucket,
            start,
            end,
            by,
            series,
            queue_ages,
            lifetime,
            providers: providers().map_err(|e| self.err(e))?,
            clipped_from,
        })
    }

    /// First and last failed attempt or expiry the window holds (mail sent in the end
    /// counts for the deferrals before it).
    fn failure_span(&self) -> Result<Option<(i64, i64)>> {
        self.conn
            .query_row(
                "SELECT min(first_attempt), max(max(coalesce(last_attempt, expired_at),
                                                    coalesce(expired_at, last_attempt)))
                 FROM deliveries WHERE status != 'sent' OR deferrals > 0",
                [],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )
            .map_err(|e| self.err(e))
    }
}
