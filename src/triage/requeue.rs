//! The re-queue rules (README, "Re-sending"): which failed deliveries may be sent
//! again, and for each one that may not, the rule that keeps it out.
//!
//! A delivery is eligible only if it failed; its cause is covered by a resolution recorded
//! after its last attempt; the same message did not reach that recipient later; it is not a
//! hard failure of the address (nor a typo domain); and it was not already exported. The
//! rules here are pure: the store supplies the facts (`Candidate`), this decides.

use serde::Serialize;

use crate::ingest::timestamp::format_rfc3339;
pub use crate::model::{Candidate, Resolution, destination_matches, host_matches};
use crate::model::{DeliveryStatus, Reason};

/// Why a delivery may not be re-sent. Listed in the order the rules are tried: what can
/// never change first, what the user can act on (resolve the cause) last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Exclusion {
    /// It did not fail (a later import found it delivered).
    Delivered,
    /// Only a bounce report that contradicts the log says it exists and failed.
    ContradictsLog { conflict: String },
    /// The domain looks mistyped; the address needs fixing, not re-sending.
    TypoDomain { suggestion: String },
    /// The address itself is bad: re-sending would bounce again.
    HardFailure { reason: Reason },
    /// The same message reached the recipient later (another attempt or copy of it).
    LaterSuccess,
    /// Already in an export batch (`--again` exports it once more).
    AlreadyExported { batch: i64 },
    /// No resolution covers its cause (or its cause is unknown).
    NotResolved,
    /// The cause was resolved, but this delivery was still tried (and failed) after that.
    ResolvedBeforeLastAttempt {
        resolution: i64,
        #[serde(serialize_with = "crate::model::time::json_time::required")]
        resolved_at: i64,
    },
}

/// An exclusion without its details: the rule that made it. Declared in the order the
/// rules are tried, which is the order summaries list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Delivered,
    ContradictsLog,
    TypoDomain,
    HardFailure,
    LaterSuccess,
    AlreadyExported,
    NotResolved,
    ResolvedBeforeLastAttempt,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::Delivered,
        Rule::ContradictsLog,
        Rule::TypoDomain,
        Rule::HardFailure,
        Rule::LaterSuccess,
        Rule::AlreadyExported,
        Rule::NotResolved,
        Rule::ResolvedBeforeLastAttempt,
    ];

    /// Stable rule name (JSON, CSV, summaries).
    pub const fn name(self) -> &'static str {
        match self {
            Rule::Delivered => "delivered",
            Rule::ContradictsLog => "contradicts_log",
            Rule::TypoDomain => "typo_domain",
            Rule::HardFailure => "hard_failure",
            Rule::LaterSuccess => "later_success",
            Rule::AlreadyExported => "already_exported",
            Rule::NotResolved => "not_resolved",
            Rule::ResolvedBeforeLastAttempt => "resolved_before_last_attempt",
        }
    }

    /// How many are counted, in words: only the rules named by a noun have a plural; the
    /// rest read as a state ("2 not resolved").
    fn counted(self, n: u64) -> String {
        let one = self.name().replace('_', " ");
        let many = match self {
            Rule::TypoDomain => "typo domains".to_string(),
            Rule::HardFailure => "hard failures".to_string(),
            Rule::LaterSuccess => "later successes".to_string(),
            _ => one.clone(),
        };
        crate::wording::plural(n, &one, &many)
    }
}

impl Exclusion {
    pub fn kind(&self) -> Rule {
        match self {
            Exclusion::Delivered => Rule::Delivered,
            Exclusion::ContradictsLog { .. } => Rule::ContradictsLog,
            Exclusion::HardFailure { .. } => Rule::HardFailure,
            Exclusion::TypoDomain { .. } => Rule::TypoDomain,
            Exclusion::LaterSuccess => Rule::LaterSuccess,
            Exclusion::AlreadyExported { .. } => Rule::AlreadyExported,
            Exclusion::NotResolved => Rule::NotResolved,
            Exclusion::ResolvedBeforeLastAttempt { .. } => Rule::ResolvedBeforeLastAttempt,
        }
    }

    /// Stable rule name (JSON, CSV, summaries).
    pub fn rule(&self) -> &'static str {
        self.kind().name()
    }

    /// The rule in words, for a person.
    pub(crate) fn describe(&self) -> String {
        match self {
            Exclusion::Delivered => "delivered after all".into(),
            Exclusion::ContradictsLog { conflict } => {
                format!("known only from a bounce report that contradicts the log: {conflict}")
            }
            Exclusion::HardFailure { reason } => {
                format!("hard failure of the address ({reason})")
            }
            Exclusion::TypoDomain { suggestion } => {
                format!("typo domain (meant {suggestion}?)")
            }
            Exclusion::LaterSuccess => "the same message reached this recipient later".into(),
            Exclusion::AlreadyExported { batch } => format!("already exported (batch {batch})"),
            Exclusion::NotResolved => "cause not resolved".into(),
            Exclusion::ResolvedBeforeLastAttempt { resolved_at, .. } => format!(
                "resolved at {}, but failed again after that",
                format_rfc3339(*resolved_at)
            ),
        }
    }
}

/// The verdict on one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ResendVerdict {
    /// Eligible, on the strength of this resolution.
    Eligible {
        resolution: Resolution,
    },
    Excluded {
        exclusion: Exclusion,
    },
}

impl ResendVerdict {
    pub fn is_eligible(&self) -> bool {
        matches!(self, ResendVerdict::Eligible { .. })
    }
    /// The verdict in a word or two, for a table column (`describe` says it whole).
    pub fn label(&self) -> &'static str {
        match self {
            ResendVerdict::Eligible { .. } => "eligible",
            ResendVerdict::Excluded { exclusion } => match exclusion {
                Exclusion::Delivered => "delivered",
                Exclusion::ContradictsLog { .. } => "conflict",
                Exclusion::TypoDomain { .. } => "typo domain",
                Exclusion::HardFailure { .. } => "bad address",
                Exclusion::LaterSuccess => "sent later",
                Exclusion::AlreadyExported { .. } => "exported",
                Exclusion::NotResolved => "not resolved",
                Exclusion::ResolvedBeforeLastAttempt { .. } => "failed again",
            },
        }
    }
    pub fn exclusion(&self) -> Option<&Exclusion> {
        match self {
            ResendVerdict::Excluded { exclusion } => Some(exclusion),
            ResendVerdict::Eligible { .. } => None,
        }
    }
}

/// A failure of the address rather than of the path to it: re-sending cannot help.
/// `hostunknown` counts only when final (5.x.x); a temporary DNS failure may clear.
pub fn hard_failure(cause: Option<Reason>, code: &str) -> bool {
    match cause {
        Some(Reason::UserUnknown | Reason::HasMoved | Reason::Suspend) => true,
        Some(Reason::HostUnknown) => code.starts_with('5'),
        _ => false,
    }
}

/// Decides one delivery. `resolutions` in any order; `again` lets already exported
/// deliveries through (the user asked for a second export).
pub fn judge(c: &Candidate, resolutions: &[Resolution], again: bool) -> ResendVerdict {
    let out = |exclusion| ResendVerdict::Excluded { exclusion };
    if c.status == DeliveryStatus::Sent {
        return out(Exclusion::Delivered);
    }
    if let Some(conflict) = &c.contradicts_log {
        return out(Exclusion::ContradictsLog {
            conflict: conflict.clone(),
        });
    }
    // Before the hard failure: a mistyped domain also fails as an unknown host, and the
    // suggestion is what the user needs to see.
    if let Some(s) = &c.typo_of {
        return out(Exclusion::TypoDomain {
            suggestion: s.clone(),
        });
    }
    if let Some(reason) = c.cause.filter(|r| hard_failure(Some(*r), &c.code)) {
        return out(Exclusion::HardFailure { reason });
    }
    if c.later_success {
        return out(Exclusion::LaterSuccess);
    }
    if let (Some(batch), false) = (c.exported_in, again) {
        return out(Exclusion::AlreadyExported { batch });
    }
    let covering = resolutions
        .iter()
        .filter(|r| r.covers(c.cause, &c.domain, c.provider.as_deref(), &c.host));
    let Some(latest) = covering.max_by_key(|r| (r.resolved_at, r.id)) else {
        return out(Exclusion::NotResolved);
    };
    // Without a known last attempt there is nothing the resolution could be older than.
    if c.last_attempt.is_some_and(|t| t > latest.resolved_at) {
        return out(Exclusion::ResolvedBeforeLastAttempt {
            resolution: latest.id,
            resolved_at: latest.resolved_at,
        });
    }
    ResendVerdict::Eligible {
        resolution: latest.clone(),
    }
}

/// Which failed deliveries to look at: by cause, destination (domain or provider) and
/// sending host, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandidateFilter {
    pub cause: Option<Reason>,
    pub destination: Option<String>,
    pub host: Option<String>,
    /// Only marked deliveries (the basket).
    pub marked_only: bool,
}

impl CandidateFilter {
    pub fn matches(&self, c: &Candidate) -> bool {
        self.cause.is_none_or(|w| c.cause == Some(w))
            && self
                .destination
                .as_deref()
                .is_none_or(|d| destination_matches(d, &c.domain, c.provider.as_deref()))
            && self
                .host
                .as_deref()
                .is_none_or(|h| host_matches(h, &c.host))
            && (!self.marked_only || c.marked)
    }
}

/// Counts of verdicts, by rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub eligible: u64,
    pub excluded: std::collections::BTreeMap<&'static str, u64>,
}

impl Tally {
    pub fn add(&mut self, v: &ResendVerdict) {
        match v {
            ResendVerdict::Eligible { .. } => self.eligible += 1,
            ResendVerdict::Excluded { exclusion } => {
                *self.excluded.entry(exclusion.rule()).or_default() += 1
            }
        }
    }
    pub(crate) fn excluded_total(&self) -> u64 {
        self.excluded.values().sum()
    }
    /// `3 not resolved, 1 hard failure, 2 typo domains`, in rule order.
    pub(crate) fn describe_excluded(&self) -> String {
        Rule::ALL
            .iter()
            .filter_map(|r| self.excluded.get(r.name()).map(|&n| r.counted(n)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate() -> Candidate {
        Candidate {
            delivery_id: 1,
            message_ref: 1,
            recipient: "dana@contoso-corp.example".into(),
            domain: "contoso-corp.example".into(),
            provider: Some("Microsoft".into()),
            host: "mta2/postfix-out2".into(),
            status: DeliveryStatus::Expired,
            code: "4.4.7".into(),
            cause: Some(Reason::BadReputation),
            last_attempt: Some(1_000),
            typo_of: None,
            queue_id: "9C5F661548".into(),
            message_id: None,
            sender: None,
            subject: None,
            format: "postfix".into(),
            later_success: false,
            contradicts_log: None,
            other_message_sent: false,
            exported_in: None,
            marked: false,
        }
    }

    fn resolution(id: i64, dest: Option<&str>, host: Option<&str>, at: i64) -> Resolution {
        Resolution {
            id,
            reason: Reason::BadReputation,
            destination: dest.map(String::from),
            host: host.map(String::from),
            resolved_at: at,
            note: "delisted".into(),
        }
    }

    fn rule(v: ResendVerdict) -> &'static str {
        v.exclusion().map_or("eligible", Exclusion::rule)
    }

    #[test]
    fn scope_matches_provider_domain_and_machine() {
        let c = candidate();
        for (dest, host, want) in [
            (None, None, true),
            (Some("microsoft"), None, true),
            (Some("CONTOSO-corp.example"), Some("mta2"), true),
            (
                Some("contoso-corp.example"),
                Some("mta2/postfix-out2"),
                true,
            ),
            (Some("outlook.com"), None, false),
            (Some("Microsoft"), Some("mta1"), false),
            (None, Some("postfix-out2"), false),
        ] {
            let r = resolution(1, dest, host, 2_000);
            assert_eq!(
                r.covers(c.cause, &c.domain, c.provider.as_deref(), &c.host),
                want,
                "{dest:?} {host:?}"
            );
        }
        let other_reason = Resolution {
            reason: Reason::Blocked,
            ..resolution(1, None, None, 2_000)
        };
        assert!(!other_reason.covers(c.cause, &c.domain, c.provider.as_deref(), &c.host));
    }

    #[test]
    fn each_rule_in_its_order() {
        let c = candidate();
        let after = [resolution(1, Some("Microsoft"), None, 2_000)];
        assert_eq!(rule(judge(&c, &[], false)), "not_resolved");
        assert_eq!(rule(judge(&c, &after, false)), "eligible");
        let before = [resolution(2, None, None, 999)];
        assert_eq!(
            rule(judge(&c, &before, false)),
            "resolved_before_last_attempt"
        );
        // The latest covering resolution decides.
        let both = [before[0].clone(), after[0].clone()];
        assert_eq!(rule(judge(&c, &both, false)), "eligible");

        let exported = Candidate {
            exported_in: Some(4),
            ..c.clone()
        };
        assert_eq!(rule(judge(&exported, &after, false)), "already_exported");
        assert_eq!(rule(judge(&exported, &after, true)), "eligible");
        let later = Candidate {
            later_success: true,
            ..exported.clone()
        };
        assert_eq!(rule(judge(&later, &after, true)), "later_success");
        let hard = Candidate {
            cause: Some(Reason::UserUnknown),
            code: "5.1.1".into(),
            ..later.clone()
        };
        assert_eq!(rule(judge(&hard, &after, true)), "hard_failure");
        let typo = Candidate {
            typo_of: Some("gmail.com".into()),
            ..hard.clone()
        };
        assert_eq!(rule(judge(&typo, &after, true)), "typo_domain");
        let sent = Candidate {
            status: DeliveryStatus::Sent,
            ..typo
        };
        assert_eq!(rule(judge(&sent, &after, true)), "delivered");
    }
    #[test]
    fn excluded_counts_read_in_the_singular_or_plural() {
        let mut t = Tally::default();
        t.excluded.insert("hard_failure", 2);
        t.excluded.insert("typo_domain", 1);
        t.excluded.insert("not_resolved", 3);
        t.excluded.insert("later_success", 2);
        assert_eq!(
            t.describe_excluded(),
            "1 typo domain, 2 hard failures, 2 later successes, 3 not resolved"
        );
    }

    #[test]
    fn every_rule_is_listed_once_in_the_order_declared() {
        for (i, r) in Rule::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
        // The last declared rule closes the list: none is left out.
        assert_eq!(
            Rule::ALL.len(),
            Rule::ResolvedBeforeLastAttempt as usize + 1
        );
    }

    #[test]
    fn hostunknown_is_hard_only_when_final() {
        assert!(hard_failure(Some(Reason::HostUnknown), "5.4.4"));
        assert!(!hard_failure(Some(Reason::HostUnknown), "4.4.7"));
        assert!(!hard_failure(Some(Reason::HostUnknown), "4.4.3"));
        assert!(hard_failure(Some(Reason::Suspend), "5.2.1"));
        assert!(hard_failure(Some(Reason::HasMoved), "5.1.6"));
        assert!(!hard_failure(Some(Reason::BadReputation), "5.7.1"));
        assert!(!hard_failure(None, "5.0.0"));
    }
}
