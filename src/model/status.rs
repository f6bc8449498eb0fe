//! Delivery and attempt statuses.

use std::fmt;
use std::str::FromStr;

/// What became of one delivery (message × recipient): the store's `status` column, whose
/// CHECK admits exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryStatus {
    Sent,
    Deferred,
    Bounced,
    /// Still deferred when the MTA's queue lifetime ran out.
    Expired,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Sent,
        DeliveryStatus::Deferred,
        DeliveryStatus::Bounced,
        DeliveryStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Deferred => "deferred",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Expired => "expired",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}: use sent, deferred, bounced or expired")]
pub struct UnknownStatus(pub String);

impl FromStr for DeliveryStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A status compares equal to its spelling, so that a check reads like the record it
/// checks (`detail.status == "sent"`).
impl PartialEq<&str> for DeliveryStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for DeliveryStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What one attempt (a logged decision) says: an expiry is not an attempt, so it has no
/// place here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    Sent,
    Deferred,
    Bounced,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        DeliveryStatus::from(self).as_str()
    }
}

impl From<AttemptStatus> for DeliveryStatus {
    fn from(s: AttemptStatus) -> Self {
        match s {
            AttemptStatus::Sent => DeliveryStatus::Sent,
            AttemptStatus::Deferred => DeliveryStatus::Deferred,
            AttemptStatus::Bounced => DeliveryStatus::Bounced,
        }
    }
}

impl TryFrom<DeliveryStatus> for AttemptStatus {
    type Error = DeliveryStatus;
    fn try_from(s: DeliveryStatus) -> Result<Self, Self::Error> {
        match s {
            DeliveryStatus::Sent => Ok(AttemptStatus::Sent),
            DeliveryStatus::Deferred => Ok(AttemptStatus::Deferred),
            DeliveryStatus::Bounced => Ok(AttemptStatus::Bounced),
            DeliveryStatus::Expired => Err(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in DeliveryStatus::ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>().unwrap(), s);
        }
        assert!("Sent".parse::<DeliveryStatus>().is_err());
        for a in [
            AttemptStatus::Sent,
            AttemptStatus::Deferred,
            AttemptStatus::Bounced,
        ] {
            assert_eq!(AttemptStatus::try_from(DeliveryStatus::from(a)), Ok(a));
        }
        assert!(AttemptStatus::try_from(DeliveryStatus::Expired).is_err());
    }
}
