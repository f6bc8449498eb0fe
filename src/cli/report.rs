use crate::wording::{EXAMPLE_WIDTH, fit, plural, queue_age, seen_between, time_left};
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::ingest::timestamp::format_rfc3339;
use crate::sanitize::for_terminal;
use crate::store::Store;
use crate::store::report::{
    AtRisk, BounceConflict, CauseEvidence, FrozenMessage, Group, SourceInfo, Totals, TypoDomain,
};

use super::{TimeArgs, Times, open_read_only_store};

use crate::triage::AT_RISK_FRACTION;
use crate::triage::causes::Widespread;
const DOMAINS_PER_CODE: usize = 8;
/// Contradicting bounce reports listed in the text report (JSON has all).
const CONFLICTS_LISTED: usize = 10;

#[derive(Serialize)]
pub struct Report {
    /// What "at risk" was judged against: the last log line, or `--now`.
    pub as_of: Option<String>,
    /// The window asked for with `--since` / `--until`, if any.
    pub since: Option<String>,
    pub until: Option<String>,
    pub totals: Totals,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub groups: Vec<Group>,
    pub causes: Vec<CauseEvidence>,
    /// One sender-side cause across many destinations from one host.
    pub widespread: Vec<Widespread>,
    pub at_risk: Vec<AtRisk>,
    /// Frozen messages whose recipients the log never names.
    pub frozen_recipients_unknown: Vec<FrozenMessage>,
    pub typo_domains: Vec<TypoDomain>,
    /// Bounce reports that contradict the log (the log's outcome stands).
    pub conflicts: Vec<BounceConflict>,
    pub sources: Vec<SourceInfo>,
}

pub fn build(store: &Store, queue_lifetime: Option<i64>, times: Times) -> anyhow::Result<Report> {
    let span = store.span()?;
    Ok(Report {
        as_of: times.now.map(format_rfc3339),
        since: times.since.map(format_rfc3339),
        until: times.until.map(format_rfc3339),
        totals: store.totals()?,
        first_event: span.map(|s| format_rfc3339(s.0)),
        last_event: span.map(|s| format_rfc3339(s.1)),
        groups: store.groups()?,
        causes: store.causes()?,
        widespread: crate::requeue::basket::list_causes(store)?.1,
        at_risk: store.at_risk(queue_lifetime, AT_RISK_FRACTION, times.now)?,
        frozen_recipients_unknown: store.frozen_recipients_unknown()?,
        typo_domains: store.typo_domains()?,
        conflicts: store.bounce_conflicts()?,
        sources: store.sources()?,
    })
}

pub fn run(
    db: Option<&str>,
    json: bool,
    queue_lifetime: Option<i64>,
    times: &TimeArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_read_only_store(db)?;
    let times = times.resolve(&store)?;
    let report = build(&store, queue_lifetime, times)?;
    let mut out = std::io::stdout().lock();
    let written = if json {
        crate::sanitize::json_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        out.write_all(render_text(&report).as_bytes())
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / total as f64)
    }
}

/// The text report. Every string from the log passes through `for_terminal`.
pub fn render_text(r: &Report) -> String {
    let t = &r.totals;
    let mut o = String::new();
    let clean = |s: &str| for_terminal(s).into_owned();
    let _ = writeln!(
        o,
        "{}{}",
        plural(t.deliveries, "delivery", "deliveries"),
        match (&r.first_event, &r.last_event) {
            (Some(a), Some(b)) => format!(", {a} to {b}"),
            _ => String::new(),
        }
    );
    // A window the user asked for is said, so a partial count is not read as the whole.
    if r.since.is_some() || r.until.is_some() {
        let _ = writeln!(
            o,
            "  only deliveries active {}{}",
            r.since
                .as_deref()
                .map(|s| format!("since {s} "))
                .unwrap_or_default(),
            r.until
                .as_deref()
                .map(|u| format!("until {u}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        o,
        "  sent {} ({})   deferred {} ({})   bounced {} ({})   expired {} ({})",
        t.sent,
        pct(t.sent, t.deliveries),
        t.deferred,
        pct(t.deferred, t.deliveries),
        t.bounced,
        pct(t.bounced, t.deliveries),
        t.expired,
        pct(t.expired, t.deliveries)
    );

    let failed = t.deferred + t.bounced + t.expired;
    let _ = writeln!(o, "\nFailed deliveries by code and destination ({failed})");
    if r.groups.is_empty() {
        let _ = writeln!(o, "  none");
    }
    let mut i = 0;
    while i < r.groups.len() {
        let code = &r.groups[i].code;
        let end = r.groups[i..]
            .iter()
            .position(|g| &g.code != code)
            .map_or(r.groups.len(), |p| i + p);
        let block = &r.groups[i..end];
        let total: u64 = block.iter().map(|g| g.count).sum();
        let _ = writeln!(
            o,
            "  {:<9} {:<52} {:>7}  {}",
            clean(code),
            block[0].label,
            total,
            pct(total, failed)
        );
        for g in block.iter().take(DOMAINS_PER_CODE) {
            let provider = g
                .provider
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            let typo = g
                .typo_of
                .as_deref()
                .map(|s| format!("  [typo of {}?]", clean(s)))
                .unwrap_or_default();
            let causes: Vec<String> = g
                .causes
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c.cause
                            .map(crate::model::Reason::as_str)
                            .unwrap_or("unknown"),
                        c.count
                    )
                })
                .collect();
            let dest = format!("{}{provider}", clean(&g.domain));
            let _ = writeln!(
                o,
                "      {:<40} {:>7}  cause: {}{typo}",
                dest,
                g.count,
                causes.join(", ")
            );
        }
        if block.len() > DOMAINS_PER_CODE {
            let rest: u64 = block[DOMAINS_PER_CODE..].iter().map(|g| g.count).sum();
            let _ = writeln!(
                o,
                "      … {} more ({})",
                plural((block.len() - DOMAINS_PER_CODE) as u64, "domain", "domains"),
                plural(rest, "delivery", "deliveries")
            );
        }
        i = end;
    }

    let _ = writeln!(
        o,
        "\nCauses (the reason to fix; for expired and deferred mail, the last deferral)"
    );
    if r.causes.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for c in &r.causes {
        let domains: Vec<String> = c
            .top_domains
            .iter()
            .map(|(d, n)| format!("{} {n}", clean(d)))
            .collect();
        let hosts: Vec<String> = c
            .hosts
            .iter()
            .map(|(h, n)| format!("{} {n}", clean(h)))
            .collect();
        let _ = writeln!(
            o,
            "  {:<16} {:>7}  expired {}, deferred {}, bounced {}",
            c.cause, c.count, c.expired, c.deferred, c.bounced
        );
        let _ = writeln!(
            o,
            "      {}: {}; sending hosts: {}",
            plural(c.domains, "domain", "domains"),
            domains.join(", "),
            hosts.join(", ")
        );
        if let (Some(a), Some(b)) = (c.first_seen, c.last_seen) {
            let _ = writeln!(o, "      {}", seen_between(a, b));
        }
        if let Some(e) = &c.example {
            let _ = writeln!(o, "      e.g. {}", fit(&clean(e), EXAMPLE_WIDTH));
        }
    }
    // One cause reaching many destinations from one host is that host's problem.
    for w in &r.widespread {
        let _ = writeln!(o, "  ! {}", clean(&w.describe()));
    }

    let _ = writeln!(
        o,
        "\nAt risk (still deferred, past half their queue lifetime, as of {})",
        r.as_of.as_deref().unwrap_or("the last log line")
    );
    if r.at_risk.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for a in r.at_risk.iter().take(20) {
        let _ = writeln!(
            o,
            "  {:<40} {:>8} old  {:<14} {:<12} {}",
            clean(&a.recipient),
            queue_age(a.age, a.arrival_known),
            time_left(a.seconds_left),
            a.cause
                .map(crate::model::Reason::as_str)
                .unwrap_or("unknown"),
            clean(&a.queue_id)
        );
    }
    if r.at_risk.len() > 20 {
        let _ = writeln!(o, "  … {} more", r.at_risk.len() - 20);
    }
    // No recipient to list them under: the log never names one.
    if !r.frozen_recipients_unknown.is_empty() {
        let _ = writeln!(
            o,
            "\nFrozen, recipients unknown (still queued; the log names no recipient of them)"
        );
        for f in r.frozen_recipients_unknown.iter().take(20) {
            let _ = writeln!(
                o,
                "  {:<24} frozen since {}  from {}  {}",
                clean(&f.queue_id),
                format_rfc3339(f.frozen_since),
                clean(f.sender.as_deref().unwrap_or("unknown sender")),
                clean(&f.frozen)
            );
        }
        if r.frozen_recipients_unknown.len() > 20 {
            let _ = writeln!(
                o,
                "  … {} more (report --json lists them all)",
                r.frozen_recipients_unknown.len() - 20
            );
        }
    }

    let _ = writeln!(o, "\nTypo domains (never re-send as is)");
    if r.typo_domains.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for t in &r.typo_domains {
        let _ = writeln!(
            o,
            "  {} → {}  ({}): {}",
            clean(&t.domain),
            clean(&t.suggestion),
            plural(t.count, "delivery", "deliveries"),
            clean(&crate::classify::typo::why(&t.domain, &t.suggestion))
        );
    }

    if !r.conflicts.is_empty() {
        let _ = writeln!(
            o,
            "\nBounce reports that contradict the log (not applied: the log's outcome stands)"
        );
        for c in r.conflicts.iter().take(CONFLICTS_LISTED) {
            let _ = writeln!(
                o,
                "  {}  {}\n      {}",
                clean(&c.recipient),
                clean(&c.report),
                clean(&c.conflict)
            );
        }
        if r.conflicts.len() > CONFLICTS_LISTED {
            let _ = writeln!(
                o,
                "  … and {} more (report --json lists them all)",
                r.conflicts.len() - CONFLICTS_LISTED
            );
        }
    }

    let _ = writeln!(o, "\nSources");
    for s in &r.sources {
        let _ = writeln!(
            o,
            "  {} ({}): {}, {}, {} skipped",
            clean(&s.path),
            s.format,
            if s.format == "eml" {
                plural(s.lines_read, "message", "messages")
            } else {
                plural(s.lines_read, "line", "lines")
            },
            plural(s.events, "event", "events"),
            s.lines_skipped
        );
        for (line, text) in s.unparsed.iter().take(3) {
            let mut text = clean(text);
            if text.chars().count() > 100 {
                text = text.chars().take(100).collect::<String>() + "…";
            }
            let _ = writeln!(o, "      unparsed line {line}: {text}");
        }
    }
    o
}
