//! The basket screen: the marked deliveries with the verdict on each, and what an export
//! in a format would take from them.

use crate::requeue::basket::Basket;
use crate::requeue::export::RequeueFormat;
use crate::triage::requeue::{ResendVerdict, judge};

use super::Screen;
use super::cursor::ListCursor;

#[derive(Debug, Clone)]
pub struct BasketScreen {
    pub contents: Option<Basket>,
    pub cursor: ListCursor,
    /// The screen Esc returns to from the basket.
    pub from: Screen,
}

impl Default for BasketScreen {
    fn default() -> Self {
        BasketScreen {
            contents: None,
            cursor: ListCursor::default(),
            from: Screen::Triage,
        }
    }
}

impl BasketScreen {
    /// The batch id the next export will get (ids are never reused: batches are never
    /// deleted), for naming its file before it is written.
    pub fn next_batch_id(&self) -> i64 {
        self.contents
            .as_ref()
            .and_then(|b| b.batches.iter().map(|b| b.id).max())
            .unwrap_or(0)
            + 1
    }

    pub fn len(&self) -> u64 {
        self.contents.as_ref().map_or(0, |b| b.marked.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an export in a format would take from the basket, counted from the verdicts in
/// memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportCounts {
    pub to_export: u64,
    /// Eligible, but the format cannot carry them (e.g. postfix: no longer queued).
    pub not_in_format: u64,
    /// The same, by why not (`RequeueFormat::accepts`), so the confirm step can say it.
    pub not_in_format_why: std::collections::BTreeMap<&'static str, u64>,
    /// Already exported, and left out.
    pub already_exported: u64,
    /// Already exported, and going out again (counted in `to_export` too).
    pub exported_again: u64,
    /// Excluded by any other rule.
    pub excluded: u64,
}

pub fn export_counts(basket: &Basket, format: RequeueFormat, again: bool) -> ExportCounts {
    let mut n = ExportCounts::default();
    for j in &basket.marked {
        let exported = matches!(&j.verdict,
            ResendVerdict::Excluded { exclusion } if exclusion.rule() == "already_exported");
        let verdict = if exported && again {
            // The other rules still hold for a delivery sent out again.
            judge(&j.candidate, &basket.resolutions, true)
        } else {
            j.verdict.clone()
        };
        match verdict {
            ResendVerdict::Eligible { .. } => match format.accepts(&j.candidate, false) {
                Ok(()) => {
                    n.to_export += 1;
                    n.exported_again += u64::from(exported);
                }
                Err(why) => {
                    n.not_in_format += 1;
                    *n.not_in_format_why.entry(why).or_default() += 1;
                }
            },
            ResendVerdict::Excluded { .. } if exported && !again => n.already_exported += 1,
            ResendVerdict::Excluded { .. } => n.excluded += 1,
        }
    }
    n
}

/// The file an export will be written to: named after its batch, in `dir`.
pub fn export_file_name(batch: i64, format: RequeueFormat) -> String {
    format!("sendlog-batch-{batch}.{}", format.extension())
}

pub fn next_format(f: RequeueFormat) -> RequeueFormat {
    match f {
        RequeueFormat::Csv => RequeueFormat::Jsonl,
        RequeueFormat::Jsonl => RequeueFormat::Postfix,
        RequeueFormat::Postfix => RequeueFormat::Exchange,
        RequeueFormat::Exchange => RequeueFormat::Csv,
    }
}
