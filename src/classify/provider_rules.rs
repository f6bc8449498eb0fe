//! Receiving providers whose non-delivery reports mean one thing whatever their wording
//! (or language) says. Chosen by the recipient's domain, as providers document them.

use std::sync::LazyLock;

use regex::Regex;

use super::code::EnhancedCode;
use super::rules::SmtpCommand;
use crate::model::Reason;

/// The reason a provider's own report stands for, when the provider settles it.
///
/// Google Groups answers a post it will not distribute — the group does not exist, or
/// the sender may not post to it — with a localised notice and no code: the sender was
/// refused (`rejected`), whatever the language.
pub fn provider_reason(recipient_domain: &str) -> Option<Reason> {
    let domain = recipient_domain.trim_end_matches('.').to_ascii_lowercase();
    match domain.as_str() {
        "googlegroups.com" => Some(Reason::Rejected),
        _ => None,
    }
}

/// The reason a provider's reply stands for, keyed by the host that answered, when
/// the provider documents a meaning its wording does not carry.
///
/// NTT docomo's MX (`*.docomo.ne.jp`) answers "550 Unknown user" after DATA when the
/// recipient's reception settings (designated / refused sender domains) refuse the
/// sender: the sender was refused (`rejected`), not a missing mailbox. A missing mailbox
/// is refused at RCPT, and a specific code (5.2.0, a filter) keeps its own meaning.
pub fn provider_reply_reason(
    answering_host: Option<&str>,
    reported: Option<EnhancedCode>,
    command: Option<SmtpCommand>,
) -> Option<Reason> {
    let host = answering_host?
        .split([' ', '(', ';'])
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let docomo = host == "docomo.ne.jp" || host.ends_with(".docomo.ne.jp");
    (docomo && command == Some(SmtpCommand::Data) && reported.is_none_or(|c| c.is_vague()))
        .then_some(Reason::Rejected)
}

/// KDDI's au (`ezweb.ne.jp`, `au.com`) answers a sender that its customer's reception
/// filter refuses with "User unknown" and the address slot left empty ("550 : User
/// unknown"), and a mailbox that does not exist with the address named ("550
/// <x@ezweb.ne.jp>: User unknown"), at whatever stage: the slot, not the stage, tells
/// the two apart.
pub fn provider_text_reason(recipient_domain: &str, text: &str) -> Option<Reason> {
    let domain = recipient_domain.trim_end_matches('.').to_ascii_lowercase();
    let au = ["ezweb.ne.jp", "au.com"]
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")));
    if !au {
        return None;
    }
    if AU_FILTER_REPLY.is_match(text) {
        Some(Reason::Filtered)
    } else if AU_UNKNOWN_REPLY.is_match(text) {
        Some(Reason::UserUnknown)
    } else {
        None
    }
}

static AU_FILTER_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b[45]\d\d:?|->)\s*:\s*user unknown").expect("static regex")
});

static AU_UNKNOWN_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[45]\d\d:?\s*<[^<>@\s]+@[^<>\s]+>:\s*user unknown").expect("static regex")
});

/// Builds the regexes above (`classify::prepare`).
pub(super) fn prepare() {
    LazyLock::force(&AU_FILTER_REPLY);
    LazyLock::force(&AU_UNKNOWN_REPLY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn au_filter_replies_leave_the_address_out() {
        let d = "ezweb.ne.jp";
        assert_eq!(
            provider_text_reason(d, "550 : User unknown"),
            Some(Reason::Filtered)
        );
        assert_eq!(
            provider_text_reason(d, "550: : User unknown"),
            Some(Reason::Filtered)
        );
        assert_eq!(
            provider_text_reason(
                "au.com",
                "550 5.1.351 Remote server returned unknown recipient or mailbox unavailable -> : User unknown"
            ),
            Some(Reason::Filtered)
        );
        // The address named: the mailbox is missing. Another provider: no habit known.
        assert_eq!(
            provider_text_reason(d, "550: <neko@ezweb.ne.jp>: User unknown"),
            Some(Reason::UserUnknown)
        );
        assert_eq!(provider_text_reason(d, "550 5.2.2 Mailbox full"), None);
        assert_eq!(
            provider_text_reason("example.jp", "550 : User unknown"),
            None
        );
    }

    #[test]
    fn google_groups_refusals_are_rejections() {
        assert_eq!(provider_reason("GoogleGroups.com"), Some(Reason::Rejected));
        assert_eq!(provider_reason("example.com"), None);
    }

    #[test]
    fn docomo_refusals_after_data_are_sender_rejections() {
        let host = Some("mfsmax.docomo.ne.jp (203.138.181.240)");
        let data = Some(SmtpCommand::Data);
        assert_eq!(
            provider_reply_reason(host, None, data),
            Some(Reason::Rejected)
        );
        assert_eq!(
            provider_reply_reason(host, "5.0.0".parse().ok(), data),
            Some(Reason::Rejected)
        );
        // Refused at RCPT, or with a filter's own code, it keeps its usual meaning.
        assert_eq!(
            provider_reply_reason(host, None, Some(SmtpCommand::Rcpt)),
            None
        );
        assert_eq!(
            provider_reply_reason(host, "5.2.0".parse().ok(), data),
            None
        );
        assert_eq!(
            provider_reply_reason(Some("mx.example.jp"), None, data),
            None
        );
        assert_eq!(
            provider_reply_reason(Some("notdocomo.ne.jp"), None, data),
            None
        );
    }
}
