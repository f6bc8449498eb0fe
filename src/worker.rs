//! The worker thread owns the store's connection and carries out `Effect`s off the UI
//! thread: the import, counts, pages, a delivery's attempts. Replies come back as `Msg`s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::app::msg::{Effect, Msg};
use crate::app::state::BREAKDOWN_LIMIT;
use crate::import::{ImportOptions, Progress, import_files};
use crate::store::{Store, StoreError};

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
            | (Effect::LoadSparklines { .. }, Effect::LoadSparklines { .. })
            | (Effect::LoadOverview, Effect::LoadOverview)
            | (Effect::LoadSentCount, Effect::LoadSentCount)
    )
}

fn serve(
    mut store: Store,
    options: ImportOptions,
    rx: Receiver<Effect>,
    replies: Sender<Msg>,
    pending: Arc<AtomicUsize>,
) {
    while let Ok(first) = rx.recv() {
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
            let reply = run(&mut store, &options, effect, &replies);
            let gone = reply.is_some_and(|m| replies.send(m).is_err());
            pending.fetch_sub(1, Ordering::SeqCst);
            if gone {
                return;
            }
        }
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
            let result = import_files(store, &files, options, &mut progress);
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
        Effect::LoadSparklines { buckets } => match store.sparklines(buckets) {
            Ok(s) => Msg::Sparklines(s),
            Err(e) => err(e),
        },
        Effect::LoadBreakdown { code, dim } => match store.breakdown(&code, dim, BREAKDOWN_LIMIT) {
            Ok(rows) => Msg::Breakdown { code, dim, rows },
            Err(e) => err(e),
        },
        Effect::LoadCauses { code } => match store.causes_of(&code) {
            Ok(causes) => Msg::Causes { code, causes },
            Err(e) => err(e),
        },
        Effect::LoadPage {
            generation,
            filter,
            anchor,
            limit,
        } => match store.deliveries_page(&filter, anchor, limit) {
            Ok(rows) => Msg::Page {
                generation,
                anchor,
                rows,
            },
            Err(e) => err(e),
        },
        Effect::LoadDelivery { id } => match store.delivery_detail(id) {
            Ok(detail) => Msg::Delivery {
                id,
                detail: detail.map(Box::new),
            },
            Err(e) => err(e),
        },
        Effect::Quit => return None,
    })
}
