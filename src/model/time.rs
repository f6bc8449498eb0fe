//! Times as sendlog writes them for a user to read: RFC 3339 in UTC.

/// Formats unix seconds as RFC 3339 UTC (`2026-05-16T14:13:25Z`).
pub fn format_rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Unix seconds written as RFC 3339 in JSON output, so every time a user reads from
/// sendlog's JSON has one form (`#[serde(serialize_with = "…")]`).
pub mod json_time {
    use super::format_rfc3339;

    pub fn required<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*t))
    }

    pub fn optional<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_rfc3339(*t)),
            None => s.serialize_none(),
        }
    }
}
