//! What the re-send rules reason about: a resolution ("this cause is fixed") and a
//! candidate delivery with the facts the rules read.

use serde::Serialize;

use super::{DeliveryStatus, Reason};

/// "This cause is fixed": a reason, optionally narrowed to one destination (a recipient
/// domain or a provider) and one sending host, with the time it was fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub id: i64,
    pub reason: Reason,
    pub destination: Option<String>,
    pub host: Option<String>,
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub resolved_at: i64,
    pub note: String,
}

impl Resolution {
    /// A resolution not recorded yet (id 0).
    pub(crate) fn unrecorded(
        reason: Reason,
        destination: Option<&str>,
        host: Option<&str>,
        resolved_at: i64,
        note: &str,
    ) -> Self {
        Resolution {
            id: 0,
            reason,
            destination: destination.map(String::from),
            host: host.map(String::from),
            resolved_at,
            note: note.to_string(),
        }
    }

    /// Whether this resolution's scope takes in a delivery with this cause, destination
    /// and sending host (the time is not looked at here).
    pub fn covers(
        &self,
        cause: Option<Reason>,
        domain: &str,
        provider: Option<&str>,
        host: &str,
    ) -> bool {
        cause == Some(self.reason)
            && self
                .destination
                .as_deref()
                .is_none_or(|d| destination_matches(d, domain, provider))
            && self.host.as_deref().is_none_or(|h| host_matches(h, host))
    }

    /// The scope in words: `badreputation at Microsoft from mta2`.
    pub fn scope(&self) -> String {
        scope_words(
            self.reason,
            self.destination.as_deref(),
            self.host.as_deref(),
        )
    }
}

/// A destination as a user names it: a recipient domain, or a provider (`Microsoft`) so
/// that one resolution covers every domain hosted there. Case does not matter.
pub fn destination_matches(wanted: &str, domain: &str, provider: Option<&str>) -> bool {
    wanted.eq_ignore_ascii_case(domain) || provider.is_some_and(|p| wanted.eq_ignore_ascii_case(p))
}

/// A sending host as a user names it: the host as logged (`mta2/postfix-out2`), or just
/// the machine (`mta2`) for all of its Postfix instances.
pub fn host_matches(wanted: &str, host: &str) -> bool {
    if wanted.eq_ignore_ascii_case(host) {
        return true;
    }
    host.split_once('/')
        .is_some_and(|(machine, _)| machine.eq_ignore_ascii_case(wanted))
}

/// A failed (or marked) delivery with what the rules need to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub delivery_id: i64,
    #[serde(skip)]
    pub message_ref: i64,
    pub recipient: String,
    pub domain: String,
    pub provider: Option<String>,
    pub host: String,
    pub status: DeliveryStatus,
    pub code: String,
    pub cause: Option<Reason>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub last_attempt: Option<i64>,
    pub typo_of: Option<String>,
    pub queue_id: String,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// The log format the message came from (`postfix`, `exchange`…).
    pub format: String,
    /// The same message (the same Message-ID, or without one the same sender and
    /// subject) reached this recipient after this delivery's last attempt: it got there.
    pub later_success: bool,
    /// A delivery known from a bounce report alone, whose report contradicts the log
    /// (how, in words): nothing but a possibly forged report says it failed.
    pub contradicts_log: Option<String>,
    /// Another message reached this recipient after this delivery's last attempt. Not a
    /// reason to hold this one back (it is not the mail they are missing), but worth
    /// seeing: the address works.
    pub other_message_sent: bool,
    /// The latest batch this delivery was exported in.
    pub exported_in: Option<i64>,
    pub marked: bool,
}

/// The destinations and hosts failed deliveries have: what a resolution can name.
#[derive(Debug, Clone, Default)]
pub struct FailedScope {
    /// Lower-case domain → the domain it looks like a typo of.
    pub domains: std::collections::BTreeMap<String, Option<String>>,
    pub providers: std::collections::BTreeSet<String>,
    pub hosts: std::collections::BTreeSet<String>,
}

/// A recorded export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Batch {
    pub id: i64,
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub created_at: i64,
    pub format: String,
    pub destination: String,
    pub items: u64,
}

/// One thing the user did to the re-queue state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub at: i64,
    /// resolve | undo | mark | unmark | export
    pub action: String,
    /// The resolution (resolve, undo) or batch (export) it concerns.
    #[serde(rename = "ref")]
    pub reference: Option<i64>,
    pub scope: String,
    pub note: String,
    /// Deliveries it concerned: made eligible, marked, unmarked, exported.
    pub count: i64,
}

/// Why an undo did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoRefused {
    NoSuchResolution,
    AlreadyUndone { at: i64 },
}

/// A resolution's scope in words: `badreputation at Microsoft from mta2`.
pub fn scope_words(reason: Reason, destination: Option<&str>, host: Option<&str>) -> String {
    let mut s = reason.as_str().to_string();
    if let Some(d) = destination {
        s.push_str(" at ");
        s.push_str(d);
    }
    if let Some(h) = host {
        s.push_str(" from ");
        s.push_str(h);
    }
    s
}
