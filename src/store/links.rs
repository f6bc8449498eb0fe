//! Bounce reports and the deliveries they report on: finding the logged message a report
//! names, its `bounces` rows, and moving a stand-alone report onto the logged delivery.

use rusqlite::{OptionalExtension, params};

use crate::ingest::bounce::{RecipientReport, ReportKind};
use crate::model::MessageState;

use super::load::Load;
use super::{Result, write::message_by_id};

/// How a report found its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    MessageId,
    QueueId,
    Recipient,
    None,
}

impl Link {
    fn as_str(self) -> &'static str {
        match self {
            Link::MessageId => "message_id",
            Link::QueueId => "queue_id",
            Link::Recipient => "recipient",
            Link::None => "none",
        }
    }
}

fn kind_name(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Bounce => "bounce",
        ReportKind::Feedback => "feedback",
        ReportKind::Vacation => "vacation",
        ReportKind::Delivered => "delivered",
    }
}

/// One report recipient's `bounces` row.
pub(crate) struct BounceRow<'a> {
    pub(crate) source_id: i64,
    /// The report's label (file, or `file#N` in an mbox).
    pub(crate) report: &'a str,
    pub(crate) kind: ReportKind,
    pub(crate) message_ref: Option<i64>,
    pub(crate) link: Link,
    pub(crate) recipient: &'a RecipientReport,
    pub(crate) original_message_id: Option<&'a str>,
    pub(crate) reported_at: Option<i64>,
    pub(crate) conflict: Option<&'a str>,
}

/// A report that stands as a delivery of its own (no logged message had it yet).
pub(crate) struct StandaloneReport {
    pub(crate) bounce_id: i64,
    pub(crate) message_ref: i64,
    pub(crate) report: String,
    pub(crate) original_message_id: Option<String>,
    pub(crate) recipient: RecipientReport,
}

impl Load<'_> {
    /// The logged message a report is about: by the original Message-ID, else by the
    /// queue id the report names together with the recipient, else by the recipient when
    /// exactly one unfinished delivery matches.
    pub(crate) fn find_message(
        &self,
        original_message_id: Option<&str>,
        original_queue_id: Option<&str>,
        recipient: &str,
    ) -> Result<(Link, Option<i64>)> {
        let tx = &self.tx;
        let run = || -> rusqlite::Result<(Link, Option<i64>)> {
            // Stored bare, whichever source it came from (`bare_message_id`; migration 8).
            if let Some(id) = original_message_id {
                let found: Option<i64> = tx
                    .prepare_cached(
                        "SELECT id FROM messages WHERE message_id = ?1 AND format != 'eml'
                         ORDER BY id DESC LIMIT 1",
                    )?
                    .query_row(params![id], |r| r.get(0))
                    .optional()?;
                if found.is_some() {
                    return Ok((Link::MessageId, found));
                }
            }
            if let Some(qid) = original_queue_id {
                let found: Option<i64> = tx
                    .prepare_cached(
                        "SELECT m.id FROM messages m JOIN deliveries d ON d.message_ref = m.id
                         WHERE m.queue_id = ?1 AND lower(d.recipient) = lower(?2) AND m.format != 'eml'
                         ORDER BY m.id DESC LIMIT 1",
                    )?
                    .query_row(params![qid, recipient], |r| r.get(0))
                    .optional()?;
                if found.is_some() {
                    return Ok((Link::QueueId, found));
                }
            }
            if !recipient.is_empty() {
                let mut stmt = tx.prepare_cached(
                    "SELECT DISTINCT d.message_ref FROM deliveries d JOIN messages m ON m.id = d.message_ref
                     WHERE lower(d.recipient) = lower(?1) AND d.status != 'sent' AND m.format != 'eml' LIMIT 2",
                )?;
                let ids: Vec<i64> = stmt
                    .query_map([recipient], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if ids.len() == 1 {
                    return Ok((Link::Recipient, Some(ids[0])));
                }
            }
            Ok((Link::None, None))
        };
        run().map_err(|e| self.err(e))
    }

    /// One stored message with its deliveries and attempts (open or closed), to continue
    /// it: a bounce report adds to a message the log already closed.
    pub(crate) fn message(&self, id: i64) -> Result<Option<MessageState>> {
        message_by_id(&self.tx, id).map_err(|e| self.err(e))
    }

    pub(crate) fn add_bounce(&self, b: &BounceRow<'_>) -> Result<()> {
        let r = b.recipient;
        self.tx
            .prepare_cached(
                "INSERT INTO bounces (source_id, report, kind, message_ref, linked_by, recipient, status, reason,
                 reply_code, action, diagnostic, remote_mta, expired, original_message_id, reported_at, conflict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    b.source_id,
                    b.report,
                    kind_name(b.kind),
                    b.message_ref,
                    b.link.as_str(),
                    r.recipient,
                    r.status.map(|c| c.to_string()),
                    r.reason.as_str(),
                    r.reply_code,
                    r.action,
                    r.diagnostic,
                    r.remote_mta,
                    r.expired,
                    b.original_message_id,
                    b.reported_at,
                    b.conflict,
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Points the failure rows of source `source_id` not yet on a message at the
    /// stand-alone message (`host`, `queue_id`) just written for them.
    pub(crate) fn attach_to_own_message(
        &self,
        source_id: i64,
        host: &str,
        queue_id: &str,
    ) -> Result<()> {
        let run = || -> rusqlite::Result<()> {
            let id: Option<i64> = self
                .tx
                .query_row(
                    "SELECT id FROM messages WHERE host = ?1 AND queue_id = ?2 AND format = 'eml'
                     ORDER BY id DESC LIMIT 1",
                    params![host, queue_id],
                    |r| r.get(0),
                )
                .optional()?;
            self.tx.execute(
                "UPDATE bounces SET message_ref = ?1 WHERE source_id = ?2 AND message_ref IS NULL AND kind = 'bounce'",
                params![id, source_id],
            )?;
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    /// The failure reports that stand as deliveries of their own, oldest first.
    pub(crate) fn standalone_reports(&self) -> Result<Vec<StandaloneReport>> {
        let run = || -> rusqlite::Result<Vec<StandaloneReport>> {
            let mut stmt = self.tx.prepare(
                "SELECT b.id, b.message_ref, b.report, b.original_message_id, b.recipient, b.status,
                        b.reason, b.reply_code, b.action, b.diagnostic, b.remote_mta, b.expired,
                        b.reported_at
                 FROM bounces b JOIN messages m ON m.id = b.message_ref
                 WHERE b.kind = 'bounce' AND m.format = 'eml' ORDER BY b.id",
            )?;
            stmt.query_map([], |r| {
                let status: Option<String> = r.get(5)?;
                let reason: String = r.get(6)?;
                Ok(StandaloneReport {
                    bounce_id: r.get(0)?,
                    message_ref: r.get(1)?,
                    report: r.get(2)?,
                    original_message_id: r.get(3)?,
                    recipient: RecipientReport {
                        recipient: r.get(4)?,
                        orig_recipient: None,
                        action: r.get(8)?,
                        reported_status: None,
                        status: status.as_deref().and_then(|s| s.parse().ok()),
                        reason: reason.parse().unwrap_or(crate::classify::Reason::Undefined),
                        reply_code: r.get(7)?,
                        diagnostic: r.get(9)?,
                        remote_mta: r.get(10)?,
                        expired: r.get(11)?,
                        last_attempt: r.get(12)?,
                        command: None,
                    },
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Notes how a report contradicts the log on its `bounces` row.
    pub(crate) fn set_bounce_conflict(&self, bounce_id: i64, conflict: Option<&str>) -> Result<()> {
        self.tx
            .execute(
                "UPDATE bounces SET conflict = ?1 WHERE id = ?2",
                params![conflict, bounce_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A stand-alone report now joined to logged message `id`: its marks and export
    /// records follow it there (they name a delivery by message and recipient), its
    /// stand-alone delivery goes, and its message too once nothing refers to it.
    pub(crate) fn move_to_logged(
        &self,
        s: &StandaloneReport,
        id: i64,
        link: Link,
        conflict: Option<&str>,
    ) -> Result<()> {
        let tx = &self.tx;
        let recipient = &s.recipient.recipient;
        let run = || -> rusqlite::Result<()> {
            for table in ["marks", "batch_items"] {
                tx.execute(
                    &format!(
                        "UPDATE OR IGNORE {table} SET message_ref = ?1 WHERE message_ref = ?2 AND recipient = ?3"
                    ),
                    params![id, s.message_ref, recipient],
                )?;
                tx.execute(
                    &format!("DELETE FROM {table} WHERE message_ref = ?1 AND recipient = ?2"),
                    params![s.message_ref, recipient],
                )?;
            }
            tx.execute(
                "DELETE FROM attempts WHERE delivery_id IN
                 (SELECT id FROM deliveries WHERE message_ref = ?1 AND recipient = ?2)",
                params![s.message_ref, recipient],
            )?;
            tx.execute(
                "DELETE FROM deliveries WHERE message_ref = ?1 AND recipient = ?2",
                params![s.message_ref, recipient],
            )?;
            tx.execute(
                "UPDATE bounces SET message_ref = ?1, linked_by = ?2, conflict = ?3 WHERE id = ?4",
                params![id, link.as_str(), conflict, s.bounce_id],
            )?;
            tx.execute(
                "DELETE FROM messages WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_ref = ?1)
                 AND NOT EXISTS (SELECT 1 FROM bounces WHERE message_ref = ?1)
                 AND NOT EXISTS (SELECT 1 FROM marks WHERE message_ref = ?1)
                 AND NOT EXISTS (SELECT 1 FROM batch_items WHERE message_ref = ?1)",
                [s.message_ref],
            )?;
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }
}
