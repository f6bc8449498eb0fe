//! Bounce emails (DSN/NDR) as a sends log: each report yields its recipients with the most
//! specific enhanced code, the reason (shared `classify` rules), whether the message
//! expired, and the Message-ID of the returned original, so a report can be linked to the
//! delivery it reports on.
//!
//! RFC 3464 `message/delivery-status` parts are read per recipient; reports without one
//! are read from their human-readable text ([`freetext`]). The returned original
//! (`message/rfc822`, `text/rfc822-headers`, or pasted below a marker) is never read as
//! the error, only for its Message-ID. Feedback reports (ARF), auto-replies and success
//! DSNs are recognised as such and never count as failures.

pub mod dsn;
pub mod freetext;
mod judge;
pub mod mailbox;
pub mod ses;
mod walk;

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::{Message, MessageParser};
use regex::Regex;

use crate::classify::{self, EnhancedCode, Reason};
use judge::{Evidence, judge};
use walk::walk;

/// What kind of report a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// A non-delivery or delay report.
    Bounce,
    /// An ARF complaint / feedback-loop report.
    Feedback,
    /// An auto-reply (RFC 3834): out of office, vacation.
    Vacation,
    /// A success DSN: every recipient was delivered or relayed.
    Delivered,
}

/// One recipient of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    pub recipient: String,
    pub orig_recipient: Option<String>,
    /// RFC 3464 Action (`failed`, `delayed`, `delivered`, …) when the report gives one.
    pub action: Option<String>,
    /// The code the report states (`Status:`), before the text refined it.
    pub reported_status: Option<EnhancedCode>,
    /// The most specific code: a code in the error text beats a bare X.0.0 or a vague
    /// 4.4.7; with no code at all, `class.0.0` from the action or the text.
    pub status: Option<EnhancedCode>,
    pub reason: Reason,
    pub reply_code: Option<u16>,
    /// The error text (Diagnostic-Code, else the report's text for this recipient).
    pub diagnostic: String,
    pub remote_mta: Option<String>,
    /// The queue lifetime ran out (4.4.7 / 5.4.7 or an expiry text); `reason` then holds
    /// the underlying cause when the text names one.
    pub expired: bool,
    /// Unix seconds of the last attempt (Last-Attempt-Date), else the report's date.
    pub last_attempt: Option<i64>,
    /// The SMTP command the reply answered, when the report says so (often only in its
    /// prose, not in the Diagnostic-Code).
    pub command: Option<classify::SmtpCommand>,
}

/// One parsed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceReport {
    pub kind: ReportKind,
    /// The report's own Date (unix seconds).
    pub date: Option<i64>,
    pub subject: Option<String>,
    pub reporting_mta: Option<String>,
    /// Message-ID of the returned original, with its angle brackets as written.
    pub original_message_id: Option<String>,
    /// The reporting MTA's queue id of the original (Postfix `X-Postfix-Queue-ID`).
    pub original_queue_id: Option<String>,
    pub original_sender: Option<String>,
    pub original_subject: Option<String>,
    pub recipients: Vec<RecipientReport>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BounceError {
    #[error("not an email: no message header block")]
    NotAnEmail,
    #[error("not a bounce report: no failed recipient, feedback report or auto-reply found")]
    NotABounce,
}

/// ARF's `Feedback-Type:` field, when a complaint comes as plain text.
static FEEDBACK_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)^feedback-type:\s*\S").expect("static regex"));

/// The start of delivery-status fields written into a report's text.
static INLINE_DSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[ \t]*(?:reporting-mta|final-recipient):[ \t]*\S").expect("static regex")
});

static PARSER: LazyLock<MessageParser> = LazyLock::new(MessageParser::new);

/// Reports whose sender or subject says "delivery failed" in the usual words.
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)undeliver|undelivered|delivery (?:status notification|failure|failed|has failed|problem|report|notification)|returned mail|failure notice|mail delivery|could not be delivered|non[- ]?remis|nicht zustellbar|returned to sender|delivery error|mail system error|warning: could not send|rejected|message not delivered|error sending",
    )
    .expect("static regex")
});

static BOUNCE_SENDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)mailer-daemon|post_?master|mail delivery (?:system|subsystem)|mdaemon|mailer_daemon|bounce|returned")
        .expect("static regex")
});

static AUTO_REPLY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:auto(?:matic)?[- ]?(?:reply|response|antwort)|auto:|out of (?:the )?office|vacation|abwesenheit|r[ée]ponse automatique|absence|on leave|away from)",
    )
    .expect("static regex")
});

static REPLY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s;:'(\[])([245][0-5][0-9])(?:[ \-,]|$)").expect("static regex")
});

fn header_text<'a>(msg: &'a Message<'_>, name: &str) -> Option<Cow<'a, str>> {
    msg.header_raw(name.to_string())
        .map(|v| Cow::Borrowed(v.trim()))
}

fn reply_code_in(text: &str) -> Option<u16> {
    REPLY_CODE.captures(text).and_then(|c| c[1].parse().ok())
}

fn parse_date(value: &str) -> Option<i64> {
    mail_parser::DateTime::parse_rfc822(value).map(|d| d.to_timestamp())
}

/// Parses one email. `Err` when it is not an email or not a report sendlog knows.
pub fn parse(raw: &[u8]) -> Result<BounceReport, BounceError> {
    if ses::looks_like_notification(raw) {
        return ses::parse(raw);
    }
    parse_nested(raw, 0)
}

/// Forwarded reports nest; one level is all a real NDR needs, and a hostile message
/// must not recurse without end.
const MAX_NESTING: u8 = 2;

fn parse_nested(raw: &[u8], depth: u8) -> Result<BounceReport, BounceError> {
    let msg = PARSER.parse(raw).ok_or(BounceError::NotAnEmail)?;
    if msg.headers().is_empty() {
        return Err(BounceError::NotAnEmail);
    }
    let w = walk(&msg);
    let subject = msg.subject().map(str::to_string);
    let date = msg.date().map(|d| d.to_timestamp());
    let from = msg
        .from()
        .and_then(|f| f.first())
        .map(|a| {
            format!(
                "{} {}",
                a.name().unwrap_or_default(),
                a.address().unwrap_or_default()
            )
        })
        .unwrap_or_default();

    let mut human: String = if !w.plain.is_empty() {
        w.plain.join("\n")
    } else {
        w.html.join("\n")
    };
    if human.is_empty() && w.dsn_texts.is_empty() && w.feedback.is_none() {
        // A multipart report whose boundaries are missing: its body is all there is.
        let start = msg
            .parts
            .first()
            .map(|p| p.offset_body as usize)
            .unwrap_or(0);
        human =
            String::from_utf8_lossy(msg.raw_message.get(start..).unwrap_or_default()).into_owned();
    }
    let (error_part, pasted_original) = freetext::split_original(&human);
    let mut original_message_id = w.original_message_id.clone();
    if original_message_id.is_none() {
        original_message_id = pasted_original.and_then(freetext::message_id_in);
    }

    let mut report = BounceReport {
        kind: ReportKind::Bounce,
        date,
        subject: subject.clone(),
        reporting_mta: None,
        original_message_id,
        original_queue_id: None,
        original_sender: w.original_sender.clone(),
        original_subject: w.original_subject.clone(),
        recipients: Vec::new(),
    };

    // 1. A feedback report is never a bounce. Apple Mail's "unsubscribe" message
    // (`X-Apple-Unsubscribe: true`) is the recipient opting out: feedback too.
    if header_text(&msg, "X-Apple-Unsubscribe").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        report.kind = ReportKind::Feedback;
        let who = msg
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string();
        report.recipients = vec![not_a_failure(who, Reason::Feedback, None, date)];
        return Ok(report);
    }
    let feedback_inline =
        w.feedback.is_none() && w.dsn_texts.is_empty() && FEEDBACK_FIELD.is_match(&human);
    if w.feedback.is_some() || feedback_inline {
        report.kind = ReportKind::Feedback;
        let fields = w.feedback.as_deref().unwrap_or(&human);
        let mut rcpts: Vec<String> = dsn_field_values(fields, "original-rcpt-to");
        if rcpts.is_empty() {
            rcpts = w.original_to.clone();
        }
        if rcpts.is_empty() {
            rcpts.push(String::new());
        }
        report.recipients = rcpts
            .into_iter()
            .map(|r| not_a_failure(r, Reason::Feedback, None, date))
            .collect();
        return Ok(report);
    }

    let context = freetext::squeeze(error_part);

    // 2. RFC 3464 delivery-status parts; or their fields pasted into the text of a
    // report that has no such part.
    let text_blocks = freetext::recipients(error_part);
    let mut dsn_texts = w.dsn_texts.clone();
    if dsn_texts.is_empty()
        && let Some(at) = INLINE_DSN.find(error_part)
    {
        dsn_texts.push(error_part[at.start()..].to_string());
    }
    let parsed: Vec<dsn::Dsn> = dsn_texts.iter().map(|t| dsn::parse(t)).collect();
    let reported: Vec<String> = parsed
        .iter()
        .flat_map(|d| &d.recipients)
        .flat_map(|r| [&r.final_recipient, &r.original_recipient])
        .flatten()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    for d in parsed {
        if report.reporting_mta.is_none() {
            report.reporting_mta = d.message.reporting_mta.clone();
        }
        if report.original_queue_id.is_none() {
            report.original_queue_id = d.message.queue_id.clone();
        }
        let only_one = d.recipients.len() == 1 && dsn_texts.len() == 1;
        for r in d.recipients {
            // A local Final-Recipient (`LOCAL;<f.b>`) is the mailbox name; the address the
            // sender wrote is the Original-Recipient.
            let has_at = |a: &Option<String>| a.as_deref().is_some_and(|a| a.contains('@'));
            let recipient = if !has_at(&r.final_recipient) && has_at(&r.original_recipient) {
                r.original_recipient.clone()
            } else {
                r.final_recipient
                    .clone()
                    .or_else(|| r.original_recipient.clone())
            }
            .unwrap_or_default();
            let block = text_blocks
                .iter()
                .find(|b| b.address.eq_ignore_ascii_case(&recipient))
                // The prose of a one-recipient report is about that recipient.
                .or_else(|| (only_one && text_blocks.len() == 1).then(|| &text_blocks[0]))
                .map(|b| b.text.as_str());
            let mut diagnostic = match r.diagnostic.as_deref() {
                Some(d) if !d.trim().is_empty() => freetext::unfold_reply(d),
                _ => block.map(str::to_string).unwrap_or_default(),
            };
            // Exchange's delay report gives its summary ("400 4.4.7 Message delayed") as
            // the Diagnostic-Code; the newest reply in its history says why.
            if says_no_cause(&diagnostic)
                && let Some(entry) = block.and_then(freetext::newest_history_entry)
                && !says_no_cause(&entry)
            {
                diagnostic = entry;
            }
            let reported_status = r
                .status
                .as_deref()
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok());
            // A comment after the code ("5.2.1 (mailbox disabled, not accepting
            // messages)") is the reporting MTA's own word on the failure.
            let status_comment = r
                .status
                .as_deref()
                .and_then(|s| s.split_once(char::is_whitespace))
                .map(|(_, rest)| rest.trim().trim_start_matches('(').trim_end_matches(')'))
                .filter(|c| !c.is_empty());
            let judged_text = match status_comment {
                Some(c) => format!("{diagnostic} ({c})"),
                None => diagnostic.clone(),
            };
            let mut j = judge(&Evidence {
                recipient: &recipient,
                reported_status,
                action: r.action.as_deref(),
                text: &judged_text,
                block,
                context: &context,
                remote_mta: r.remote_mta.as_deref(),
                alone: only_one,
                refused_one_by_one: refused_one_by_one(&w.original_to, &reported, &recipient),
            });
            // RFC 3464: an `X-Unix` diagnostic is a local delivery program's exit.
            if r.diagnostic_type
                .as_deref()
                .is_some_and(|t| t.starts_with("x-unix"))
                && !j.reason.is_not_a_failure()
                && !matches!(
                    j.reason,
                    Reason::MailboxFull | Reason::MesgTooBig | Reason::Suspend
                )
            {
                j.reason = Reason::MailerError;
            }
            let reply_code = reply_code_in(&diagnostic);
            // The store reads the cause from the diagnostic alone: when the report's prose
            // named the cause and the diagnostic does not, the prose goes with it — if it
            // gives the store the reason the report was judged to have.
            if only_one
                && !j.reason.is_vague()
                && !j.reason.is_not_a_failure()
                && diagnostic != context
                && classify::classify_reply(reported_status, &diagnostic, j.command)
                    .reason
                    .is_vague()
            {
                let with_prose = if diagnostic.trim().is_empty() {
                    context.clone()
                } else {
                    format!("{diagnostic} — {context}")
                };
                if classify::classify_reply(reported_status, &with_prose, j.command).reason
                    == j.reason
                {
                    diagnostic = with_prose;
                }
            }
            report.recipients.push(RecipientReport {
                recipient,
                orig_recipient: r.original_recipient.clone(),
                action: r.action.clone(),
                reported_status,
                status: j.status,
                reason: j.reason,
                reply_code,
                diagnostic,
                remote_mta: r.remote_mta.clone(),
                expired: j.expired,
                last_attempt: r.last_attempt_date.as_deref().and_then(parse_date).or(date),
                command: j.command,
            });
        }
    }
    if !report.recipients.is_empty() {
        if report
            .recipients
            .iter()
            .all(|r| r.reason == Reason::Delivered)
        {
            report.kind = ReportKind::Delivered;
        }
        return Ok(report);
    }

    // 3. A mailing-list manager's refusal of a post (fml's notices, marked by its
    // `X-MLServer` header): the list named in the notice is the failed recipient.
    if let Some(r) = list_manager_notice(&msg, subject.as_deref(), &context, date) {
        report.recipients = vec![r];
        return Ok(report);
    }

    // 4. Auto-replies: say so before reading their text as a bounce.
    let looks_like_bounce = BOUNCE_SENDER.is_match(&from)
        || subject
            .as_deref()
            .is_some_and(|s| BOUNCE_SUBJECT.is_match(s))
        || header_text(&msg, "X-Failed-Recipients").is_some();
    if !looks_like_bounce && is_auto_reply(&msg, subject.as_deref()) {
        report.kind = ReportKind::Vacation;
        let who = msg
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string();
        report.recipients = vec![not_a_failure(who, Reason::Vacation, None, date)];
        return Ok(report);
    }

    // 5. A report forwarded as an attachment speaks for itself.
    for inner in w
        .nested_reports
        .iter()
        .filter(|inner| depth < MAX_NESTING && inner.len() < raw.len())
    {
        if let Ok(r) = parse_nested(inner, depth + 1)
            && r.kind == ReportKind::Bounce
            && !r.recipients.is_empty()
        {
            return Ok(r);
        }
    }

    // 6. Plain-text reports.
    let mut blocks = text_blocks;
    // Exim and Google name the failed recipients in a header: that list is the truth,
    // whatever other addresses the prose mentions.
    if let Some(list) = header_text(&msg, "X-Failed-Recipients") {
        let named: Vec<String> = list
            .split(',')
            .map(|a| a.trim().trim_matches(['<', '>']).to_string())
            .filter(|a| a.contains('@'))
            .collect();
        if !named.is_empty() {
            blocks = named
                .into_iter()
                .map(|address| {
                    let text = blocks
                        .iter()
                        .find(|b| b.address.eq_ignore_ascii_case(&address))
                        .map(|b| b.text.clone())
                        .unwrap_or_default();
                    freetext::TextRecipient { address, text }
                })
                .collect();
        }
    }
    if blocks.is_empty() && looks_like_bounce {
        let named: Vec<String> = match header_text(&msg, "X-Failed-Recipients") {
            Some(list) => list
                .split(',')
                .map(|a| a.trim().trim_matches(['<', '>']).to_string())
                .filter(|a| a.contains('@'))
                .collect(),
            None => w.original_to.clone(),
        };
        if named.is_empty() && !context.is_empty() {
            blocks.push(freetext::TextRecipient {
                address: String::new(),
                text: context.clone(),
            });
        }
        blocks.extend(named.into_iter().map(|address| freetext::TextRecipient {
            address,
            text: context.clone(),
        }));
    }
    if blocks.is_empty() || !looks_like_bounce && context.is_empty() {
        return Err(BounceError::NotABounce);
    }
    if !looks_like_bounce && !blocks.iter().any(|b| has_error_words(&b.text)) {
        return Err(BounceError::NotABounce);
    }
    let alone = blocks.len() == 1;
    let named: Vec<String> = blocks
        .iter()
        .map(|b| b.address.to_ascii_lowercase())
        .collect();
    for b in blocks {
        // A block that only names the recipient (Sendmail lists addresses first and
        // the transcript after) takes the whole report's text.
        let says_nothing_of_its_own = b.text.is_empty() || !has_error_words(&b.text);
        let text = if says_nothing_of_its_own {
            context.clone()
        } else {
            freetext::unfold_reply(&b.text)
        };
        let mut j = judge(&Evidence {
            recipient: &b.address,
            reported_status: None,
            action: None,
            text: &text,
            block: None,
            context: &context,
            remote_mta: None,
            alone,
            refused_one_by_one: refused_one_by_one(&w.original_to, &named, &b.address),
        });
        // Only the report's boilerplate, and no cause in it: the cause is unknown, which
        // is not the same as a cause stated in words no rule knows (onhold).
        if says_nothing_of_its_own && j.reason == Reason::OnHold {
            j.reason = Reason::Undefined;
        }
        report.recipients.push(RecipientReport {
            recipient: b.address,
            orig_recipient: None,
            action: Some(if j.status.is_some_and(|c| c.class == 4) && !j.expired {
                "delayed".into()
            } else {
                "failed".into()
            }),
            reported_status: None,
            status: j.status,
            reason: j.reason,
            reply_code: reply_code_in(&text),
            diagnostic: text,
            remote_mta: None,
            expired: j.expired,
            last_attempt: date,
            command: j.command,
        });
    }
    Ok(report)
}

/// fml's notices, by their documented subjects: "You … are not member (list ML)" when
/// the list accepts posts from members only, "Loop Alert: Duplicated Message-ID" when it
/// refuses a message it has already distributed.
fn list_manager_notice(
    msg: &Message<'_>,
    subject: Option<&str>,
    context: &str,
    date: Option<i64>,
) -> Option<RecipientReport> {
    let server = header_text(msg, "X-MLServer")?;
    if !server.to_ascii_lowercase().starts_with("fml") {
        return None;
    }
    let subject = subject.unwrap_or_default().to_ascii_lowercase();
    let reason = if subject.contains("not member") {
        Reason::Rejected
    } else if subject.contains("loop alert") {
        Reason::SystemError
    } else {
        return None;
    };
    let status = Some(EnhancedCode::generic(5));
    Some(RecipientReport {
        recipient: freetext::first_bracketed_address(context).unwrap_or_default(),
        orig_recipient: None,
        action: Some("failed".into()),
        reported_status: None,
        status,
        reason,
        reply_code: None,
        diagnostic: context.to_string(),
        remote_mta: None,
        command: None,
        expired: false,
        last_attempt: date,
    })
}

/// A reply whose only code is a bare X.0.0 or the queue-lifetime X.4.7, or none at all.
fn says_no_cause(text: &str) -> bool {
    classify::rules::most_specific_code(None, text)
        .is_none_or(|c| c.is_vague() || (c.subject == 4 && c.detail == 7))
}

/// Whether the returned original was addressed to a mailbox of `recipient`'s domain that
/// the report does not name among its recipients (`reported`, lower case).
fn refused_one_by_one(original_to: &[String], reported: &[String], recipient: &str) -> bool {
    let domain = domain_of(recipient);
    !domain.is_empty()
        && original_to
            .iter()
            .any(|a| domain_of(a) == domain && !reported.contains(&a.to_ascii_lowercase()))
}

/// The domain of an address, lower case; empty when it has none.
fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
        .unwrap_or_default()
}

fn has_error_words(text: &str) -> bool {
    EnhancedCode::find_in(text).is_some()
        || reply_code_in(text).is_some()
        || classify::classify(None, text).reason != Reason::OnHold
}

fn is_auto_reply(msg: &Message<'_>, subject: Option<&str>) -> bool {
    let auto_submitted = header_text(msg, "Auto-Submitted")
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("auto-replied"));
    let flagged = ["X-Autoreply", "X-Autorespond", "X-Auto-Response"]
        .iter()
        .any(|h| header_text(msg, h).is_some());
    let precedence =
        header_text(msg, "Precedence").is_some_and(|v| v.eq_ignore_ascii_case("auto_reply"));
    auto_submitted
        || flagged
        || precedence
        || subject.is_some_and(|s| AUTO_REPLY_SUBJECT.is_match(s.trim()))
}

/// Values of a header-style field, in order (`Original-Rcpt-To: a@b`).
fn dsn_field_values(text: &str, field: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case(field)
                .then(|| value.trim().trim_matches(['<', '>']).to_string())
        })
        .filter(|v| !v.is_empty())
        .collect()
}

fn not_a_failure(
    recipient: String,
    reason: Reason,
    status: Option<EnhancedCode>,
    date: Option<i64>,
) -> RecipientReport {
    RecipientReport {
        recipient,
        orig_recipient: None,
        action: None,
        reported_status: status,
        status,
        reason,
        reply_code: None,
        diagnostic: String::new(),
        remote_mta: None,
        expired: false,
        last_attempt: date,
        command: None,
    }
}
