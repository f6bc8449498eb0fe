//! Resolutions, marks and export batches: the persistent state of the re-queue workflow.
//! Every write is one transaction; every parameter is bound.

use rusqlite::params;

use super::{Result, Store};
use crate::model::{Candidate, FailedRow, Reason, Resolution};

pub use crate::model::resend::{Batch, FailedScope, HistoryEntry, UndoRefused};

fn history_insert(
    conn: &rusqlite::Connection,
    at: i64,
    action: &str,
    reference: Option<i64>,
    scope: &str,
    note: &str,
    count: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO history (at, action, ref, scope, note, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![at, action, reference, scope, note, count])
    .map(|_| ())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// How marks by id read in the history: the user chose them one by one.
const BY_ID: &str = "chosen deliveries";

const RESOLUTION_SELECT: &str =
    "SELECT id, reason, destination, host, resolved_at, note FROM resolutions";

fn resolution_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Resolution> {
    Ok(Resolution {
        id: r.get(0)?,
        reason: r.get(1)?,
        destination: r.get(2)?,
        host: r.get(3)?,
        resolved_at: r.get(4)?,
        note: r.get(5)?,
    })
}

impl Store {
    /// Records that the cause `reason` (within `destination` and `host`, when given) was
    /// fixed at `at`, and in the history that it made `eligible` deliveries eligible.
    pub(crate) fn record_resolution(
        &mut self,
        reason: Reason,
        destination: Option<&str>,
        host: Option<&str>,
        at: i64,
        note: &str,
        eligible: u64,
    ) -> Result<Resolution> {
        let mut resolution = Resolution::unrecorded(reason, destination, host, at, note);
        let scope = resolution.scope();
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<i64> {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO resolutions (reason, destination, host, resolved_at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![reason, destination, host, at, note],
            )?;
            let id = tx.last_insert_rowid();
            history_insert(
                &tx,
                now(),
                "resolve",
                Some(id),
                &scope,
                note,
                eligible as i64,
            )?;
            tx.commit()?;
            Ok(id)
        };
        resolution.id = run(&mut self.conn).map_err(|e| self.err(e))?;
        Ok(resolution)
    }

    /// Every resolution in force (not undone), oldest first.
    pub fn resolutions(&self) -> Result<Vec<Resolution>> {
        let run = || -> rusqlite::Result<Vec<Resolution>> {
            let mut stmt = self.conn.prepare_cached(&format!(
                "{RESOLUTION_SELECT} WHERE undone_at IS NULL ORDER BY resolved_at, id"
            ))?;
            stmt.query_map([], resolution_from_row)?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// One resolution, in force or undone (then with when it was undone).
    pub fn resolution(&self, id: i64) -> Result<Option<(Resolution, Option<i64>)>> {
        use rusqlite::OptionalExtension;
        let run = || -> rusqlite::Result<Option<(Resolution, Option<i64>)>> {
            self.conn
                .query_row(
                    "SELECT id, reason, destination, host, resolved_at, note, undone_at
                     FROM resolutions WHERE id = ?1",
                    [id],
                    |r| Ok((resolution_from_row(r)?, r.get(6)?)),
                )
                .optional()
        };
        run().map_err(|e| self.err(e))
    }

    /// Undoes a resolution at `at`: it no longer makes anything eligible. It stays on
    /// record, undone, and the undo goes in the history with `affected` (the deliveries
    /// it had made eligible).
    pub(crate) fn undo_resolution(
        &mut self,
        id: i64,
        at: i64,
        note: &str,
        affected: u64,
    ) -> Result<std::result::Result<Resolution, UndoRefused>> {
        let Some((resolution, undone)) = self.resolution(id)? else {
            return Ok(Err(UndoRefused::NoSuchResolution));
        };
        if let Some(at) = undone {
            return Ok(Err(UndoRefused::AlreadyUndone { at }));
        }
        let scope = resolution.scope();
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE resolutions SET undone_at = ?2 WHERE id = ?1 AND undone_at IS NULL",
                params![id, at],
            )?;
            history_insert(&tx, at, "undo", Some(id), &scope, note, affected as i64)?;
            tx.commit()
        };
        run(&mut self.conn).map_err(|e| self.err(e))?;
        Ok(Ok(resolution))
    }

    /// What was resolved, undone, marked, unmarked and exported, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>> {
        let run = || -> rusqlite::Result<Vec<HistoryEntry>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, at, action, ref, scope, note, count FROM history ORDER BY id",
            )?;
            stmt.query_map([], |r| {
                Ok(HistoryEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    action: r.get(2)?,
                    reference: r.get(3)?,
                    scope: r.get(4)?,
                    note: r.get(5)?,
                    count: r.get(6)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Recipient domains and providers of failed deliveries, each domain with the domain
    /// it looks like a typo of; and the sending hosts of failed deliveries.
    pub(crate) fn failed_destinations_and_hosts(&self) -> Result<FailedScope> {
        let run = || -> rusqlite::Result<FailedScope> {
            let mut scope = FailedScope::default();
            let mut stmt = self.conn.prepare_cached(
                "SELECT DISTINCT domain, typo_of FROM deliveries WHERE status != 'sent'",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
                let (d, t): (String, Option<String>) = row?;
                scope.domains.insert(d.to_ascii_lowercase(), t);
            }
            let mut stmt = self.conn.prepare_cached(
                "SELECT DISTINCT provider FROM deliveries WHERE status != 'sent' AND provider IS NOT NULL",
            )?;
            for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
                scope.providers.insert(row?);
            }
            let mut stmt = self
                .conn
                .prepare_cached("SELECT DISTINCT host FROM deliveries WHERE status != 'sent'")?;
            for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
                scope.hosts.insert(row?);
            }
            Ok(scope)
        };
        run().map_err(|e| self.err(e))
    }

    /// Failed deliveries with a known cause, for the causes view.
    pub(crate) fn failed_rows(&self) -> Result<Vec<FailedRow>> {
        let run = || -> rusqlite::Result<Vec<FailedRow>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT cause, domain, provider, host, status, first_attempt, last_attempt,
                        coalesce(last_deferral_text, final_text)
                 FROM deliveries WHERE status != 'sent' AND cause IS NOT NULL ORDER BY id",
            )?;
            stmt.query_map([], |r| {
                Ok(FailedRow {
                    cause: r.get(0)?,
                    domain: r.get(1)?,
                    provider: r.get(2)?,
                    host: r.get(3)?,
                    status: r.get(4)?,
                    first_attempt: r.get(5)?,
                    last_attempt: r.get(6)?,
                    text: r.get(7)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Failed deliveries (and marked ones, whatever became of them), with the facts the
    /// re-queue rules need, optionally of one cause only. `marked_only` reads just the
    /// basket.
    pub(crate) fn candidates(
        &self,
        cause: Option<Reason>,
        marked_only: bool,
    ) -> Result<Vec<Candidate>> {
        let run = || -> rusqlite::Result<Vec<Candidate>> {
            let mut stmt = self.conn.prepare_cached(&format!(
                "{CANDIDATE_SELECT}
                 WHERE (d.status != 'sent' OR k.marked_at IS NOT NULL)
                   AND (?1 IS NULL OR d.cause = ?1)
                   AND (NOT ?2 OR k.marked_at IS NOT NULL)
                 ORDER BY d.id"
            ))?;
            stmt.query_map(params![cause, marked_only], candidate_from_row)?
                .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The deliveries with these row ids, with the same facts as `candidates` (a screen
    /// shows the rules' verdict on the rows it has loaded). Unknown ids are left out.
    pub(crate) fn candidates_by_ids(&self, delivery_ids: &[i64]) -> Result<Vec<Candidate>> {
        // One bound JSON array rather than a statement per id.
        let ids = format!(
            "[{}]",
            delivery_ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let run = || -> rusqlite::Result<Vec<Candidate>> {
            let mut stmt = self.conn.prepare_cached(&format!(
                "{CANDIDATE_SELECT}
                 WHERE d.id IN (SELECT value FROM json_each(?1))
                 ORDER BY d.id"
            ))?;
            stmt.query_map(params![ids], candidate_from_row)?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Marks deliveries (by row id) for re-send; returns how many were not marked before.
    /// Ids that name no delivery are ignored.
    pub fn mark(&mut self, delivery_ids: &[i64], at: i64) -> Result<usize> {
        self.mark_in_scope(delivery_ids, at, BY_ID)
    }

    /// `mark`, with the scope the deliveries were chosen by, for the history.
    pub(crate) fn mark_in_scope(
        &mut self,
        delivery_ids: &[i64],
        at: i64,
        scope: &str,
    ) -> Result<usize> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<usize> {
            let tx = conn.transaction()?;
            let mut added = 0;
            {
                let mut stmt = tx.prepare(
                    "INSERT OR IGNORE INTO marks (message_ref, recipient, marked_at)
                     SELECT message_ref, recipient, ?2 FROM deliveries WHERE id = ?1",
                )?;
                for id in delivery_ids {
                    added += stmt.execute(params![id, at])?;
                }
            }
            if added > 0 {
                history_insert(&tx, at, "mark", None, scope, "", added as i64)?;
            }
            tx.commit()?;
            Ok(added)
        };
        run(&mut self.conn).map_err(|e| self.err(e))
    }

    /// Unmarks deliveries (by row id); returns how many were marked.
    pub fn unmark(&mut self, delivery_ids: &[i64]) -> Result<usize> {
        self.unmark_in_scope(delivery_ids, BY_ID)
    }

    /// `unmark`, with the scope the deliveries were chosen by, for the history.
    pub(crate) fn unmark_in_scope(&mut self, delivery_ids: &[i64], scope: &str) -> Result<usize> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<usize> {
            let tx = conn.transaction()?;
            let mut removed = 0;
            {
                let mut stmt = tx.prepare(
                    "DELETE FROM marks WHERE (message_ref, recipient) IN
                     (SELECT message_ref, recipient FROM deliveries WHERE id = ?1)",
                )?;
                for id in delivery_ids {
                    removed += stmt.execute([id])?;
                }
            }
            if removed > 0 {
                history_insert(&tx, now(), "unmark", None, scope, "", removed as i64)?;
            }
            tx.commit()?;
            Ok(removed)
        };
        run(&mut self.conn).map_err(|e| self.err(e))
    }

    /// The ids of the marked deliveries.
    pub fn marked_ids(&self) -> Result<std::collections::BTreeSet<i64>> {
        let run = || -> rusqlite::Result<std::collections::BTreeSet<i64>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.id FROM marks k
                 JOIN deliveries d ON d.message_ref = k.message_ref AND d.recipient = k.recipient",
            )?;
            stmt.query_map([], |r| r.get(0))?.collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Empties the basket; returns how many marks there were.
    pub(crate) fn unmark_all(&mut self) -> Result<usize> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<usize> {
            let tx = conn.transaction()?;
            let n = tx.execute("DELETE FROM marks", [])?;
            if n > 0 {
                history_insert(&tx, now(), "unmark", None, "the whole basket", "", n as i64)?;
            }
            tx.commit()?;
            Ok(n)
        };
        run(&mut self.conn).map_err(|e| self.err(e))
    }

    /// Records a batch of `items` (deliveries by row id) and, inside the same
    /// transaction, runs `write` with the new batch's id; `write` returns where the batch
    /// is meant to go (a path, or `-` for standard output), which is recorded with it, and
    /// what it staged, handed back once committed. If `write` fails nothing is recorded.
    pub(crate) fn record_batch<T, E>(
        &mut self,
        format: &str,
        at: i64,
        items: &[i64],
        write: impl FnOnce(i64) -> std::result::Result<(String, T), E>,
    ) -> Result<std::result::Result<(Batch, T), E>> {
        let path = self.path.clone();
        let err = |e| super::sql_error(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let insert = || -> rusqlite::Result<i64> {
            tx.execute(
                // The destination is known once written, still inside this transaction.
                "INSERT INTO batches (created_at, format, destination, items) VALUES (?1, ?2, '', ?3)",
                params![at, format, items.len() as i64],
            )?;
            let id = tx.last_insert_rowid();
            let mut stmt = tx.prepare(
                "INSERT OR IGNORE INTO batch_items (batch_id, message_ref, recipient)
                 SELECT ?1, message_ref, recipient FROM deliveries WHERE id = ?2",
            )?;
            for d in items {
                stmt.execute(params![id, d])?;
            }
            Ok(id)
        };
        let id = insert().map_err(err)?;
        let (destination, staged) = match write(id) {
            Ok(d) => d,
            // Dropping the transaction rolls it back.
            Err(e) => return Ok(Err(e)),
        };
        tx.execute(
            "UPDATE batches SET destination = ?1 WHERE id = ?2",
            params![destination, id],
        )
        .map_err(err)?;
        history_insert(
            &tx,
            at,
            "export",
            Some(id),
            &format!("{format} to {destination}"),
            "",
            items.len() as i64,
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Ok((
            Batch {
                id,
                created_at: at,
                format: format.to_string(),
                destination,
                items: items.len() as u64,
            },
            staged,
        )))
    }

    /// Where a recorded batch ended up, when that is not where it was meant to go (a
    /// numbered name beside a file already there).
    pub(crate) fn set_batch_destination(&mut self, batch: i64, destination: &str) -> Result<()> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            let format: String =
                tx.query_row("SELECT format FROM batches WHERE id = ?1", [batch], |r| {
                    r.get(0)
                })?;
            tx.execute(
                "UPDATE batches SET destination = ?1 WHERE id = ?2",
                params![destination, batch],
            )?;
            tx.execute(
                "UPDATE history SET scope = ?1 WHERE action = 'export' AND ref = ?2",
                params![format!("{format} to {destination}"), batch],
            )?;
            tx.commit()
        };
        run(&mut self.conn).map_err(|e| self.err(e))
    }

    /// Takes a batch off the record: its file could not be put in place, so none of its
    /// deliveries went out.
    pub(crate) fn forget_batch(&mut self, batch: i64) -> Result<()> {
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM batch_items WHERE batch_id = ?1", [batch])?;
            tx.execute("DELETE FROM batches WHERE id = ?1", [batch])?;
            tx.execute(
                "DELETE FROM history WHERE action = 'export' AND ref = ?1",
                [batch],
            )?;
            tx.commit()
        };
        run(&mut self.conn).map_err(|e| self.err(e))
    }

    pub fn batches(&self) -> Result<Vec<Batch>> {
        let run = || -> rusqlite::Result<Vec<Batch>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, created_at, format, destination, items FROM batches ORDER BY id",
            )?;
            stmt.query_map([], |r| {
                Ok(Batch {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    format: r.get(2)?,
                    destination: r.get(3)?,
                    items: r.get(4)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }
}

/// What the re-queue rules read of a delivery; `candidate_from_row` maps its columns.
/// "The same message" is the same message row, or another row with its Message-ID (a copy
/// imported twice, a relay's second queue file), or, when it has none, with its sender and
/// subject. An export holds for every copy: the same (host, queue id, first seen) or
/// Message-ID.
const CANDIDATE_SELECT: &str = "SELECT d.id, d.message_ref, d.recipient, d.domain, d.provider, d.host, d.status, d.code, d.cause,
        d.last_attempt, d.typo_of, m.queue_id, m.message_id, m.sender, m.subject, m.format,
        EXISTS (SELECT 1 FROM deliveries s JOIN messages sm ON sm.id = s.message_ref
                WHERE s.recipient = d.recipient AND s.status = 'sent'
                AND s.last_attempt > coalesce(d.last_attempt, d.first_attempt, 0)
                AND (s.message_ref = d.message_ref
                     OR (m.message_id IS NOT NULL AND sm.message_id = m.message_id)
                     OR (m.message_id IS NULL AND sm.sender = m.sender AND sm.subject = m.subject))),
        (SELECT max(b.batch_id) FROM batch_items b JOIN messages bm ON bm.id = b.message_ref
         WHERE b.recipient = d.recipient
           AND (b.message_ref = d.message_ref
                OR (bm.host = m.host AND bm.queue_id = m.queue_id AND bm.first_seen = m.first_seen)
                OR (m.message_id IS NOT NULL AND bm.message_id = m.message_id))),
        k.marked_at IS NOT NULL,
        EXISTS (SELECT 1 FROM deliveries s WHERE s.recipient = d.recipient AND s.status = 'sent'
                AND s.last_attempt > coalesce(d.last_attempt, d.first_attempt, 0)),
        (SELECT b.conflict FROM bounces b
         WHERE m.format = 'eml' AND b.message_ref = d.message_ref AND b.recipient = d.recipient
           AND b.conflict IS NOT NULL LIMIT 1)
 FROM deliveries d JOIN messages m ON m.id = d.message_ref
 LEFT JOIN marks k ON k.message_ref = d.message_ref AND k.recipient = d.recipient";

fn candidate_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Candidate> {
    Ok(Candidate {
        delivery_id: r.get(0)?,
        message_ref: r.get(1)?,
        recipient: r.get(2)?,
        domain: r.get(3)?,
        provider: r.get(4)?,
        host: r.get(5)?,
        status: r.get(6)?,
        code: r.get(7)?,
        cause: r.get(8)?,
        last_attempt: r.get(9)?,
        typo_of: r.get(10)?,
        queue_id: r.get(11)?,
        message_id: r.get(12)?,
        sender: r.get(13)?,
        subject: r.get(14)?,
        format: r.get(15)?,
        later_success: r.get(16)?,
        exported_in: r.get(17)?,
        marked: r.get(18)?,
        other_message_sent: r.get::<_, bool>(19)? && !r.get::<_, bool>(16)?,
        contradicts_log: r.get(20)?,
    })
}
