//! Joining bounce reports to the logged deliveries they report on.

use crate::model::DeliveryStatus;
use std::sync::Arc;

use crate::ingest::bounce::RecipientReport;
use crate::ingest::{AttemptStatus, Event, EventKind};
use crate::store::load::Load;
use crate::store::write::MessageWriter;
use crate::store::{Store, StoreError};
use crate::triage::Assembler;

use super::bounces::recipient_event;

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
    load: &Load<'_>,
    writer: &mut MessageWriter<'_>,
    assembler: &mut Assembler,
    r: &RecipientReport,
    id: i64,
    at: i64,
    number: u64,
) -> Result<Joined, StoreError> {
    let Some(m) = load.message(id)? else {
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
    let logged = crate::triage::assemble::derive_row(d);
    let said_at = |what: DeliveryStatus| {
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
        DeliveryStatus::Sent => return Ok(Joined::Kept(Some(said_at(logged.status)))),
        DeliveryStatus::Bounced if r.expired => {
            return Ok(Joined::Kept(Some(said_at(logged.status))));
        }
        DeliveryStatus::Bounced => return Ok(Joined::Kept(None)),
        DeliveryStatus::Expired if hard_failure => {
            return Ok(Joined::Kept(Some(said_at(logged.status))));
        }
        _ => {}
    }
    // The log's spelling of the address, so the report lands on the logged delivery.
    let recipient = d.recipient.clone();
    let route = d.attempts.iter().rev().find_map(|a| a.relay.clone());
    let logged_expired = logged.status == DeliveryStatus::Expired;
    let on_logged = |mut e: Event<'static>| {
        e.recipient = Some(recipient.clone().into());
        if route.is_some() {
            e.relay = route.clone().map(Into::into);
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
    let load = store.begin_load()?;
    let standalone = load.standalone_reports()?;
    if standalone.is_empty() {
        return Ok(0);
    }
    let mut joined = 0;
    {
        let mut writer = load.writer()?;
        let mut assembler = Assembler::new("eml");
        for s in &standalone {
            let r = &s.recipient;
            let (link, found) =
                load.find_message(s.original_message_id.as_deref(), None, &r.recipient)?;
            let Some(id) = found else { continue };
            assembler.source_name = Arc::from(s.report.as_str());
            let conflict = match join_logged(
                &load,
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
                    load.set_bounce_conflict(s.bounce_id, conflict.as_deref())?;
                    continue;
                }
            };
            load.move_to_logged(s, id, link, conflict.as_deref())?;
            joined += 1;
        }
        assembler.checkpoint(&mut writer)?;
    }
    load.commit()?;
    Ok(joined)
}
