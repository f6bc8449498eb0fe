//! Lines counted per hour at import (mail received and refused at intake, deferral lines;
//! see `ingest::LineCount`): written with the load that read them, read by the report.

use rusqlite::params;

use super::load::Load;
use super::{Result, Store};
use crate::ingest::LineCount;

/// Refusals of one stage, code and reason.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct RejectReason {
    pub stage: String,
    pub code: String,
    pub reason: String,
    pub count: u64,
}

impl Load<'_> {
    /// Adds an input's line counts to the store's, in the load's transaction: a load
    /// rolled back takes them back with it.
    pub(crate) fn add_line_counts(&self, counts: &[LineCount]) -> Result<()> {
        let run = || -> rusqlite::Result<()> {
            let mut stmt = self.tx.prepare_cached(
                "INSERT INTO line_counts (hour, host, kind, stage, code, reason, count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (hour, host, kind, stage, code, reason)
                 DO UPDATE SET count = count + excluded.count",
            )?;
            for c in counts {
                stmt.execute(params![
                    c.hour,
                    c.host,
                    c.kind.as_str(),
                    c.stage,
                    c.code,
                    c.reason,
                    c.count
                ])?;
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }
}

impl Store {
    /// Lines per hour (start of the hour, received, rejected, deferred) in [since, until],
    /// oldest first.
    pub fn line_counts_per_hour(
        &self,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<(i64, u64, u64, u64)>> {
        let run = || -> rusqlite::Result<Vec<(i64, u64, u64, u64)>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT hour, sum(count * (kind = 'received')), sum(count * (kind = 'rejected')),
                        sum(count * (kind = 'deferred'))
                 FROM line_counts
                 WHERE (?1 IS NULL OR hour + 3599 >= ?1) AND (?2 IS NULL OR hour <= ?2)
                 GROUP BY hour ORDER BY hour",
            )?;
            stmt.query_map(params![since, until], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Refusals by stage, code and reason, most frequent first.
    pub fn reject_reasons(
        &self,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<RejectReason>> {
        let run = || -> rusqlite::Result<Vec<RejectReason>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT stage, code, reason, sum(count) FROM line_counts
                 WHERE kind = 'rejected'
                   AND (?1 IS NULL OR hour + 3599 >= ?1) AND (?2 IS NULL OR hour <= ?2)
                 GROUP BY stage, code, reason ORDER BY 4 DESC, 1, 2, 3",
            )?;
            stmt.query_map(params![since, until], |r| {
                Ok(RejectReason {
                    stage: r.get(0)?,
                    code: r.get(1)?,
                    reason: r.get(2)?,
                    count: r.get(3)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }
}
