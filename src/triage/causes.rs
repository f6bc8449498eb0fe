//! Underlying causes: failed deliveries grouped by reason × destination (the provider when
//! one is known, else the recipient domain) × sending host, with the evidence a user needs
//! to fix them and the state of their resolution. A cause seen from one host across many
//! destinations is that host's problem ("widespread").

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::requeue::Resolution;
use crate::model::{DeliveryStatus, Reason};
use crate::wording::plural;

pub use crate::model::FailedRow;

/// Whether a cause has been dealt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseState {
    /// No resolution covers any of its deliveries.
    Unresolved,
    /// Some deliveries are covered by a resolution made after their last attempt.
    PartlyResolved,
    /// Every delivery is covered by a resolution made after its last attempt.
    Resolved,
    /// Resolved, yet deliveries failed again after the resolution: the fix did not hold.
    FailedAgain,
}

impl CauseState {
    pub fn as_str(self) -> &'static str {
        match self {
            CauseState::Unresolved => "unresolved",
            CauseState::PartlyResolved => "partly resolved",
            CauseState::Resolved => "resolved",
            CauseState::FailedAgain => "failed again after resolution",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub reason: Reason,
    /// The provider (`Microsoft`) or, when none is known, the recipient domain.
    pub destination: String,
    pub destination_is_provider: bool,
    pub host: String,
    pub count: u64,
    pub expired: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub domain_count: u64,
    /// Busiest recipient domains first (at most `TOP`).
    pub top_domains: Vec<(String, u64)>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub first_seen: Option<i64>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub last_seen: Option<i64>,
    /// Distinct reply texts (at most `EXAMPLES`).
    pub examples: Vec<String>,
    pub state: CauseState,
    /// Deliveries covered by a resolution made after their last attempt.
    pub resolved: u64,
    /// Deliveries whose last attempt came after the latest resolution covering them.
    pub failed_after_resolution: u64,
    /// The latest resolution covering any of its deliveries.
    pub resolution: Option<Resolution>,
    #[serde(skip)]
    domains: BTreeMap<String, u64>,
}

const TOP: usize = 5;
const EXAMPLES: usize = 3;

/// Aggregates failed deliveries into causes, biggest first, and sets each cause's
/// resolution state from `resolutions`.
pub fn causes(rows: impl IntoIterator<Item = FailedRow>, resolutions: &[Resolution]) -> Vec<Cause> {
    let mut by_key: HashMap<(Reason, String, String), Cause> = HashMap::new();
    for r in rows {
        let destination = r.provider.clone().unwrap_or_else(|| r.domain.clone());
        let key = (r.cause, destination.clone(), r.host.clone());
        let c = by_key.entry(key).or_insert_with(|| Cause {
            reason: r.cause,
            destination,
            destination_is_provider: r.provider.is_some(),
            host: r.host.clone(),
            count: 0,
            expired: 0,
            deferred: 0,
            bounced: 0,
            domain_count: 0,
            top_domains: Vec::new(),
            first_seen: None,
            last_seen: None,
            examples: Vec::new(),
            state: CauseState::Unresolved,
            resolved: 0,
            failed_after_resolution: 0,
            resolution: None,
            domains: BTreeMap::new(),
        });
        c.count += 1;
        match r.status {
            DeliveryStatus::Expired => c.expired += 1,
            DeliveryStatus::Deferred => c.deferred += 1,
            DeliveryStatus::Bounced => c.bounced += 1,
            DeliveryStatus::Sent => {}
        }
        *c.domains.entry(r.domain.clone()).or_default() += 1;
        c.first_seen = min_opt(c.first_seen, r.first_attempt);
        c.last_seen = c.last_seen.max(r.last_attempt);
        if let Some(t) = r.text
            && c.examples.len() < EXAMPLES
            && !c.examples.contains(&t)
        {
            c.examples.push(t);
        }
        let latest = resolutions
            .iter()
            .filter(|res| res.covers(Some(r.cause), &r.domain, r.provider.as_deref(), &r.host))
            .max_by_key(|res| (res.resolved_at, res.id));
        if let Some(res) = latest {
            if r.last_attempt.is_some_and(|t| t > res.resolved_at) {
                c.failed_after_resolution += 1;
            } else {
                c.resolved += 1;
            }
            if c.resolution
                .as_ref()
                .is_none_or(|old| (old.resolved_at, old.id) < (res.resolved_at, res.id))
            {
                c.resolution = Some(res.clone());
            }
        }
    }
    let mut out: Vec<Cause> = by_key.into_values().collect();
    for c in &mut out {
        c.domain_count = c.domains.len() as u64;
        let mut top: Vec<(String, u64)> = c.domains.iter().map(|(d, n)| (d.clone(), *n)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP);
        c.top_domains = top;
        c.state = if c.failed_after_resolution > 0 {
            CauseState::FailedAgain
        } else if c.resolved == c.count {
            CauseState::Resolved
        } else if c.resolved > 0 {
            CauseState::PartlyResolved
        } else {
            CauseState::Unresolved
        };
    }
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.reason.cmp(&b.reason))
            .then_with(|| a.destination.cmp(&b.destination))
            .then_with(|| a.host.cmp(&b.host))
    });
    out
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub use crate::model::WIDESPREAD_MIN_DOMAINS;

/// One sender-side reason from one sending host across many destinations.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Widespread {
    pub reason: Reason,
    pub host: String,
    pub deliveries: u64,
    pub domains: u64,
    /// Providers and provider-less domains reached, busiest first.
    pub destinations: Vec<String>,
}

impl Widespread {
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} from {} across {} ({}; {}): look at that host's reputation and setup, not the destinations",
            self.reason,
            self.host,
            plural(self.domains, "domain", "domains"),
            plural(self.deliveries, "delivery", "deliveries"),
            self.destinations.join(", ")
        )
    }
}

/// Sender-side causes that reach many domains from one host, biggest first.
pub fn widespread(causes: &[Cause]) -> Vec<Widespread> {
    type Acc<'a> = (u64, BTreeSet<&'a str>, BTreeMap<&'a str, u64>);
    let mut by_host: BTreeMap<(Reason, &str), Acc<'_>> = BTreeMap::new();
    for c in causes.iter().filter(|c| c.reason.is_sender_side()) {
        let e = by_host.entry((c.reason, &c.host)).or_default();
        e.0 += c.count;
        e.1.extend(c.domains.keys().map(String::as_str));
        *e.2.entry(&c.destination).or_default() += c.count;
    }
    let mut out: Vec<Widespread> = by_host
        .into_iter()
        .filter(|(_, (_, domains, _))| domains.len() as u64 >= WIDESPREAD_MIN_DOMAINS)
        .map(|((reason, host), (n, domains, dests))| {
            let mut dests: Vec<(&str, u64)> = dests.into_iter().collect();
            dests.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            Widespread {
                reason,
                host: host.to_string(),
                deliveries: n,
                domains: domains.len() as u64,
                destinations: dests
                    .into_iter()
                    .take(TOP)
                    .map(|(d, _)| d.to_string())
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.deliveries
            .cmp(&a.deliveries)
            .then_with(|| a.host.cmp(&b.host))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cause: &str, domain: &str, provider: Option<&str>, host: &str, last: i64) -> FailedRow {
        FailedRow {
            cause: cause.parse().unwrap(),
            domain: domain.into(),
            provider: provider.map(String::from),
            host: host.into(),
            status: DeliveryStatus::Expired,
            first_attempt: Some(last - 100),
            last_attempt: Some(last),
            text: Some(format!("451 4.7.650 rate limited {domain}")),
        }
    }

    #[test]
    fn hosted_domains_group_under_their_provider_per_host() {
        let rows = vec![
            row(
                "badreputation",
                "contoso.example",
                Some("Microsoft"),
                "mta2",
                50,
            ),
            row(
                "badreputation",
                "outlook.com",
                Some("Microsoft"),
                "mta2",
                60,
            ),
            row(
                "badreputation",
                "outlook.com",
                Some("Microsoft"),
                "mta1",
                70,
            ),
            row("networkerror", "old.example", None, "mta1", 80),
        ];
        let res = [Resolution {
            id: 1,
            reason: Reason::BadReputation,
            destination: Some("Microsoft".into()),
            host: Some("mta2".into()),
            resolved_at: 55,
            note: String::new(),
        }];
        let cs = causes(rows, &res);
        assert_eq!(cs.len(), 3);
        let c = &cs[0];
        assert_eq!(
            (c.reason.as_str(), c.destination.as_str(), c.host.as_str()),
            ("badreputation", "Microsoft", "mta2")
        );
        assert_eq!(
            (
                c.count,
                c.domain_count,
                c.resolved,
                c.failed_after_resolution
            ),
            (2, 2, 1, 1)
        );
        assert_eq!(c.state, CauseState::FailedAgain);
        assert_eq!(c.first_seen, Some(-50));
        assert_eq!(c.last_seen, Some(60));
        assert_eq!(c.examples.len(), 2);
        let other = cs
            .iter()
            .find(|c| c.host == "mta1" && c.reason == "badreputation")
            .unwrap();
        assert_eq!(other.state, CauseState::Unresolved);
        assert!(widespread(&cs).is_empty());
    }

    #[test]
    fn one_host_across_many_domains_is_widespread() {
        let mut rows: Vec<FailedRow> = (0..6)
            .map(|i| row("blocked", &format!("d{i}.example"), None, "mta1", 10))
            .collect();
        // The same reason from another host at fewer domains is not.
        rows.push(row("blocked", "d0.example", None, "mta2", 10));
        // Nor is a recipient-side reason, however many domains.
        rows.extend((0..9).map(|i| row("userunknown", &format!("u{i}.example"), None, "mta1", 10)));
        let w = widespread(&causes(rows, &[]));
        assert_eq!(w.len(), 1);
        assert_eq!(
            (
                w[0].reason.as_str(),
                w[0].host.as_str(),
                w[0].domains,
                w[0].deliveries
            ),
            ("blocked", "mta1", 6, 6)
        );
    }
}
