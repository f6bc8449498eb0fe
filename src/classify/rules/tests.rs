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

#[test]
fn qmail_remote_names_the_command_in_its_own_words() {
    let said = |t: &str| smtp_command(t);
    assert_eq!(
        said("192.0.2.153 does not like recipient. Remote host said: 550 5.2.1 User Unknown"),
        Some(SmtpCommand::Rcpt)
    );
    assert_eq!(
        said("Connected to 192.0.2.1 but sender was rejected. Remote host said: 421 4.7.0"),
        Some(SmtpCommand::Mail)
    );
    assert_eq!(
        said("Connected to 192.0.2.112 but my name was rejected."),
        Some(SmtpCommand::Helo)
    );
    assert_eq!(
        said("192.0.2.1 failed after I sent the message. Remote host said: 554 spam"),
        Some(SmtpCommand::Data)
    );
}

// Providers' documented texts, as their reports word them (bounce corpus).
#[test]
fn provider_documented_texts() {
    assert_eq!(
        reason(
            "5.1.1",
            "550 5.1.1 <k@example.com> - 203.0.113.222 has sent to too many recipients this hour. IB607"
        ),
        Reason::Speeding
    );
    assert_eq!(
        reason(
            "",
            "554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#554"
        ),
        Reason::PolicyViolation
    );
    assert_eq!(
        reason(
            "",
            "child status 100...The e-mail message could not be delivered because the user's mailfolder is full."
        ),
        Reason::MailboxFull
    );
    assert_eq!(
        reason(
            "5.0.0",
            "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]"
        ),
        Reason::UserUnknown
    );
    assert_eq!(
        reason(
            "",
            "** Address not found ** Your message wasn't delivered to k@example.it because the address couldn't be found."
        ),
        Reason::UserUnknown
    );
    assert_eq!(
        reason(
            "5.7.606",
            "550 5.7.606 Access denied, banned sending IP [192.0.2.225]."
        ),
        Reason::Blocked
    );
    assert_eq!(
        reason(
            "5.0.0",
            "Connected to 192.0.2.112 but my name was rejected. Remote host said: 501 5.0.0 Invalid domain name"
        ),
        Reason::Blocked
    );
    // A plain "user unknown" with a bare code and no command stays a filter.
    assert_eq!(reason("5.0.0", "[User unknown] Nyaan"), Reason::Filtered);
}

// Sendmail transcripts from the bounce corpus, as a report's prose unfolds them.
#[test]
fn transcript_names_the_command_a_reply_answered() {
    let after_data = ">>> DATA <<< 554 5.7.1 Message rejected as spam <<< 554 5.5.1 Error";
    assert_eq!(
        transcript_command(after_data, "554 5.7.1 Message rejected as spam"),
        Some(SmtpCommand::Data)
    );
    // The end of the message text is the end of DATA.
    assert_eq!(
        transcript_command(
            ">>> . <<< 550 5.7.1 Content rejected",
            "550 5.7.1 Content rejected"
        ),
        Some(SmtpCommand::Data)
    );
    // PIPELINING: the RCPT reply is printed after ">>> DATA", and DATA is then
    // refused for want of a recipient.
    let pipelined = "... while talking to mx1.mineo.jp.: >>> DATA <<< 550 5.0.0 <x@mineo.jp>... User unknown 550 5.1.1 <x@mineo.jp>... User unknown <<< 503 5.0.0 Need RCPT (recipient)";
    assert_eq!(
        transcript_command(pipelined, "550 5.0.0 <x@mineo.jp>... User unknown"),
        Some(SmtpCommand::Rcpt)
    );
    let laposte = ">>> DATA\n<<< 550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416\n550 5.1.1 <x@laposte.net>... User unknown\n<<< 554 5.5.1 Error: no valid recipients\n>>> RSET\n<<< 421 4.7.0 Error: too many errors";
    assert_eq!(
        transcript_command(
            laposte,
            "550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416"
        ),
        Some(SmtpCommand::Rcpt)
    );
    // A reply the transcript does not show, or no transcript: no command.
    assert_eq!(
        transcript_command(after_data, "550 5.1.1 User unknown"),
        None
    );
    assert_eq!(
        transcript_command("550 <x@example.jp>: User unknown", "550"),
        None
    );
    // A report made of markers costs no more than its length.
    let hostile = ">>>".repeat(200_000) + &"<".repeat(100_000);
    assert_eq!(transcript_command(&hostile, "550 x"), None);
    // Recipient lines (">>> x@example.jp") name no command.
    assert_eq!(
        transcript_command(">>> kijitora@example.jp <<< 550 unknown", "550 unknown"),
        None
    );
}

// Texts from the bounce corpus (sisimai's set-of-emails), each a product's or
// provider's documented wording.
#[test]
fn documented_product_texts() {
    // Exchange 2003's IMS NDR, whatever the (bare) code.
    assert_eq!(
        reason(
            "5.0.0",
            "The recipient name is not recognized MSEXCH:IMS:NNN:KIJITORACAT:NEKO 0 (000C05A6) Unknown Recipient"
        ),
        Reason::UserUnknown
    );
    // "User unknown" with no code and no SMTP command: answered after DATA (a filter).
    assert_eq!(
        classify(None, "550: : User unknown").reason,
        Reason::Filtered
    );
    // Cox's AUP#CDRBL is a blocklist listing, though worded "sender rejected".
    assert_eq!(
        reason(
            "5.1.0",
            "550 5.1.0 <bounce@mailer.example.com> sender rejected. Refer to Error Codes section at https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CDRBL"
        ),
        Reason::Blocked
    );
    assert_eq!(
        reason("4.3.2", "452 4.3.2 Connection rate limit exceeded."),
        Reason::TooManyConn
    );
    assert_eq!(
        reason(
            "5.7.1",
            "550-5.7.1 [192.0.2.222 13] Messages with multiple addresses in From:"
        ),
        Reason::NotCompliantRfc
    );
    assert_eq!(reason("5.7.1", "550 5.7.1 Access denied"), Reason::Rejected);
    // A permanent X.4.1 that says it rejected the recipients is not a network error.
    assert_eq!(
        reason(
            "5.4.1",
            "550 5.4.1 All recipient addresses rejected : Access denied [NEKO.prod.protection.outlook.com]"
        ),
        Reason::Rejected
    );
    assert_eq!(
        reason("4.4.1", "421 4.4.1 Connection timed out"),
        Reason::NetworkError
    );
    assert_eq!(
        reason(
            "4.7.0",
            "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
        ),
        Reason::BadReputation
    );
    // Google Groups: a spam verdict whose advice mentions SPF.
    assert_eq!(
        classify(
            None,
            "Your email to group kijitora@example.com was rejected due to spam classification. To address this issue: * Set up SPF records for your sending domain"
        )
        .reason,
        Reason::SpamDetected
    );
    assert_eq!(
        reason(
            "5.7.26",
            "550 5.7.26 This mail is unauthenticated (SPF fails)"
        ),
        Reason::AuthFailure
    );
    // Relaying refused until the client logs in.
    assert_eq!(
        reason(
            "5.0.0",
            "550-Please turn on SMTP Authentication in your mail client. mail0.example.com [198.51.100.21]:11111 is not permitted to relay through this server without authentication."
        ),
        Reason::SecurityError
    );
    assert_eq!(
        reason("5.7.1", "554 5.7.1 <a@example.org>: Relay access denied"),
        Reason::NoRelaying
    );
}
