//! Causes: failed deliveries grouped by their underlying reason.

use super::{DeliveryStatus, Reason};

/// A sender-side cause across this many recipient domains from one host is that host's
/// problem, not the destinations'.
pub const WIDESPREAD_MIN_DOMAINS: u64 = 5;

/// One failed delivery as the cause view needs it.
#[derive(Debug, Clone)]
pub struct FailedRow {
    pub cause: Reason,
    pub domain: String,
    pub provider: Option<String>,
    pub host: String,
    pub status: DeliveryStatus,
    pub first_attempt: Option<i64>,
    pub last_attempt: Option<i64>,
    /// The last deferral's text, else the final reply.
    pub text: Option<String>,
}
