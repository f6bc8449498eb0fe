//! What sits over a screen and takes the keys before it: one at a time.

use crate::requeue::export::RequeueFormat;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// The `?` key list, scrolled by `scroll` rows.
    Help { scroll: usize },
    /// The `/` query being typed (`AppState::filter` holds it).
    Filter,
    /// The note of a resolution being recorded.
    Note(NoteInput),
    /// The search query being typed (`SearchScreen::input` holds it).
    Search,
    /// The confirm step of an export.
    Export(ExportConfirm),
}

/// What a resolution covers: a reason, optionally at one destination (domain or provider)
/// and from one sending host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveScope {
    pub reason: crate::model::Reason,
    pub destination: Option<String>,
    pub host: Option<String>,
}

impl ResolveScope {
    pub fn describe(&self) -> String {
        crate::model::resend::scope_words(
            self.reason,
            self.destination.as_deref(),
            self.host.as_deref(),
        )
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
    pub format: RequeueFormat,
    pub again: bool,
    /// The directory being typed, when the user chose to change it.
    pub dir_input: Option<String>,
}
