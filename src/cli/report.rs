use crate::wording::{EXAMPLE_WIDTH, fit, plural, queue_age, seen_between, time_left};
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::ingest::timestamp::format_rfc3339;
use crate::sanitize::for_terminal;
use crate::store::Store;
use crate::store::line_counts::RejectReason;
use crate::store::report::{
    AtRisk, BounceConflict, CauseEvidence, DomainTraffic, FrozenMessage, Group, Recipient,
    SenderGroup, SenderKey, SourceInfo, Totals, Traffic, TypoDomain,
};

use super::{TimeArgs, Times, open_read_only_store};
use crate::wording::count_list;

use crate::triage::AT_RISK_FRACTION;
use crate::triage::causes::Widespread;
const DOMAINS_PER_CODE: usize = 8;
/// Contradicting bounce reports listed in the text report (JSON has all).
const CONFLICTS_LISTED: usize = 10;
/// Rows of the pflogsumm-like tables (domains, senders, recipients, reject reasons).
const TOP: usize = 20;

/// Where the totals meet pflogsumm's and where they cannot: said under the report and in
/// the README.
pub const PFLOGSUMM_NOTE: &str = "Against pflogsumm on the same Postfix log: received, delivered, \
bounced, rejected, deferred messages and deferral lines count the same lines. They differ where \
sendlog follows a message: a log that starts after a message arrived still counts that message's \
deliveries (pflogsumm counts only senders and bytes of mail received in the log); expired is \
sendlog's own (pflogsumm has no such line); reject reasons are shortened differently; hours and \
days are UTC, pflogsumm's are the log's own stamps.";

/// One hour of the day (UTC), summed over the days.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct HourTraffic {
    /// 0–23.
    pub hour: i64,
    pub received: u64,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
}

impl From<&Traffic> for HourTraffic {
    fn from(t: &Traffic) -> Self {
        HourTraffic {
            hour: t.start,
            received: t.received,
            delivered: t.delivered,
            deferred: t.deferred,
            bounced: t.bounced,
            rejected: t.rejected,
            expired: t.expired,
        }
    }
}

/// pflogsumm's "Grand Totals", from the store.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Messages received (Postfix smtpd `client=` and pickup lines).
    pub received: u64,
    /// Deliveries sent.
    pub delivered: u64,
    /// Messages with at least one deferral.
    pub deferred: u64,
    /// Deferral lines.
    pub deferrals: u64,
    pub bounced: u64,
    /// Refused at intake (smtpd and cleanup rejects).
    pub rejected: u64,
    pub expired: u64,
    /// Bytes of the messages with a delivery, once each (where the log tells sizes).
    pub bytes: u64,
    /// Bytes delivered: each sent delivery counts its message's size.
    pub bytes_delivered: u64,
}

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
    /// pflogsumm's grand totals.
    pub summary: Summary,
    /// Per day (UTC).
    pub per_day: Vec<Traffic>,
    /// Per hour of the day (UTC, 0–23), summed over the days.
    pub per_hour: Vec<HourTraffic>,
    pub domains: Vec<DomainTraffic>,
    /// What `senders` is grouped by.
    pub senders_by: SenderKey,
    /// Most failed deliveries first: who is being blocked, and where.
    pub senders: Vec<SenderGroup>,
    /// (sender, messages, bytes), most messages first.
    pub top_senders: Vec<(String, u64, u64)>,
    /// Most bytes first.
    pub top_senders_by_size: Vec<(String, u64, u64)>,
    pub top_recipients: Vec<Recipient>,
    pub top_recipients_by_size: Vec<Recipient>,
    pub reject_reasons: Vec<RejectReason>,
    pub compared_with_pflogsumm: &'static str,
}

pub fn build(
    store: &Store,
    queue_lifetime: Option<i64>,
    times: Times,
    by: SenderKey,
) -> anyhow::Result<Report> {
    let span = store.span()?;
    let totals = store.totals()?;
    let per_day = store.traffic(86_400, false, times.since, times.until)?;
    let per_hour: Vec<HourTraffic> = store
        .traffic(3600, true, times.since, times.until)?
        .iter()
        .map(HourTraffic::from)
        .collect();
    let (deferred, deferrals) = store.deferred_messages()?;
    let (bytes, bytes_delivered) = store.bytes_total()?;
    let (top_senders, top_senders_by_size) = store.top_senders(TOP)?;
    let (top_recipients, top_recipients_by_size) = store.top_recipients(TOP)?;
    let summary = Summary {
        received: per_day.iter().map(|t| t.received).sum(),
        delivered: totals.sent,
        deferred,
        deferrals,
        bounced: totals.bounced,
        rejected: per_day.iter().map(|t| t.rejected).sum(),
        expired: totals.expired,
        bytes,
        bytes_delivered,
    };
    Ok(Report {
        summary,
        per_day,
        per_hour,
        domains: store.domain_traffic(TOP)?,
        senders_by: by,
        senders: store.sender_groups(by, TOP)?,
        top_senders,
        top_senders_by_size,
        top_recipients,
        top_recipients_by_size,
        reject_reasons: store.reject_reasons(times.since, times.until)?,
        compared_with_pflogsumm: PFLOGSUMM_NOTE,
        as_of: times.now.map(format_rfc3339),
        since: times.since.map(format_rfc3339),
        until: times.until.map(format_rfc3339),
        totals,
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
    by: SenderKey,
) -> anyhow::Result<ExitCode> {
    let store = open_read_only_store(db)?;
    let times = times.resolve(&store)?;
    let report = build(&store, queue_lifetime, times, by)?;
    // Buffered: standard output flushes at every line end, and the JSON has one per value
    // (286,468 writes for a 10 M-line store's report).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if json {
        crate::sanitize::json_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        out.write_all(render_text(&report).as_bytes())
    }
    .and_then(|_| out.flush());
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

/// Bytes as pflogsumm writes them: `8383k`, `12m`.
fn bytes(n: u64) -> String {
    match n {
        n if n >= 10 * 1024 * 1024 => format!("{}m", n / (1024 * 1024)),
        n if n >= 10 * 1024 => format!("{}k", n / 1024),
        n => n.to_string(),
    }
}

/// A delay as pflogsumm writes it: `0.4 s`, `18.2 m`, `49.6 h`.
fn delay(secs: Option<f64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s < 60.0 => format!("{s:.1} s"),
        Some(s) if s < 3600.0 => format!("{:.1} m", s / 60.0),
        Some(s) if s < 86_400.0 * 2.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} d", s / 86_400.0),
    }
}

fn day(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn traffic_row(o: &mut String, label: &str, t: &Traffic) {
    let _ = writeln!(
        o,
        "  {label:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        t.received, t.delivered, t.deferred, t.bounced, t.rejected, t.expired
    );
}

/// Who sends the mail that fails, and where it fails.
fn render_senders(o: &mut String, r: &Report) {
    let clean = |s: &str| for_terminal(s).into_owned();
    let _ = writeln!(
        o,
        "\nSenders by {} (most failed deliveries first; report --by sender|sender-domain|host|campaign)",
        r.senders_by.as_str()
    );
    if r.senders.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for g in &r.senders {
        let failed = g.deferred + g.bounced + g.expired;
        let _ = writeln!(
            o,
            "  {:<40} {:>6} msgs {:>7}  sent {}  failed {} ({})",
            fit(&clean(&g.key), 40),
            g.messages,
            bytes(g.bytes),
            g.sent,
            failed,
            pct(failed, g.deliveries)
        );
        if !g.failing_destinations.is_empty() {
            let at = count_list(&g.failing_destinations);
            let why = count_list(&g.causes);
            let _ = writeln!(o, "      failing at: {}; causes: {}", at, why);
        }
    }
}

/// pflogsumm's tables: grand totals, traffic per day and hour, domains, senders and
/// recipients by count and size, reject reasons.
fn render_pflogsumm(o: &mut String, r: &Report) {
    let clean = |s: &str| for_terminal(s).into_owned();
    let m = &r.summary;
    let _ = writeln!(o, "\nGrand totals (as pflogsumm counts them)");
    let _ = writeln!(o, "  {:>9}  received", m.received);
    let _ = writeln!(o, "  {:>9}  delivered", m.delivered);
    let _ = writeln!(
        o,
        "  {:>9}  deferred  ({} deferrals)",
        m.deferred, m.deferrals
    );
    let _ = writeln!(o, "  {:>9}  bounced", m.bounced);
    let _ = writeln!(o, "  {:>9}  rejected", m.rejected);
    let _ = writeln!(o, "  {:>9}  expired", m.expired);
    let _ = writeln!(o, "  {:>9}  bytes in messages", bytes(m.bytes));
    let _ = writeln!(o, "  {:>9}  bytes delivered", bytes(m.bytes_delivered));

    let header = format!(
        "  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "received", "delivered", "deferred", "bounced", "rejected", "expired"
    );
    if r.per_day.len() > 1 {
        let _ = writeln!(o, "\nPer day (UTC)\n{header}");
        for t in &r.per_day {
            traffic_row(o, &day(t.start), t);
        }
    }
    let _ = writeln!(
        o,
        "\nPer hour of the day (UTC, summed over the days)\n{header}"
    );
    for h in 0..24 {
        let t = r
            .per_hour
            .iter()
            .find(|t| t.hour == h)
            .cloned()
            .unwrap_or_default();
        let t = Traffic {
            start: h,
            received: t.received,
            delivered: t.delivered,
            deferred: t.deferred,
            bounced: t.bounced,
            rejected: t.rejected,
            expired: t.expired,
        };
        traffic_row(o, &format!("{h:02}00-{:02}00", h + 1), &t);
    }

    let _ = writeln!(
        o,
        "\nDestination domains\n  {:>7} {:>7} {:>8} {:>7} {:>7} {:>8} {:>8}  domain",
        "sent", "bytes", "defers", "bounced", "expired", "avg dly", "max dly"
    );
    if r.domains.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for d in &r.domains {
        let _ = writeln!(
            o,
            "  {:>7} {:>7} {:>8} {:>7} {:>7} {:>8} {:>8}  {}",
            d.sent,
            bytes(d.bytes),
            d.deferrals,
            d.bounced,
            d.expired,
            delay(d.avg_delay),
            delay(d.max_delay.map(|s| s as f64)),
            clean(&d.domain)
        );
    }

    let two = |o: &mut String, title: &str, rows: &[(String, u64, u64)]| {
        let _ = writeln!(o, "\n{title}\n  {:>7} {:>8}  sender", "msgs", "bytes");
        if rows.is_empty() {
            let _ = writeln!(o, "  none");
        }
        for (who, n, b) in rows {
            let _ = writeln!(o, "  {n:>7} {:>8}  {}", bytes(*b), clean(who));
        }
    };
    two(o, "Senders by message count", &r.top_senders);
    two(o, "Senders by message size", &r.top_senders_by_size);
    let rcpt = |o: &mut String, title: &str, rows: &[Recipient]| {
        let _ = writeln!(o, "\n{title}\n  {:>7} {:>8}  recipient", "sent", "bytes");
        if rows.is_empty() {
            let _ = writeln!(o, "  none");
        }
        for x in rows {
            let _ = writeln!(
                o,
                "  {:>7} {:>8}  {}",
                x.delivered,
                bytes(x.bytes),
                clean(&x.recipient)
            );
        }
    };
    rcpt(o, "Recipients by message count", &r.top_recipients);
    rcpt(o, "Recipients by message size", &r.top_recipients_by_size);

    let _ = writeln!(o, "\nSMTP rejects at intake ({})", m.rejected);
    if r.reject_reasons.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for x in r.reject_reasons.iter().take(TOP) {
        let _ = writeln!(
            o,
            "  {:>7}  {:<8} {:<9} {}",
            x.count,
            clean(&x.stage),
            clean(&x.code),
            fit(&clean(&x.reason), EXAMPLE_WIDTH)
        );
    }
    if r.reject_reasons.len() > TOP {
        let _ = writeln!(
            o,
            "  … {} more reasons (report --json lists them all)",
            r.reject_reasons.len() - TOP
        );
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
        let domains = count_list(&c.top_domains);
        let hosts = count_list(&c.hosts);
        let _ = writeln!(
            o,
            "  {:<16} {:>7}  expired {}, deferred {}, bounced {}",
            c.cause, c.count, c.expired, c.deferred, c.bounced
        );
        let _ = writeln!(
            o,
            "      {}: {}; sending hosts: {}",
            plural(c.domains, "domain", "domains"),
            domains,
            hosts
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

    render_senders(&mut o, r);

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

    render_pflogsumm(&mut o, r);

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
    let _ = writeln!(o, "\n{}", r.compared_with_pflogsumm);
    o
}
