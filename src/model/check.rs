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

/// What `sendlog check` was last told about this store's mail system: kept so the next
/// run (and the Causes screen's check) need not be told again. Empty: not told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CheckDefaults {
    /// The sending addresses to look up in blocklists.
    #[serde(default)]
    pub ips: Vec<std::net::IpAddr>,
    /// The blocklist zones to ask.
    #[serde(default)]
    pub zones: Vec<String>,
    /// The DNS server to ask.
    #[serde(default)]
    pub resolver: Option<std::net::SocketAddr>,
}
