//! The causes screen: causes with evidence, and the hosts whose problem is widespread.

use crate::triage::causes::{Cause, Widespread};

use super::cursor::ListCursor;

#[derive(Debug, Clone)]
pub struct CausesView {
    pub causes: Vec<Cause>,
    pub widespread: Vec<Widespread>,
}

#[derive(Debug, Clone, Default)]
pub struct CausesScreen {
    pub view: Option<CausesView>,
    pub cursor: ListCursor,
    pub checks: ChecksView,
}

/// Live checks as the causes screen shows them.
#[derive(Debug, Clone, Default)]
pub struct ChecksView {
    /// The latest kept check of each cause.
    pub latest: Vec<crate::check::CheckResult>,
    /// When `latest` was read (the worker's clock).
    pub as_of: Option<i64>,
    /// The cause being checked now: one check at a time.
    pub running: Option<super::ResolveScope>,
}

impl CausesScreen {
    pub fn selected_cause(&self) -> Option<&Cause> {
        self.view.as_ref()?.causes.get(self.cursor.index())
    }

    pub fn len(&self) -> u64 {
        self.view.as_ref().map_or(0, |v| v.causes.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
