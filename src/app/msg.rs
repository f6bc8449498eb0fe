//! What flows into `update` and what it asks for.

use ratatui::crossterm::event::KeyEvent;

use crate::import::{FileReport, Progress};
use crate::store::browse::{
    Anchor, Breakdown, DeliveryDetail, DeliveryFilter, DeliveryRow, Dimension, Overview, Sparklines,
};
use crate::store::report::CauseCount;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Overview(Overview),
    SentCount(u64),
    Sparklines(Sparklines),
    Breakdown {
        code: String,
        dim: Dimension,
        rows: Vec<Breakdown>,
    },
    Causes {
        code: String,
        causes: Vec<CauseCount>,
    },
    Page {
        generation: u64,
        anchor: Anchor,
        rows: Vec<DeliveryRow>,
    },
    Delivery {
        id: i64,
        detail: Option<Box<DeliveryDetail>>,
    },
    /// The worker measures the rate: `update` has no clock.
    ImportProgress {
        progress: Progress,
        lines_per_sec: f64,
    },
    ImportDone(Result<Vec<FileReport>, String>),
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Import(Vec<String>),
    LoadOverview,
    LoadSentCount,
    LoadSparklines {
        buckets: usize,
    },
    LoadBreakdown {
        code: String,
        dim: Dimension,
    },
    LoadCauses {
        code: String,
    },
    LoadPage {
        generation: u64,
        filter: DeliveryFilter,
        anchor: Anchor,
        limit: usize,
    },
    LoadDelivery {
        id: i64,
    },
    Quit,
}
