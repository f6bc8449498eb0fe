//! Reply text + enhanced code → reason. Table-driven: the text rules are tried first, in
//! order (the first that matches wins), then the code table, then `onhold` / `undefined`.
//!
//! Order matters where one reply carries two signals: a greylisting reply is usually a
//! 4.7.1 or 4.2.0, so greylisting comes before the code table; a reputation verdict
//! ("rate limited due to IP reputation") is named before a plain rate limit.

use std::sync::LazyLock;

use regex::RegexSet;

use super::code::EnhancedCode;
use super::reason::Reason;

/// The answer for one failed (or succeeded) recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    /// The most specific code: a code in the text beats a bare X.0.0 or a vague 4.4.7.
    pub code: Option<EnhancedCode>,
}

/// Text rules, most specific first. Patterns are case-insensitive.
const TEXT_RULES: &[(Reason, &[&str])] = &[
    (
        Reason::Greylisted,
        &[
            r"grey[- ]?list",
            r"gray[- ]?list",
            r"postgrey",
            r"greylisted",
            r"try again in \d+ (?:seconds|minutes)",
            r"temporarily (?:rejected|deferred).{0,40}(?:unknown|new) (?:sender|triplet)",
        ],
    ),
    (
        Reason::BadReputation,
        &[
            r"\b4\.7\.650\b",
            r"reputation",
            r"\bRP:(?:TRD|RDN|CHF)\b",
            r"unusual rate of unsolicited mail",
            r"suspicious due to the very low reputation",
        ],
    ),
    (
        Reason::Blocked,
        &[
            r"block ?list",
            r"black ?list",
            r"\blisted (?:at|on|in|by)\b",
            r"spamhaus",
            r"spamcop",
            r"\b(?:dnsbl|rbl|rbls)\b",
            r"barracudacentral",
            r"\bS3150\b",
            r"\bS3140\b",
            r"client host .{0,80}rejected",
            r"blocked using",
            r"access denied.{0,40}(?:banned|ip|client)",
            r"\bbanned sending ip\b",
            r"your (?:ip|network|server) (?:address )?(?:has been|is|was) (?:blocked|rejected|banned)",
            r"connection refused by .{0,40}(?:policy|blocked)",
        ],
    ),
    (
        Reason::RequirePtr,
        &[
            r"reverse (?:dns|lookup|hostname)",
            r"\bptr record",
            r"no ptr",
            r"cannot find your hostname",
            r"client host name .{0,40}(?:does not resolve|unknown)",
            r"rdns",
        ],
    ),
    (
        Reason::AuthFailure,
        &[
            r"\bdmarc\b",
            r"\bspf\b",
            r"\bdkim\b",
            r"\b5\.7\.26\b",
            r"unauthenticated (?:email|mail)",
            r"does not pass (?:spf|dkim|dmarc)",
            r"authentication (?:checks|required)",
        ],
    ),
    (
        Reason::Speeding,
        &[
            r"\b4\.7\.28\b",
            r"rate[- ]limit",
            r"rate limited",
            r"too many (?:messages|emails|mails)",
            r"sending rate",
            r"throttl",
            r"unusual rate",
            r"receiving mail at a rate",
            r"temporarily deferred due to (?:user complaints|excessive)",
            r"try again later.{0,20}\(?(?:too many|volume)",
            r"exceeded the (?:maximum )?(?:number|rate)",
            r"\bTSS04\b",
            r"\bTS0[1-3]\b",
        ],
    ),
    (
        Reason::TooManyConn,
        &[
            r"too many (?:connections|concurrent|simultaneous)",
            r"connection limit",
            r"too many recipients",
        ],
    ),
    (
        Reason::HostUnknown,
        &[
            r"host or domain name not found",
            r"name service error",
            r"domain (?:name )?not found",
            r"\bnxdomain\b",
            r"no mx (?:record|host)",
            r"dns query failed",
            r"unrouteable address",
            r"unroutable address",
            r"host not found",
            r"domain does not exist",
            r"no such domain",
            r"unable to lookup dns",
            r"mail for .{0,60} loops back to myself",
        ],
    ),
    (
        Reason::NetworkError,
        &[
            r"connection timed out",
            r"connection refused",
            r"network is unreachable",
            r"no route to host",
            r"host is unreachable",
            r"lost connection with",
            r"conversation with .{0,120} timed out",
            r"timed out while",
            r"connection reset",
            r"broken pipe",
            r"server (?:dropped|closed) the connection",
            r"all hosts for .{0,80} have been failing",
            r"retry time not reached",
            r"could not connect",
            r"unable to connect",
            r"tls is required, but was not offered",
        ],
    ),
    (
        Reason::MailboxFull,
        &[
            r"mailbox (?:is )?full",
            r"over ?quota",
            r"quota exceeded",
            r"exceeded (?:the )?(?:storage|mailbox) (?:quota|allocation|limit)",
            r"mailbox size limit",
            r"insufficient (?:disk )?space.{0,40}mailbox",
            r"user(?:'s)? mailbox is over",
            r"disk quota",
        ],
    ),
    (
        Reason::Suspend,
        &[
            r"account (?:has been |is )?(?:disabled|suspended|inactive|deactivated)",
            r"mailbox (?:has been |is )?(?:disabled|suspended|inactive)",
            r"recipient (?:account )?(?:is )?(?:inactive|suspended)",
        ],
    ),
    (
        Reason::UserUnknown,
        &[
            r"user unknown",
            r"unknown user",
            r"no such user",
            r"user (?:does not|doesn't) exist",
            r"mailbox (?:not found|unavailable|does not exist|doesn't exist)",
            r"address (?:does not|doesn't) exist",
            r"recipient (?:address )?(?:rejected: )?(?:does not|doesn't) exist",
            r"unknown (?:recipient|mailbox|address|local part)",
            r"invalid (?:recipient|mailbox|address)",
            r"no such (?:mailbox|recipient|address)",
            r"recipnotfound",
            r"not a valid (?:recipient|mailbox)",
            r"user not found",
            r"account (?:does not|doesn't) exist",
            r"recipient not found",
            r"undeliverable address",
            r"addressee unknown",
            r"no mailbox here",
        ],
    ),
    (Reason::VirusDetected, &[r"virus", r"malware", r"infected"]),
    (
        Reason::SpamDetected,
        &[
            r"\bspam\b",
            r"junk mail",
            r"unsolicited",
            r"content (?:was )?rejected",
            r"message (?:was )?(?:rejected|blocked) as (?:spam|bulk)",
            r"bulk mail",
        ],
    ),
    (
        Reason::PolicyViolation,
        &[r"\b5\.7\.9\b", r"\bpolicy\b", r"prohibited", r"not allowed"],
    ),
    (
        Reason::NoRelaying,
        &[
            r"relay(?:ing)? (?:access )?denied",
            r"not permitted to relay",
            r"relay not permitted",
            r"unable to relay",
        ],
    ),
    (
        Reason::MesgTooBig,
        &[
            r"message (?:size )?(?:is )?too (?:big|large)",
            r"exceeds (?:the )?(?:maximum )?(?:message )?size",
            r"size limit",
        ],
    ),
    (
        Reason::FailedStartTls,
        &[
            r"starttls",
            r"tls (?:negotiation|handshake) failed",
            r"must issue a starttls",
        ],
    ),
    (
        Reason::SystemFull,
        &[
            r"insufficient system storage",
            r"out of (?:disk|storage) space",
            r"spool (?:is )?full",
        ],
    ),
    (
        Reason::SystemError,
        &[
            r"unknown mail transport error",
            r"mail transport unavailable",
            r"local configuration error",
            r"internal (?:server )?error",
            r"system error",
            r"temporary (?:local )?(?:problem|failure)",
            r"service (?:is )?(?:temporarily )?unavailable",
            r"server configuration",
            r"loops? back to myself",
        ],
    ),
];

static TEXT_SET: LazyLock<(RegexSet, Vec<Reason>)> = LazyLock::new(|| {
    let mut patterns = Vec::new();
    let mut reasons = Vec::new();
    for (reason, pats) in TEXT_RULES {
        for p in *pats {
            patterns.push(format!("(?i){p}"));
            reasons.push(*reason);
        }
    }
    (
        RegexSet::new(patterns).expect("the rule table compiles"),
        reasons,
    )
});

/// Reason from the code alone, for replies whose text says nothing we recognise.
fn reason_for_code(code: EnhancedCode) -> Option<Reason> {
    use Reason::*;
    let r = match (code.class, code.subject, code.detail) {
        (2, _, _) => Delivered,
        (_, 1, 1) | (_, 1, 3) | (_, 1, 0) => UserUnknown,
        (_, 1, 2) => HostUnknown,
        (_, 1, 6) => HasMoved,
        (_, 1, 7) | (_, 1, 8) => Rejected,
        (_, 1, 10) => NotAccept,
        (_, 2, 1) => Suspend,
        (_, 2, 2) => MailboxFull,
        (_, 2, 3) => ExceedLimit,
        (_, 3, 1) => SystemFull,
        (_, 3, 4) => MesgTooBig,
        (_, 3, _) => SystemError,
        (_, 4, 1) | (_, 4, 2) => NetworkError,
        (_, 4, 3) | (_, 4, 4) => HostUnknown,
        (_, 4, 6) => NetworkError,
        (_, 4, 7) => Expired,
        (_, 5, 3) => TooManyConn,
        (_, 5, _) if code.detail != 0 => SyntaxError,
        (_, 6, _) => ContentError,
        (_, 7, 1) => Blocked,
        (_, 7, 23) | (_, 7, 25) => RequirePtr,
        (_, 7, 26) | (_, 7, 27) if code.detail == 26 => AuthFailure,
        (_, 7, 27) => NotAccept,
        (_, 7, 28) => Speeding,
        (_, 7, 650) | (_, 7, 606) | (_, 7, 708) => BadReputation,
        (_, 7, 9) => PolicyViolation,
        (_, 7, 10) | (_, 7, 11) => FailedStartTls,
        (_, 7, _) if code.detail != 0 => SecurityError,
        _ => return None,
    };
    Some(r)
}

/// Classify a reply. `code` is the enhanced code as the log or report gave it (possibly a
/// bare X.0.0 or a vague 4.4.7); `text` is the reply or diagnostic text.
pub fn classify(code: Option<EnhancedCode>, text: &str) -> Verdict {
    let code = most_specific_code(code, text);
    if code.is_some_and(|c| c.class == 2) {
        return Verdict {
            reason: Reason::Delivered,
            code,
        };
    }
    let (set, reasons) = &*TEXT_SET;
    if let Some(first) = set.matches(text).iter().next() {
        return Verdict {
            reason: reasons[first],
            code,
        };
    }
    let reason = code
        .and_then(reason_for_code)
        .unwrap_or(if text.trim().is_empty() {
            Reason::Undefined
        } else {
            Reason::OnHold
        });
    Verdict { reason, code }
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
mod tests {
    use super::*;

    fn reason(code: &str, text: &str) -> Reason {
        classify(code.parse().ok(), text).reason
    }

    // Real reply texts, copied from the Postfix files of the shared corpus.
    #[test]
    fn postfix_corpus_texts() {
        assert_eq!(
            reason(
                "4.4.2",
                "lost connection with mx.example.net[198.51.100.7] while sending RCPT TO"
            ),
            Reason::NetworkError
        );
        assert_eq!(
            reason(
                "4.4.1",
                "connect to mx.example.com[192.0.2.1]:25: Connection timed out"
            ),
            Reason::NetworkError
        );
        assert_eq!(
            reason(
                "5.4.4",
                "Host or domain name not found. Name service error for name=gmial.com type=A: Host not found"
            ),
            Reason::HostUnknown
        );
        assert_eq!(
            reason(
                "4.2.0",
                "host mx[1.2.3.4] said: 450 4.2.0 <a@b>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/b.html"
            ),
            Reason::Greylisted
        );
        assert_eq!(
            reason(
                "4.7.650",
                "host x.mail.protection.outlook.com[52.101.0.1] said: 451 4.7.650 The mail server [203.0.113.13] has been temporarily rate limited due to IP reputation."
            ),
            Reason::BadReputation
        );
        assert_eq!(
            reason(
                "4.7.28",
                "host gmail-smtp-in.l.google.com[142.250.1.1] said: 421-4.7.28 Gmail has detected an unusual rate of mail originating from your IP"
            ),
            Reason::Speeding
        );
        assert_eq!(
            reason(
                "5.1.1",
                "host gmail-smtp-in.l.google.com[1.2.3.4] said: 550-5.1.1 The email account that you tried to reach does not exist."
            ),
            Reason::UserUnknown
        );
        assert_eq!(
            reason(
                "5.5.0",
                "host x.mail.protection.outlook.com[1.2.3.4] said: 550 5.5.0 Requested action not taken: mailbox unavailable"
            ),
            Reason::UserUnknown
        );
        assert_eq!(
            reason(
                "5.7.9",
                "554 5.7.9 Message not accepted for policy reasons."
            ),
            Reason::PolicyViolation
        );
        assert_eq!(
            reason(
                "5.7.26",
                "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy"
            ),
            Reason::AuthFailure
        );
        assert_eq!(
            reason("4.3.0", "unknown mail transport error"),
            Reason::SystemError
        );
        assert_eq!(
            reason("5.2.2", "552 5.2.2 Mailbox full"),
            Reason::MailboxFull
        );
        assert_eq!(reason("5.0.0", ""), Reason::Undefined);
    }

    #[test]
    fn vague_codes_give_way_to_text() {
        let c = |s: &str| s.parse::<EnhancedCode>().ok();
        assert_eq!(
            most_specific_code(c("5.0.0"), "550 5.1.1 no such user"),
            c("5.1.1")
        );
        assert_eq!(
            most_specific_code(c("4.4.7"), "451 4.7.1 please retry"),
            c("4.7.1")
        );
        assert_eq!(
            most_specific_code(c("5.1.1"), "550 5.7.1 blocked"),
            c("5.1.1")
        );
        assert_eq!(most_specific_code(None, "no code here"), None);
    }
}
