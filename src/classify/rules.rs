//! Reply text + enhanced code (+ the SMTP command it answered, when known) → reason.
//!
//! One set of rules for every input, log line or bounce email. The decision follows the
//! way the reason taxonomy is defined:
//!
//! 1. a success code is `delivered`; a greylisting reply is `greylisted` (sendlog's own
//!    reason, ahead of everything because it usually comes as a 4.7.1 or 4.2.0);
//! 2. the "explicit" reasons, in a fixed order, each matched by its enhanced code or by
//!    its documented texts, with the SMTP phase taken into account: a "user unknown"
//!    answer after the message was sent is a content filter (`filtered`), not a missing
//!    mailbox;
//! 3. texts of the remaining reasons, when the code alone settles nothing;
//! 4. the code's own reason; then `contenterror` / `securityerror` by subject; then
//!    `onhold` when there is text and `undefined` when there is none.
//!
//! The sending-side causes sendlog keeps apart (`hostunknown` for DNS, `networkerror`
//! for connections, `speeding`, `badreputation`, `blocked`) are named by their own texts.

use std::sync::LazyLock;

use regex::Regex;

use super::code::EnhancedCode;
use crate::model::Reason;

mod folded;
mod phrases;

use folded::{Lowered, PhraseSet};

/// The answer for one failed (or succeeded) recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    /// The most specific code: a code in the text beats a bare X.0.0 or a vague 4.4.7.
    pub code: Option<EnhancedCode>,
}

/// The SMTP command a reply answered, when the text says so. A rejection after DATA
/// is about the content; one at RCPT is about the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpCommand {
    Connect,
    Helo,
    Mail,
    Rcpt,
    Data,
}

impl SmtpCommand {
    /// How Postfix names the command a reply answered (which `smtp_command` reads back).
    pub fn phrase(self) -> &'static str {
        match self {
            SmtpCommand::Connect => "after initial connection",
            SmtpCommand::Helo => "in reply to EHLO command",
            SmtpCommand::Mail => "in reply to MAIL FROM command",
            SmtpCommand::Rcpt => "in reply to RCPT TO command",
            SmtpCommand::Data => "in reply to end of DATA command",
        }
    }
}

static COMMAND_PATTERNS: LazyLock<[(SmtpCommand, Regex); 5]> = LazyLock::new(|| {
    let r = |p: &str| Regex::new(&format!("(?i){p}")).expect("static regex");
    [
        (
            SmtpCommand::Data,
            r(
                r"(?:in reply to|after|for|did not like our) (?:end of |final )?(?:data|text)\b|smtp command[: ]+data|after end of data|\bend of data\b|failed on data command|failed after i sent the message",
            ),
        ),
        (
            SmtpCommand::Rcpt,
            r(
                r"(?:in reply to|after|did not like our|for) rcpt(?: to)?\b|\brcpt to:? ?<|smtp command[: ]+rcpt|\[rcpt_to\]|does not like recipient",
            ),
        ),
        (
            SmtpCommand::Mail,
            r(
                r"(?:in reply to|after|did not like our|for) mail(?: from)?\b|\bmail from:? ?<|smtp command[: ]+mail|but sender was rejected",
            ),
        ),
        (
            SmtpCommand::Helo,
            r(r"(?:in reply to|after|did not like our) (?:ehlo|helo)\b|but my name was rejected"),
        ),
        (
            SmtpCommand::Connect,
            r(r"refused to talk to me|after initial connection|greeting|banner"),
        ),
    ]
});

/// The command a reply answered, from phrases such as Postfix's "(in reply to RCPT TO
/// command)", Exim's "after RCPT TO:<…>", DragonFly's "did not like our final DATA",
/// qmail-remote's "does not like recipient" / "but sender was rejected" / "failed after
/// I sent the message".
pub fn smtp_command(text: &str) -> Option<SmtpCommand> {
    COMMAND_PATTERNS
        .iter()
        .find(|(_, re)| re.is_match(text))
        .map(|(c, _)| *c)
}

/// The command a session transcript (Sendmail's ">>> DATA" … "<<< 550 …", its lines
/// possibly unfolded into one) sent just before the reply that is `reply`: a reply
/// answers the command sent last. The lone "." that ends the message text is the end of
/// DATA. Under PIPELINING (RFC 2920) the RCPT replies arrive after ">>> DATA" is
/// written; when DATA itself is then refused for want of a recipient ("503 … Need
/// RCPT", "no valid recipients"), the reply before it answered RCPT.
pub fn transcript_command(transcript: &str, reply: &str) -> Option<SmtpCommand> {
    let reply = reply.trim();
    if reply.is_empty() {
        return None;
    }
    // (sent by the client?, text) for each ">>>" / "<<<" line, in order; one pass, so a
    // hostile report full of markers costs no more than its length.
    let marks: Vec<_> = TRANSCRIPT_MARK.find_iter(transcript).collect();
    let lines: Vec<(bool, &str)> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let end = marks.get(i + 1).map_or(transcript.len(), |n| n.start());
            (m.as_str() == ">>>", transcript[m.end()..end].trim())
        })
        .collect();
    let mut last = None;
    for (i, (sent, text)) in lines.iter().enumerate() {
        if *sent {
            let verb = text.to_ascii_uppercase();
            last = if verb == "." || verb.starts_with("DATA") {
                Some(SmtpCommand::Data)
            } else if verb.starts_with("RCPT") {
                Some(SmtpCommand::Rcpt)
            } else if verb.starts_with("MAIL") {
                Some(SmtpCommand::Mail)
            } else if verb.starts_with("EHLO") || verb.starts_with("HELO") {
                Some(SmtpCommand::Helo)
            } else {
                None
            };
        } else if !text.is_empty() && (text.starts_with(reply) || reply.starts_with(text)) {
            let data_refused = lines[i + 1..]
                .iter()
                .take_while(|(sent, _)| !sent)
                .any(|(_, t)| t.starts_with("503") || NO_RECIPIENT_LEFT.is_match(t));
            return if last == Some(SmtpCommand::Data) && data_refused {
                Some(SmtpCommand::Rcpt)
            } else {
                last
            };
        }
    }
    None
}

static TRANSCRIPT_MARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r">>>|<<<").expect("static regex"));

static NO_RECIPIENT_LEFT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)no (?:valid )?recipients|need rcpt").expect("static regex"));

/// The phrases compiled per reason, indexed by `Reason as usize`. ASCII case folding on
/// bytes: the documented texts are ASCII, and Unicode classes would make the bounded
/// repeats (`.{0,80}`) build automata too large to stay fast.
static PHRASE_SETS: LazyLock<Vec<Option<PhraseSet>>> = LazyLock::new(|| {
    let mut sets: Vec<Option<PhraseSet>> = (0..Reason::ALL.len()).map(|_| None).collect();
    for (reason, pats) in phrases::FAMILIES.iter().flat_map(|f| f.iter()) {
        sets[*reason as usize] = Some(PhraseSet::new(pats));
    }
    sets
});

/// Providers' documented wordings that can only mean the address does not exist
/// (Gmail's "Address not found", Yahoo's "doesn't have a yahoo.com account"): an
/// address verdict whatever SMTP phase the report leaves unnamed.
static NO_SUCH_ADDRESS: LazyLock<PhraseSet> = LazyLock::new(|| {
    PhraseSet::new(&[
        r"this user doesn't have a [a-z0-9.-]{1,40} account",
        r"the address couldn't be found",
        // Exchange / Microsoft 365 NDR: "The email address you entered couldn't be found".
        r"e-?mail address you entered (?:couldn't|could not) be found",
        // Exchange 2000/2003's IMS NDR (with its 000C05A6 "Unknown Recipient" code).
        r"the recipient name is not recognized",
        // InterScan MSS: the address itself is what it asks to check.
        r"please check if (?:the )?address is correct",
        // Multimedia-messaging gateways (Verizon's MMS relay).
        r"no valid recipients for this mm",
        r"unable to deliver message to <[^>]{1,254}> \(and other recipients in the same domain\)",
        // Lotus Domino/Notes: the recipient is not in the server's directory.
        r"not listed in (?:the )?(?:domino directory|public name (?:&|and) address book)",
        // iMail (Ipswitch): "Invalid final delivery userid".
        r"invalid final delivery userid",
        // Exchange Online's 5.1.10: the directory lookup of the recipient failed.
        r"recipient not found by smtp address lookup",
    ])
});

static SPAM_VERDICT: LazyLock<PhraseSet> = LazyLock::new(|| {
    PhraseSet::new(&[
        r"(?:rejected|refused|blocked) (?:due to|because of) spam|spam classification|classified as spam",
    ])
});

/// A sender refused for how it behaves, not for one address: it tried too many unknown
/// recipients ("550 Too many invalid recipients"). The words "invalid recipient" in it
/// are no verdict on this recipient.
static SENDER_BEHAVIOUR: LazyLock<PhraseSet> = LazyLock::new(|| {
    PhraseSet::new(&[
        r"too many (?:invalid|unknown|bad|non-?existent|undeliverable) (?:recipients|addresses|rcpt)",
    ])
});

/// Builds every table above (`classify::prepare`).
pub(super) fn prepare() {
    LazyLock::force(&COMMAND_PATTERNS);
    LazyLock::force(&TRANSCRIPT_MARK);
    LazyLock::force(&NO_RECIPIENT_LEFT);
    LazyLock::force(&PHRASE_SETS);
    LazyLock::force(&NO_SUCH_ADDRESS);
    LazyLock::force(&SPAM_VERDICT);
    LazyLock::force(&SENDER_BEHAVIOUR);
}

fn says_spam_verdict(text: &Lowered<'_>) -> bool {
    SPAM_VERDICT.is_match(text)
}

fn says_no_such_address(text: &Lowered<'_>) -> bool {
    NO_SUCH_ADDRESS.is_match(text)
}

fn says(reason: Reason, text: &Lowered<'_>) -> bool {
    PHRASE_SETS[reason as usize]
        .as_ref()
        .is_some_and(|set| set.is_match(text))
}

/// The reason an enhanced code stands for on its own (RFC 3463 / RFC 7372 meanings and
/// the providers' documented private codes).
pub fn reason_for_code(code: EnhancedCode) -> Option<Reason> {
    use Reason::*;
    let transient = code.class == 4;
    let r = match (code.subject, code.detail) {
        _ if code.class == 2 => Delivered,
        (1, 0) | (1, 1) | (1, 3) if !transient => UserUnknown,
        (1, 2) if !transient => HostUnknown,
        (1, 4) => Filtered,
        (1, 6) => HasMoved,
        (1, 7) | (1, 8) => Rejected,
        (1, 9) => SystemError,
        (1, 10) => NotAccept,
        (2, 0) | (2, 1) | (2, 4) if !transient => Filtered,
        (2, 1) => Blocked,
        (2, 2) => MailboxFull,
        (2, 3) => ExceedLimit,
        (3, 0) | (3, 3) | (3, 5) if !(transient && code.detail == 0) => SystemError,
        (3, 1) => SystemFull,
        (3, 2) => NotAccept,
        (3, 4) => MesgTooBig,
        (4, 0) if !transient => NetworkError,
        (4, 1) | (4, 2) | (4, 6) | (4, 8) => NetworkError,
        (4, 3) => SystemError,
        (4, 4) if transient => NetworkError,
        (4, 4) => HostUnknown,
        (4, 5) => SystemFull,
        (4, 7) => Expired,
        (5, 2) | (5, 6) => SyntaxError,
        (5, 3) => TooManyConn,
        (5, 4) | (5, 5) if !transient => SystemError,
        (6, _) => ContentError,
        (7, 1) | (7, 2) if transient => Blocked,
        (7, 13) => Suspend,
        (7, 16) => MesgTooBig,
        (7, 17) | (7, 18) => HasMoved,
        (7, 20..=24) | (7, 26) | (7, 29) => AuthFailure,
        (7, 25) => RequirePtr,
        (7, 27) => NotAccept,
        (7, 28) => Speeding,
        (7, 30) => FailedStartTls,
        (7, 10) | (7, 11) => FailedStartTls,
        (7, 9) => PolicyViolation,
        // 5.7.606-649 "banned sending IP" is Microsoft's IP block list: `blocked`, by its text.
        (7, 650) | (7, 708) => BadReputation,
        // 5.7.509: DMARC failed; 5.7.515: the sending domain lacks SPF, DKIM or DMARC.
        (7, 509) | (7, 515) => AuthFailure,
        (7, 0) if transient => return None,
        (7, _) => SecurityError,
        _ => return None,
    };
    Some(r)
}

/// Reasons a code cannot settle alone: their texts are read before the code is believed.
fn code_is_soft(reason: Option<Reason>) -> bool {
    matches!(
        reason,
        None | Some(
            Reason::OnHold
                | Reason::Undefined
                | Reason::SystemError
                | Reason::SecurityError
                | Reason::Expired
                | Reason::NetworkError
                | Reason::HostUnknown
                | Reason::UserUnknown
        )
    )
}

/// The explicit reasons, in the order they are probed (by code or by text).
const EXPLICIT_ORDER: &[Reason] = &[
    Reason::Suppressed,
    Reason::MailboxFull,
    Reason::MesgTooBig,
    Reason::ExceedLimit,
    Reason::Suspend,
    Reason::HasMoved,
    Reason::NoRelaying,
    Reason::AuthFailure,
    Reason::UserUnknown,
    Reason::Filtered,
    Reason::RequirePtr,
    Reason::NotCompliantRfc,
    Reason::BadReputation,
    Reason::ContentError,
    Reason::Rejected,
    Reason::HostUnknown,
    Reason::VirusDetected,
    Reason::SpamDetected,
    Reason::Speeding,
    Reason::TooManyConn,
    Reason::Blocked,
];

/// Reasons found by their texts alone, when the code settles nothing.
const TEXT_ORDER: &[Reason] = &[
    Reason::MailboxFull,
    Reason::AuthFailure,
    Reason::BadReputation,
    Reason::Speeding,
    Reason::SpamDetected,
    Reason::VirusDetected,
    Reason::PolicyViolation,
    // Before NoRelaying: "not permitted to relay without authentication" asks for a login.
    Reason::SecurityError,
    Reason::NoRelaying,
    Reason::SystemError,
    Reason::NetworkError,
    Reason::Suspend,
    Reason::ContentError,
    Reason::SystemFull,
    Reason::NotAccept,
    Reason::FailedStartTls,
    Reason::MailerError,
    Reason::SyntaxError,
];

fn probe(
    reason: Reason,
    code: Option<EnhancedCode>,
    by_code: Option<Reason>,
    text: &Lowered<'_>,
    command: Option<SmtpCommand>,
) -> bool {
    let before_data = matches!(
        command,
        Some(SmtpCommand::Connect | SmtpCommand::Helo | SmtpCommand::Mail | SmtpCommand::Rcpt)
    );
    match reason {
        Reason::UserUnknown => {
            if by_code == Some(Reason::UserUnknown) {
                // A 5.1.1 whose text names another cause is that cause.
                ![
                    Reason::Blocked,
                    Reason::MailboxFull,
                    Reason::HasMoved,
                    Reason::Rejected,
                    Reason::NotAccept,
                    Reason::Filtered,
                    Reason::Speeding,
                ]
                .into_iter()
                .any(|r| says(r, text))
            } else {
                // Without the command, a report that states only a bare X.0.0 is taken
                // as answered after DATA (a filter); no code at all, or a specific one,
                // as an address verdict.
                (command == Some(SmtpCommand::Rcpt)
                    || command.is_none()
                        && by_code != Some(Reason::Filtered)
                        && code.is_some_and(|c| !c.is_vague()))
                    && says(Reason::UserUnknown, text)
                    || says_no_such_address(text)
            }
        }
        Reason::Filtered => {
            if by_code == Some(Reason::Filtered) {
                says(Reason::UserUnknown, text) || says(Reason::Filtered, text)
            } else {
                // "User unknown" said after the message was sent is a content filter.
                !before_data && (says(Reason::Filtered, text) || says(Reason::UserUnknown, text))
            }
        }
        Reason::HostUnknown => {
            if by_code == Some(Reason::HostUnknown) {
                !says(Reason::NetworkError, text)
            } else {
                says(Reason::HostUnknown, text)
            }
        }
        Reason::Rejected => {
            by_code == Some(Reason::Rejected)
                // Refused before MAIL FROM was sent: it cannot be about the sender address.
                || !matches!(command, Some(SmtpCommand::Connect | SmtpCommand::Helo))
                && (command == Some(SmtpCommand::Mail)
                    || command == Some(SmtpCommand::Data) && by_code != Some(Reason::UserUnknown)
                    || matches!(
                        by_code,
                        None | Some(Reason::SecurityError | Reason::SystemError)
                    )
                    // A permanent X.4.1 that says "rejected" was refused, not unreachable.
                    || by_code == Some(Reason::NetworkError) && code.is_some_and(|c| c.class == 5))
                    && says(Reason::Rejected, text)
                    // "Sender rejected" because the IP is on a blocklist is the listing.
                    && !says(Reason::Blocked, text)
                    && !text.as_str().contains("recipient address rejected")
        }
        Reason::ContentError => {
            // "Message content rejected" under a 5.6.x is a spam verdict.
            by_code == Some(Reason::ContentError) && !says(Reason::SpamDetected, text)
                || says(Reason::ContentError, text)
        }
        Reason::MesgTooBig => {
            by_code == Some(Reason::MesgTooBig)
                || by_code != Some(Reason::ExceedLimit) && says(Reason::MesgTooBig, text)
        }
        Reason::NoRelaying => {
            // Relaying refused until the client authenticates: the fix is to log in.
            by_code == Some(Reason::NoRelaying)
                || says(Reason::NoRelaying, text) && !says(Reason::SecurityError, text)
        }
        Reason::AuthFailure => {
            // A rejection for spam that goes on to advise SPF or DKIM (Google Groups) is a
            // spam verdict; the advice is not the reason.
            // Gmail's 4.7.28 rate-limits "your SPF domain": the domain is what is
            // counted, not an authentication failure.
            by_code == Some(Reason::AuthFailure)
                || says(Reason::AuthFailure, text)
                    && !says_spam_verdict(text)
                    && by_code != Some(Reason::Speeding)
                    && !says(Reason::Speeding, text)
        }
        Reason::Speeding => {
            // A limit on connections per time is a connection limit, not a sending rate.
            by_code == Some(Reason::Speeding)
                || says(Reason::Speeding, text) && !text.as_str().contains("connection rate limit")
        }
        Reason::SpamDetected => {
            // Gmail's 4.7.28 "unusual rate of unsolicited mail … temporarily rate limited"
            // slows the sender down; "unsolicited" there is no verdict on this message.
            by_code == Some(Reason::SpamDetected)
                || !before_data
                    && says(Reason::SpamDetected, text)
                    && by_code != Some(Reason::Speeding)
                    && !says(Reason::Speeding, text)
        }
        Reason::Blocked => {
            // A permanent refusal at the greeting, before the client has said who it is
            // or what it sends, can only be about the connecting host ("550 Access
            // denied" after the initial connection).
            by_code == Some(Reason::Blocked)
                || says(Reason::Blocked, text)
                || command == Some(SmtpCommand::Connect) && code.is_none_or(|c| c.class == 5)
        }
        _ => by_code == Some(reason) || says(reason, text),
    }
}

/// Classify a reply whose SMTP command is read from the text itself.
pub fn classify(code: Option<EnhancedCode>, text: &str) -> Verdict {
    classify_reply(code, text, smtp_command(text))
}

/// Classify a reply. `code` is the enhanced code as reported (possibly a bare X.0.0 or a
/// vague 4.4.7); `text` the reply or diagnostic text; `command` the SMTP command it
/// answered when known.
pub fn classify_reply(
    code: Option<EnhancedCode>,
    text: &str,
    command: Option<SmtpCommand>,
) -> Verdict {
    let code = most_specific_code(code, text);
    let verdict = |reason| Verdict { reason, code };
    if code.is_some_and(|c| c.class == 2) {
        return verdict(Reason::Delivered);
    }
    let lowered = Lowered::new(text);
    if says(Reason::Greylisted, &lowered) {
        return verdict(Reason::Greylisted);
    }
    if SENDER_BEHAVIOUR.is_match(&lowered) {
        return verdict(Reason::Blocked);
    }
    let by_code = code.and_then(reason_for_code);
    for &reason in EXPLICIT_ORDER {
        if probe(reason, code, by_code, &lowered, command) {
            return verdict(reason);
        }
    }
    if code_is_soft(by_code) {
        for &reason in TEXT_ORDER {
            if says(reason, &lowered) {
                return verdict(reason);
            }
        }
    }
    if let Some(r) = by_code {
        return verdict(r);
    }
    if let Some(c) = code {
        match c.subject {
            6 => return verdict(Reason::ContentError),
            7 if c.detail != 0 || c.class == 5 => return verdict(Reason::SecurityError),
            _ => {}
        }
    }
    verdict(if text.trim().is_empty() {
        Reason::Undefined
    } else {
        Reason::OnHold
    })
}

/// A bare X.0.0 or a vague 4.4.7/5.4.7 gives way to a specific code found in the text.
pub fn most_specific_code(code: Option<EnhancedCode>, text: &str) -> Option<EnhancedCode> {
    let vague = |c: EnhancedCode| c.is_vague() || (c.subject == 4 && c.detail == 7);
    match code {
        Some(c) if !vague(c) => Some(c),
        _ => EnhancedCode::all_in(text)
            .find(|c| !vague(*c))
            .or(code)
            .or_else(|| EnhancedCode::find_in(text)),
    }
}

#[cfg(test)]
mod tests;
