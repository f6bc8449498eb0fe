//! What an import tells its caller: options in, progress and a report per input out.

use crate::ingest::Format;

use super::ImportError;

/// Skipped lines kept (with their numbers) to show the user.
pub const SKIPPED_SAMPLE: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub format: Format,
    pub year: Option<i32>,
    /// The sending host for logs that do not name one (an Exim mainlog, pasted lines).
    pub host: Option<String>,
    /// The zone of stamps that carry none (`--tz`); `None`: the one remembered for the
    /// source, else this machine's.
    pub tz: Option<crate::ingest::timestamp::Zone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Content never seen before.
    New,
    /// Seen before: only the lines after `from_line` were imported.
    Grown { from_line: u64 },
    /// Nothing new in it.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    pub format: Option<Format>,
    pub state: SourceState,
    pub lines_read: u64,
    pub events: u64,
    /// Delivery rows written, new or updated.
    pub deliveries: u64,
    /// Of those, deliveries already in the store that this input changed.
    pub deliveries_updated: u64,
    pub skipped: u64,
    pub skipped_sample: Vec<(u64, String)>,
    /// Lines that repeated an earlier line exactly and were not counted again.
    pub duplicates: u64,
    pub seconds: f64,
    pub error: Option<ImportError>,
    /// Not an error, but nothing was imported (an empty, freshly rotated log).
    pub note: Option<String>,
}

impl FileReport {
    pub(crate) fn failed(name: &str, error: ImportError) -> Self {
        FileReport {
            error: Some(error),
            ..FileReport::noted(name, None)
        }
    }

    /// Nothing imported, and no error: `note` says why (an empty log, a folder's contents).
    pub(crate) fn noted(name: &str, note: impl Into<Option<String>>) -> Self {
        FileReport {
            name: name.to_string(),
            format: None,
            state: SourceState::New,
            lines_read: 0,
            events: 0,
            deliveries: 0,
            deliveries_updated: 0,
            skipped: 0,
            skipped_sample: Vec::new(),
            duplicates: 0,
            seconds: 0.0,
            error: None,
            note: note.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub file: String,
    pub file_index: usize,
    pub file_count: usize,
    pub bytes: u64,
    pub total_bytes: Option<u64>,
    pub lines: u64,
    pub done: bool,
}
