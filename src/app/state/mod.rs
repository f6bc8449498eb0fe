//! Everything the screens show, in memory. Rendering reads only this.
//!
//! One struct per screen (`triage`, `deliveries`, `delivery`, `causes`, `basket`, and the
//! import's progress), what they share beside them in `AppState`, one `ListCursor` under
//! every list, and at most one `Overlay` taking the keys.

pub mod basket;
pub mod causes;
pub mod cursor;
pub mod deliveries;
pub mod delivery;
pub mod overlay;
pub mod search;
pub mod senders;
pub mod timeline;
pub mod triage;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::knowledge::Knowledge;
use crate::pipeline::FileReport;

use super::keymap::{Context, Keymap};

pub use basket::{BasketScreen, ExportCounts, export_counts, export_file_name, next_format};
pub use causes::{CausesScreen, CausesView, ChecksView};
pub use cursor::{ListCursor, Move, TextScroll};
pub use deliveries::{DeliveriesScreen, DeliveryTable, PAGE_MARGIN, PAGE_ROWS, WINDOW_ROWS};
pub use delivery::DeliveryScreen;
pub use overlay::{ExportConfirm, NoteInput, Overlay, ResolveScope};
pub use search::{SEARCH_MARGIN, SEARCH_PAGE, SearchScreen};
pub use senders::{SENDERS_LIMIT, SendersScreen};
pub use timeline::TimelineScreen;
pub use triage::{BREAKDOWN_LIMIT, BreakdownList, FilteredList, Pane, SPARK_BUCKETS, TriageScreen};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Import,
    Triage,
    Deliveries,
    Delivery,
    Causes,
    Basket,
    Timeline,
    Search,
    Senders,
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
            Screen::Timeline => Context::Timeline,
            Screen::Search => Context::Search,
            Screen::Senders => Context::Senders,
        }
    }
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

/// A followed log: when its last line was read, and what changed since the user last
/// pressed a key (the counts then are the baseline; a key press is a look).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// The worker's clock when the last appended lines were committed.
    pub last_read: Option<i64>,
    /// The store's last log line at that commit.
    pub log_now: Option<i64>,
    /// Lines read since the screen opened.
    pub lines: u64,
    /// Expired deliveries and deliveries at risk as last looked at (`None`: not known yet).
    pub seen_expired: Option<u64>,
    pub seen_at_risk: Option<u64>,
    /// Sender-side causes spanning many domains, as last looked at.
    pub seen_widespread: Option<u64>,
    /// What is new since then.
    pub new_expired: u64,
    pub new_at_risk: u64,
    pub new_widespread: u64,
}

impl Live {
    /// The badge's words, when anything is new.
    pub fn badge(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.new_expired > 0 {
            parts.push(format!("{} expired", self.new_expired));
        }
        if self.new_at_risk > 0 {
            parts.push(format!("{} newly at risk", self.new_at_risk));
        }
        if self.new_widespread > 0 {
            parts.push(format!(
                "{} widespread cause{}",
                self.new_widespread,
                if self.new_widespread == 1 { "" } else { "s" }
            ));
        }
        (!parts.is_empty()).then(|| format!("new since you looked: {}", parts.join(", ")))
    }

    /// The user looked: what is on screen now is the baseline.
    pub fn looked(&mut self) {
        if let Some(e) = self.seen_expired.as_mut() {
            *e += self.new_expired;
        }
        if let Some(r) = self.seen_at_risk.as_mut() {
            *r += self.new_at_risk;
        }
        if let Some(w) = self.seen_widespread.as_mut() {
            *w += self.new_widespread;
        }
        self.new_expired = 0;
        self.new_at_risk = 0;
        self.new_widespread = 0;
    }

    pub fn widespread_now(&mut self, n: u64) {
        match self.seen_widespread {
            None => self.seen_widespread = Some(n),
            Some(seen) => self.new_widespread = n.saturating_sub(seen),
        }
    }

    /// New counts from the store: what grew past the baseline is new.
    pub fn expired_now(&mut self, n: u64) {
        match self.seen_expired {
            None => self.seen_expired = Some(n),
            Some(seen) => self.new_expired = n.saturating_sub(seen),
        }
    }

    pub fn at_risk_now(&mut self, n: u64) {
        match self.seen_at_risk {
            None => self.seen_at_risk = Some(n),
            Some(seen) => self.new_at_risk = n.saturating_sub(seen),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportView {
    pub files: Vec<String>,
    pub progress: Vec<FileProgress>,
    pub reports: Option<Vec<FileReport>>,
}

/// The `/` filter's query. It narrows the focused list until cleared; while it is typed,
/// `Overlay::Filter` takes the keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub query: String,
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
    /// The explanation panels, loaded once where the session starts.
    pub knowledge: Arc<Knowledge>,
    pub no_color: bool,
    /// The terminal's background is light: the colours for it.
    pub light: bool,
    pub size: (u16, u16),
    pub screen: Screen,
    /// What takes the keys before the screen does.
    pub overlay: Option<Overlay>,
    pub quit: bool,
    /// A one-line note or error for the status bar.
    pub status: Option<String>,
    /// A problem found at start (a broken user keymap) that later notes must not hide.
    pub warning: Option<String>,
    /// `--now`: what "at risk" is judged against instead of the last log line.
    pub now: Option<i64>,
    /// `--since`/`--until` as the header states them: every count is of that window only.
    pub window: Option<String>,
    /// The time window `]`/`[` narrow and widen inside it, on every screen.
    pub time_window: crate::model::report::TimeWindow,
    /// The queue lifetime the user gave (`--queue-lifetime`); else each format's default.
    pub queue_lifetime: Option<i64>,
    pub filter: Option<Filter>,
    /// Marked deliveries (ids), as the store has them.
    pub marks: BTreeSet<i64>,
    /// Exports are written here (the directory sendlog was started in).
    pub export_dir: PathBuf,
    /// The lists on screen, as the renderer last drew them, for mouse clicks.
    pub click_targets: std::cell::RefCell<Vec<ClickTarget>>,

    pub import: Option<ImportView>,
    /// `--follow`: what the live marker and the "new since you looked" badge show.
    pub live: Option<Live>,
    pub triage: TriageScreen,
    pub deliveries: DeliveriesScreen,
    pub delivery: DeliveryScreen,
    pub causes: CausesScreen,
    pub basket: BasketScreen,
    pub timeline: TimelineScreen,
    pub search: SearchScreen,
    pub senders: SendersScreen,
}

impl AppState {
    pub fn new(
        keymap: Keymap,
        knowledge: Arc<Knowledge>,
        no_color: bool,
        size: (u16, u16),
    ) -> Self {
        AppState {
            keymap,
            knowledge,
            no_color,
            light: false,
            size,
            screen: Screen::Triage,
            overlay: None,
            quit: false,
            status: None,
            warning: None,
            now: None,
            window: None,
            time_window: Default::default(),
            queue_lifetime: None,
            filter: None,
            marks: BTreeSet::new(),
            export_dir: PathBuf::from("."),
            click_targets: Default::default(),
            import: None,
            live: None,
            triage: TriageScreen::default(),
            deliveries: DeliveriesScreen::default(),
            delivery: DeliveryScreen::default(),
            causes: CausesScreen::default(),
            basket: BasketScreen::default(),
            timeline: TimelineScreen::default(),
            search: SearchScreen::default(),
            senders: SendersScreen::default(),
        }
    }

    /// The code under the cursor on the triage screen.
    pub fn selected_code(&self) -> Option<&str> {
        self.triage.selected_code()
    }

    /// Rows a table shows at the current terminal height (header, borders, status bar).
    pub fn table_rows(&self) -> usize {
        (self.size.1 as usize).saturating_sub(5).max(1)
    }

    /// Whether the `/` query is being typed (the filter overlay has the keys).
    pub fn filter_editing(&self) -> bool {
        matches!(self.overlay, Some(Overlay::Filter))
    }

    /// A filter that narrows the list: typed and not empty.
    pub fn filtering(&self) -> bool {
        self.filter.as_ref().is_some_and(|f| !f.query.is_empty())
    }

    pub fn help_open(&self) -> bool {
        matches!(self.overlay, Some(Overlay::Help { .. }))
    }

    pub fn note_input(&self) -> Option<&NoteInput> {
        match &self.overlay {
            Some(Overlay::Note(n)) => Some(n),
            _ => None,
        }
    }

    pub fn export_confirm(&self) -> Option<&ExportConfirm> {
        match &self.overlay {
            Some(Overlay::Export(c)) => Some(c),
            _ => None,
        }
    }
}
