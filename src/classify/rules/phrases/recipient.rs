//! The recipient's side: the address, its mailbox, and what the sending service held back for it.

use crate::model::Reason;

pub(super) const PHRASES: &[(Reason, &[&str])] = &[
    (
        // The sending service held the message back: the address is on its suppression
        // list (Amazon SES: "has suppressed sending to this address", "is on the
        // suppression list for your account"). Nothing was sent, whatever code it carries.
        Reason::Suppressed,
        &[r"suppression ?list", r"suppressed sending to this address"],
    ),
    (
        Reason::MailboxFull,
        &[
            r"mailbox (?:is )?full",
            r"mailbox (?:is )?over ?quota",
            r"over ?quota",
            r"quota (?:exceeded|full|violation)",
            r"exceeded (?:the )?(?:storage|mailbox) (?:quota|allocation|limit)",
            r"mailbox size limit",
            r"insufficient (?:disk )?space.{0,40}mailbox",
            r"user(?:'s)? mailbox is over",
            r"disk quota",
            r"number of messages in recipient's mailbox exceeded",
            r"mailbox (?:has )?exceeded",
            r"not enough (?:storage|space)",
            r"recipient'?s? (?:mailbox|inbox) is full",
            r"would exceed (?:the )?(?:mailbox|quota)",
            r"account is full",
            r"maildir over quota",
            r"no space left",
            r"mail ?folder is full",
            r"full (?:mailbox|inbox)",
            r"exceeding (?:their|his|her|its|the|your) (?:mailbox |storage |disk )?quota",
            // The mailbox, not the message, is over its size ("mailbox exceeds allowed
            // size", "mailbox size exceeded").
            r"mailbox (?:size )?(?:exceeds|exceeded)",
        ],
    ),
    (
        Reason::MesgTooBig,
        &[
            r"message (?:size )?(?:is )?too (?:big|large)",
            r"exceeds (?:the )?(?:maximum )?(?:allowed )?(?:message )?size",
            r"message size exceeds",
            r"exceeded (?:the )?maximum (?:\w+ )?message size",
            r"size limit",
            r"message length exceeds",
            r"mail is too large",
        ],
    ),
    (
        Reason::ExceedLimit,
        &[
            r"message (?:length )?exceeds (?:the )?administrative limit",
            r"too many recipients for",
        ],
    ),
    (
        Reason::Suspend,
        &[
            r"account (?:has been |is )?(?:disabled|suspended|inactive|deactivated|locked|frozen)",
            r"mailbox (?:has been |is )?(?:disabled|suspended|inactive|frozen|deactivated)",
            r"recipient (?:account )?(?:is )?(?:inactive|suspended)",
            r"is currently suspended",
            r"has been suspended",
            r"inactive (?:account|user|mailbox)",
            r"user (?:is )?(?:suspended|terminated)",
            r"temporar(?:y|ily) locked",
            r"archived recipient",
            r"email account that you tried to reach is (?:disabled|inactive)",
            r"account has been disabled or discontinued",
            r"user or domain is disabled",
            r"(?:deactivated|disabled|suspended|closed) (?:mailbox|account|e-?mail account)",
        ],
    ),
    (
        Reason::HasMoved,
        &[
            r"has moved\b",
            r"address (?:has )?changed",
            r"no longer (?:at|with) this",
        ],
    ),
    (
        Reason::UserUnknown,
        &[
            r"user unknown",
            r"unknown user",
            r"no such (?:user|person|mailbox|recipient|address)",
            r"user (?:does not|doesn't|not) exist",
            r"mailbox (?:not found|unavailable|does not exist|doesn't exist|not present|invalid|is unavailable)",
            r"(?:e-?mail )?address (?:does not|doesn't) exist",
            // A mailbox named by its address and said not to exist ("553 Mailbox
            // x@example.com does not exist"); a bare address is not enough, since "Domain
            // of sender address x@example.com does not exist" is about the sender.
            r"(?:mailbox|user|recipient|account) <?[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}>?:? (?:does not|doesn't) exist",
            r"recipient (?:address )?(?:rejected: )?(?:does not|doesn't|not) exist",
            r"unknown (?:recipient|mailbox|address|local[- ]?part|e-?mail address)",
            r"invalid (?:recipient|mailbox|address)",
            r"recip(?:ient)?notfound",
            r"recipient ?not ?found",
            r"not a valid (?:recipient|mailbox|user)",
            r"user not (?:found|known|active)",
            r"account (?:does not|doesn't) exist",
            r"undeliverable address",
            r"addressee unknown",
            r"address unknown",
            r"no mailbox (?:here|by that name|found)",
            r"recipient (?:name )?is not recognized",
            r"recipient unknown",
            r"recipient address rejected: (?:user unknown|invalid user|access denied|unknown user)",
            r"recipient address rejected\.?\s*(?:\(in reply to rcpt|$)",
            r"this user doesn't have a .{0,40} account",
            r"is not a (?:known|valid) (?:user|mailbox)",
            r"there is no one at this address",
            r"email account that you tried to reach does not exist",
            r"email address could not be found",
            r"not our customer",
            r"no account by that name",
            r"bad (?:destination )?(?:mailbox )?address",
            r"not listed in (?:the )?(?:domino )?directory",
            r"address not present in directory",
            r"badrcptto",
            r"not in my validrcptto",
            r"utilisateur inconnu",
            r"unknown or illegal alias",
            r"check if (?:the )?address is correct",
            r"no valid recipients",
        ],
    ),
];
