//! The chart screen: failures over time, queue ages, providers. Its time window is the one
//! every screen shares (`AppState::time_window`).

use crate::model::report::{SeriesBy, Timeline};

#[derive(Debug, Clone, Default)]
pub struct TimelineScreen {
    /// The series: per code, or per provider.
    pub by: SeriesBy,
    pub data: Option<Timeline>,
}
