//! The deliveries screen: one list's rows (a triage group, or every delivery of a status),
//! paged in by keyset over an absolute position; its filter and order are the store's.

use std::collections::BTreeMap;

use crate::model::delivery::{Anchor, DeliveryFilter, DeliveryRow, Sort};
use crate::triage::requeue::ResendVerdict;

use super::cursor::ListCursor;

/// Rows fetched per keyset page.
pub const PAGE_ROWS: usize = 200;
/// A page is fetched when the cursor comes this close to an edge of the loaded window;
/// larger than any single move, so scrolling never waits at an edge.
pub const PAGE_MARGIN: u64 = 120;
/// The most rows kept in memory for one table: memory stays flat however far one scrolls.
pub const WINDOW_ROWS: usize = 3 * PAGE_ROWS;

#[derive(Debug, Clone, Default)]
pub struct DeliveriesScreen {
    pub table: Option<DeliveryTable>,
    /// The order lists are shown in: kept from one list to the next.
    pub sort: Sort,
    /// Where the list was opened from, where Esc goes back to.
    pub from: Option<super::Screen>,
    /// Counts the pages asked for, so a page for a position left behind is known stale.
    pub generation: u64,
    /// The delivery a range mark started at.
    pub range_start: Option<i64>,
    /// Its position in the list: the range runs from the earlier end to the later one.
    pub range_position: u64,
}

/// A list's deliveries: a window of loaded rows over an absolute position in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTable {
    pub filter: DeliveryFilter,
    pub title: String,
    /// Rows in the list (the triage counts until the store has counted them).
    pub total: u64,
    /// Absolute index of `rows[0]`.
    pub start: u64,
    pub rows: Vec<DeliveryRow>,
    /// Over the whole group, not the window.
    pub cursor: ListCursor,
    /// The page being loaded, if any: one at a time, so held keys never queue pages.
    pub loading: Option<Anchor>,
    pub generation: u64,
    /// The re-queue rules' verdict on the loaded rows, by delivery id.
    pub verdicts: BTreeMap<i64, ResendVerdict>,
}

impl DeliveryTable {
    pub fn new(filter: DeliveryFilter, title: String, total: u64, generation: u64) -> Self {
        DeliveryTable {
            filter,
            title,
            total,
            start: 0,
            rows: Vec::new(),
            cursor: ListCursor::default(),
            loading: None,
            generation,
            verdicts: BTreeMap::new(),
        }
    }

    pub fn selected(&self) -> Option<&DeliveryRow> {
        let rel = self.cursor.selected.checked_sub(self.start)?;
        self.rows.get(rel as usize)
    }

    /// One past the absolute index of the last loaded row.
    pub fn loaded_end(&self) -> u64 {
        self.start + self.rows.len() as u64
    }
}
