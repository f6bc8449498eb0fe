//! The status bar's one-line accounts of what an import, a resolution, an undo and an
//! export did.

use crate::pipeline::FileReport;
use crate::requeue::basket::{ExportOutcome, ResolveOutcome, UndoOutcome};
use crate::wording::{deliveries_written, plural_with, thousands};

pub(super) fn undone(outcome: &UndoOutcome) -> String {
    let mut s = format!(
        "resolution {} undone ({}): {} no longer eligible",
        outcome.resolution.id,
        outcome.resolution.scope(),
        plural_with(outcome.no_longer_eligible, "delivery", "deliveries")
    );
    if outcome.exported > 0 {
        s.push_str(&format!(
            "; {} already exported stay exported",
            thousands(outcome.exported)
        ));
    }
    s
}

pub(super) fn import(reports: &[FileReport]) -> String {
    let failed: Vec<&FileReport> = reports.iter().filter(|r| r.error.is_some()).collect();
    let lines: u64 = reports.iter().map(|r| r.lines_read).sum();
    let deliveries: u64 = reports.iter().map(|r| r.deliveries).sum();
    let updated: u64 = reports.iter().map(|r| r.deliveries_updated).sum();
    let skipped: u64 = reports.iter().map(|r| r.skipped).sum();
    let mut s = format!(
        "imported {}: {}, {}, {} skipped",
        // Files read; a folder's own line (what it held) is not one more file.
        plural_with(
            reports.iter().filter(|r| r.format.is_some()).count() as u64,
            "file",
            "files"
        ),
        plural_with(lines, "line", "lines"),
        deliveries_written(deliveries, updated),
        thousands(skipped),
    );
    if let Some(first) = failed.first() {
        s.push_str(&format!(
            "; {} not imported: {}",
            failed.len(),
            first
                .error
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
    }
    s
}

pub(super) fn resolved(o: &ResolveOutcome) -> String {
    let r = &o.resolution;
    // What changed first: a long scope or note must not push it off an 80-column bar.
    let mut s = if o.in_scope == 0 {
        "resolved, but no failed delivery has this cause here (yet)".to_string()
    } else {
        let mut s = format!(
            "resolved: {} of {} now eligible",
            thousands(o.eligible),
            plural_with(o.in_scope, "failed delivery", "failed deliveries")
        );
        if o.tally.excluded_total() > 0 {
            s.push_str(&format!(" ({})", o.tally.describe_excluded()));
        }
        s
    };
    s.push_str(&format!(" · resolution {}: {}", r.id, r.scope()));
    if !r.note.is_empty() {
        s.push_str(&format!(" ({})", r.note));
    }
    s
}

pub(super) fn exported(o: &ExportOutcome) -> String {
    let t = &o.tally;
    let mut s = match &o.batch {
        Some(b) => format!(
            "batch {}: {} exported as {} to {}",
            b.id,
            plural_with(b.items, "delivery", "deliveries"),
            b.format,
            b.destination
        ),
        None => {
            let marked = t.eligible + t.excluded_total();
            let already = t.excluded.get("already_exported").copied().unwrap_or(0);
            if t.eligible > 0 {
                "nothing to export in this format; no file written".to_string()
            } else if already > 0 {
                format!(
                    "nothing new to export: {} of the {} marked {} already exported; no file written",
                    thousands(already),
                    thousands(marked),
                    if already == 1 { "was" } else { "were" }
                )
            } else {
                format!(
                    "nothing to export: none of the {} marked is eligible; no file written",
                    thousands(marked)
                )
            }
        }
    };
    if t.excluded_total() > 0 {
        s.push_str(&format!(
            "; {} excluded ({})",
            thousands(t.excluded_total()),
            t.describe_excluded()
        ));
    }
    for (why, n) in &o.not_in_format {
        s.push_str(&format!("; {} eligible but {why}", thousands(*n)));
    }
    s
}

/// "checked networkerror at oldharbor.example: fixed — mx1… answers 220", or that there
/// was nothing left to check.
pub(super) fn checked(results: &[crate::check::CheckResult]) -> String {
    let Some(first) = results.first() else {
        return "nothing to check: the cause is resolved".into();
    };
    let all: Vec<&crate::check::CheckResult> = results.iter().collect();
    let overall = crate::check::overall(&all);
    let mut s = format!(
        "checked {} at {}: {} — {}",
        first.cause,
        first.destination,
        overall.as_str(),
        first.evidence
    );
    if results.len() > 1 {
        s.push_str(&format!(" (+{} more)", results.len() - 1));
    }
    if overall == crate::check::Outcome::Fixed {
        s.push_str("; r records the resolution");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::exported;
    use crate::model::resend::Batch;
    use crate::requeue::basket::ExportOutcome;
    use crate::triage::requeue::Tally;

    fn outcome(batch: Option<Batch>, tally: Tally) -> ExportOutcome {
        ExportOutcome {
            batch,
            records: Vec::new(),
            tally,
            not_in_format: Default::default(),
        }
    }

    #[test]
    fn export_summaries_count_in_the_singular_or_plural() {
        let mut tally = Tally::default();
        tally.excluded.insert("already_exported", 1);
        assert_eq!(
            exported(&outcome(None, tally.clone())),
            "nothing new to export: 1 of the 1 marked was already exported; no file written; \
             1 excluded (1 already exported)"
        );
        let batch = Batch {
            id: 3,
            created_at: 0,
            format: "csv".into(),
            destination: "b.csv".into(),
            items: 4211,
        };
        tally.eligible = 4211;
        tally.excluded.insert("hard_failure", 2);
        assert!(
            exported(&outcome(Some(batch), tally)).starts_with(
                "batch 3: 4,211 deliveries exported as csv to b.csv; 3 excluded (2 hard failures, 1 already"
            )
        );
    }
}
