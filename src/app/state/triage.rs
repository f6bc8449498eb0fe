//! The triage screen: failed deliveries by code, the selected code's second level, its
//! causes and its explanation, and the mail at risk of expiring.

use std::collections::HashMap;

use crate::app::explain::ExplainPanel;
use crate::model::delivery::{Breakdown, Dimension, Overview};
use crate::model::report::{AtRisk, CauseCount};

use super::super::filter::Matched;
use super::cursor::{ListCursor, TextScroll};

/// Time buckets per sparkline.
pub const SPARK_BUCKETS: usize = 24;
/// Second-level values loaded per code.
pub const BREAKDOWN_LIMIT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Codes,
    Breakdown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownList {
    pub code: String,
    pub dim: Dimension,
    pub rows: Vec<Breakdown>,
}

/// A list as shown (the items the filter keeps, in order) and the cursor into it.
#[derive(Debug, Clone, Default)]
pub struct FilteredList {
    pub view: Vec<Matched>,
    pub cursor: ListCursor,
}

impl FilteredList {
    /// The index, in the full list, of the selected item.
    pub fn selected(&self) -> Option<usize> {
        self.view.get(self.cursor.index()).map(|m| m.index)
    }

    pub fn len(&self) -> u64 {
        self.view.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }
}

/// The explanation of the selected code, built when the selection (or its causes) change,
/// not on every frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownPanel {
    pub code: String,
    /// Whether the causes were in when it was built (they fill its first section).
    pub with_causes: bool,
    pub panel: ExplainPanel,
}

#[derive(Debug, Clone)]
pub struct TriageScreen {
    pub overview: Option<Overview>,
    /// Whether `overview.totals` includes the sent deliveries yet.
    pub sent_counted: bool,
    /// Per code (same order as `overview.codes`), the text its row shows and the filter
    /// matches: sanitised, so match positions are positions on screen.
    pub code_texts: Vec<String>,
    /// Still deferred and past half their queue lifetime, soonest to expire first.
    pub at_risk: Vec<AtRisk>,
    /// The time the at-risk list was judged at: `--now`, else the last log line.
    pub at_risk_as_of: Option<i64>,
    /// Frozen messages whose recipients the log never names: one line under the at-risk
    /// list.
    pub frozen: Vec<crate::model::report::FrozenMessage>,
    /// Failed domains that look like typos → the domain meant.
    pub typos: HashMap<String, String>,
    /// Per code (same order as `overview.codes`), when its failures happened.
    pub sparks: Vec<Option<Vec<u64>>>,
    /// The time the sparklines span: first and last failure (their time reference).
    pub spark_span: Option<(i64, i64)>,
    pub pane: Pane,
    pub dim: Dimension,
    pub codes: FilteredList,
    pub breakdown: Option<BreakdownList>,
    pub breakdown_list: FilteredList,
    /// The causes behind one code, counted.
    pub causes: Option<(String, Vec<CauseCount>)>,
    /// The explanation pane: back to the top for another code.
    pub explain: TextScroll,
    pub panel: Option<ShownPanel>,
}

impl Default for TriageScreen {
    fn default() -> Self {
        TriageScreen {
            overview: None,
            sent_counted: false,
            code_texts: Vec::new(),
            at_risk: Vec::new(),
            at_risk_as_of: None,
            frozen: Vec::new(),
            typos: HashMap::new(),
            sparks: Vec::new(),
            spark_span: None,
            pane: Pane::Codes,
            dim: Dimension::Domain,
            codes: FilteredList::default(),
            breakdown: None,
            breakdown_list: FilteredList::default(),
            causes: None,
            explain: TextScroll::new(),
            panel: None,
        }
    }
}

impl TriageScreen {
    /// The code under the cursor.
    pub fn selected_code(&self) -> Option<&str> {
        self.code_at(self.codes.selected()?)
    }

    pub fn code_at(&self, index: usize) -> Option<&str> {
        self.overview
            .as_ref()?
            .codes
            .get(index)
            .map(|c| c.code.as_str())
    }

    /// The second-level row under the cursor, when it belongs to the selected code.
    pub fn selected_breakdown(&self) -> Option<&Breakdown> {
        let b = self.current_breakdown()?;
        b.rows.get(self.breakdown_list.selected()?)
    }

    /// The loaded second level, if it is the selected code's in the current grouping.
    pub fn current_breakdown(&self) -> Option<&BreakdownList> {
        let code = self.selected_code()?;
        self.breakdown
            .as_ref()
            .filter(|b| b.code == code && b.dim == self.dim)
    }

    pub fn current_causes(&self) -> Option<&[CauseCount]> {
        let code = self.selected_code()?;
        self.causes
            .as_ref()
            .filter(|(c, _)| c == code)
            .map(|(_, v)| v.as_slice())
    }

    pub fn failed_total(&self) -> u64 {
        self.overview
            .as_ref()
            .map(|o| o.codes.iter().map(|c| c.count).sum())
            .unwrap_or(0)
    }
}
