//! `sendlog search`: every delivery of every status whose recipient, sender, queue id,
//! Message-ID, subject or reply matches, newest first.

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use crate::ingest::timestamp::format_rfc3339;
use crate::sanitize::for_terminal;
use crate::store::search::{SearchHit, SearchQuery};
use crate::wording::{cell, fit};

use super::{open_existing_store, open_read_only_store};

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words to find (all of them); `to:`, `from:`, `id:`, `subject:`, `reply:` look in one
    /// field, `status:` and `code:` (5, 5.7 or 5.7.1) narrow.
    #[arg(value_name = "QUERY", required = true)]
    pub query: Vec<String>,
    #[arg(long)]
    pub json: bool,
    /// How many deliveries to print.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// Only deliveries with an id below ID: the next page after the last one printed.
    #[arg(long, value_name = "ID")]
    pub before: Option<i64>,
}

fn render(hits: &[SearchHit], limit: u32) -> String {
    let mut o = String::new();
    if hits.is_empty() {
        let _ = writeln!(o, "No delivery matches.");
        return o;
    }
    for h in hits {
        let when = h.last_attempt.map(format_rfc3339).unwrap_or_default();
        let _ = writeln!(
            o,
            "{:>8}  {} {} {}  {}  from {}  {}  {}",
            h.id,
            cell(h.status.as_str(), 8),
            cell(&h.code, 7),
            cell(&when, 20),
            for_terminal(&h.recipient),
            for_terminal(h.sender.as_deref().unwrap_or("-")),
            for_terminal(&h.queue_id),
            fit(&for_terminal(h.reply.as_deref().unwrap_or("")), 60),
        );
    }
    if hits.len() as u64 == u64::from(limit)
        && let Some(last) = hits.last()
    {
        let _ = writeln!(
            o,
            "More may match: add --before {} for the next page.",
            last.id
        );
    }
    o
}

/// A bulk import leaves its deliveries out of the search index; the first search adds
/// them (the store opened for writing this once). Where the store cannot be written, the
/// search runs on what is indexed and says what it misses.
fn catch_up(db: Option<&str>, lag: u64, read_only: crate::store::Store) -> crate::store::Store {
    eprintln!(
        "Indexing {} for search (once, after a bulk import)…",
        crate::wording::plural_with(lag, "delivery", "deliveries")
    );
    let caught_up = open_existing_store(db).and_then(|mut store| {
        store.catch_up_search_index(None)?;
        Ok(store)
    });
    match caught_up {
        Ok(store) => store,
        Err(e) => {
            eprintln!(
                "Could not index them ({}): the {} newest deliveries are not searched.",
                for_terminal(&format!("{e:#}")),
                crate::wording::thousands(lag)
            );
            read_only
        }
    }
}

pub fn run(db: Option<&str>, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let query = SearchQuery::parse(&args.query.join(" "))?;
    let mut store = open_read_only_store(db)?;
    let lag = store.search_index_lag()?;
    if lag > 0 {
        store = catch_up(db, lag, store);
    }
    let hits = store.search(&query, args.before, args.limit)?;
    let text = if args.json {
        crate::sanitize::json_pretty_string(&hits)? + "\n"
    } else {
        render(&hits, args.limit)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
