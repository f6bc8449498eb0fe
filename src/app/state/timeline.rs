//! The chart screen: failures over time, queue ages, providers.

use crate::model::report::{SeriesBy, Timeline};

/// The narrowest span `]` goes down to.
pub const NARROWEST_SPAN: i64 = 3600;

#[derive(Debug, Clone, Default)]
pub struct TimelineScreen {
    /// The series: per code, or per provider.
    pub by: SeriesBy,
    /// The span charted, back from the last log line; `None`: all the window holds.
    pub span: Option<i64>,
    pub data: Option<Timeline>,
}

impl TimelineScreen {
    /// The span now shown, in seconds (the data's own when the whole is shown).
    pub fn shown_span(&self) -> Option<i64> {
        self.span.or_else(|| {
            self.data
                .as_ref()
                .map(|d| (d.end - d.start).max(NARROWEST_SPAN))
        })
    }

    /// Half the span, down to an hour.
    pub fn narrowed(&self) -> Option<i64> {
        self.shown_span().map(|s| (s / 2).max(NARROWEST_SPAN))
    }

    /// Twice the span; `None` (everything) once it covers all there is.
    pub fn widened(&self) -> Option<i64> {
        let span = self.span?;
        let whole = self
            .data
            .as_ref()
            .map(|d| d.end - d.clipped_from.unwrap_or(d.start));
        match whole {
            Some(w) if span.saturating_mul(2) >= w => None,
            _ => Some(span.saturating_mul(2)),
        }
    }
}
