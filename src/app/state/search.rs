//! The search screen: deliveries of every status matching a query, newest first, paged in
//! from the store by keyset as the cursor nears the end of what is loaded.

use crate::model::delivery::SearchHit;

use super::cursor::ListCursor;

/// Deliveries asked for per page.
pub const SEARCH_PAGE: u32 = 200;
/// The next page is asked for when the cursor comes this close to the last loaded hit.
pub const SEARCH_MARGIN: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct SearchScreen {
    /// The query as typed (while the search overlay is open, keys edit it).
    pub input: String,
    /// The query whose hits are shown; a reply for another one is stale.
    pub query: Option<String>,
    pub hits: Vec<SearchHit>,
    pub cursor: ListCursor,
    /// A page is being loaded (one at a time).
    pub loading: bool,
    /// The last page came back short: nothing more matches.
    pub complete: bool,
    /// Why the query cannot run, in words.
    pub error: Option<String>,
    /// The delivery screen was opened from here, so Esc there comes back here.
    pub opened: bool,
}

impl SearchScreen {
    pub fn selected(&self) -> Option<&SearchHit> {
        self.hits.get(self.cursor.index())
    }
}
