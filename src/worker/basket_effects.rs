//! What the worker does for the basket and the Causes screen: marks, ranges, the export
//! of a batch, a cause's live check.

use super::{Msg, RANGE_PAGE, Store, StoreError, now};
use crate::app::state::export_file_name;
use crate::requeue::basket;
use crate::requeue::export::{Existing, Pending, RequeueFormat, stage_file};
use crate::store::browse::{Anchor, DeliveryFilter};
use crate::wording::{plural_with, thousands};

/// The live checks of one cause (as `sendlog check --cause --domain --host` runs them),
/// kept in the store. This thread waits on the network; the UI thread does not.
pub(super) fn run_check(
    store: &mut Store,
    scope: &crate::app::state::ResolveScope,
    knowledge: &crate::knowledge::Knowledge,
) -> Result<Vec<crate::check::CheckResult>, String> {
    use crate::check::{self, plan};
    let kept = store.check_defaults().map_err(|e| e.to_string())?;
    let (settings, ips) = check::Settings::from_env_or(&kept);
    let wanted = plan::Scope {
        cause: Some(scope.reason),
        domain: scope.destination.clone(),
        host: scope.host.clone(),
    };
    let targets: Vec<plan::Target> = plan::for_store(store, &wanted, &ips, knowledge)
        .map_err(|e| e.to_string())?
        .into_iter()
        // The cause itself, not every cause whose host or domain the scope also matches.
        .filter(|t| {
            Some(&t.destination) == scope.destination.as_ref()
                && Some(&t.host) == scope.host.as_ref()
        })
        .collect();
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let results = check::run(targets, &settings, now())?;
    store.record_checks(&results).map_err(|e| e.to_string())?;
    Ok(results)
}

/// The marks as they are after a change, with the change in words.
pub(super) fn marks_after(
    store: &mut Store,
    change: impl FnOnce(&mut Store) -> crate::store::Result<usize>,
    note: impl FnOnce(usize) -> Option<String>,
) -> Msg {
    let n = match change(store) {
        Ok(n) => n,
        Err(e) => return Msg::Error(e.to_string()),
    };
    match store.marked_ids() {
        Ok(marks) => Msg::Marks {
            marks,
            note: note(n),
        },
        Err(e) => Msg::Error(e.to_string()),
    }
}

/// The list's delivery ids from `from_id` to `to_id` in its order, read page by page
/// (keyset); `from_id` comes first in that order.
pub(super) fn ids_between(
    store: &Store,
    filter: &DeliveryFilter,
    from_id: i64,
    to_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut ids = vec![from_id];
    if from_id == to_id {
        return Ok(ids);
    }
    let mut after = from_id;
    loop {
        let page = store.deliveries_page(filter, Anchor::After(after), RANGE_PAGE)?;
        let full = page.len() == RANGE_PAGE;
        for r in &page {
            ids.push(r.id);
            if r.id == to_id {
                return Ok(ids);
            }
        }
        match page.last() {
            Some(last) if full => after = last.id,
            _ => return Ok(ids),
        }
    }
}

/// Writes the batch to `sendlog-batch-<id>.<ext>` in `dir`, all of it or nothing; a file
/// already by that name is the user's, so the batch then takes the next free name
/// (`sendlog-batch-<id>-2.<ext>`…), which the message names.
pub(super) fn export(
    store: &mut Store,
    format: RequeueFormat,
    dir: &std::path::Path,
    again: bool,
) -> Msg {
    // A directory typed in the confirm step: `~/` is the home directory, as in a shell.
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let dir = match (dir.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => dir.to_path_buf(),
    };
    if !dir.is_dir() {
        return Msg::Error(format!(
            "export not written, nothing recorded: {} is not a directory",
            dir.display()
        ));
    }
    let result = basket::export(
        store,
        format,
        basket::ExportOptions {
            again,
            include_queued: false,
        },
        now(),
        |batch, bytes| -> Result<Pending, ExportError> {
            let path = dir.join(export_file_name(batch, format));
            let staged = stage_file(format, &path, &bytes, Existing::NextFree).map_err(|e| {
                ExportError::Write(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", path.display()),
                ))
            })?;
            Ok(Pending::File(staged))
        },
    );
    match result {
        Ok(Ok(outcome)) => Msg::Exported(Box::new(outcome)),
        Ok(Err(ExportError::Write(e))) => {
            Msg::Error(format!("export not written, nothing recorded: {e}"))
        }
        Ok(Err(ExportError::After(e))) => Msg::Error(e.to_string()),
        Err(e) => Msg::Error(e.to_string()),
    }
}

/// Why an export from the TUI failed: before the batch was recorded, or after.
#[derive(Debug)]
enum ExportError {
    Write(std::io::Error),
    After(basket::NotDelivered),
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        ExportError::Write(e)
    }
}

impl From<basket::NotDelivered> for ExportError {
    fn from(e: basket::NotDelivered) -> Self {
        ExportError::After(e)
    }
}

/// What `a` did: marked the eligible deliveries in view, and why the rest were not.
pub(super) fn marked_eligible_summary(n: u64, tally: &crate::triage::requeue::Tally) -> String {
    let mut s = format!(
        "marked {}",
        plural_with(n, "eligible delivery", "eligible deliveries")
    );
    let already = tally.eligible.saturating_sub(n);
    if already > 0 {
        s.push_str(&format!(
            " ({} already marked)",
            plural_with(already, "was", "were")
        ));
    }
    if tally.excluded_total() > 0 {
        s.push_str(&format!(
            "; {} not eligible: {}",
            thousands(tally.excluded_total()),
            tally.describe_excluded()
        ));
    }
    if tally.eligible == 0 && tally.excluded.contains_key("not_resolved") {
        s.push_str(" (r on a cause records its fix)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::marked_eligible_summary;
    use crate::triage::requeue::Tally;

    #[test]
    fn one_marked_delivery_reads_in_the_singular() {
        let mut tally = Tally {
            eligible: 2,
            ..Tally::default()
        };
        tally.excluded.insert("not_resolved", 1);
        assert_eq!(
            marked_eligible_summary(1, &tally),
            "marked 1 eligible delivery (1 was already marked); 1 not eligible: 1 not resolved"
        );
        tally.eligible = 1_500;
        assert_eq!(
            marked_eligible_summary(1_200, &tally),
            "marked 1,200 eligible deliveries (300 were already marked); 1 not eligible: 1 not resolved"
        );
    }
}
