//! The re-queue workflow over a store: causes with their state, resolving a cause,
//! marking, the basket with its exclusions, and exporting a batch. The CLI calls these;
//! the TUI's worker calls the same functions.

use std::collections::BTreeMap;

use serde::Serialize;

use super::export::{self, ExportRecord, Pending, RequeueFormat};
use crate::model::Reason;
use crate::store::requeue::Batch;
use crate::store::{Result, Store};
use crate::triage::causes::{self, Cause, Widespread};
use crate::triage::requeue::{Candidate, CandidateFilter, ResendVerdict, Resolution, Tally, judge};

/// A delivery with the rules' verdict on it.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    #[serde(flatten)]
    pub candidate: Candidate,
    #[serde(flatten)]
    pub verdict: ResendVerdict,
}

/// Causes with evidence and resolution state, and the widespread ones among them.
pub fn list_causes(store: &Store) -> Result<(Vec<Cause>, Vec<Widespread>)> {
    let resolutions = store.resolutions()?;
    let list = causes::causes(store.failed_rows()?, &resolutions);
    let wide = causes::widespread(&list);
    Ok((list, wide))
}

/// Failed (and marked) deliveries in `filter`, each with its verdict.
pub fn judge_all(store: &Store, filter: &CandidateFilter, again: bool) -> Result<Vec<Judged>> {
    judge_against(store, filter, again, &store.resolutions()?)
}

/// `judge_all` against these resolutions rather than the store's (a preview).
fn judge_against(
    store: &Store,
    filter: &CandidateFilter,
    again: bool,
    resolutions: &[Resolution],
) -> Result<Vec<Judged>> {
    Ok(store
        .candidates(filter.cause, filter.marked_only)?
        .into_iter()
        .filter(|c| filter.matches(c))
        .map(|c| {
            let verdict = judge(&c, resolutions, again);
            Judged {
                candidate: c,
                verdict,
            }
        })
        .collect())
}

/// The verdict on each of these deliveries (the rows a screen has loaded), by id.
pub(crate) fn verdicts_of(
    store: &Store,
    delivery_ids: &[i64],
) -> Result<BTreeMap<i64, ResendVerdict>> {
    let resolutions = store.resolutions()?;
    Ok(store
        .candidates_by_ids(delivery_ids)?
        .iter()
        .map(|c| (c.delivery_id, judge(c, &resolutions, false)))
        .collect())
}

/// What a resolution covers (or, previewed, would cover).
#[derive(Debug, Clone, Serialize)]
pub struct ResolveOutcome {
    /// Its id is 0 while only previewed.
    pub resolution: Resolution,
    /// Recorded, or only previewed (`--dry-run`, the TUI's confirm step).
    pub recorded: bool,
    /// Failed deliveries in its scope.
    pub in_scope: u64,
    /// Of those, how many are eligible with it.
    pub eligible: u64,
    /// Of those, how many were not eligible without it.
    pub newly_eligible: u64,
    /// The verdicts on the rest.
    pub tally: Tally,
}

impl ResolveOutcome {
    /// `this resolves badreputation at Microsoft from mta2: 312 deliveries become
    /// eligible, 14 stay excluded (…)`.
    pub(crate) fn preview_line(&self) -> String {
        format!(
            "this resolves {}: {}",
            self.resolution.scope(),
            self.preview_counts()
        )
    }

    /// `312 deliveries become eligible, 14 stay excluded (…)`.
    pub(crate) fn preview_counts(&self) -> String {
        let excluded = self.tally.excluded_total();
        let mut s = format!(
            "{} eligible",
            crate::wording::plural(self.newly_eligible, "delivery becomes", "deliveries become")
        );
        if self.eligible > self.newly_eligible {
            s.push_str(&format!(
                " ({} already)",
                self.eligible - self.newly_eligible
            ));
        }
        if excluded > 0 {
            s.push_str(&format!(
                ", {excluded} stay excluded ({})",
                self.tally.describe_excluded()
            ));
        }
        s
    }
}

/// A scope a resolution may not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScopeProblem {
    #[error(
        "{given} looks like a typo of {meant}: its deliveries need their addresses fixed, and a resolution can never make them eligible"
    )]
    TypoDomain { given: String, meant: String },
    #[error("no failed delivery went to {given}{}", closest_hint(.closest))]
    UnknownDestination { given: String, closest: Vec<String> },
    #[error("no failed delivery was sent from host {given}{}", closest_hint(.closest))]
    UnknownHost { given: String, closest: Vec<String> },
}

fn closest_hint(closest: &[String]) -> String {
    if closest.is_empty() {
        " (see sendlog requeue causes)".into()
    } else {
        format!("; did you mean {}?", closest.join(", "))
    }
}

/// Up to three of `known` nearest to `given` by edit distance, none further than a
/// quarter of its length (two for short names): beyond that a name is another name, not
/// a slip of the keyboard.
fn nearest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let given = given.to_ascii_lowercase();
    let limit = (given.len() / 4).max(2);
    let mut scored: Vec<(usize, String)> = known
        .into_iter()
        .map(|k| {
            let d = crate::classify::typo::edit_distance(&given, &k.to_ascii_lowercase());
            (d, k.to_string())
        })
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1.eq_ignore_ascii_case(&b.1));
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// Whether a resolution may name this destination and host: a typo domain never (its
/// addresses are wrong, not blocked), and a destination or host no failed delivery has
/// is a slip, answered with the closest known names.
pub(crate) fn check_scope(
    store: &Store,
    destination: Option<&str>,
    host: Option<&str>,
) -> Result<std::result::Result<(), ScopeProblem>> {
    if destination.is_none() && host.is_none() {
        return Ok(Ok(()));
    }
    let known = store.failed_destinations_and_hosts()?;
    if let Some(d) = destination {
        let lower = d.to_ascii_lowercase();
        let provider = known.providers.iter().any(|p| p.eq_ignore_ascii_case(d));
        match known.domains.get(&lower) {
            Some(Some(meant)) => {
                return Ok(Err(ScopeProblem::TypoDomain {
                    given: d.to_string(),
                    meant: meant.clone(),
                }));
            }
            Some(None) => {}
            None if provider => {}
            None => {
                let typo = crate::classify::typo::suggest(
                    &lower,
                    crate::classify::provider::well_known_domains(),
                );
                if let Some(meant) = typo {
                    return Ok(Err(ScopeProblem::TypoDomain {
                        given: d.to_string(),
                        meant: meant.to_string(),
                    }));
                }
                let names = known
                    .domains
                    .keys()
                    .map(String::as_str)
                    .chain(known.providers.iter().map(String::as_str));
                return Ok(Err(ScopeProblem::UnknownDestination {
                    given: d.to_string(),
                    closest: nearest(d, names),
                }));
            }
        }
    }
    if let Some(h) = host
        && !known.hosts.iter().any(|k| crate::model::host_matches(h, k))
    {
        let machines: std::collections::BTreeSet<&str> = known
            .hosts
            .iter()
            .flat_map(|k| [k.as_str(), k.split('/').next().unwrap_or(k)])
            .collect();
        return Ok(Err(ScopeProblem::UnknownHost {
            given: h.to_string(),
            closest: nearest(h, machines),
        }));
    }
    Ok(Ok(()))
}

/// What a resolution of `reason` within `destination` and `host`, fixed at `at`, would
/// make eligible, without recording it.
pub(crate) fn preview_resolution(
    store: &Store,
    reason: Reason,
    destination: Option<&str>,
    host: Option<&str>,
    at: i64,
    note: &str,
) -> Result<ResolveOutcome> {
    let resolution = Resolution::unrecorded(reason, destination, host, at, note);
    let filter = CandidateFilter {
        cause: Some(reason),
        destination: destination.map(String::from),
        host: host.map(String::from),
        marked_only: false,
    };
    let mut with = store.resolutions()?;
    with.push(resolution.clone());
    let mut tally = Tally::default();
    let mut in_scope = 0;
    let mut newly_eligible = 0;
    for j in judge_against(store, &filter, false, &with)? {
        if j.candidate.status != crate::model::DeliveryStatus::Sent {
            in_scope += 1;
            tally.add(&j.verdict);
            if j.verdict.is_eligible()
                && !judge(&j.candidate, &with[..with.len() - 1], false).is_eligible()
            {
                newly_eligible += 1;
            }
        }
    }
    Ok(ResolveOutcome {
        resolution,
        recorded: false,
        in_scope,
        eligible: tally.eligible,
        newly_eligible,
        tally,
    })
}

/// Records a resolution and reports what it covers.
pub fn resolve(
    store: &mut Store,
    reason: Reason,
    destination: Option<&str>,
    host: Option<&str>,
    at: i64,
    note: &str,
) -> Result<ResolveOutcome> {
    let mut outcome = preview_resolution(store, reason, destination, host, at, note)?;
    outcome.resolution =
        store.record_resolution(reason, destination, host, at, note, outcome.newly_eligible)?;
    outcome.recorded = true;
    Ok(outcome)
}

/// What undoing a resolution changed.
#[derive(Debug, Clone, Serialize)]
pub struct UndoOutcome {
    pub resolution: Resolution,
    /// Deliveries eligible with it and not without it.
    pub no_longer_eligible: u64,
    /// Of those, how many are in the basket (they stay marked, and are now excluded).
    pub marked: u64,
    /// Of those, how many an earlier batch already exported: an undo cannot call them back.
    pub exported: u64,
}

/// Undoes resolution `id` at `at`.
pub(crate) fn undo_resolution(
    store: &mut Store,
    id: i64,
    at: i64,
    note: &str,
) -> Result<std::result::Result<UndoOutcome, crate::store::requeue::UndoRefused>> {
    let with = store.resolutions()?;
    let without: Vec<Resolution> = with.iter().filter(|r| r.id != id).cloned().collect();
    let mut outcome = UndoOutcome {
        resolution: Resolution {
            id,
            ..Resolution::unrecorded(Reason::Undefined, None, None, 0, "")
        },
        no_longer_eligible: 0,
        marked: 0,
        exported: 0,
    };
    if without.len() < with.len() {
        for c in store.candidates(None, false)? {
            // Judged as if never exported: what the resolution let through, then or now.
            if judge(&c, &with, true).is_eligible() && !judge(&c, &without, true).is_eligible() {
                outcome.no_longer_eligible += 1;
                outcome.marked += u64::from(c.marked);
                outcome.exported += u64::from(c.exported_in.is_some());
            }
        }
    }
    match store.undo_resolution(id, at, note, outcome.no_longer_eligible)? {
        Ok(r) => {
            outcome.resolution = r;
            Ok(Ok(outcome))
        }
        Err(refused) => Ok(Err(refused)),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkOutcome {
    /// Newly marked.
    pub marked: usize,
    /// Eligible and already marked.
    pub already_marked: usize,
    /// Verdicts on everything in the filter.
    pub tally: Tally,
}

/// Marks every eligible delivery in `filter`.
pub fn mark_eligible(store: &mut Store, filter: &CandidateFilter, at: i64) -> Result<MarkOutcome> {
    let judged = judge_all(store, filter, false)?;
    let mut tally = Tally::default();
    let mut ids = Vec::new();
    let mut already_marked = 0;
    for j in &judged {
        tally.add(&j.verdict);
        if j.verdict.is_eligible() {
            if j.candidate.marked {
                already_marked += 1;
            } else {
                ids.push(j.candidate.delivery_id);
            }
        }
    }
    let mut scope = format!(
        "eligible with cause {}",
        filter.cause.map(Reason::as_str).unwrap_or("any")
    );
    if let Some(d) = &filter.destination {
        scope.push_str(&format!(" at {d}"));
    }
    if let Some(h) = &filter.host {
        scope.push_str(&format!(" from {h}"));
    }
    let marked = store.mark_in_scope(&ids, at, &scope)?;
    Ok(MarkOutcome {
        marked,
        already_marked,
        tally,
    })
}

/// Marked deliveries with their verdicts (what an export would take and what it would
/// leave), and the verdicts on all other failed deliveries, counted.
#[derive(Debug, Clone, Serialize)]
pub struct Basket {
    pub marked: Vec<Judged>,
    pub marked_tally: Tally,
    pub unmarked_tally: Tally,
    pub batches: Vec<Batch>,
    /// The resolutions the verdicts were judged against: with them, a confirm step can
    /// judge the already exported deliveries again (`judge(.., again = true)`) in memory.
    #[serde(skip)]
    pub resolutions: Vec<Resolution>,
}

pub fn basket(store: &Store, again: bool) -> Result<Basket> {
    let mut marked = Vec::new();
    let mut marked_tally = Tally::default();
    let mut unmarked_tally = Tally::default();
    for j in judge_all(store, &CandidateFilter::default(), again)? {
        if j.candidate.marked {
            marked_tally.add(&j.verdict);
            marked.push(j);
        } else {
            unmarked_tally.add(&j.verdict);
        }
    }
    Ok(Basket {
        marked,
        marked_tally,
        unmarked_tally,
        batches: store.batches()?,
        resolutions: store.resolutions()?,
    })
}

/// What an export did.
#[derive(Debug, Clone, Serialize)]
pub struct ExportOutcome {
    /// The recorded batch; `None` when there was nothing to export (nothing recorded,
    /// nothing written).
    pub batch: Option<Batch>,
    pub records: Vec<ExportRecord>,
    /// Verdicts on the marked deliveries.
    pub tally: Tally,
    /// Eligible deliveries this format cannot carry, by why not.
    pub not_in_format: BTreeMap<&'static str, u64>,
}

/// How an export goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// Deliveries an earlier batch exported go out once more.
    pub again: bool,
    /// A platform batch (CSV, JSON Lines) takes mail still in its MTA's queue too.
    pub include_queued: bool,
}

/// What went wrong with an export after its batch was recorded.
#[derive(Debug, thiserror::Error)]
pub enum NotDelivered {
    /// The file could not be put in place; the batch was taken off the record again.
    #[error(
        "the batch file could not be put in place, so batch {batch} was not recorded: {source}"
    )]
    File { batch: i64, source: std::io::Error },
    /// Standard output failed part way: the batch stays recorded, since a reader may
    /// already hold some of it.
    #[error(
        "batch {batch} is recorded, but standard output failed ({source}); deliveries a reader did not get can go out again with --again"
    )]
    Stdout { batch: i64, source: std::io::Error },
}

/// Exports the eligible marked deliveries as one batch. `stage` receives the batch's id
/// and the whole rendered batch and writes it where it cannot be mistaken for a finished
/// batch (a temporary file, or memory for standard output); once the store has committed
/// the batch it is put in place. A batch on record is thus always one that was written,
/// and a batch file always one on record. Deliveries already exported are left out
/// unless `again`.
pub fn export<E: From<std::io::Error> + From<NotDelivered>>(
    store: &mut Store,
    format: RequeueFormat,
    options: ExportOptions,
    at: i64,
    stage: impl FnOnce(i64, Vec<u8>) -> std::result::Result<Pending, E>,
) -> Result<std::result::Result<ExportOutcome, E>> {
    let again = options.again;
    let resolutions = store.resolutions()?;
    let mut tally = Tally::default();
    let mut not_in_format: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut chosen: Vec<(Candidate, Resolution)> = Vec::new();
    for c in store.candidates(None, true)? {
        let verdict = judge(&c, &resolutions, again);
        tally.add(&verdict);
        if let ResendVerdict::Eligible { resolution } = verdict {
            match format.accepts(&c, options.include_queued) {
                Ok(()) => chosen.push((c, resolution)),
                Err(why) => *not_in_format.entry(why).or_default() += 1,
            }
        }
    }
    if chosen.is_empty() {
        return Ok(Ok(ExportOutcome {
            batch: None,
            records: Vec::new(),
            tally,
            not_in_format,
        }));
    }
    let ids: Vec<i64> = chosen.iter().map(|(c, _)| c.delivery_id).collect();
    let mut records = Vec::new();
    let recorded = store.record_batch(format.as_str(), at, &ids, |batch| {
        records = chosen
            .iter()
            .map(|(c, r)| ExportRecord::new(batch, c, r))
            .collect();
        let mut bytes = Vec::new();
        export::write(format, batch, at, &records, &mut bytes)?;
        let pending = stage(batch, bytes)?;
        Ok::<_, E>((pending.destination(), pending))
    })?;
    let (mut batch, pending) = match recorded {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let to_stdout = matches!(pending, Pending::Stdout(_));
    match pending.deliver() {
        Ok(destination) => {
            if destination != batch.destination {
                store.set_batch_destination(batch.id, &destination)?;
                batch.destination = destination;
            }
        }
        Err(source) if to_stdout => {
            return Ok(Err(NotDelivered::Stdout {
                batch: batch.id,
                source,
            }
            .into()));
        }
        Err(source) => {
            store.forget_batch(batch.id)?;
            return Ok(Err(NotDelivered::File {
                batch: batch.id,
                source,
            }
            .into()));
        }
    }
    Ok(Ok(ExportOutcome {
        batch: Some(batch),
        records,
        tally,
        not_in_format,
    }))
}
