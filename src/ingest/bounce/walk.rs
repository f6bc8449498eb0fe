//! The walk over a report's MIME parts: which part is the delivery-status, the feedback
//! report, the human-readable text, and which is the returned original (read only for
//! its headers).

use mail_parser::{Message, MimeHeaders, PartType};

use super::{PARSER, freetext};

/// Content type of a part as lowercase (type, subtype).
fn content_type<'a>(part: &'a mail_parser::MessagePart<'a>) -> (String, String) {
    match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
        ),
        None => ("text".into(), "plain".into()),
    }
}

/// HTML → text by mail-parser (tags dropped, every named and numeric entity decoded:
/// Exchange's HTML-only NDRs write "couldn&#x27;t be found"). Only used when a report
/// has no text/plain part.
fn html_to_text(html: &str) -> String {
    mail_parser::decoders::html::html_to_text(html)
}

/// Facts gathered while walking a report's MIME parts.
#[derive(Default)]
pub(super) struct Walk {
    pub(super) dsn_texts: Vec<String>,
    pub(super) feedback: Option<String>,
    pub(super) plain: Vec<String>,
    pub(super) html: Vec<String>,
    pub(super) original_message_id: Option<String>,
    pub(super) original_to: Vec<String>,
    pub(super) original_sender: Option<String>,
    pub(super) original_subject: Option<String>,
    pub(super) saw_original: bool,
    /// Attached messages that are themselves delivery reports (a forwarded NDR).
    pub(super) nested_reports: Vec<Vec<u8>>,
}

fn bytes_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(super) fn walk(msg: &Message<'_>) -> Walk {
    let mut w = Walk::default();
    for (i, part) in msg.parts.iter().enumerate() {
        let (ctype, subtype) = content_type(part);
        match (&part.body, ctype.as_str(), subtype.as_str()) {
            (PartType::Multipart(_), _, _) => {}
            (PartType::Message(original), _, _) => {
                w.saw_original = true;
                take_original(&mut w, original);
                // The attached message's own bytes (its parts index into the outer
                // message's buffer).
                let raw = msg
                    .raw_message
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .unwrap_or_default();
                if memchr::memmem::find(raw, b"delivery-status").is_some() {
                    w.nested_reports.push(raw.to_vec());
                }
            }
            (_, "message", "delivery-status" | "global-delivery-status") => {
                w.dsn_texts.push(bytes_text(part.contents()));
            }
            (_, "message", "feedback-report") => {
                w.feedback = Some(bytes_text(part.contents()));
            }
            (_, "text", "rfc822-headers") | (_, "message", "rfc822-headers") => {
                w.saw_original = true;
                let text = bytes_text(part.contents());
                if let Some(headers) = PARSER.parse_headers(text.as_bytes()) {
                    take_original(&mut w, &headers);
                }
                if w.original_message_id.is_none() {
                    w.original_message_id = freetext::message_id_in(&text);
                }
            }
            (_, "message", _) | (_, "text", "rfc822") => {
                // An original the parser did not open (message/global-headers, a
                // mislabelled copy): take its headers, never its text as the error.
                w.saw_original = true;
                let text = bytes_text(part.contents());
                if let Some(headers) = PARSER.parse_headers(text.as_bytes()) {
                    take_original(&mut w, &headers);
                }
            }
            (PartType::Text(t), "text", _)
                if (!w.saw_original || i == 0) && !part.is_content_type("text", "html") =>
            {
                w.plain.push(t.to_string());
            }
            (PartType::Html(h), _, _) if !w.saw_original => w.html.push(html_to_text(h)),
            _ => {}
        }
    }
    w
}

fn take_original(w: &mut Walk, original: &Message<'_>) {
    if w.original_message_id.is_none() {
        w.original_message_id = original.message_id().map(|id| format!("<{id}>"));
    }
    if w.original_to.is_empty()
        && let Some(to) = original.to()
    {
        w.original_to = to
            .iter()
            .filter_map(|a| a.address().map(str::to_string))
            .collect();
    }
    if w.original_sender.is_none() {
        w.original_sender = original
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address())
            .map(str::to_string);
    }
    if w.original_subject.is_none() {
        w.original_subject = original.subject().map(str::to_string);
    }
}
