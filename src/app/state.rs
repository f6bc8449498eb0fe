//! Everything the screens show, in memory. Rendering reads only this.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::pipeline::FileReport;
use crate::store::browse::{
    Anchor, Breakdown, DeliveryDetail, DeliveryFilter, DeliveryRow, Dimension, Overview,
};
use crate::store::report::{AtRisk, CauseCount};
use crate::triage::basket::Basket;
use crate::triage::causes::{Cause, Widespread};
use crate::triage::requeue::{Verdict, judge};
use crate::triage::requeue_export::Format;

use super::filter::Matched;
use super::keymap::{Context, Keymap};

/// Rows fetched per keyset page.
pub const PAGE_ROWS: usize = 200;
/// A page is fetched when the cursor comes this close to an edge of the loaded window;
/// larger than any single move, so scrolling never waits at an edge.
pub const PAGE_MARGIN: u64 = 120;
/// The most rows kept in memory for one table: memory stays flat however far one scrolls.
pub const WINDOW_ROWS: usize = 3 * PAGE_ROWS;
/// Time buckets per sparkline.
pub const SPARK_BUCKETS: usize = 24;
/// Second-level values loaded per code.
pub const BREAKDOWN_LIMIT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Import,
    Triage,
    Deliveries,
    Delivery,
    Causes,
    Basket,
}

impl Screen {
    pub fn context(self) -> Context {
        match self {
            Screen::Import => Context::Global,
            Screen::Triage => Context::Triage,
            Screen::Deliveries => Context::Deliveries,
            Screen::Delivery => Context::Delivery,
            Screen::Causes => Context::Causes,
            Screen::Basket => Context::Basket,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Codes,
    Breakdown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileProgress {
    pub name: String,
    pub lines: u64,
    pub bytes: u64,
    pub total_bytes: Option<u64>,
    pub lines_per_sec: f64,
    pub done: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ImportView {
    pub files: Vec<String>,
    pub progress: Vec<FileProgress>,
    pub reports: Option<Vec<FileReport>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub query: String,
    /// Keys type into the query until Enter or Esc.
    pub editing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownList {
    pub code: String,
    pub dim: Dimension,
    pub rows: Vec<Breakdown>,
}

/// A group's deliveries: a window of loaded rows over an absolute position in the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTable {
    pub filter: DeliveryFilter,
    pub title: String,
    /// Rows in the group (from the counts).
    pub total: u64,
    /// Absolute index of `rows[0]`.
    pub start: u64,
    pub rows: Vec<DeliveryRow>,
    /// Absolute index of the selected row.
    pub cursor: u64,
    /// Absolute index of the first row on screen.
    pub top: u64,
    /// The page being loaded, if any: one at a time, so held keys never queue pages.
    pub loading: Option<Anchor>,
    pub generation: u64,
    /// With a filter: matches among the loaded rows and the cursor among them.
    pub matched: Vec<Matched>,
    pub matched_cursor: usize,
    /// The re-queue rules' verdict on the loaded rows, by delivery id.
    pub verdicts: BTreeMap<i64, Verdict>,
}

impl DeliveryTable {
    pub fn selected(&self) -> Option<&DeliveryRow> {
        if !self.matched.is_empty() {
            return self
                .matched
                .get(self.matched_cursor)
                .and_then(|m| self.rows.get(m.index));
        }
        let rel = self.cursor.checked_sub(self.start)?;
        self.rows.get(rel as usize)
    }
}

/// The causes screen's rows: causes with evidence, and the hosts whose problem is widespread.
#[derive(Debug, Clone)]
pub struct CausesView {
    pub causes: Vec<Cause>,
    pub widespread: Vec<Widespread>,
}

/// What a resolution covers: a reason, optionally at one destination (domain or provider)
/// and from one sending host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveScope {
    pub reason: String,
    pub destination: Option<String>,
    pub host: Option<String>,
}

impl ResolveScope {
    pub fn describe(&self) -> String {
        let mut s = self.reason.clone();
        if let Some(d) = &self.destination {
            s.push_str(" at ");
            s.push_str(d);
        }
        if let Some(h) = &self.host {
            s.push_str(" from ");
            s.push_str(h);
        }
        s
    }
}

/// The one-line note typed before a resolution is recorded. While it is open, keys type.
/// Enter asks what the resolution would make eligible; with that shown, Enter records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteInput {
    pub scope: ResolveScope,
    pub note: String,
    /// The preview, once the worker has answered (`ResolveOutcome::preview_counts`).
    pub preview: Option<String>,
}

/// The confirm step of an export: the format, cycled with Tab, and whether deliveries
/// already exported go out again (the CLI's `--again`); the directory is `export_dir`,
/// which `dir_input` edits while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportConfirm {
    pub format: Format,
    pub again: bool,
    /// The directory being typed, when the user chose to change it.
    pub dir_input: Option<String>,
}

/// What an export in a format would take from the basket, counted from the verdicts in
/// memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportCounts {
    pub to_export: u64,
    /// Eligible, but the format cannot carry them (e.g. postfix: no longer queued).
    pub not_in_format: u64,
    /// The same, by why not (`Format::accepts`), so the confirm step can say it.
    pub not_in_format_why: std::collections::BTreeMap<&'static str, u64>,
    /// Already exported, and left out.
    pub already_exported: u64,
    /// Already exported, and going out again (counted in `to_export` too).
    pub exported_again: u64,
    /// Excluded by any other rule.
    pub excluded: u64,
}

pub fn export_counts(basket: &Basket, format: Format, again: bool) -> ExportCounts {
    let mut n = ExportCounts::default();
    for j in &basket.marked {
        let exported = matches!(&j.verdict,
            Verdict::Excluded { exclusion } if exclusion.rule() == "already_exported");
        let verdict = if exported && again {
            // The other rules still hold for a delivery sent out again.
            judge(&j.candidate, &basket.resolutions, true)
        } else {
            j.verdict.clone()
        };
        match verdict {
            Verdict::Eligible { .. } => match format.accepts(&j.candidate, false) {
                Ok(()) => {
                    n.to_export += 1;
                    n.exported_again += u64::from(exported);
                }
                Err(why) => {
                    n.not_in_format += 1;
                    *n.not_in_format_why.entry(why).or_default() += 1;
                }
            },
            Verdict::Excluded { .. } if exported && !again => n.already_exported += 1,
            Verdict::Excluded { .. } => n.excluded += 1,
        }
    }
    n
}

/// The file an export will be written to: named after its batch, in `dir`.
pub fn export_file_name(batch: i64, format: Format) -> String {
    format!("sendlog-batch-{batch}.{}", format.extension())
}

pub fn next_format(f: Format) -> Format {
    match f {
        Format::Csv => Format::Jsonl,
        Format::Jsonl => Format::Postfix,
        Format::Postfix => Format::Exchange,
        Format::Exchange => Format::Csv,
    }
}

/// A list as last drawn, for the mouse: where its rows are on screen and which row is at
/// the top (its index in the list as the cursor counts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickTarget {
    pub rows: ratatui::layout::Rect,
    pub top: u64,
    pub list: ClickList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickList {
    Codes,
    Breakdown,
    Deliveries,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub keymap: Keymap,
    pub no_color: bool,
    /// The terminal's background is light: the colours for it.
    pub light: bool,
    pub size: (u16, u16),
    pub screen: Screen,
    pub help: bool,
    /// Rows the help overlay is scrolled by.
    pub help_scroll: usize,
    pub quit: bool,
    /// A one-line note or error for the status bar.
    pub status: Option<String>,
    /// A problem found at start (a broken user keymap) that later notes must not hide.
    pub warning: Option<String>,
    pub import: Option<ImportView>,

    pub overview: Option<Overview>,
    /// Whether `overview.totals` includes the sent deliveries yet.
    pub sent_counted: bool,
    /// Still deferred and past half their queue lifetime, soonest to expire first.
    pub at_risk: Vec<AtRisk>,
    /// The time the at-risk list was judged at: `--now`, else the last log line.
    pub at_risk_as_of: Option<i64>,
    /// `--now`: what "at risk" is judged against instead of the last log line.
    pub now: Option<i64>,
    /// `--since`/`--until` as the header states them: every count is of that window only.
    pub window: Option<String>,
    /// Failed domains that look like typos → the domain meant.
    pub typos: std::collections::HashMap<String, String>,
    /// The queue lifetime the user gave (`--queue-lifetime`); else each format's default.
    pub queue_lifetime: Option<i64>,
    /// Per code (same order as `overview.codes`), when its failures happened.
    pub sparks: Vec<Option<Vec<u64>>>,
    /// The time the sparklines span: first and last failure (their time reference).
    pub spark_span: Option<(i64, i64)>,
    pub pane: Pane,
    pub dim: Dimension,
    /// The codes list as shown (filtered), and the cursor into it.
    pub codes_view: Vec<Matched>,
    pub codes_cursor: usize,
    pub breakdown: Option<BreakdownList>,
    pub breakdown_view: Vec<Matched>,
    pub breakdown_cursor: usize,
    pub causes: Option<(String, Vec<CauseCount>)>,
    /// Lines the explanation pane is scrolled by; back to the top for another code.
    pub explain_scroll: u16,
    /// How far the explanation can scroll before its last line leaves the bottom: only the
    /// renderer knows how its lines wrap, so it leaves the answer here for `update`.
    pub explain_max: std::cell::Cell<u16>,
    pub filter: Option<Filter>,

    pub table: Option<DeliveryTable>,
    pub generation: u64,
    pub detail: Option<DeliveryDetail>,
    pub detail_id: Option<i64>,
    pub detail_scroll: u16,
    /// The same limit for the Delivery screen's text.
    pub detail_max: std::cell::Cell<u16>,
    /// The lists on screen, as the renderer last drew them, for mouse clicks.
    pub click_targets: std::cell::RefCell<Vec<ClickTarget>>,

    /// Marked deliveries (ids), as the store has them.
    pub marks: BTreeSet<i64>,
    /// The delivery a range mark started at (rows are in id order, so the range is an
    /// id range).
    pub range_start: Option<i64>,
    pub causes_view: Option<CausesView>,
    pub causes_cursor: usize,
    pub basket: Option<Basket>,
    pub basket_cursor: usize,
    /// The screen Esc returns to from the basket.
    pub basket_from: Screen,
    pub note_input: Option<NoteInput>,
    pub export_confirm: Option<ExportConfirm>,
    /// Exports are written here (the directory sendlog was started in).
    pub export_dir: PathBuf,
}

impl AppState {
    pub fn new(keymap: Keymap, no_color: bool, size: (u16, u16)) -> Self {
        AppState {
            keymap,
            no_color,
            light: false,
            size,
            screen: Screen::Triage,
            help: false,
            help_scroll: 0,
            quit: false,
            status: None,
            warning: None,
            import: None,
            overview: None,
            sent_counted: false,
            at_risk: Vec::new(),
            at_risk_as_of: None,
            now: None,
            window: None,
            typos: Default::default(),
            queue_lifetime: None,
            sparks: Vec::new(),
            spark_span: None,
            pane: Pane::Codes,
            dim: Dimension::Domain,
            codes_view: Vec::new(),
            codes_cursor: 0,
            breakdown: None,
            breakdown_view: Vec::new(),
            breakdown_cursor: 0,
            causes: None,
            explain_scroll: 0,
            explain_max: std::cell::Cell::new(u16::MAX),
            filter: None,
            table: None,
            generation: 0,
            detail: None,
            detail_id: None,
            detail_scroll: 0,
            detail_max: std::cell::Cell::new(u16::MAX),
            click_targets: Default::default(),
            marks: BTreeSet::new(),
            range_start: None,
            causes_view: None,
            causes_cursor: 0,
            basket: None,
            basket_cursor: 0,
            basket_from: Screen::Triage,
            note_input: None,
            export_confirm: None,
            export_dir: PathBuf::from("."),
        }
    }

    pub fn selected_cause(&self) -> Option<&Cause> {
        self.causes_view.as_ref()?.causes.get(self.causes_cursor)
    }

    /// The batch id the next export will get (ids are never reused: batches are never
    /// deleted), for naming its file before it is written.
    pub fn next_batch_id(&self) -> i64 {
        self.basket
            .as_ref()
            .and_then(|b| b.batches.iter().map(|b| b.id).max())
            .unwrap_or(0)
            + 1
    }

    /// The code under the cursor on the triage screen.
    pub fn selected_code(&self) -> Option<&str> {
        let ov = self.overview.as_ref()?;
        let m = self.codes_view.get(self.codes_cursor)?;
        ov.codes.get(m.index).map(|c| c.code.as_str())
    }

    /// The second-level row under the cursor, when it belongs to the selected code.
    pub fn selected_breakdown(&self) -> Option<&Breakdown> {
        let b = self.current_breakdown()?;
        let m = self.breakdown_view.get(self.breakdown_cursor)?;
        b.rows.get(m.index)
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

    /// Rows a table shows at the current terminal height (header, borders, status bar).
    pub fn table_rows(&self) -> usize {
        (self.size.1 as usize).saturating_sub(5).max(1)
    }

    pub fn failed_total(&self) -> u64 {
        self.overview
            .as_ref()
            .map(|o| o.codes.iter().map(|c| c.count).sum())
            .unwrap_or(0)
    }
}
