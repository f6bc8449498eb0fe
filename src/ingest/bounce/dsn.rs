//! RFC 3464 `message/delivery-status` fields: one per-message block, then one block per
//! recipient. Real reports bend the format (no blank line between recipients, folded
//! Diagnostic-Code lines, `rfc822;` type prefixes in any case), so parsing is lenient.

static FIELD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^[A-Za-z][A-Za-z0-9-]*[ \t]*:").expect("static regex")
});

/// One per-recipient block, fields as written (type prefixes removed, folds joined).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DsnRecipient {
    pub final_recipient: Option<String>,
    pub original_recipient: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    /// The Diagnostic-Code's type (`smtp`, `x-unix`, `x-postfix`), lowercase.
    pub diagnostic_type: Option<String>,
    pub remote_mta: Option<String>,
    pub last_attempt_date: Option<String>,
    pub will_retry_until: Option<String>,
}

/// The per-message fields sendlog uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DsnMessage {
    pub reporting_mta: Option<String>,
    /// Postfix names the queue id of the bounced message (`X-Postfix-Queue-ID`).
    pub queue_id: Option<String>,
    pub original_envelope_id: Option<String>,
    pub arrival_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    pub message: DsnMessage,
    pub recipients: Vec<DsnRecipient>,
}

/// `rfc822; user@example.com` → `user@example.com`; `dns; mx.example.com` → `mx.example.com`.
fn strip_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest))
            if !kind.is_empty()
                && kind
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            rest.trim()
        }
        _ => value.trim(),
    }
}

fn clean_address(value: &str) -> Option<String> {
    let v = strip_type(value)
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn non_empty(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Logical header lines of `text`: folded continuation lines joined with one space; a
/// blank line yields `None` (a block separator).
fn logical_lines(text: &str) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            out.push(None);
            continue;
        }
        // Folded lines start with white space; some MTAs also break a long
        // Diagnostic-Code without indenting the rest, so a line that is no field
        // continues the one before.
        let continues = line.starts_with([' ', '\t']) || !FIELD.is_match(line);
        match out.last_mut() {
            Some(Some(prev)) if continues => {
                prev.push(' ');
                prev.push_str(line.trim());
            }
            _ => out.push(Some(line.trim_start().to_string())),
        }
    }
    out
}

/// Parses the body of a `message/delivery-status` part.
pub fn parse(text: &str) -> Dsn {
    let mut dsn = Dsn::default();
    let mut current: Option<DsnRecipient> = None;
    let mut seen_recipient_field = false;
    for line in logical_lines(text) {
        let Some(line) = line else {
            if let Some(r) = current.take() {
                dsn.recipients.push(r);
            }
            continue;
        };
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        let is_recipient_field = matches!(
            name.as_str(),
            "final-recipient"
                | "original-recipient"
                | "action"
                | "status"
                | "diagnostic-code"
                | "remote-mta"
                | "last-attempt-date"
                | "will-retry-until"
                | "x-actual-recipient"
                | "final-log-id"
        );
        if !is_recipient_field {
            if !seen_recipient_field {
                match name.as_str() {
                    "reporting-mta" => dsn.message.reporting_mta = non_empty(strip_type(value)),
                    "x-postfix-queue-id" => dsn.message.queue_id = non_empty(value),
                    "original-envelope-id" => dsn.message.original_envelope_id = non_empty(value),
                    "arrival-date" => dsn.message.arrival_date = non_empty(value),
                    _ => {}
                }
            }
            continue;
        }
        seen_recipient_field = true;
        // A second Final-Recipient without a blank line between starts the next recipient.
        if name == "final-recipient"
            && current
                .as_ref()
                .is_some_and(|r| r.final_recipient.is_some())
        {
            dsn.recipients.extend(current.take());
        }
        let r = current.get_or_insert_with(DsnRecipient::default);
        match name.as_str() {
            "final-recipient" => r.final_recipient = clean_address(value),
            "original-recipient" => r.original_recipient = clean_address(value),
            "x-actual-recipient" if r.final_recipient.is_none() => {
                r.final_recipient = clean_address(value);
            }
            "action" => r.action = non_empty(&value.to_ascii_lowercase()),
            "status" => r.status = non_empty(value),
            "diagnostic-code" => {
                r.diagnostic = non_empty(strip_type(value));
                r.diagnostic_type = value
                    .split_once(';')
                    .map(|(t, _)| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty() && !t.contains(' '));
            }
            "remote-mta" => r.remote_mta = non_empty(strip_type(value)),
            "last-attempt-date" => r.last_attempt_date = non_empty(value),
            "will-retry-until" => r.will_retry_until = non_empty(value),
            _ => {}
        }
    }
    dsn.recipients.extend(current);
    dsn.recipients
        .retain(|r| r.final_recipient.is_some() || r.original_recipient.is_some());
    dsn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_fields_and_recipients_without_blank_lines() {
        let text = "Reporting-MTA: dns; mx.example.jp\r\nX-Postfix-Queue-ID: 4A1B2C\r\n\r\n\
Final-Recipient: RFC822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>... User\r\n    Unknown\r\n\
Final-Recipient: rfc822;<b@example.org>\r\nAction: delayed\r\nStatus: 4.4.7\r\n";
        let d = parse(text);
        assert_eq!(d.message.reporting_mta.as_deref(), Some("mx.example.jp"));
        assert_eq!(d.message.queue_id.as_deref(), Some("4A1B2C"));
        assert_eq!(d.recipients.len(), 2);
        assert_eq!(
            d.recipients[0].diagnostic.as_deref(),
            Some("550 5.1.1 <a@example.org>... User Unknown")
        );
        assert_eq!(
            d.recipients[1].final_recipient.as_deref(),
            Some("b@example.org")
        );
        assert_eq!(d.recipients[1].action.as_deref(), Some("delayed"));
    }
}
