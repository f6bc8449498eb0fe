//! What a live check (DNS, SMTP, blocklist, SPF/DMARC) said of a cause, as kept in the
//! store and shown.

use serde::Serialize;

/// What a check says of a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Fixed,
    Failing,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fixed => "fixed",
            Outcome::Failing => "failing",
            Outcome::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "fixed" => Some(Outcome::Fixed),
            "failing" => Some(Outcome::Failing),
            "unknown" => Some(Outcome::Unknown),
            _ => None,
        }
    }
}

/// One check of one cause (at one recipient domain, for DNS and SMTP checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub cause: String,
    pub destination: String,
    pub domain: Option<String>,
    pub host: String,
    pub check: String,
    pub result: Outcome,
    pub evidence: String,
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub checked_at: i64,
}
