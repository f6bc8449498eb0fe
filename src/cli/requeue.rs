//! `sendlog requeue …`: causes, marking, the basket and exports, for scripts (the same
//! flow as the TUI's Causes and Basket screens).

use crate::wording::{EXAMPLE_WIDTH, cell, fit, plural, seen_between, shell_word, time_left};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use crate::ingest::timestamp::format_rfc3339;
use crate::requeue::basket::{self, Judged};
use crate::requeue::export::{Existing, Pending, RequeueFormat, stage_file};
use crate::sanitize::for_terminal;
use crate::store::Store;
use crate::triage::requeue::{CandidateFilter, ResendVerdict};

use super::resolve::{now, parse_reason};
use super::{open_existing_store, open_read_only_store};
use crate::wording::count_list;

#[derive(Debug, Clone, clap::Args)]
pub struct Scope {
    /// Only deliveries with this cause (reason).
    #[arg(long, value_name = "R", value_parser = parse_reason)]
    pub cause: Option<crate::model::Reason>,
    /// Only this destination: a recipient domain or a provider (Microsoft, Google…).
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Only from this sending host (as logged, or the machine name).
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
}

impl Scope {
    fn filter(&self) -> CandidateFilter {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        CandidateFilter {
            cause: self.cause,
            destination: given(&self.domain),
            host: given(&self.host),
            marked_only: false,
        }
    }

    fn is_empty(&self) -> bool {
        self.filter() == CandidateFilter::default()
    }
}

#[derive(Debug, Subcommand)]
pub enum RequeueCmd {
    /// Causes (reason × destination × sending host) with evidence and resolution state.
    Causes {
        #[arg(long)]
        json: bool,
    },
    /// Mark deliveries for re-send: every eligible one in the scope, or these ids.
    // One of the two is the answer to "mark what?": a missing one names both.
    #[command(group = clap::ArgGroup::new("what").required(true).args(["eligible", "id"]))]
    Mark {
        /// Mark every delivery in the scope that the re-queue rules allow.
        #[arg(long)]
        eligible: bool,
        /// Delivery ids (from `requeue list --all --json`); marked even if excluded, so
        /// the basket shows why they will not be exported.
        #[arg(long, value_name = "ID", value_delimiter = ',')]
        id: Vec<i64>,
        #[command(flatten)]
        scope: Scope,
    },
    /// Unmark deliveries: these ids, every marked one in the scope, or all.
    Unmark {
        /// Every marked delivery.
        #[arg(long, conflicts_with_all = ["id", "cause", "domain", "host"])]
        all: bool,
        /// These deliveries (ids as `requeue list` shows them, comma-separated).
        #[arg(long, value_name = "ID", value_delimiter = ',')]
        id: Vec<i64>,
        #[command(flatten)]
        scope: Scope,
    },
    /// The basket: marked deliveries, each eligible or excluded with the rule that
    /// excludes it; counts for the failed deliveries not marked; batches so far.
    List {
        #[arg(long)]
        json: bool,
        /// Every failed delivery with its verdict, not just the marked ones.
        #[arg(long)]
        all: bool,
        /// Queue lifetime for "at risk" (e.g. 5d, 48h).
        #[arg(long, value_name = "DUR", value_parser = super::parse_lifetime)]
        queue_lifetime: Option<i64>,
    },
    /// Export the eligible marked deliveries as a recorded batch.
    Export {
        /// csv, jsonl: for a sending platform, mail that has left its MTA's queue (expired,
        /// bounced); postfix, exchange: a script that re-queues mail still in that MTA's
        /// queue (deferred).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(RequeueFormat::NAMES))]
        format: String,
        /// Write here instead of standard output (a regular file, replaced whole or left
        /// alone on error; a link, directory or device is refused); `-` is standard output.
        #[arg(long, value_name = "PATH")]
        out: Option<String>,
        /// Export deliveries that an earlier batch already exported, once more.
        #[arg(long)]
        again: bool,
        /// Put mail still deferred (still in its MTA's queue, which keeps retrying it) in
        /// a csv or jsonl batch too: the MTA may then deliver it as well, a duplicate.
        /// Without it, a platform batch carries only mail that has left the queue.
        #[arg(long)]
        include_queued: bool,
    },
}

pub fn run(db: Option<&str>, cmd: RequeueCmd) -> anyhow::Result<ExitCode> {
    let read_only = matches!(cmd, RequeueCmd::Causes { .. } | RequeueCmd::List { .. });
    let mut store = if read_only {
        open_read_only_store(db)?
    } else {
        open_existing_store(db)?
    };
    match cmd {
        RequeueCmd::Causes { json } => causes(&store, json),
        RequeueCmd::Mark {
            eligible,
            id,
            scope,
        } => mark(&mut store, eligible, &id, &scope),
        RequeueCmd::Unmark { all, id, scope } => unmark(&mut store, all, &id, &scope),
        RequeueCmd::List {
            json,
            all,
            queue_lifetime,
        } => list(&store, json, all, queue_lifetime),
        RequeueCmd::Export {
            format,
            out,
            again,
            include_queued,
        } => {
            let format = RequeueFormat::parse(&format)
                .ok_or_else(|| anyhow::anyhow!("unknown format {format:?}"))?;
            let options = basket::ExportOptions {
                again,
                include_queued,
            };
            export(&mut store, format, out.as_deref(), options)
        }
    }
}

fn print(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

fn json_text(v: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(crate::sanitize::json_pretty_string(v)? + "\n")
}

fn clean(s: &str) -> String {
    for_terminal(s).into_owned()
}

fn causes(store: &Store, json: bool) -> anyhow::Result<ExitCode> {
    let (list, wide) = basket::list_causes(store)?;
    if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            causes: &'a [crate::triage::causes::Cause],
            widespread: &'a [crate::triage::causes::Widespread],
        }
        return print(&json_text(&Out {
            causes: &list,
            widespread: &wide,
        })?);
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Causes of failed deliveries (reason × destination × sending host)"
    );
    if list.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for c in &list {
        let _ = writeln!(
            o,
            "  {:<14} {:<24} from {:<20} {:>6}  {}",
            c.reason,
            clean(&c.destination),
            clean(&c.host),
            c.count,
            c.state.as_str()
        );
        let domains = count_list(&c.top_domains);
        let _ = writeln!(
            o,
            "      expired {}, deferred {}, bounced {}; {}: {}",
            c.expired,
            c.deferred,
            c.bounced,
            plural(c.domain_count, "domain", "domains"),
            domains
        );
        if let (Some(a), Some(b)) = (c.first_seen, c.last_seen) {
            let _ = writeln!(o, "      {}", seen_between(a, b));
        }
        for e in &c.examples {
            let _ = writeln!(o, "      e.g. {}", fit(&clean(e), EXAMPLE_WIDTH));
        }
        if let Some(r) = &c.resolution {
            let _ = writeln!(
                o,
                "      resolution {} at {}{}: {} covered after their last attempt, {} failed again after it",
                r.id,
                format_rfc3339(r.resolved_at),
                if r.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", clean(&r.note))
                },
                c.resolved,
                c.failed_after_resolution
            );
        }
    }
    for w in &wide {
        let _ = writeln!(o, "  ! {}", clean(&w.describe()));
    }
    print(&o)
}

/// The `resolve` command for the scope `mark` was given: what the user named stays, the
/// rest is left for them to fill in.
fn resolve_command(scope: &Scope) -> String {
    let f = scope.filter();
    let mut cmd = format!(
        "sendlog resolve --cause {}",
        f.cause
            .map(crate::model::Reason::as_str)
            .unwrap_or("REASON")
    );
    match &f.destination {
        Some(d) => cmd.push_str(&format!(" --domain {}", shell_word(d))),
        None => cmd.push_str(" [--domain D]"),
    }
    match &f.host {
        Some(h) => cmd.push_str(&format!(" --host {}", shell_word(h))),
        None => cmd.push_str(" [--host H]"),
    }
    cmd.push_str(" --note TEXT");
    cmd
}

fn mark(store: &mut Store, eligible: bool, ids: &[i64], scope: &Scope) -> anyhow::Result<ExitCode> {
    if eligible {
        let outcome = basket::mark_eligible(store, &scope.filter(), now())?;
        let mut o = format!(
            "Marked {} for re-send ({} already marked).\n",
            plural(outcome.marked as u64, "delivery", "deliveries"),
            plural(
                outcome.already_marked as u64,
                "eligible one was",
                "eligible ones were"
            )
        );
        let excluded = outcome.tally.excluded_total();
        if excluded > 0 {
            let _ = writeln!(
                o,
                "{} in the scope {} not eligible: {}.",
                plural(excluded, "failed delivery", "failed deliveries"),
                if excluded == 1 { "is" } else { "are" },
                outcome.tally.describe_excluded()
            );
        }
        if outcome.tally.eligible == 0 && outcome.tally.excluded.contains_key("not_resolved") {
            let _ = writeln!(o, "Record a fix first: {}", clean(&resolve_command(scope)));
        }
        return print(&o);
    }
    if !scope.is_empty() {
        anyhow::bail!(
            "--cause, --domain and --host choose deliveries for --eligible; with --id, give ids only"
        );
    }
    let known: std::collections::HashSet<i64> =
        basket::judge_all(store, &CandidateFilter::default(), false)?
            .iter()
            .map(|j| j.candidate.delivery_id)
            .collect();
    let unknown: Vec<String> = ids
        .iter()
        .filter(|i| !known.contains(i))
        .map(i64::to_string)
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "no failed delivery has id {} (see sendlog requeue list --all); nothing was marked",
            unknown.join(", ")
        );
    }
    let n = store.mark(ids, now())?;
    print(&format!(
        "Marked {} ({} already marked).\n",
        plural(n as u64, "delivery", "deliveries"),
        plural((ids.len() - n) as u64, "was", "were")
    ))
}

fn unmark(store: &mut Store, all: bool, ids: &[i64], scope: &Scope) -> anyhow::Result<ExitCode> {
    let n = if all {
        store.unmark_all()?
    } else if !ids.is_empty() {
        store.unmark(ids)?
    } else if !scope.is_empty() {
        let filter = CandidateFilter {
            marked_only: true,
            ..scope.filter()
        };
        let ids: Vec<i64> = basket::judge_all(store, &filter, false)?
            .iter()
            .map(|j| j.candidate.delivery_id)
            .collect();
        store.unmark(&ids)?
    } else {
        anyhow::bail!("say what to unmark: --all, --id ID…, or --cause/--domain/--host");
    };
    print(&format!(
        "Unmarked {}.\n",
        plural(n as u64, "delivery", "deliveries")
    ))
}

fn verdict_text(j: &Judged) -> String {
    let mut text = verdict_only(j);
    if j.candidate.other_message_sent {
        text.push_str("; another message reached this recipient later");
    }
    text
}

fn verdict_only(j: &Judged) -> String {
    match &j.verdict {
        ResendVerdict::Eligible { resolution } => format!(
            "eligible: resolution {}{}",
            resolution.id,
            if resolution.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", clean(&resolution.note))
            }
        ),
        ResendVerdict::Excluded { exclusion } => {
            format!("excluded: {}", clean(&exclusion.describe()))
        }
    }
}

/// The rows of `requeue list`, under a header. Every column but the last has its width:
/// a longer value is cut (…), never pushed into the next column.
fn judged_rows(js: &[Judged]) -> String {
    let mut o = String::new();
    if js.is_empty() {
        return o;
    }
    let _ = writeln!(
        o,
        "  {:>8}  {} {} {} {} verdict",
        "id",
        cell("recipient", 36),
        cell("status", 8),
        cell("cause", 16),
        cell("queue id", 14),
    );
    for j in js {
        let c = &j.candidate;
        let _ = writeln!(
            o,
            "  {:>8}  {} {} {} {} {}",
            c.delivery_id,
            cell(&clean(&c.recipient), 36),
            cell(&clean(c.status.as_str()), 8),
            cell(
                &clean(
                    c.cause
                        .map(crate::model::Reason::as_str)
                        .unwrap_or("unknown")
                ),
                16
            ),
            cell(&clean(&c.queue_id), 14),
            verdict_text(j)
        );
    }
    o
}

fn list(
    store: &Store,
    json: bool,
    all: bool,
    queue_lifetime: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let b = basket::basket(store, false)?;
    let at_risk = store.at_risk(queue_lifetime, crate::triage::AT_RISK_FRACTION, None)?;
    let everything = if all {
        Some(basket::judge_all(
            store,
            &CandidateFilter::default(),
            false,
        )?)
    } else {
        None
    };
    if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            basket: &'a basket::Basket,
            #[serde(skip_serializing_if = "Option::is_none")]
            failed: Option<&'a [Judged]>,
            at_risk: &'a [crate::store::report::AtRisk],
        }
        return print(&json_text(&Out {
            basket: &b,
            failed: everything.as_deref(),
            at_risk: &at_risk,
        })?);
    }
    let mut o = String::new();
    let t = &b.marked_tally;
    let _ = writeln!(
        o,
        "Basket: {} marked, {} eligible for export{}",
        b.marked.len(),
        t.eligible,
        if t.excluded_total() > 0 {
            format!(
                ", {} excluded ({})",
                t.excluded_total(),
                t.describe_excluded()
            )
        } else {
            String::new()
        }
    );
    let rows = |o: &mut String, js: &[Judged]| o.push_str(&judged_rows(js));
    rows(&mut o, &b.marked);
    let u = &b.unmarked_tally;
    let _ = writeln!(
        o,
        "Not marked: {}, {} eligible{}",
        plural(
            u.eligible + u.excluded_total(),
            "failed delivery",
            "failed deliveries"
        ),
        u.eligible,
        if u.excluded_total() > 0 {
            format!(
                ", {} excluded ({})",
                u.excluded_total(),
                u.describe_excluded()
            )
        } else {
            String::new()
        }
    );
    if let Some(js) = &everything {
        let unmarked: Vec<Judged> = js.iter().filter(|j| !j.candidate.marked).cloned().collect();
        rows(&mut o, &unmarked);
    }
    if !at_risk.is_empty() {
        let _ = writeln!(
            o,
            "At risk (still deferred, past half their queue lifetime):"
        );
        for a in &at_risk {
            let _ = writeln!(
                o,
                "  {} {} {} {}",
                cell(&clean(&a.recipient), 36),
                cell(&time_left(a.seconds_left), 16),
                cell(
                    &clean(
                        a.cause
                            .map(crate::model::Reason::as_str)
                            .unwrap_or("unknown")
                    ),
                    16
                ),
                clean(&a.queue_id)
            );
        }
    }
    if !b.batches.is_empty() {
        let _ = writeln!(o, "Batches:");
        for batch in &b.batches {
            let _ = writeln!(
                o,
                "  {:>4}  {}  {} {:>17}  {}",
                batch.id,
                format_rfc3339(batch.created_at),
                cell(&clean(&batch.format), 8),
                plural(batch.items, "delivery", "deliveries"),
                if batch.destination == "-" {
                    "(standard output)".to_string()
                } else {
                    clean(&batch.destination)
                }
            );
        }
    }
    print(&o)
}

fn export(
    store: &mut Store,
    format: RequeueFormat,
    out: Option<&str>,
    options: basket::ExportOptions,
) -> anyhow::Result<ExitCode> {
    let out = out.filter(|p| *p != "-");
    if options.include_queued && !matches!(format, RequeueFormat::Csv | RequeueFormat::Jsonl) {
        anyhow::bail!(
            "--include-queued is for csv and jsonl batches; the {} format re-queues mail still in the queue already",
            format.as_str()
        );
    }
    let at = now();
    let result = basket::export(
        store,
        format,
        options,
        at,
        |_batch, bytes| -> anyhow::Result<Pending> {
            match out {
                None => Ok(Pending::Stdout(bytes)),
                Some(path) => Ok(Pending::File(
                    stage_file(format, Path::new(path), &bytes, Existing::Replace)
                        .with_context(|| format!("cannot write {}", clean(path)))?,
                )),
            }
        },
    )?;
    let outcome = result?;
    let queued = outcome
        .records
        .iter()
        .filter(|r| r.status == crate::model::DeliveryStatus::Deferred)
        .count() as u64;
    if options.include_queued && queued > 0 {
        eprintln!(
            "sendlog: warning: {} still in the MTA's queue {} in this batch: the MTA keeps retrying {} and may deliver {} as well as your platform",
            plural(queued, "delivery", "deliveries"),
            if queued == 1 { "is" } else { "are" },
            if queued == 1 { "it" } else { "them" },
            if queued == 1 { "it" } else { "them" },
        );
    }
    let t = &outcome.tally;
    let mut msg = String::new();
    match &outcome.batch {
        Some(b) => {
            let _ = write!(
                msg,
                "batch {}: {} exported as {}{}",
                b.id,
                plural(b.items, "delivery", "deliveries"),
                format.as_str(),
                out.map(|p| format!(" to {}", clean(p))).unwrap_or_default()
            );
        }
        None => {
            let _ = write!(
                msg,
                "nothing to export{}: {} marked",
                out.map(|p| format!(" ({} not written)", clean(p)))
                    .unwrap_or_default(),
                t.eligible + t.excluded_total()
            );
        }
    }
    if t.excluded_total() > 0 {
        let _ = write!(
            msg,
            "; {} excluded ({})",
            t.excluded_total(),
            t.describe_excluded()
        );
    }
    for (why, n) in &outcome.not_in_format {
        let _ = write!(msg, "; {n} eligible but {why}");
        if *why == crate::requeue::export::STILL_QUEUED {
            let them = if *n == 1 { "it" } else { "them" };
            let _ = write!(
                msg,
                " — --include-queued puts {them} in this batch anyway, and then the MTA may deliver {them} a second time"
            );
        }
    }
    eprintln!("sendlog: {msg}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::requeue::{Candidate, Exclusion};

    fn judged(recipient: &str, queue_id: &str) -> Judged {
        Judged {
            candidate: Candidate {
                delivery_id: 123_456,
                message_ref: 1,
                recipient: recipient.into(),
                domain: "example.com".into(),
                provider: None,
                host: "mta1".into(),
                status: crate::model::DeliveryStatus::Expired,
                code: "4.4.7".into(),
                cause: Some(crate::model::Reason::BadReputation),
                last_attempt: None,
                typo_of: None,
                queue_id: queue_id.into(),
                message_id: None,
                sender: None,
                subject: None,
                format: "exchange".into(),
                later_success: false,
                contradicts_log: None,
                other_message_sent: false,
                exported_in: None,
                marked: true,
            },
            verdict: ResendVerdict::Excluded {
                exclusion: Exclusion::NotResolved,
            },
        }
    }

    #[test]
    fn list_columns_stay_aligned_whatever_the_values() {
        use unicode_width::UnicodeWidthStr;
        let text = judged_rows(&[
            judged("a@example.com", "9C5F661548"),
            judged(
                "a.very.long.recipient.name.indeed@subdomain.example.com",
                "AM9PR04MB8123456789ABCDEF@EURPRD04.PROD.OUTLOOK.COM",
            ),
            judged("日本語のアドレスです@例え.テスト", "x"),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        // The verdict starts at the same cell on every line, the header's included.
        let offsets: Vec<usize> = lines
            .iter()
            .map(|l| {
                let at = l.find("verdict").or_else(|| l.find("excluded")).unwrap();
                l[..at].width()
            })
            .collect();
        assert!(offsets.iter().all(|&o| o == offsets[0]), "{text}");
        assert!(
            lines[2].contains("a.very.long.recipient.name.indeed@s…"),
            "{text}"
        );
        assert!(lines[2].contains("AM9PR04MB8123…"), "{text}");
    }
}
