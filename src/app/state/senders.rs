//! The senders screen: mail grouped by sender, sender domain, sending host or campaign,
//! most failed first (`report --by`'s groups), each opening its deliveries.

use crate::model::report::{SenderGroup, SenderKey};

use super::cursor::ListCursor;

/// Groups loaded: the most failed ones, as `report` lists them.
pub const SENDERS_LIMIT: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct SendersScreen {
    pub by: SenderKey,
    /// The groups of `by`, once loaded.
    pub groups: Option<Vec<SenderGroup>>,
    pub cursor: ListCursor,
}

impl SendersScreen {
    pub fn selected(&self) -> Option<&SenderGroup> {
        self.groups.as_ref()?.get(self.cursor.index())
    }

    pub fn len(&self) -> u64 {
        self.groups.as_ref().map_or(0, |g| g.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
