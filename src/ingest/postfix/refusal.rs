//! Refusals at intake (smtpd `reject:` lines, cleanup header/body rejects), counted by a
//! reason with no addresses, client names or IPs in it, so that like refusals group.

use super::{lossy, next_token};

/// A refusal at intake: the SMTP stage, the code, and the reason shortened so that like
/// refusals count together (no addresses, client names or IPs in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) stage: String,
    pub(super) code: String,
    pub(super) reason: String,
}

/// `reject: RCPT from host[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<…> to=<…> proto=ESMTP helo=<…>`
pub(super) fn smtpd_refusal(body: &[u8]) -> Option<Refusal> {
    let rest = body.strip_prefix(b"reject: ")?;
    let (stage, rest) = next_token(rest);
    let rest = rest.strip_prefix(b"from ")?;
    // The client is `name[ip]` (`[ip]:port` in newer versions): the reply follows its `]: `.
    let at = memchr::memmem::find(rest, b"]: ").map(|i| i + 3)?;
    let reply = &rest[at..];
    Some(refusal(lossy(stage).into_owned(), reply))
}

/// `reject: header Subject: … from host[ip]; from=<…> to=<…> proto=ESMTP helo=<…>: 5.7.1 message content rejected`
pub(super) fn cleanup_refusal(body: &[u8]) -> Refusal {
    let rest = body
        .strip_prefix(b"milter-reject: ")
        .or_else(|| body.strip_prefix(b"reject: "))
        .unwrap_or(body);
    let (stage, rest) = next_token(rest);
    // A check's reply closes the line, after the envelope (`helo=<…>: 5.7.1 …`); a
    // milter's follows the client (`from host[ip]: 5.7.1 …; from=<…>`).
    let reply = match memchr::memmem::rfind(rest, b">: ") {
        Some(i) if memchr::memmem::find(&rest[i..], b"; from=").is_none() => &rest[i + 3..],
        _ => match memchr::memmem::find(rest, b"]: ") {
            Some(i) => &rest[i + 3..],
            None => rest,
        },
    };
    refusal(lossy(stage).into_owned(), reply)
}

fn refusal(stage: String, reply: &[u8]) -> Refusal {
    let reply = lossy(reply);
    let mut words = &*reply;
    let mut code = String::new();
    // `554 5.7.1 …`, `450 4.1.8 …`, or a bare enhanced code from a milter.
    for _ in 0..2 {
        let (w, rest) = words.split_once(' ').unwrap_or((words, ""));
        let reply_code = w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit());
        let enhanced = w.parse::<crate::classify::EnhancedCode>().is_ok();
        if reply_code || enhanced {
            if code.is_empty() || enhanced {
                code = w.to_string();
            }
            words = rest;
        } else {
            break;
        }
    }
    // The envelope (`; from=<…> to=<…> proto=… helo=<…>`) differs per message.
    let text = words.split("; from=").next().unwrap_or(words);
    // `<a@b>: Recipient address rejected: …`, `<host>: Helo command rejected: …`
    let text = match text.strip_prefix('<') {
        Some(t) => t.split_once(">: ").map_or(text, |(_, r)| r),
        None => text,
    };
    // `Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; …`:
    // the second part names the cause.
    let mut parts = text.split("; ");
    let first = parts.next().unwrap_or("");
    let text = match parts.next() {
        Some(second) if first == "Service unavailable" => second,
        _ => first,
    };
    let mut reason = String::with_capacity(text.len());
    let mut in_brackets = false;
    for c in text.chars() {
        match c {
            '[' => {
                in_brackets = true;
                reason.push_str("[…");
            }
            ']' if in_brackets => {
                in_brackets = false;
                reason.push(']');
            }
            _ if in_brackets => {}
            _ => reason.push(c),
        }
    }
    let reason = reason
        .replace("Client host […] blocked", "blocked")
        .trim()
        .chars()
        .take(120)
        .collect();
    Refusal {
        stage,
        code,
        reason,
    }
}
