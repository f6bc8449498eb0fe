//! Amazon SES notifications (JSON): the SNS "Bounce / Complaint / Delivery" notifications
//! (`notificationType`) and the event-publishing records (`eventType`, which add
//! `DeliveryDelay`), bare or inside the SNS envelope whose `Message` holds them as a
//! string. SES reports bounces this way instead of sending a DSN email, so a sender
//! on SES has no other source of its failures.
//!
//! Each recipient goes through the same judgement as a DSN recipient: `status` is the
//! reported code, `diagnosticCode` the remote reply. SES's own `bounceSubType` only
//! decides when the reply names no cause, except `Suppressed` /
//! `OnAccountSuppressionList`, where SES never tried the address.

use serde_json::Value;

use super::{
    BounceError, BounceReport, Evidence, RecipientReport, ReportKind, judge, not_a_failure,
    reply_code_in,
};
use crate::classify::{EnhancedCode, Reason};

/// Whether `head` (the start of a file) looks like SES notifications: a JSON object (or
/// an array of them) that names a notification or event type, or the SNS envelope that
/// carries one. Other JSON (a journald export of a mail log) is left to the log readers.
pub fn looks_like_notification(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
    if start.is_none_or(|i| !matches!(head[i], b'{' | b'[')) {
        return false;
    }
    let has = |needle: &str| memchr::memmem::find(head, needle.as_bytes()).is_some();
    has("\"notificationType\"")
        || has("\"eventType\"")
        || has("\"Type\"") && has("\"Notification\"") && has("\"Message\"")
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Unix seconds of an RFC 3339 timestamp (`2020-02-04T20:48:45.160Z`).
fn timestamp(v: &Value) -> Option<i64> {
    str_of(v, "timestamp")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp())
}

/// The notification itself: the bare object, or the one the SNS envelope carries as a
/// string in `Message`.
fn notification(root: Value) -> Option<Value> {
    let kind = |v: &Value| {
        str_of(v, "notificationType")
            .or_else(|| str_of(v, "eventType"))
            .is_some()
    };
    if kind(&root) {
        return Some(root);
    }
    let inner = str_of(&root, "Message")?;
    let inner: Value = serde_json::from_str(inner).ok()?;
    kind(&inner).then_some(inner)
}

/// SES's own word on a bounce, for a reply that names no cause.
fn subtype_reason(subtype: &str) -> Option<Reason> {
    Some(match subtype {
        "NoEmail" => Reason::UserUnknown,
        "Suppressed" | "OnAccountSuppressionList" => Reason::Suppressed,
        "MailboxFull" => Reason::MailboxFull,
        "MessageTooLarge" => Reason::MesgTooBig,
        "ContentRejected" => Reason::ContentError,
        "AttachmentRejected" => Reason::PolicyViolation,
        _ => return None,
    })
}

/// Parses an SES notification. `Err(NotABounce)` when the JSON is not one.
pub fn parse(raw: &[u8]) -> Result<BounceReport, BounceError> {
    let root: Value = serde_json::from_slice(raw).map_err(|_| BounceError::NotABounce)?;
    let n = notification(root).ok_or(BounceError::NotABounce)?;
    let kind = str_of(&n, "notificationType")
        .or_else(|| str_of(&n, "eventType"))
        .unwrap_or_default()
        .to_string();
    let mail = n.get("mail").cloned().unwrap_or(Value::Null);
    let headers = mail.get("commonHeaders").cloned().unwrap_or(Value::Null);
    // The Message-ID the sender wrote (commonHeaders), not SES's own message id.
    let original_message_id = str_of(&headers, "messageId").map(|id| {
        if id.starts_with('<') {
            id.to_string()
        } else {
            format!("<{id}>")
        }
    });
    let mut report = BounceReport {
        kind: ReportKind::Bounce,
        date: timestamp(&mail),
        subject: None,
        reporting_mta: None,
        original_message_id,
        original_queue_id: str_of(&mail, "messageId").map(str::to_string),
        original_sender: str_of(&mail, "source").map(str::to_string),
        original_subject: str_of(&headers, "subject").map(str::to_string),
        recipients: Vec::new(),
    };
    let addresses = |list: Option<&Value>, key: &str| -> Vec<Value> {
        list.and_then(|l| l.get(key))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match kind.as_str() {
        "Bounce" => {
            let b = n.get("bounce");
            let subtype = b
                .and_then(|b| str_of(b, "bounceSubType"))
                .unwrap_or_default();
            let bounce_type = b.and_then(|b| str_of(b, "bounceType")).unwrap_or_default();
            report.reporting_mta = b
                .and_then(|b| str_of(b, "reportingMTA"))
                .map(|m| m.split_once(';').map_or(m, |(_, h)| h).trim().to_string());
            let when = b.and_then(timestamp).or(report.date);
            let remote = b.and_then(|b| str_of(b, "remoteMtaIp"));
            for r in addresses(b, "bouncedRecipients") {
                report
                    .recipients
                    .push(recipient(&r, bounce_type, subtype, None, when, remote));
            }
        }
        "DeliveryDelay" => {
            let d = n.get("deliveryDelay");
            let when = d.and_then(timestamp).or(report.date);
            for r in addresses(d, "delayedRecipients") {
                report
                    .recipients
                    .push(recipient(&r, "Transient", "", Some("delayed"), when, None));
            }
        }
        "Complaint" => {
            report.kind = ReportKind::Feedback;
            let c = n.get("complaint");
            for r in addresses(c, "complainedRecipients") {
                report
                    .recipients
                    .push(plain(&r, Reason::Feedback, None, report.date));
            }
        }
        "Delivery" => {
            report.kind = ReportKind::Delivered;
            let d = n.get("delivery");
            let when = d.and_then(timestamp).or(report.date);
            for r in d
                .and_then(|d| d.get("recipients"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let mut row = plain(
                    &r,
                    Reason::Delivered,
                    Some(EnhancedCode::new(2, 0, 0)),
                    when,
                );
                row.action = Some("delivered".into());
                row.diagnostic = d
                    .and_then(|d| str_of(d, "smtpResponse"))
                    .unwrap_or_default()
                    .to_string();
                row.reply_code = reply_code_in(&row.diagnostic);
                report.recipients.push(row);
            }
        }
        _ => return Err(BounceError::NotABounce),
    }
    if report.recipients.is_empty() {
        return Err(BounceError::NotABounce);
    }
    Ok(report)
}

/// A recipient that is no failure (complaint, delivery): an address string or an object
/// with `emailAddress`.
fn plain(
    r: &Value,
    reason: Reason,
    status: Option<EnhancedCode>,
    when: Option<i64>,
) -> RecipientReport {
    let address = r
        .as_str()
        .or_else(|| str_of(r, "emailAddress"))
        .unwrap_or_default()
        .to_string();
    not_a_failure(address, reason, status, when)
}

fn recipient(
    r: &Value,
    bounce_type: &str,
    subtype: &str,
    action: Option<&str>,
    when: Option<i64>,
    remote: Option<&str>,
) -> RecipientReport {
    let address = str_of(r, "emailAddress").unwrap_or_default().to_string();
    let diagnostic = str_of(r, "diagnosticCode")
        .map(|d| {
            d.split_once(';')
                .filter(|(t, _)| t.trim().eq_ignore_ascii_case("smtp"))
                .map_or(d, |(_, rest)| rest)
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    let reported_status: Option<EnhancedCode> =
        str_of(r, "status").and_then(|s| s.trim().parse().ok());
    let action = str_of(r, "action")
        .or(action)
        .map(|a| a.to_ascii_lowercase());
    // SES's bounceType is its verdict on the class when the recipient has no status.
    let context = match bounce_type {
        "Permanent" => "permanent failure",
        "Transient" => "temporary failure",
        _ => "",
    };
    let remote_mta = str_of(r, "remoteMtaIp").or(remote).map(str::to_string);
    let mut j = judge(&Evidence {
        recipient: &address,
        reported_status,
        action: action.as_deref(),
        text: &diagnostic,
        block: None,
        context,
        remote_mta: None,
        alone: false,
        // SES names the bounced recipients, not the others of the message.
        refused_one_by_one: false,
    });
    if let Some(by_subtype) = subtype_reason(subtype)
        && (by_subtype == Reason::Suppressed
            || matches!(j.reason, Reason::OnHold | Reason::Undefined))
    {
        j.reason = by_subtype;
    }
    RecipientReport {
        recipient: address,
        orig_recipient: None,
        action,
        reported_status,
        status: j.status,
        reason: j.reason,
        reply_code: reply_code_in(&diagnostic),
        diagnostic,
        remote_mta,
        expired: j.expired,
        last_attempt: when,
        command: j.command,
    }
}
