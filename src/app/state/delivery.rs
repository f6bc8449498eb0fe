//! The delivery screen: one delivery's outcome, facts and attempts.

use crate::model::delivery::DeliveryDetail;

use super::cursor::TextScroll;

#[derive(Debug, Clone)]
pub struct DeliveryScreen {
    /// The delivery asked for; a reply for another one is stale.
    pub id: Option<i64>,
    pub detail: Option<DeliveryDetail>,
    pub scroll: TextScroll,
    /// The log lines behind it, once read back from their files.
    pub raw: Option<crate::model::delivery::RawLines>,
}

impl Default for DeliveryScreen {
    fn default() -> Self {
        DeliveryScreen {
            id: None,
            detail: None,
            scroll: TextScroll::new(),
            raw: None,
        }
    }
}
