//! Writing assembled messages. One import of one input is one transaction: a killed import
//! leaves the store as it was before that input, and the next import redoes it.

use std::cell::RefCell;

use rusqlite::{Statement, Transaction, params};

use crate::model::{
    AttemptRecord, AttemptStatus, DeliveryOutcome, DeliveryState, DeliveryStatus, MessageState,
    Reason, SETTLED_KEPT, SourceRef,
};

use super::load::HostsSeen;
use super::typos::{DomainCounts, RowCounted, count_row};
use super::{Store, StoreError};

/// Binds the values to a prepared statement's parameters in order and runs it: what
/// `execute(params![…])` does, with each value's type known where it is bound instead of
/// behind `&dyn ToSql`. On the three statements every message runs, binding took a tenth
/// of the writing thread's time that way, 7.5 % this way; the 1 M-line import 0.75 s
/// against 0.77 s (medians of twelve alternating rounds).
macro_rules! execute_bound {
    ($stmt:expr; $($value:expr),+ $(,)?) => {{
        let stmt: &mut Statement<'_> = $stmt;
        let mut index = 0usize;
        $(
            index += 1;
            stmt.raw_bind_parameter(index, &$value)?;
        )+
        // A parameter left unbound would be written as NULL without a word.
        debug_assert_eq!(index, stmt.parameter_count());
        stmt.raw_execute()
    }};
}

pub(crate) struct MessageWriter<'t> {
    tx: &'t Transaction<'t>,
    path: String,
    pub deliveries_written: u64,
    /// Of those, rows that replaced a delivery already stored (a message continued from an
    /// earlier import, or joined by a bounce email).
    pub deliveries_updated: u64,
    // Prepared once: the statement cache would compare the SQL text on every row.
    insert_message: Statement<'t>,
    insert_delivery: Statement<'t>,
    insert_attempt: Statement<'t>,
    /// None when the load leaves the search index behind (`Load::indexes_search`).
    insert_search: Option<Statement<'t>>,
    /// `Load::domain_counts`.
    domain_counts: &'t RefCell<Option<DomainCounts>>,
    /// `Load::hosts_seen`.
    hosts_seen: &'t RefCell<HostsSeen>,
}

impl<'t> MessageWriter<'t> {
    pub fn new(
        tx: &'t Transaction<'t>,
        path: &str,
        index_search: bool,
        domain_counts: &'t RefCell<Option<DomainCounts>>,
        hosts_seen: &'t RefCell<HostsSeen>,
    ) -> super::Result<Self> {
        let prepare = |sql| tx.prepare(sql).map_err(|e| super::sql_error(path, e));
        Ok(MessageWriter {
            tx,
            path: path.to_string(),
            deliveries_written: 0,
            deliveries_updated: 0,
            insert_message: prepare(
                "INSERT INTO messages (host, queue_id, first_seen, last_seen, message_id, sender, subject,
                 expired_at, closed, format, arrived_at, frozen_at, frozen, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?,
            insert_delivery: prepare(
                "INSERT INTO deliveries (message_ref, recipient, orig_recipient, domain, provider, host, status, code,
                 reply_code, reason, cause, final_text, last_deferral_code, last_deferral_text, attempts, deferrals,
                 first_attempt, last_attempt, relay, source, expired_at, expired_source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            )?,
            insert_attempt: prepare(
                "INSERT INTO attempts (delivery_id, seq, ts, last_ts, repeats, status, code, reply_code, relay, text,
                 counted, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?,
            // The same columns as `Load::index_for_search` fills, written with the row: the
            // tokenizing then runs while the other thread parses, instead of after it.
            insert_search: index_search
                .then(|| {
                    prepare(
                        "INSERT INTO search(rowid, recipient, sender, ids, subject, reply)
                         VALUES (?1, ?2 || ' ' || coalesce(?3, ''), coalesce(?4, ''),
                                 ?5 || ' ' || coalesce(?6, ''), coalesce(?7, ''), concat_ws(' ', ?8, ?9))",
                    )
                })
                .transpose()?,
            domain_counts,
            hosts_seen,
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        super::sql_error(&self.path, source)
    }

    /// Writes a message whose delivery rows were already derived (on the parsing thread).
    pub(crate) fn write_with_rows(
        &mut self,
        m: &mut MessageState,
        rows: &[DeliveryOutcome],
    ) -> super::Result<()> {
        self.write_message(m, rows).map_err(|e| self.err(e))
    }

    fn write_message(
        &mut self,
        m: &mut MessageState,
        rows: &[DeliveryOutcome],
    ) -> rusqlite::Result<()> {
        let tx = self.tx;
        let stored_before = m.db_id.is_some();
        // 2: still open, but every delivery is decided (a log of delivery lines without
        // `removed` lines leaves its messages so): not taken back by every later import.
        let closed = if m.closed {
            1
        } else if !rows.is_empty() && rows.iter().all(|r| r.status != DeliveryStatus::Deferred) {
            2
        } else {
            0
        };
        let id = match m.db_id {
            Some(id) => {
                if let Some(counts) = self.domain_counts.borrow_mut().as_mut() {
                    count_stored_rows_out(tx, id, counts)?;
                }
                // The index rows go with the deliveries: the highest id may be taken again
                // by the rewritten rows, and its old words would still match them; the
                // search index's catch-up relies on no indexed row above a gap.
                tx.prepare_cached(
                    "DELETE FROM search WHERE rowid IN (SELECT id FROM deliveries WHERE message_ref = ?1)",
                )?
                .execute([id])?;
                tx.prepare_cached(
                    "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_ref = ?1)",
                )?
                .execute([id])?;
                tx.prepare_cached("DELETE FROM deliveries WHERE message_ref = ?1")?
                    .execute([id])?;
                tx.prepare_cached(
                    "UPDATE messages SET first_seen = ?2, last_seen = ?3, message_id = ?4, sender = ?5,
                     subject = ?6, expired_at = ?7, closed = ?8, arrived_at = ?9, frozen_at = ?10,
                     frozen = ?11, size = coalesce(?12, size) WHERE id = ?1",
                )?
                .execute(params![
                    id,
                    m.first_seen,
                    m.last_seen,
                    m.message_id,
                    m.sender,
                    m.subject,
                    m.expired_at,
                    closed,
                    m.arrived_at,
                    m.frozen.as_ref().map(|f| f.0),
                    m.frozen.as_ref().map(|f| &f.1),
                    m.size
                ])?;
                id
            }
            None => {
                execute_bound!(&mut self.insert_message;
                    m.host,
                    m.queue_id,
                    m.first_seen,
                    m.last_seen,
                    m.message_id,
                    m.sender,
                    m.subject,
                    m.expired_at,
                    closed,
                    m.format,
                    m.arrived_at,
                    m.frozen.as_ref().map(|f| f.0),
                    m.frozen.as_ref().map(|f| &f.1),
                    m.size
                )?;
                let id = tx.last_insert_rowid();
                m.db_id = Some(id);
                id
            }
        };
        if m.format != "eml" {
            self.hosts_seen
                .borrow_mut()
                .entry_ref(m.host.as_str())
                .and_modify(|newest| *newest = (*newest).max(m.last_seen))
                .or_insert(m.last_seen);
        }
        for (d, r) in m.deliveries.iter().zip(rows) {
            execute_bound!(&mut self.insert_delivery;
                id,
                &d.recipient,
                &d.orig_recipient,
                &r.domain,
                r.provider,
                &m.host,
                r.status,
                &r.code,
                r.reply_code,
                r.reason,
                r.cause,
                &r.final_text,
                &r.last_deferral_code,
                &r.last_deferral_text,
                r.attempts,
                r.deferrals,
                r.first_attempt,
                r.last_attempt,
                &r.relay,
                &r.source,
                d.expired.as_ref().map(|e| e.0),
                d.expired.as_ref().map(|e| e.1.text()),
            )?;
            let delivery_id = tx.last_insert_rowid();
            if let Some(counts) = self.domain_counts.borrow_mut().as_mut() {
                let row = RowCounted {
                    status: r.status.as_str(),
                    relay: r.relay.as_deref(),
                    reason: r.reason.map(Reason::as_str),
                    cause: r.cause.map(Reason::as_str),
                };
                count_row(counts, &r.domain, row, 1);
            }
            if let Some(insert_search) = &mut self.insert_search {
                insert_search.execute(params![
                    delivery_id,
                    &d.recipient,
                    &d.orig_recipient,
                    &m.sender,
                    &m.queue_id,
                    &m.message_id,
                    &m.subject,
                    &r.final_text,
                    &r.last_deferral_text,
                ])?;
            }
            self.deliveries_written += 1;
            self.deliveries_updated += u64::from(stored_before);
            if row_says_its_only_attempt(d, r) {
                continue;
            }
            for (seq, a) in d.attempts.iter().enumerate() {
                execute_bound!(&mut self.insert_attempt;
                    delivery_id,
                    seq as i64,
                    a.ts,
                    a.last_ts,
                    a.repeats,
                    a.status,
                    a.code,
                    a.reply_code,
                    a.relay,
                    a.text,
                    a.counted,
                    a.source.text()
                )?;
            }
        }
        Ok(())
    }
}

/// Takes the stored delivery rows of message `id`, about to be replaced, out of `counts`.
fn count_stored_rows_out(
    tx: &Transaction<'_>,
    id: i64,
    counts: &mut DomainCounts,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT domain, status, relay, reason, cause FROM deliveries WHERE message_ref = ?1",
    )?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let row = RowCounted {
            status: r.get_ref(1)?.as_str()?,
            relay: r.get_ref(2)?.as_str_or_null()?,
            reason: r.get_ref(3)?.as_str_or_null()?,
            cause: r.get_ref(4)?.as_str_or_null()?,
        };
        count_row(counts, r.get_ref(0)?.as_str()?, row, -1);
    }
    Ok(())
}

/// True when the delivery was decided by its only attempt and its row holds every field
/// of that attempt: the view `delivery_attempts` (schema migration 5) rebuilds it, so no
/// attempt row is written. Four in five deliveries of a typical log are such.
fn row_says_its_only_attempt(d: &DeliveryState, r: &DeliveryOutcome) -> bool {
    let [a] = d.attempts.as_slice() else {
        return false;
    };
    matches!(a.status, AttemptStatus::Sent | AttemptStatus::Bounced)
        && DeliveryStatus::from(a.status) == r.status
        && a.counted
        && a.repeats == 1
        && a.last_ts == a.ts
        && r.attempts == 1
        && r.first_attempt == Some(a.ts)
        && a.code.as_deref() == Some(r.code.as_str())
        && a.reply_code == r.reply_code
        && a.relay == r.relay
        && a.text == r.final_text
        && r.source
            .as_deref()
            .and_then(|s| s.rsplit_once(':'))
            .is_some_and(|(file, line)| {
                file == &*a.source.file && line.parse() == Ok(a.source.line)
            })
}

impl Store {
    /// Messages an earlier import left open (still queued at its end), with their
    /// attempts, so that this import continues them instead of starting over.
    /// The stored messages a new log may continue: those still queued (a delivery not
    /// decided), and the most recently settled ones (every delivery decided, no `removed`
    /// line yet: it, or another recipient's line, follows within moments). Older settled
    /// messages stay in the store, not in memory: a log of delivery lines only would
    /// otherwise bring back every message it ever held.
    pub(crate) fn open_messages(&self) -> super::Result<Vec<MessageState>> {
        let mut open = load_messages(
            &self.conn,
            "SELECT id, host, queue_id, format, first_seen, last_seen, message_id, sender, subject, expired_at,
                    closed = 1, arrived_at, frozen_at, frozen
             FROM messages WHERE closed = 0 AND ?1 IS NULL",
            None,
        )
        .map_err(|e| self.err(e))?;
        open.extend(
            load_messages(
                &self.conn,
                "SELECT id, host, queue_id, format, first_seen, last_seen, message_id, sender, subject, expired_at,
                        closed = 1, arrived_at, frozen_at, frozen
                 FROM messages WHERE closed = 2 ORDER BY last_seen DESC LIMIT ?1",
                Some(SETTLED_KEPT as i64),
            )
            .map_err(|e| self.err(e))?,
        );
        Ok(open)
    }
}

/// One stored message with its deliveries and attempts (open or closed), to continue
/// it: a bounce report adds to a message the log already closed.
pub(crate) fn message_by_id(
    conn: &rusqlite::Connection,
    id: i64,
) -> rusqlite::Result<Option<MessageState>> {
    Ok(load_messages(
        conn,
        "SELECT id, host, queue_id, format, first_seen, last_seen, message_id, sender, subject, expired_at,
                closed = 1, arrived_at, frozen_at, frozen
         FROM messages WHERE id = ?1",
        Some(id),
    )?
    .pop())
}

fn load_messages(
    conn: &rusqlite::Connection,
    select: &'static str,
    param: Option<i64>,
) -> rusqlite::Result<Vec<MessageState>> {
    let mut msgs = Vec::new();
    let mut stmt = conn.prepare_cached(select)?;
    let mut rows = stmt.query([param])?;
    while let Some(r) = rows.next()? {
        let format: String = r.get(3)?;
        msgs.push(MessageState {
            db_id: Some(r.get(0)?),
            host: r.get(1)?,
            queue_id: r.get(2)?,
            format: crate::ingest::Format::static_name(&format),
            first_seen: r.get(4)?,
            last_seen: r.get(5)?,
            message_id: r.get(6)?,
            sender: r.get(7)?,
            subject: r.get(8)?,
            // Kept in the store: an update writes it only when it is known now.
            size: None,
            expired_at: r.get(9)?,
            closed: r.get(10)?,
            arrived_at: r.get(11)?,
            frozen: r
                .get::<_, Option<i64>>(12)?
                .map(|t| {
                    Ok::<_, rusqlite::Error>((
                        t,
                        r.get::<_, Option<String>>(13)?.unwrap_or_default(),
                    ))
                })
                .transpose()?,
            deliveries: Vec::new(),
            dirty: false,
            by_recipient: Default::default(),
        });
    }
    let mut dstmt = conn.prepare_cached(
        "SELECT id, recipient, orig_recipient, expired_at, expired_source FROM deliveries
                 WHERE message_ref = ?1 ORDER BY id",
    )?;
    let mut astmt = conn.prepare_cached(
        "SELECT ts, status, code, reply_code, relay, text, counted, source, last_ts, repeats
                 FROM delivery_attempts WHERE delivery_id = ?1 ORDER BY seq",
    )?;
    for m in &mut msgs {
        let ds: Vec<(i64, DeliveryState)> = dstmt
            .query_map([m.db_id], |r| {
                let at: Option<i64> = r.get(3)?;
                let src: Option<String> = r.get(4)?;
                Ok((
                    r.get(0)?,
                    DeliveryState {
                        recipient: r.get(1)?,
                        orig_recipient: r.get(2)?,
                        attempts: Vec::new(),
                        expired: at.map(|t| (t, SourceRef::parse(&src.unwrap_or_default()))),
                        last_attempt: Default::default(),
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (id, mut d) in ds {
            d.attempts = astmt
                .query_map([id], |r| {
                    Ok(AttemptRecord {
                        ts: r.get(0)?,
                        last_ts: r.get(8)?,
                        repeats: r.get(9)?,
                        status: r.get(1)?,
                        code: r.get(2)?,
                        reply_code: r.get(3)?,
                        relay: r.get(4)?,
                        text: r.get(5)?,
                        counted: r.get(6)?,
                        source: SourceRef::parse(
                            &r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                        ),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            m.deliveries.push(d);
        }
    }
    Ok(msgs)
}
