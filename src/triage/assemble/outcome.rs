//! A delivery's outcome, decided from its attempts: status, grouping code, reason and
//! cause (for an expiry, the last deferral's).

use crate::classify::{self, EnhancedCode, Reason};
use crate::ingest::AttemptStatus;
use crate::model::{AttemptRecord, DeliveryOutcome, DeliveryState, DeliveryStatus};

pub(super) fn domain_of(recipient: &str) -> String {
    recipient
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("")
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

/// The remote host name in a relay as logged: `mx.example.com[192.0.2.1]:25` → `mx.example.com`.
pub(crate) fn relay_host(relay: &str) -> Option<&str> {
    let host = relay.split('[').next().unwrap_or(relay);
    (!host.is_empty() && host != "none" && host != "local").then_some(host)
}

/// Postfix's `delivery temporarily suspended: <reason>` repeats an earlier failure: the
/// reason is what follows.
pub(super) fn underlying_text(text: &str) -> &str {
    text.strip_prefix("delivery temporarily suspended: ")
        .unwrap_or(text)
}

/// The attempt's logged code, unless it contradicts the log's own decision (a success
/// code on a deferral, seen on real Postfix `local` lines): the decision wins.
pub(super) fn code_of(a: &AttemptRecord) -> Option<EnhancedCode> {
    a.code
        .as_deref()
        .and_then(|c| c.parse::<EnhancedCode>().ok())
        .filter(|c| (c.class == 2) == (a.status == AttemptStatus::Sent))
}

/// Distinct (code, reply) pairs remembered per thread: a log repeats the same replies
/// (one greylisting text, one rate-limit text per provider) thousands of times, and
/// classifying one runs the phrase tables over it.
const VERDICTS_REMEMBERED: usize = 4096;

thread_local! {
    static VERDICTS: std::cell::RefCell<VerdictMemo> = std::cell::RefCell::new(VerdictMemo::new());
}

/// Reply text → the verdicts found for it under each code it came with. Each lookup hashes
/// a whole reply: the map's quicker hasher, not std's SipHash.
type VerdictMemo = hashbrown::HashMap<Box<str>, Vec<(Option<EnhancedCode>, classify::Verdict)>>;

pub(super) fn verdict_of(a: &AttemptRecord) -> classify::Verdict {
    let code = code_of(a);
    let text = underlying_text(a.text.as_deref().unwrap_or(""));
    VERDICTS.with_borrow_mut(|memo| {
        if let Some(v) = memo
            .get(text)
            .and_then(|seen| seen.iter().find(|(c, _)| *c == code))
        {
            return v.1;
        }
        let v = classify::classify(code, text);
        if memo.len() >= VERDICTS_REMEMBERED {
            memo.clear();
        }
        memo.entry(Box::from(text)).or_default().push((code, v));
        v
    })
}

/// The grouping code of an attempt: the logged code unless it is a bare X.0.0 and the
/// text names a better one; else the reply's class; else the status's.
pub(super) fn grouping_code(a: &AttemptRecord, verdict: &classify::Verdict) -> EnhancedCode {
    if let Some(c) = verdict
        .code
        .filter(|c| (c.class == 2) == (a.status == AttemptStatus::Sent))
    {
        return c;
    }
    let class = match a.reply_code {
        Some(r) if (200..300).contains(&r) => 2,
        Some(r) if (400..500).contains(&r) => 4,
        Some(r) if (500..600).contains(&r) => 5,
        _ => match a.status {
            AttemptStatus::Sent => 2,
            AttemptStatus::Deferred => 4,
            AttemptStatus::Bounced => 5,
        },
    };
    EnhancedCode::generic(class)
}

pub fn derive_row(d: &DeliveryState) -> DeliveryOutcome {
    let domain = domain_of(&d.recipient);
    // The last real attempt's reply names the cause; a deferral logged without an
    // attempt (Postfix `delivery temporarily suspended`, Exim `retry time not reached`)
    // only repeats it, or says nothing.
    let deferrals = || {
        d.attempts
            .iter()
            .rev()
            .filter(|a| a.status == AttemptStatus::Deferred)
    };
    let last_counted = deferrals()
        .find(|a| a.counted)
        .or_else(|| deferrals().next());
    // A vague last reply gives way to a later deferral that says more: a linked bounce
    // report's last error, or a suspension line quoting a clearer reply.
    let last_deferral = match last_counted {
        Some(vague) if verdict_of(vague).reason.is_vague() => deferrals()
            .take_while(|a| !std::ptr::eq(*a, vague))
            .find(|a| !verdict_of(a).reason.is_vague())
            .or(Some(vague)),
        found => found,
    };
    // "Sent" to a relay is not the end when a bounce report for it came back later: the
    // newer verdict (a failure, or the relay's expiry) is the outcome.
    let sent = d
        .attempts
        .iter()
        .rev()
        .find(|a| a.status == AttemptStatus::Sent)
        .filter(|s| {
            let failed_later = d
                .attempts
                .iter()
                .any(|a| a.status == AttemptStatus::Bounced && a.ts > s.last_ts);
            let expired_later = d.expired.as_ref().is_some_and(|(ts, _)| *ts > s.last_ts);
            !failed_later && !expired_later
        });
    let bounced = d
        .attempts
        .iter()
        .rev()
        .find(|a| a.status == AttemptStatus::Bounced);
    let last_relay_host = d
        .attempts
        .iter()
        .rev()
        .find_map(|a| a.relay.as_deref().and_then(relay_host));
    let deferral_verdict = last_deferral.map(verdict_of);

    let (status, code, deciding, reason, cause, source) = if let Some(a) = sent {
        // Delivered mail needs its code, not a reason: the classifier is not asked.
        let v = classify::Verdict {
            reason: Reason::Delivered,
            code: classify::rules::most_specific_code(code_of(a), a.text.as_deref().unwrap_or("")),
        };
        (
            DeliveryStatus::Sent,
            grouping_code(a, &v),
            Some(a),
            Some(Reason::Delivered),
            None,
            Some(a.source.text()),
        )
    } else if let Some(a) = bounced {
        let v = verdict_of(a);
        let code = grouping_code(a, &v);
        // A provider whose reply means one thing for its own recipients (au's "User
        // unknown" with or without the address) is read the same here as in a report.
        let reason = classify::provider_rules::provider_text_reason(
            &domain,
            underlying_text(a.text.as_deref().unwrap_or("")),
        )
        .unwrap_or(v.reason);
        (
            DeliveryStatus::Bounced,
            code,
            Some(a),
            Some(reason),
            Some(reason),
            Some(a.source.text()),
        )
    } else if let Some((_, src)) = &d.expired {
        // A last error that only says time ran out ("Maximum-Time-Expired", "Envelope
        // expired") names no cause: the expiry would be its own cause.
        let cause = deferral_verdict.map(|v| match v.reason {
            Reason::Expired => Reason::OnHold,
            r => r,
        });
        (
            DeliveryStatus::Expired,
            EnhancedCode::EXPIRED,
            None,
            Some(Reason::Expired),
            cause,
            Some(src.text()),
        )
    } else {
        match last_deferral {
            Some(a) => {
                let v = deferral_verdict.expect("verdict of the last deferral");
                (
                    DeliveryStatus::Deferred,
                    grouping_code(a, &v),
                    Some(a),
                    Some(v.reason),
                    Some(v.reason),
                    Some(a.source.text()),
                )
            }
            None => (
                DeliveryStatus::Deferred,
                EnhancedCode::generic(4),
                None,
                None,
                None,
                None,
            ),
        }
    };

    DeliveryOutcome {
        provider: classify::provider_for(last_relay_host, &domain),
        domain,
        status,
        code: code.to_string(),
        reply_code: deciding.and_then(|a| a.reply_code).or_else(|| {
            // An expiry carries no reply of its own; the last deferral's is the one the
            // user will look up.
            last_deferral.and_then(|a| a.reply_code)
        }),
        reason,
        cause,
        final_text: deciding.and_then(|a| a.text.clone()),
        last_deferral_code: last_deferral.map(|a| {
            deferral_verdict
                .map(|v| grouping_code(a, &v))
                .expect("verdict of the last deferral")
                .to_string()
        }),
        last_deferral_text: last_deferral.and_then(|a| a.text.clone()),
        attempts: d
            .attempts
            .iter()
            .filter(|a| a.counted)
            .map(|a| a.repeats)
            .sum(),
        deferrals: d
            .attempts
            .iter()
            .filter(|a| a.status == AttemptStatus::Deferred)
            .map(|a| a.repeats)
            .sum(),
        first_attempt: d.attempts.iter().map(|a| a.ts).min(),
        last_attempt: d.attempts.iter().map(|a| a.last_ts).max(),
        relay: deciding.or(last_deferral).and_then(|a| a.relay.clone()),
        source,
    }
}
