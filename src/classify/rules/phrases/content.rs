//! The message itself: filters, spam and virus verdicts, malformed content.

use crate::model::Reason;

pub(super) const PHRASES: &[(Reason, &[&str])] = &[
    (
        Reason::Filtered,
        &[
            r"message filtered",
            // Tencent: the recipient's own rules refuse the sender.
            r"mail is rejected by recipients?\b",
            r"refused due to recipient preferences",
            r"user refuses to receive",
            r"recipient is only accepting mail from",
            r"user reject",
            r"you have been blocked by the recipient",
            r"rejected due to user rules",
            r"is not accepting any mail",
            r"account is protected by",
        ],
    ),
    (
        Reason::ContentError,
        &[
            r"improper use of 8-bit data",
            r"message (?:header|content) (?:error|not accepted)",
            r"illegal characters? in (?:header|message)",
            r"invalid (?:mime|header|character)",
            r"message contains (?:an )?(?:unacceptable|invalid)",
        ],
    ),
    (
        Reason::SpamDetected,
        &[
            r"\bspam\b",
            // Tencent: the content was judged bulk mail that users report as spam;
            // NetEase (163/126): its anti-spam verdict codes (`DT:SPM`).
            r"mail content denied",
            r"\bdt:spm\b",
            r"junk mail",
            r"unsolicited",
            r"content (?:was )?rejected",
            r"message content rejected",
            r"message (?:was )?(?:rejected|blocked|refused|identified|detected|classified) as (?:spam|bulk)",
            r"bulk (?:mail|e-?mail)",
            r"mail rejete\. mail rejected",
            r"spamprofiler",
            r"content filter rejection",
            r"unacceptable content",
            r"spam-like",
            r"rejecting (?:banned|mail) content",
            r"spamassassin",
        ],
    ),
    (
        Reason::VirusDetected,
        &[r"virus", r"malware", r"infected", r"malicious"],
    ),
];
