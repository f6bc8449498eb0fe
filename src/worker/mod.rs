//! The worker thread owns the store's connection and carries out `Effect`s off the UI
//! thread: the import, counts, pages, a delivery's attempts. Replies come back as `Msg`s.

mod basket_effects;

use crate::wording::{plural_with, thousands};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::app::msg::{Effect, Msg};
use crate::app::state::BREAKDOWN_LIMIT;
use crate::pipeline::{ImportOptions, Progress, import_files};
use crate::requeue::basket;
use crate::store::{Store, StoreError};
use crate::triage::requeue::CandidateFilter;
use basket_effects::{export, ids_between, marked_eligible_summary, marks_after, run_check};

/// Rows read per query while walking a range of a group.
const RANGE_PAGE: usize = 1000;

/// The search index is caught up only after this long without a request: while the
/// user reads, not while keys are pressed.
const IDLE_BEFORE_INDEXING: Duration = Duration::from_secs(1);

/// Deliveries added to the search index per step (about 30 ms on a 2-core machine): a
/// request waits for one step at most.
const SEARCH_INDEX_STEP: u64 = 5_000;

/// The import reports progress at most this often: more would only cost redraws.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

pub struct Worker {
    requests: Option<Sender<Effect>>,
    handle: Option<JoinHandle<()>>,
    /// Requests sent and not yet answered (or dropped as superseded).
    pending: Arc<AtomicUsize>,
}

impl Worker {
    pub fn spawn(
        store: Store,
        options: ImportOptions,
        replies: Sender<Msg>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let counter = pending.clone();
        let handle = std::thread::Builder::new()
            .name("sendlog-worker".into())
            .spawn(move || serve(store, options, rx, replies, counter))?;
        Ok(Worker {
            requests: Some(tx),
            handle: Some(handle),
            pending,
        })
    }

    pub fn send(&self, effect: Effect) {
        if let Some(tx) = &self.requests {
            self.pending.fetch_add(1, Ordering::SeqCst);
            if tx.send(effect).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// True when every request has been answered: its reply is already in the channel.
    pub fn idle(&self) -> bool {
        self.pending.load(Ordering::SeqCst) == 0
    }

    /// Stops the worker. With `wait`, after its current request; without, it is left to
    /// finish on its own (an import in progress is one transaction: cut short by the
    /// process exiting, it leaves the store as it was).
    pub fn shutdown(mut self, wait: bool) {
        self.requests = None;
        if let Some(h) = self.handle.take()
            && wait
        {
            let _ = h.join();
        }
    }
}

/// Requests of these kinds replace an older one still queued: only the latest selection
/// matters when keys are held down.
fn supersedes(new: &Effect, old: &Effect) -> bool {
    matches!(
        (new, old),
        (Effect::LoadBreakdown { .. }, Effect::LoadBreakdown { .. })
            | (Effect::LoadCauses { .. }, Effect::LoadCauses { .. })
            | (Effect::LoadDelivery { .. }, Effect::LoadDelivery { .. })
            | (Effect::Search { .. }, Effect::Search { .. })
            | (Effect::LoadRawLines { .. }, Effect::LoadRawLines { .. })
            | (Effect::LoadSparklines { .. }, Effect::LoadSparklines { .. })
            | (Effect::LoadOverview, Effect::LoadOverview)
            | (Effect::LoadSentCount, Effect::LoadSentCount)
            | (Effect::LoadAtRisk { .. }, Effect::LoadAtRisk { .. })
            | (Effect::LoadTypos, Effect::LoadTypos)
            | (Effect::LoadMarks, Effect::LoadMarks)
            | (Effect::LoadCauseList, Effect::LoadCauseList)
            | (Effect::LoadBasket, Effect::LoadBasket)
            | (Effect::LoadTimeline { .. }, Effect::LoadTimeline { .. })
            | (Effect::LoadSenders { .. }, Effect::LoadSenders { .. })
            // Only one page is asked for at a time; a newer one (a query typed on, a
            // list re-sorted) makes a queued one stale.
            | (Effect::LoadPage { .. }, Effect::LoadPage { .. })
    )
}

fn serve(
    mut store: Store,
    options: ImportOptions,
    rx: Receiver<Effect>,
    replies: Sender<Msg>,
    pending: Arc<AtomicUsize>,
) {
    // `--follow`: looked at every `POLL` between requests, and after a burst of them.
    let mut follower: Option<crate::pipeline::follow::Follower> = None;
    let mut last_look = Instant::now();
    let mut last_tick = Instant::now();
    // What a bulk load left out of the search index is added while the user reads, a
    // step at a time (see `SEARCH_INDEX_STEP`), so the first search does not wait for it.
    let mut search_owed = store.search_index_behind().unwrap_or(false);
    let mut last_request = Instant::now();
    loop {
        let poll = follower
            .as_ref()
            .map(|_| crate::pipeline::follow::POLL.saturating_sub(last_look.elapsed()));
        let indexing =
            search_owed.then(|| IDLE_BEFORE_INDEXING.saturating_sub(last_request.elapsed()));
        let wait = match (poll, indexing) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let received = match wait {
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(wait) => rx.recv_timeout(wait),
        };
        let first = match received {
            Ok(e) => e,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(f) = follower.as_mut()
                    && last_look.elapsed() >= crate::pipeline::follow::POLL
                {
                    last_look = Instant::now();
                    let mut reply = follow_step(&mut store, f);
                    if reply.is_some() {
                        last_tick = Instant::now();
                        search_owed = store.search_index_behind().unwrap_or(false);
                    } else if last_tick.elapsed() >= crate::pipeline::follow::TICK {
                        last_tick = Instant::now();
                        reply = Some(Msg::Tick(now()));
                    }
                    if reply.is_some_and(|m| replies.send(m).is_err()) {
                        return;
                    }
                } else if search_owed && last_request.elapsed() >= IDLE_BEFORE_INDEXING {
                    // A failure (a store that cannot be written) leaves it to the search,
                    // which says why.
                    search_owed = store
                        .catch_up_search_index(Some(SEARCH_INDEX_STEP))
                        .is_ok_and(|n| n == SEARCH_INDEX_STEP);
                }
                continue;
            }
        };
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let mut keep: Vec<Effect> = Vec::with_capacity(batch.len());
        for effect in batch {
            if let Some(i) = keep.iter().position(|old| supersedes(&effect, old)) {
                keep.remove(i);
                pending.fetch_sub(1, Ordering::SeqCst);
            }
            keep.push(effect);
        }
        for effect in keep {
            if let Effect::Follow(files) = &effect {
                let reply = match crate::pipeline::follow::Follower::new(files, options.clone()) {
                    Ok(mut f) => {
                        let first = follow_step(&mut store, &mut f);
                        follower = Some(f);
                        last_look = Instant::now();
                        first
                    }
                    Err(e) => Some(Msg::Error(format!("cannot follow: {e}"))),
                };
                let gone = reply.is_some_and(|m| replies.send(m).is_err());
                pending.fetch_sub(1, Ordering::SeqCst);
                if gone {
                    return;
                }
                continue;
            }
            let imports = matches!(effect, Effect::Import(_));
            let reply = run(&mut store, &options, effect, &replies);
            if imports {
                search_owed = store.search_index_behind().unwrap_or(false);
            }
            let gone = reply.is_some_and(|m| replies.send(m).is_err());
            pending.fetch_sub(1, Ordering::SeqCst);
            if gone {
                return;
            }
        }
        // Idle from the last answer on: an import's answer brings the next requests.
        last_request = Instant::now();
    }
}

/// One look of the follower; a reply when something was committed, or went wrong.
fn follow_step(store: &mut Store, follower: &mut crate::pipeline::follow::Follower) -> Option<Msg> {
    // A `--since`/`--until` window is a read-only view: lifted while writing.
    let windowed = match store.suspend_window() {
        Ok(w) => w,
        Err(e) => return Some(Msg::Error(e.to_string())),
    };
    let step = follower.step(store, &mut |_| {});
    if windowed && let Err(e) = store.restore_window() {
        return Some(Msg::Error(e.to_string()));
    }
    match step {
        Ok(step) if step.wrote() => Some(Msg::Followed {
            lines: step.reports.iter().map(|r| r.lines_read).sum(),
            at: now(),
            log_now: store.log_now().ok().flatten(),
        }),
        Ok(step) => step
            .reports
            .iter()
            .find_map(|r| r.error.as_ref())
            .map(|e| Msg::Error(e.to_string())),
        Err(e) => Some(Msg::Error(e.to_string())),
    }
}

fn run(
    store: &mut Store,
    options: &ImportOptions,
    effect: Effect,
    replies: &Sender<Msg>,
) -> Option<Msg> {
    let err = |e: StoreError| Msg::Error(e.to_string());
    Some(match effect {
        Effect::Import(files) => {
            let mut file_started = Instant::now();
            let mut last_sent: Option<Instant> = None;
            let mut current = usize::MAX;
            let mut progress = |p: &Progress| {
                if p.file_index != current {
                    current = p.file_index;
                    file_started = Instant::now();
                }
                if !p.done && last_sent.is_some_and(|t| t.elapsed() < PROGRESS_INTERVAL) {
                    return;
                }
                last_sent = Some(Instant::now());
                let secs = file_started.elapsed().as_secs_f64().max(1e-3);
                let _ = replies.send(Msg::ImportProgress {
                    progress: p.clone(),
                    lines_per_sec: p.lines as f64 / secs,
                });
            };
            // A `--since`/`--until` window is a read-only view: lifted while writing.
            let windowed = match store.suspend_window() {
                Ok(w) => w,
                Err(e) => return Some(err(e)),
            };
            let mut result = import_files(store, &files, options, &mut progress);
            if windowed && let Err(e) = store.restore_window() {
                result = Err(e);
            }
            Msg::ImportDone(result.map_err(|e| e.to_string()))
        }
        Effect::LoadOverview => match store.overview() {
            Ok(o) => Msg::Overview(o),
            Err(e) => err(e),
        },
        Effect::LoadSentCount => match store.sent_count() {
            Ok(n) => Msg::SentCount(n),
            Err(e) => err(e),
        },
        Effect::LoadTypos => match store.typo_domains() {
            Ok(t) => Msg::Typos(t),
            Err(e) => err(e),
        },
        Effect::LoadAtRisk {
            queue_lifetime,
            now,
        } => {
            let as_of = match now {
                Some(t) => Ok(Some(t)),
                None => store.log_now(),
            };
            match as_of.and_then(|as_of| {
                let a = store.at_risk(queue_lifetime, crate::triage::AT_RISK_FRACTION, as_of)?;
                Ok((a, as_of, store.frozen_recipients_unknown()?))
            }) {
                Ok((a, as_of, frozen)) => Msg::AtRisk(a, as_of, frozen),
                Err(e) => err(e),
            }
        }
        Effect::LoadSparklines { buckets } => match store.sparklines(buckets) {
            Ok(s) => Msg::Sparklines(s),
            Err(e) => err(e),
        },
        Effect::LoadBreakdown { code, dim } => match store.breakdown(&code, dim, BREAKDOWN_LIMIT) {
            Ok(rows) => Msg::Breakdown { code, dim, rows },
            Err(e) => err(e),
        },
        Effect::PrepareGroupResolve { code, dim, value } => {
            match store.main_cause_of_group(&code, dim, value.as_deref()) {
                Ok(reason) => Msg::ResolvePrompt(
                    reason.map(|r| crate::app::update::group_scope(r, dim, value)),
                ),
                Err(e) => err(e),
            }
        }
        Effect::LoadCauses { code } => match store.causes_of(&code) {
            Ok(causes) => Msg::Causes { code, causes },
            Err(e) => err(e),
        },
        Effect::LoadPage {
            generation,
            filter,
            anchor,
            limit,
            count,
        } => {
            let page = store
                .deliveries_page(&filter, anchor, limit)
                .and_then(|rows| {
                    let total = match count {
                        true => Some(store.deliveries_count(&filter)?),
                        false => None,
                    };
                    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                    Ok((rows, total, basket::verdicts_of(store, &ids)?))
                });
            match page {
                Ok((rows, total, verdicts)) => Msg::Page {
                    generation,
                    anchor,
                    rows,
                    total,
                    verdicts,
                },
                Err(e) => err(e),
            }
        }
        Effect::JudgeRows { ids } => match basket::verdicts_of(store, &ids) {
            Ok(verdicts) => Msg::Verdicts(verdicts),
            Err(e) => err(e),
        },
        Effect::LoadDelivery { id } => match store.delivery_detail(id) {
            Ok(detail) => Msg::Delivery {
                id,
                detail: detail.map(Box::new),
            },
            Err(e) => err(e),
        },
        Effect::LoadRawLines { id } => {
            let raw = store
                .delivery_detail(id)
                .and_then(|d| match d {
                    Some(d) => store.raw_lines(&d),
                    None => Ok(Default::default()),
                })
                .unwrap_or_else(|e| crate::model::delivery::RawLines {
                    lines: Vec::new(),
                    notes: vec![e.to_string()],
                });
            Msg::RawLines { id, raw }
        }
        Effect::Search { query, before } => {
            let hits = crate::store::search::SearchQuery::parse(&query)
                .map_err(|e| e.to_string())
                .and_then(|q| {
                    // A bulk load left its deliveries to the first search.
                    if store.search_index_behind().map_err(|e| e.to_string())? {
                        store
                            .catch_up_search_index(None)
                            .map_err(|e| e.to_string())?;
                    }
                    store
                        .search(&q, before, crate::app::state::SEARCH_PAGE)
                        .map_err(|e| e.to_string())
                });
            Msg::SearchHits {
                query,
                before,
                hits,
            }
        }
        Effect::LoadMarks => match store.marked_ids() {
            Ok(marks) => Msg::Marks { marks, note: None },
            Err(e) => err(e),
        },
        Effect::Mark { ids } => marks_after(
            store,
            |s| s.mark(&ids, now()),
            |n| {
                (n != 1 || ids.len() != 1)
                    .then(|| format!("marked {}", plural_with(n as u64, "delivery", "deliveries")))
            },
        ),
        Effect::Unmark { ids } => marks_after(
            store,
            |s| s.unmark(&ids),
            |n| {
                (n != 1 || ids.len() != 1).then(|| {
                    format!(
                        "unmarked {}",
                        plural_with(n as u64, "delivery", "deliveries")
                    )
                })
            },
        ),
        Effect::MarkRange {
            filter,
            from_id,
            to_id,
        } => {
            let ids = match ids_between(store, &filter, from_id, to_id) {
                Ok(ids) => ids,
                Err(e) => return Some(err(e)),
            };
            let n = ids.len();
            marks_after(
                store,
                |s| s.mark(&ids, now()),
                |added| {
                    Some(format!(
                        "marked {} more of the {} in the range",
                        thousands(added as u64),
                        plural_with(n as u64, "delivery", "deliveries")
                    ))
                },
            )
        }
        Effect::MarkEligible { filter } => {
            let judged = match basket::judge_all(store, &CandidateFilter::default(), false) {
                Ok(j) => j,
                Err(e) => return Some(err(e)),
            };
            let listed = match store.delivery_ids(&filter) {
                Ok(ids) => ids.into_iter().collect::<std::collections::HashSet<i64>>(),
                Err(e) => return Some(err(e)),
            };
            let mut tally = crate::triage::requeue::Tally::default();
            let mut ids = Vec::new();
            for j in judged
                .iter()
                .filter(|j| listed.contains(&j.candidate.delivery_id))
            {
                tally.add(&j.verdict);
                if j.verdict.is_eligible() && !j.candidate.marked {
                    ids.push(j.candidate.delivery_id);
                }
            }
            marks_after(
                store,
                |s| s.mark(&ids, now()),
                |n| Some(marked_eligible_summary(n as u64, &tally)),
            )
        }
        Effect::UnmarkInView { filter } => {
            let listed = match store.delivery_ids(&filter) {
                Ok(ids) => ids.into_iter().collect::<std::collections::HashSet<i64>>(),
                Err(e) => return Some(err(e)),
            };
            let ids: Vec<i64> = match basket::judge_all(
                store,
                &CandidateFilter {
                    marked_only: true,
                    ..CandidateFilter::default()
                },
                false,
            ) {
                Ok(j) => j
                    .iter()
                    .filter(|j| listed.contains(&j.candidate.delivery_id))
                    .map(|j| j.candidate.delivery_id)
                    .collect(),
                Err(e) => return Some(err(e)),
            };
            marks_after(
                store,
                |s| s.unmark(&ids),
                |n| {
                    Some(format!(
                        "unmarked {} in view",
                        plural_with(n as u64, "delivery", "deliveries")
                    ))
                },
            )
        }
        Effect::LoadCauseList => match basket::list_causes(store) {
            Ok((causes, widespread)) => {
                // The causes' latest checks ride along: the screen shows them together.
                if let Ok(latest) = store.latest_checks() {
                    let _ = replies.send(Msg::Checks {
                        latest,
                        as_of: now(),
                    });
                }
                Msg::CauseList { causes, widespread }
            }
            Err(e) => err(e),
        },
        Effect::RunCheck { scope, knowledge } => {
            Msg::Checked(run_check(store, &scope, &knowledge.0))
        }
        Effect::LoadTimeline {
            by,
            span,
            queue_lifetime,
            now,
        } => match store.timeline(by, span, queue_lifetime, now) {
            Ok(t) => Msg::Timeline(Box::new(t)),
            Err(e) => err(e),
        },
        Effect::LoadSenders { by } => {
            match store.sender_groups(by, crate::app::state::SENDERS_LIMIT) {
                Ok(groups) => Msg::Senders { by, groups },
                Err(e) => err(e),
            }
        }
        Effect::StepWindow { narrow } => match store.step_window(narrow) {
            Ok(w) => Msg::Window(w),
            Err(e) => err(e),
        },
        Effect::PreviewResolve { scope } => {
            let (d, h) = (scope.destination.as_deref(), scope.host.as_deref());
            Msg::ResolvePreview(match basket::check_scope(store, d, h) {
                Ok(Err(problem)) => Err(problem.to_string()),
                Err(e) => Err(e.to_string()),
                Ok(Ok(())) => {
                    match basket::preview_resolution(store, scope.reason, d, h, now(), "") {
                        Ok(o) => Ok(Box::new(o)),
                        Err(e) => Err(e.to_string()),
                    }
                }
            })
        }
        Effect::UndoResolution { id } => match basket::undo_resolution(store, id, now(), "") {
            Ok(Ok(outcome)) => Msg::Undone(Box::new(outcome)),
            Ok(Err(_)) => Msg::Error(format!("resolution {id} was already undone")),
            Err(e) => err(e),
        },
        Effect::Resolve { scope, note } => match basket::resolve(
            store,
            scope.reason,
            scope.destination.as_deref(),
            scope.host.as_deref(),
            now(),
            &note,
        ) {
            Ok(outcome) => Msg::Resolved(Box::new(outcome)),
            Err(e) => err(e),
        },
        Effect::LoadBasket => match basket::basket(store, false) {
            Ok(b) => Msg::Basket(Box::new(b)),
            Err(e) => err(e),
        },
        Effect::Export { format, dir, again } => export(store, format, &dir, again),
        Effect::Quit => return None,
        // Taken by `serve`, which keeps the follower between requests.
        Effect::Follow(_) => return None,
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
