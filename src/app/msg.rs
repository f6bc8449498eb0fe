//! What flows into `update` and what it asks for.

use std::collections::BTreeMap;

use ratatui::crossterm::event::KeyEvent;

use crate::model::delivery::{
    Anchor, Breakdown, DeliveryDetail, DeliveryFilter, DeliveryRow, Dimension, Overview, Sparklines,
};
use crate::model::report::{AtRisk, CauseCount, FrozenMessage, TypoDomain};
use crate::pipeline::{FileReport, Progress};
use crate::requeue::basket::{Basket, ExportOutcome, ResolveOutcome, UndoOutcome};
use crate::requeue::export::RequeueFormat;
use crate::triage::causes::{Cause, Widespread};
use crate::triage::requeue::ResendVerdict;

use super::state::ResolveScope;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// A click or a wheel turn (the keys stay the primary way).
    Mouse(ratatui::crossterm::event::MouseEvent),
    Resize(u16, u16),
    Overview(Overview),
    /// The at-risk list, the time it was judged at, and the frozen messages whose
    /// recipients the log never names (they are at risk too, and have no row of their own).
    AtRisk(Vec<AtRisk>, Option<i64>, Vec<FrozenMessage>),
    /// Failed recipient domains that look like typos, with the domain meant.
    Typos(Vec<TypoDomain>),
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
        /// How many rows the list has, when the page was asked to count them.
        total: Option<u64>,
        /// The re-queue rules' verdict on each row, by delivery id.
        verdicts: BTreeMap<i64, ResendVerdict>,
    },
    /// Fresh verdicts on loaded rows (a resolution or an export changed them).
    Verdicts(BTreeMap<i64, ResendVerdict>),
    Delivery {
        id: i64,
        detail: Option<Box<DeliveryDetail>>,
    },
    RawLines {
        id: i64,
        raw: crate::model::delivery::RawLines,
    },
    /// A page of search hits, or why the query cannot run.
    SearchHits {
        query: String,
        before: Option<i64>,
        hits: Result<Vec<crate::model::delivery::SearchHit>, String>,
    },
    /// The worker measures the rate: `update` has no clock.
    ImportProgress {
        progress: Progress,
        lines_per_sec: f64,
    },
    ImportDone(Result<Vec<FileReport>, String>),
    /// `--follow`: an import of what was appended was committed; `at` is the worker's
    /// clock when it read the lines (the screen says when the last line came).
    Followed {
        lines: u64,
        at: i64,
        /// The store's last log line then: the at-risk countdown runs on from it.
        log_now: Option<i64>,
    },
    /// `--follow`: the worker's clock, every `pipeline::follow::TICK` while nothing is written.
    Tick(i64),
    /// The marked delivery ids after a change, with what the change did in words.
    Marks {
        marks: std::collections::BTreeSet<i64>,
        note: Option<String>,
    },
    CauseList {
        causes: Vec<Cause>,
        widespread: Vec<Widespread>,
    },
    /// The scope a resolution on a second-level group would take (`None`: the group has
    /// no known cause), once the worker has found the group's own main cause.
    ResolvePrompt(Option<ResolveScope>),
    /// What the resolution being confirmed would make eligible, or why it may not be
    /// recorded (a typo domain, a name no failed delivery has).
    ResolvePreview(Result<Box<ResolveOutcome>, String>),
    Resolved(Box<ResolveOutcome>),
    Undone(Box<UndoOutcome>),
    Basket(Box<Basket>),
    /// An export finished: the file written (none when there was nothing to export).
    /// An export's outcome; its batch names the file written.
    Exported(Box<ExportOutcome>),
    /// The latest kept check of each cause, and the worker's clock when it read them (the
    /// screen says how long ago each was made).
    Checks {
        latest: Vec<crate::check::CheckResult>,
        as_of: i64,
    },
    /// A check the user asked for is done: its results, or the one line saying why it
    /// could not run.
    Checked(Result<Vec<crate::check::CheckResult>, String>),
    /// The chart screen's numbers.
    Timeline(Box<crate::model::report::Timeline>),
    /// The time window the store now counts in.
    Window(crate::model::report::TimeWindow),
    /// The senders list grouped `by`.
    Senders {
        by: crate::model::report::SenderKey,
        groups: Vec<crate::model::report::SenderGroup>,
    },
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Import(Vec<String>),
    /// Keep importing what is appended to these files (`--follow`), in the background.
    Follow(Vec<String>),
    LoadOverview,
    LoadSentCount,
    /// Deferred deliveries near their queue lifetime (`None`: each format's default).
    LoadAtRisk {
        queue_lifetime: Option<i64>,
        /// What "now" is (`--now`); `None`: the last log line.
        now: Option<i64>,
    },
    LoadTypos,
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
    /// Find the main cause of one second-level group of `code`, to resolve it.
    PrepareGroupResolve {
        code: String,
        dim: Dimension,
        value: Option<String>,
    },
    LoadPage {
        generation: u64,
        filter: DeliveryFilter,
        anchor: Anchor,
        limit: usize,
        /// Count the list's rows too (a list opened, filtered or re-sorted).
        count: bool,
    },
    LoadDelivery {
        id: i64,
    },
    /// The log lines behind a delivery, read back from their files.
    LoadRawLines {
        id: i64,
    },
    /// A page of search hits: below `before` (None: the first page).
    Search {
        query: String,
        before: Option<i64>,
    },
    /// The re-queue rules' verdict on these deliveries again.
    JudgeRows {
        ids: Vec<i64>,
    },
    LoadMarks,
    Mark {
        ids: Vec<i64>,
    },
    Unmark {
        ids: Vec<i64>,
    },
    /// Marks every delivery of the list from `from_id` to `to_id` (inclusive) in its
    /// order, `from_id` coming first.
    MarkRange {
        filter: DeliveryFilter,
        from_id: i64,
        to_id: i64,
    },
    /// Marks the eligible deliveries of the list (its `/` filter included).
    MarkEligible {
        filter: DeliveryFilter,
    },
    /// Unmarks the list's marked deliveries (its `/` filter included).
    UnmarkInView {
        filter: DeliveryFilter,
    },
    LoadCauseList,
    /// Works out what a resolution would make eligible, recording nothing.
    PreviewResolve {
        scope: ResolveScope,
    },
    Resolve {
        scope: ResolveScope,
        note: String,
    },
    UndoResolution {
        id: i64,
    },
    /// Runs the live checks of one cause and keeps their results.
    RunCheck {
        scope: ResolveScope,
        /// The panels, for what they say about how long a cause no lookup can settle lasts.
        knowledge: SharedKnowledge,
    },
    LoadBasket,
    /// Writes the eligible marked deliveries to a new file in `dir`, as one batch; with
    /// `again`, those already exported too.
    Export {
        format: RequeueFormat,
        dir: std::path::PathBuf,
        again: bool,
    },
    /// The senders list grouped `by`, most failed first.
    LoadSenders {
        by: crate::model::report::SenderKey,
    },
    /// Narrow (`narrow`) or widen the time window every screen counts in.
    StepWindow {
        narrow: bool,
    },
    /// The chart screen's numbers over the last `span` seconds (`None`: all).
    LoadTimeline {
        by: crate::model::report::SeriesBy,
        span: Option<i64>,
        queue_lifetime: Option<i64>,
        now: Option<i64>,
    },
    Quit,
}

/// The panels as an effect carries them to the worker: the same load is the same panels.
#[derive(Debug, Clone)]
pub struct SharedKnowledge(pub std::sync::Arc<crate::knowledge::Knowledge>);

impl PartialEq for SharedKnowledge {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedKnowledge {}
