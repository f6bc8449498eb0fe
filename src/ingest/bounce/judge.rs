//! Judging one recipient: the evidence a report gives about it (code, action, diagnostic,
//! prose, remote host) weighed into a status, a reason, and whether the queue lifetime
//! ran out.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use super::reply_code_in;
use crate::classify::{self, EnhancedCode, Reason};

/// The wording of delay warnings that carry no Action field: the sender is told the
/// message is still queued and will be tried again (Exim's and Postfix's warning texts,
/// gateways' "advisory" notices).
static DELAY_NOTICE: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"(?i)this is (?:just |only )?a warning\b",
        r"(?i)\bwarning only\b",
        r"(?i)notification about a delay in the delivery",
        r"(?i)message will be retried for \d+ more",
        r"(?i)has not (?:yet been delivered|been delivered yet)",
        r"(?i)delivery attempts will continue",
        r"(?i)will continue (?:to )?(?:try|attempt|retry)",
        r"(?i)delivery is (?:delayed|postponed)",
        r"(?i)has been (?:delayed|postponed)",
    ])
    .expect("delay notice patterns")
});

/// A reply that says the sending MTA keeps retrying (or stopped retrying) a host.
static RETRYING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)did not accept our requests to connect|will be retried|\bgave up\b")
        .expect("static regex")
});

/// Texts that say the queue lifetime ran out (Postfix, Sendmail, Exim, Exchange, qmail…).
static EXPIRY: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"(?i)queue\.expired",
        r"(?i)retry timeout exceeded",
        // Exim: every host of the domain kept failing until the retry rule gave up.
        r"(?i)all hosts (?:for .{0,80} )?have been failing for a long time",
        // OpenSMTPD's bounce for a message whose envelope outlived its queue time.
        r"(?i)envelope expired",
        // Gmail's "… did not accept our requests to connect … gave up".
        r"(?i)\bgave up\b",
        r"(?i)delivery time expired",
        r"(?i)message expired",
        r"(?i)(?:could not|couldn't|was not|wasn't|has not been|hasn't been) (?:be )?delivered (?:with)?in (?:the (?:last|past) )?\d+ (?:day|hour)",
        r"(?i)cannot be delivered for \d+ (?:day|hour)",
        r"(?i)could not be delivered for \d+ (?:day|hour)",
        r"(?i)(?:was|has been) (?:in|on) the queue (?:for )?(?:too long|longer than)",
        r"(?i)too long in (?:the )?queue",
        // Yahoo's "Unable to deliver message after multiple retries, giving up." is the
        // queue lifetime; qmail-remote's "Giving up on <host>." is not: it closes one
        // connection in which every recipient was refused (qmail-remote.c, `flagbother`).
        r"(?i)giving up(?:[.,;!]|\s*$)",
        r"(?i)could not deliver for the last \d+",
        r"(?i)was aborted after \d+(?:\.\d+)? (?:day|hour)",
        r"(?i)\bexpired after\b",
        r"(?i)delivery (?:attempts? )?(?:has |have )?expired",
        r"(?i)maximum (?:delivery|retry) time",
        // Retries counted out rather than timed out.
        r"(?i)(?:failed|undeliverable|giving up|gave up|occurred) after \d+ (?:delivery )?attempt",
        r"(?i)\bfailed \d+ (?:delivery )?attempts",
        r"(?i)(?:maximum|max\.?) (?:number of )?(?:delivery )?(?:attempts|retries) (?:exceeded|reached)",
        r"(?i)exceeded (?:the )?maximum (?:number of )?(?:delivery )?(?:attempts|retries)",
        r"(?i)retry (?:limit|count) exceeded",
        r"(?i)timeout waiting for",
    ])
    .expect("static regex set")
});

static PERMANENT_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)permanent|fatal|given up|failed permanently|hard bounce")
        .expect("static regex")
});
static TRANSIENT_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)temporar|will (?:be )?retr|still trying|will keep trying|delayed|deferred")
        .expect("static regex")
});

/// The host a Postfix-style diagnostic names as answering ("host mx.example[192.0.2.1] said:").
fn answering_host(text: &str) -> Option<&str> {
    ANSWERING_HOST
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

static ANSWERING_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bhost ([a-z0-9][a-z0-9.-]*)\[[^\]]*\] said:").expect("static regex")
});

/// Everything one recipient's report says, before judging it.
pub(super) struct Evidence<'a> {
    pub(super) recipient: &'a str,
    pub(super) reported_status: Option<EnhancedCode>,
    pub(super) action: Option<&'a str>,
    /// The diagnostic (or the report's text about this recipient).
    pub(super) text: &'a str,
    /// The report's prose about this recipient, when it names it.
    pub(super) block: Option<&'a str>,
    /// The human-readable text of the whole report, for class and expiry hints.
    pub(super) context: &'a str,
    /// The Remote-MTA field, naming the host that answered.
    pub(super) remote_mta: Option<&'a str>,
    /// The only recipient the report names: its whole prose is about this one.
    pub(super) alone: bool,
    /// The returned original was addressed to other mailboxes of this recipient's domain
    /// that the report does not name: the server refused addresses one by one.
    pub(super) refused_one_by_one: bool,
}

pub(super) struct Judgement {
    pub(super) status: Option<EnhancedCode>,
    pub(super) reason: Reason,
    pub(super) expired: bool,
    pub(super) command: Option<classify::SmtpCommand>,
}

fn is_success_action(action: Option<&str>) -> bool {
    // "deliverable" is what some MTAs write for a verified (delivered) recipient.
    matches!(
        action,
        Some("delivered" | "relayed" | "expanded" | "deliverable")
    )
}

pub(super) fn judge(e: &Evidence<'_>) -> Judgement {
    if is_success_action(e.action) || e.reported_status.is_some_and(|c| c.class == 2) {
        return Judgement {
            status: e.reported_status.or(Some(EnhancedCode::new(2, 0, 0))),
            reason: Reason::Delivered,
            expired: false,
            command: None,
        };
    }
    let expiry_code = |c: EnhancedCode| c.subject == 4 && c.detail == 7;
    // An MTA that reports a transient code as a final failure gave up retrying: the
    // queue lifetime ran out.
    // A plain-text report that calls the failure permanent while quoting a transient
    // reply did the same.
    let transient = match e.reported_status {
        Some(c) => c.class == 4,
        None => reply_code_in(e.text).is_some_and(|r| r / 100 == 4),
    };
    let gave_up = transient
        && (e.action == Some("failed") || e.action.is_none() && PERMANENT_TEXT.is_match(e.context));
    let said_expired = e.reported_status.is_some_and(expiry_code)
        || EXPIRY.is_match(e.text)
        || (e.text.is_empty() && EXPIRY.is_match(e.context));
    let expired = gave_up || said_expired;
    // The command is often named only in the report's prose ("in reply to RCPT TO").
    let command = classify::rules::smtp_command(e.text)
        .or_else(|| e.block.and_then(classify::rules::smtp_command))
        .or_else(|| classify::rules::transcript_command(e.context, e.text))
        // A reply to DATA (a content filter's verdict) answers for every recipient of the
        // transaction at once; a server that refused some mailboxes of a domain and not
        // the others answered per recipient, at RCPT.
        .or_else(|| e.refused_one_by_one.then_some(classify::SmtpCommand::Rcpt));
    let verdict = classify::classify_reply(e.reported_status, e.text, command);
    let mut status = verdict.code;
    if status.is_none() {
        let class = if e.action == Some("delayed") {
            4
        } else if e.action == Some("failed") {
            5
        } else {
            match reply_code_in(e.text).map(|r| r / 100) {
                Some(4) => 4,
                Some(5) => 5,
                // Still queued: whatever the notice's wording of the trouble, it is not
                // final yet.
                _ if DELAY_NOTICE.is_match(e.context) && !expired => 4,
                _ if PERMANENT_TEXT.is_match(e.context) => 5,
                _ if TRANSIENT_TEXT.is_match(e.context) && !expired => 4,
                _ => 5,
            }
        };
        status = Some(EnhancedCode::generic(class));
    }
    let mut reason = verdict.reason;
    // The lines that name the recipient can be the tail of the report ("RCPT TO: <x>",
    // "Size (in bytes)") while the error stands above them: read the whole prose.
    if e.alone
        && matches!(reason, Reason::OnHold | Reason::Undefined)
        && !e.context.is_empty()
        && e.context != e.text
    {
        let whole = classify::classify_reply(
            e.reported_status,
            e.context,
            command.or_else(|| classify::rules::smtp_command(e.context)),
        );
        if !matches!(whole.reason, Reason::OnHold | Reason::Undefined) {
            reason = whole.reason;
        }
    }
    // A provider's habit (docomo refusing senders after DATA) does not outweigh a reply
    // that names a protocol error: that one is about the SMTP dialogue itself.
    if let Some(r) = classify::provider_rules::provider_reply_reason(
        e.remote_mta.or_else(|| answering_host(e.text)),
        e.reported_status,
        command,
    ) && reason != Reason::SyntaxError
    {
        reason = r;
    }
    let domain = e.recipient.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    if let Some(r) = classify::provider_rules::provider_text_reason(domain, e.text) {
        reason = r;
    }
    if matches!(reason, Reason::OnHold | Reason::Undefined)
        && let Some(r) = classify::provider_rules::provider_reason(domain)
    {
        reason = r;
    }
    // A transient reply reported as final, with no word on expiry, says the MTA gave up
    // but not why: that stays `onhold` (the `expired` flag keeps the outcome).
    if expired
        && (matches!(reason, Reason::Undefined | Reason::Expired)
            || reason == Reason::OnHold && said_expired
            || reason == Reason::NetworkError
                && (said_expired
                    // A host that never answered (X.4.1, or no code at all) until the
                    // MTA gave up: the queue lifetime ran out.
                    || status.is_some_and(|c| (c.subject == 4 && c.detail == 1) || c.is_vague())))
    {
        // The outcome; the underlying cause stays in the diagnostic text, which the
        // store classifies as the last deferral.
        reason = Reason::Expired;
    }
    // A delay notice (RFC 3464 Action: delayed) whose text names no cause: the message
    // is waiting out its queue lifetime, the cause sisimai and RFC 3463's X.4.7 call
    // "delivery time expired".
    // A delay notice whose own reply says the host is being retried (Gmail's "did not
    // accept our requests to connect … will be retried") is about the queue lifetime; one
    // that quotes the network error alone keeps it as the cause.
    if (matches!(reason, Reason::OnHold | Reason::Undefined)
        || reason == Reason::NetworkError
            && e.action == Some("delayed")
            && RETRYING.is_match(e.text))
        && (e.action == Some("delayed") || DELAY_NOTICE.is_match(e.context))
    {
        reason = Reason::Expired;
    }
    Judgement {
        status,
        reason,
        expired,
        command,
    }
}
