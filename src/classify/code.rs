//! RFC 3463 enhanced status codes: `class.subject.detail`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "{0:?} is not an enhanced status code: expected class.subject.detail such as 4.4.7 (class 2, 4 or 5)"
)]
pub struct MalformedCode(pub String);

impl EnhancedCode {
    pub const EXPIRED: EnhancedCode = EnhancedCode::new(4, 4, 7);

    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        EnhancedCode {
            class,
            subject,
            detail,
        }
    }

    /// `4.0.0` / `5.0.0`: the convention when a reply carries no enhanced code.
    pub const fn generic(class: u8) -> Self {
        EnhancedCode::new(class, 0, 0)
    }

    /// RFC 3463's meaning of the class: success, persistent transient, permanent.
    pub fn class_meaning(self) -> &'static str {
        match self.class {
            2 => "Success",
            4 => "Persistent transient failure",
            5 => "Permanent failure",
            _ => "Unknown class",
        }
    }

    /// RFC 3463's meaning of the subject (the middle number).
    pub fn subject_meaning(self) -> &'static str {
        match self.subject {
            0 => "Other or undefined status",
            1 => "Addressing status",
            2 => "Mailbox status",
            3 => "Mail system status",
            4 => "Network and routing status",
            5 => "Mail delivery protocol status",
            6 => "Message content or media status",
            7 => "Security or policy status",
            _ => "Unknown subject",
        }
    }

    /// A short label for lists: the registry's name of `subject.detail` (RFC 3463, RFC 7372
    /// and the IANA registry), a provider's documented meaning for its private details,
    /// else the subject's meaning.
    pub fn label(self) -> &'static str {
        match (self.subject, self.detail) {
            (0, 0) => "Other undefined status",
            (1, 0) => "Other address status",
            (1, 1) => "Bad destination mailbox address",
            (1, 2) => "Bad destination system address",
            (1, 3) => "Bad destination mailbox address syntax",
            (1, 4) => "Destination mailbox address ambiguous",
            (1, 5) => "Destination address valid",
            (1, 6) => "Destination mailbox has moved",
            (1, 7) => "Bad sender's mailbox address syntax",
            (1, 8) => "Bad sender's system address",
            (1, 10) => "Recipient address has null MX",
            (2, 0) => "Other or undefined mailbox status",
            (2, 1) => "Mailbox disabled, not accepting messages",
            (2, 2) => "Mailbox full",
            (2, 3) => "Message length exceeds administrative limit",
            (2, 4) => "Mailing list expansion problem",
            (3, 0) => "Other or undefined mail system status",
            (3, 1) => "Mail system full",
            (3, 2) => "System not accepting network messages",
            (3, 3) => "System not capable of selected features",
            (3, 4) => "Message too big for system",
            (3, 5) => "System incorrectly configured",
            (4, 0) => "Other or undefined network or routing status",
            (4, 1) => "No answer from host",
            (4, 2) => "Bad connection",
            (4, 3) => "Directory server failure (DNS)",
            (4, 4) => "Unable to route",
            (4, 5) => "Mail system congestion",
            (4, 6) => "Routing loop detected",
            (4, 7) => "Delivery time expired",
            (5, 0) => "Other or undefined protocol status",
            (5, 1) => "Invalid command",
            (5, 2) => "Syntax error",
            (5, 3) => "Too many recipients",
            (5, 4) => "Invalid command arguments",
            (5, 5) => "Wrong protocol version",
            (6, 0) => "Other or undefined media error",
            (6, 1) => "Media not supported",
            (6, 2) => "Conversion required and prohibited",
            (6, 3) => "Conversion required but not supported",
            (6, 4) => "Conversion with loss performed",
            (6, 5) => "Conversion failed",
            (7, 0) => "Other or undefined security status",
            (7, 1) => "Delivery not authorized, message refused",
            (7, 2) => "Mailing list expansion prohibited",
            (7, 3) => "Security conversion required but not possible",
            (7, 4) => "Security features not supported",
            (7, 5) => "Cryptographic failure",
            (7, 6) => "Cryptographic algorithm not supported",
            (7, 7) => "Message integrity failure",
            (7, 8) => "Authentication credentials invalid",
            (7, 9) => "Authentication mechanism is too weak",
            (7, 10) => "Encryption needed",
            (7, 11) => "Encryption required for requested authentication mechanism",
            (7, 13) => "User account disabled",
            (7, 14) => "Trust relationship required",
            (7, 15) => "Priority level is too low",
            (7, 16) => "Message is too big for the specified priority",
            (7, 17) => "Mailbox owner has changed",
            (7, 18) => "Domain owner has changed",
            (7, 19) => "RRVS test cannot be completed",
            (7, 20) => "No passing DKIM signature found",
            (7, 21) => "No acceptable DKIM signature found",
            (7, 22) => "No valid author-matched DKIM signature found",
            (7, 23) => "SPF validation failed",
            (7, 24) => "SPF validation error",
            (7, 25) => "Reverse DNS validation failed",
            (7, 26) => "Multiple authentication checks failed",
            (7, 27) => "Sender address has null MX",
            (7, 28) => "Mail flood detected",
            (7, 29) => "ARC validation failure",
            (7, 30) => "REQUIRETLS support required",
            (7, 350) => "Message detected as spam (Microsoft)",
            (7, 509) => "Sending domain fails DMARC (Microsoft)",
            (7, 606) => "Sending IP banned (Microsoft)",
            (7, 650) => "Rate limited for IP reputation (Microsoft)",
            (7, 708) => "Traffic not accepted from this IP (Microsoft)",
            _ => self.subject_meaning(),
        }
    }

    /// A bare `X.0.0` says only the class; a code from the text should replace it.
    pub fn is_vague(self) -> bool {
        self.subject == 0 && self.detail == 0
    }

    pub fn is_transient(self) -> bool {
        self.class == 4
    }

    /// The first enhanced code standing as a word in `text` (`550 5.1.1 <x>` → 5.1.1,
    /// `550-5.7.1` → 5.7.1). Digits glued to letters or dots (IP addresses, versions) are
    /// not codes.
    pub fn find_in(text: &str) -> Option<EnhancedCode> {
        Self::all_in(text).next()
    }

    /// Every enhanced code standing as a word in `text`, in order.
    pub fn all_in(text: &str) -> impl Iterator<Item = EnhancedCode> + '_ {
        let bytes = text.as_bytes();
        let mut i = 0;
        std::iter::from_fn(move || {
            while i < bytes.len() {
                let start = i;
                let b = bytes[i];
                i += 1;
                if !matches!(b, b'2' | b'4' | b'5') || bytes.get(start + 1) != Some(&b'.') {
                    continue;
                }
                if start > 0 {
                    let p = bytes[start - 1];
                    if p.is_ascii_alphanumeric() || p == b'.' || p == b'_' {
                        continue;
                    }
                }
                if let Some((code, end)) = parse_at(bytes, start) {
                    let boundary_ok = match bytes.get(end) {
                        None => true,
                        // `5.1.1.` ending a sentence is a code; `4.4.7.1` is not.
                        Some(&n) => {
                            let more_digits =
                                n == b'.' && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
                            !(n.is_ascii_alphanumeric() || n == b'_' || more_digits)
                        }
                    };
                    if boundary_ok {
                        i = end;
                        return Some(code);
                    }
                }
            }
            None
        })
    }
}

fn parse_number(bytes: &[u8], mut i: usize, max_digits: usize) -> Option<(u16, usize)> {
    let start = i;
    let mut value: u16 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() && i - start < max_digits {
        value = value * 10 + u16::from(bytes[i] - b'0');
        i += 1;
    }
    if i == start || (i < bytes.len() && bytes[i].is_ascii_digit()) {
        return None;
    }
    Some((value, i))
}

fn parse_at(bytes: &[u8], start: usize) -> Option<(EnhancedCode, usize)> {
    let class = bytes[start] - b'0';
    if bytes.get(start + 1) != Some(&b'.') {
        return None;
    }
    let (subject, i) = parse_number(bytes, start + 2, 3)?;
    if bytes.get(i) != Some(&b'.') {
        return None;
    }
    let (detail, end) = parse_number(bytes, i + 1, 3)?;
    Some((EnhancedCode::new(class, subject, detail), end))
}

impl FromStr for EnhancedCode {
    type Err = MalformedCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bytes = t.as_bytes();
        if !bytes.is_empty()
            && matches!(bytes[0], b'2' | b'4' | b'5')
            && let Some((code, end)) = parse_at(bytes, 0)
            && end == bytes.len()
        {
            return Ok(code);
        }
        Err(MalformedCode(s.to_string()))
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> EnhancedCode {
        s.parse().unwrap()
    }

    #[test]
    fn labels_follow_rfc_3463() {
        assert_eq!(c("4.4.7").label(), "Delivery time expired");
        assert_eq!(c("5.1.1").label(), "Bad destination mailbox address");
        assert_eq!(c("4.4.99").label(), "Network and routing status");
        assert_eq!(c("5.0.0").class_meaning(), "Permanent failure");
    }

    #[test]
    fn parses_codes_and_rejects_others() {
        assert_eq!(c("4.4.7"), EnhancedCode::EXPIRED);
        assert_eq!(c("5.7.650").detail, 650);
        for bad in ["", "4.4", "3.1.1", "4.4.7.1", "x.1.1", "5.1.1a", "5.1234.1"] {
            assert!(bad.parse::<EnhancedCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn finds_codes_in_real_reply_texts() {
        // Gmail multi-line reply as Postfix logs it (postfix-grok-patterns test data).
        let gmail = "host gmail-smtp-in.l.google.com[173.194.66.27] said: 550-5.7.1 [10.0.0.1 12] Our system has detected";
        assert_eq!(EnhancedCode::find_in(gmail), Some(c("5.7.1")));
        // An IP address or a version number is not a code.
        assert_eq!(
            EnhancedCode::find_in("connect to 5.9.100.1[5.9.100.1]:25: timed out"),
            None
        );
        assert_eq!(EnhancedCode::find_in("Postfix 3.10.1 said"), None);
        assert_eq!(EnhancedCode::find_in("v5.1.1 and 4.4.7.1 and x4.4.7"), None);
        let ms = "451 4.7.650 The mail server [203.0.113.13] has been temporarily rate limited due to IP reputation.";
        assert_eq!(EnhancedCode::find_in(ms), Some(c("4.7.650")));
        let all: Vec<_> =
            EnhancedCode::all_in("550 4.4.7 QUEUE.Expired; 451 4.4.0 DNS query failed").collect();
        assert_eq!(all, vec![c("4.4.7"), c("4.4.0")]);
    }
}
