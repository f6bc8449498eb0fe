//! Joining bounce reports to the logged deliveries they report on.

use std::sync::Arc;

use rusqlite::{Transaction, params};

use crate::ingest::bounce::RecipientReport;
use crate::ingest::{AttemptStatus, Event, EventKind};
use crate::store::write::{MessageWriter, message_by_id};
use crate::store::{Store, StoreError, sql_error};
use crate::triage::Assembler;

use super::bounces::{find_message, recipient_event, writer_path};

/// What became of a report recipient offered to a logged message. The log is the
/// authority for what the server did: a report (which anyone who saw the Message-ID can
/// forge) may refine a delivery the log left unfinished, never overturn one it decided,
/// and never add a recipient to a logged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Joined {
    /// The report's word was added to the delivery.
    Refined,
    /// The log had already decided the delivery: the report stands beside it, unapplied;
    /// `Some` says how it contradicts the log.
    Kept(Option<String>),
    /// The logged message has no such recipient (`Some` says so, naming the message).
    NotOnMessage(Option<String>),
}

/// What a report says of one recipient, in a few words.
fn report_says(r: &RecipientReport) -> String {
    match r.status {
        _ if r.expired => "expired (4.4.7)".to_string(),
        Some(c) if c.class == 4 => format!("deferred ({c})"),
        Some(c) => format!("bounced ({c})"),
        None => "failed".to_string(),
    }
}

/// Joins one report recipient to the logged message `id`, within what the log allows:
/// an unfinished delivery takes the report's verdict; an expired one takes its last
/// error as a deferral (a clearer cause), nothing else; a sent or bounced one is left as
/// the log has it. The log's route stays the delivery's route; the report's own remote
/// MTA and date are kept on its `bounces` row beside it.
pub(super) fn join_logged(
    tx: &Transaction<'_>,
    writer: &mut MessageWriter<'_>,
    assembler: &mut Assembler,
    r: &RecipientReport,
    id: i64,
    at: i64,
    number: u64,
) -> Result<Joined, StoreError> {
    let path = writer_path(tx);
    let Some(m) = message_by_id(tx, id).map_err(|e| sql_error(&path, e))? else {
        return Ok(Joined::NotOnMessage(None));
    };
    let (host, queue) = (m.host.clone(), m.queue_id.clone());
    // A message already open here carries an earlier report's word: judged by that copy.
    assembler.resume(vec![m]);
    let Some(msg) = assembler.open_message(&host, &queue) else {
        return Ok(Joined::NotOnMessage(None));
    };
    let Some(d) = msg
        .deliveries
        .iter()
        .find(|d| d.recipient.eq_ignore_ascii_case(&r.recipient))
    else {
        return Ok(Joined::NotOnMessage(Some(format!(
            "the logged message {} (queue id {} on {}) has no recipient {}; the report says {}",
            msg.message_id.as_deref().unwrap_or("without a Message-ID"),
            queue,
            host,
            r.recipient,
            report_says(r)
        ))));
    };
    let logged = crate::triage::assemble::derive_row(&host, d);
    let said_at = |what: &str| {
        format!(
            "the log has this delivery {what}{}; the report says {}",
            logged
                .source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            report_says(r)
        )
    };
    let hard_failure = !r.expired && r.status.is_none_or(|c| c.class != 4);
    match logged.status {
        "sent" => return Ok(Joined::Kept(Some(said_at("sent")))),
        "bounced" if r.expired => return Ok(Joined::Kept(Some(said_at("bounced")))),
        "bounced" => return Ok(Joined::Kept(None)),
        "expired" if hard_failure => return Ok(Joined::Kept(Some(said_at("expired")))),
        _ => {}
    }
    // The log's spelling of the address, so the report lands on the logged delivery.
    let recipient = d.recipient.clone();
    let route = d.attempts.iter().rev().find_map(|a| a.relay.clone());
    let logged_expired = logged.status == "expired";
    let on_logged = |mut e: Event| {
        e.recipient = Some(recipient.clone());
        if route.is_some() {
            e.relay = route.clone();
        }
        // Our own server's attempts are in the log; the report is not another.
        e.counts_as_attempt = false;
        e
    };
    if (r.expired || logged_expired) && (!r.diagnostic.is_empty() || r.status.is_some()) {
        // The report's last error joins the logged deferrals, so a vague logged reply
        // can give way to it (triage::assemble::derive_row).
        let mut last_error = on_logged(recipient_event(r, at, number, &host, &queue));
        last_error.kind = EventKind::Attempt(AttemptStatus::Deferred);
        assembler.push(last_error, writer)?;
    }
    if !logged_expired {
        let e = on_logged(recipient_event(r, at, number, &host, &queue));
        assembler.push(e, writer)?;
    }
    Ok(Joined::Refined)
}

/// Reports imported before the log that holds their delivery stood alone. Once that log
/// is in, each joins its delivery as if imported after it (by the original Message-ID,
/// else by the recipient), and its standalone delivery goes, marks and export records
/// following it: the order of imports does not change the store.
pub fn relink_standalone_reports(store: &mut Store) -> Result<u64, StoreError> {
    let path = store.path.clone();
    let sql = |e| sql_error(&path, e);
    let tx = store.conn.transaction().map_err(sql)?;
    struct Standalone {
        bounce_id: i64,
        message_ref: i64,
        report: String,
        original_message_id: Option<String>,
        recipient: RecipientReport,
    }
    let standalone: Vec<Standalone> = {
        let mut stmt = tx
            .prepare(
                "SELECT b.id, b.message_ref, b.report, b.original_message_id, b.recipient, b.status,
                        b.reason, b.reply_code, b.action, b.diagnostic, b.remote_mta, b.expired,
                        b.reported_at
                 FROM bounces b JOIN messages m ON m.id = b.message_ref
                 WHERE b.kind = 'bounce' AND m.format = 'eml' ORDER BY b.id",
            )
            .map_err(sql)?;
        stmt.query_map([], |r| {
            let status: Option<String> = r.get(5)?;
            let reason: String = r.get(6)?;
            Ok(Standalone {
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
        })
        .map_err(sql)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql)?
    };
    if standalone.is_empty() {
        return Ok(0);
    }
    let mut joined = 0;
    {
        let mut writer = MessageWriter::new(&tx, &path)?;
        let mut assembler = Assembler::new("eml");
        for s in &standalone {
            let r = &s.recipient;
            let (link, found) =
                find_message(&tx, s.original_message_id.as_deref(), None, &r.recipient)
                    .map_err(sql)?;
            let Some(id) = found else { continue };
            assembler.source_name = Arc::from(s.report.as_str());
            let conflict = match join_logged(
                &tx,
                &mut writer,
                &mut assembler,
                r,
                id,
                r.last_attempt.unwrap_or(0),
                1,
            )? {
                Joined::Refined => None,
                Joined::Kept(conflict) => conflict,
                // Not the logged message's recipient: it stays a bounce-only delivery,
                // the contradiction noted on its report.
                Joined::NotOnMessage(conflict) => {
                    tx.execute(
                        "UPDATE bounces SET conflict = ?1 WHERE id = ?2",
                        params![conflict, s.bounce_id],
                    )
                    .map_err(sql)?;
                    continue;
                }
            };
            // Marks and export records name a delivery by (message, recipient): they follow
            // it to the logged message; the standalone delivery goes.
            for table in ["marks", "batch_items"] {
                tx.execute(
                    &format!(
                        "UPDATE OR IGNORE {table} SET message_ref = ?1 WHERE message_ref = ?2 AND recipient = ?3"
                    ),
                    params![id, s.message_ref, r.recipient],
                )
                .map_err(sql)?;
                tx.execute(
                    &format!("DELETE FROM {table} WHERE message_ref = ?1 AND recipient = ?2"),
                    params![s.message_ref, r.recipient],
                )
                .map_err(sql)?;
            }
            tx.execute(
                "DELETE FROM attempts WHERE delivery_id IN
                 (SELECT id FROM deliveries WHERE message_ref = ?1 AND recipient = ?2)",
                params![s.message_ref, r.recipient],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM deliveries WHERE message_ref = ?1 AND recipient = ?2",
                params![s.message_ref, r.recipient],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE bounces SET message_ref = ?1, linked_by = ?2, conflict = ?3 WHERE id = ?4",
                params![id, link.as_str(), conflict, s.bounce_id],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM messages WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_ref = ?1)
                 AND NOT EXISTS (SELECT 1 FROM bounces WHERE message_ref = ?1)
                 AND NOT EXISTS (SELECT 1 FROM marks WHERE message_ref = ?1)
                 AND NOT EXISTS (SELECT 1 FROM batch_items WHERE message_ref = ?1)",
                [s.message_ref],
            )
            .map_err(sql)?;
            joined += 1;
        }
        assembler.checkpoint(&mut writer)?;
    }
    tx.commit().map_err(sql)?;
    Ok(joined)
}
