//! `sendlog check`: live checks of whether each unresolved cause is fixed, kept in the
//! store; `--apply` records a resolution for each fixed one, as `sendlog resolve` would.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::check::plan::{self, Scope};
use crate::check::{self, CheckResult, Outcome};
use crate::ingest::timestamp::format_rfc3339;
use crate::requeue::basket;
use crate::sanitize::for_terminal;

use super::open_existing_store;

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Checks: hostunknown: the domain's MX, then its addresses (NXDOMAIN is told apart from a \
failed lookup). networkerror, notaccept: each MX host is connected to, its banner read, \
EHLO, QUIT; never MAIL FROM. blocked, badreputation: the sending addresses (named in the \
replies, else --ip) in DNS blocklists. authfailure: the sender domains' SPF and DMARC \
records are present and parse. Domains flagged as likely typos of a known one (gmial.com) \
get the hostunknown lookups too: one with a mail host is real, and its flag comes off. Other causes (greylisted, speeding, mailboxfull, \
policyviolation…) get `unknown`: no lookup can settle them; the evidence \
quotes what the panel of the receiver's code says about how long it lasts, where one does.

Public blocklists (Spamhaus, SpamCop, Barracuda) refuse queries that reach them through \
large public resolvers (8.8.8.8, 1.1.1.1, 9.9.9.9): ask them through your own resolver, \
with --resolver or this machine's own.

Nothing touches the network unless you run this command.")]
pub struct CheckArgs {
    /// Only this cause (hostunknown, networkerror, blocked, …).
    #[arg(long, value_name = "REASON", value_parser = super::resolve::parse_reason)]
    pub cause: Option<crate::model::Reason>,
    /// Only at this destination: a recipient domain, or a provider (Microsoft, Google…).
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Only from this sending host: as logged (mta2/postfix-out2) or the machine (mta2).
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// One JSON object per cause and destination checked.
    #[arg(long)]
    pub json: bool,
    /// Record a resolution for each cause its checks find fixed, with their evidence as
    /// the note (see `sendlog history`; undo with `sendlog resolve --undo ID`).
    #[arg(long)]
    pub apply: bool,
    /// The DNS server to ask (IP or IP:PORT); default: the one an earlier check of this
    /// store was told, else this machine's resolver. Kept for later checks.
    #[arg(long, value_name = "IP:PORT", value_parser = check::parse_resolver, env = "SENDLOG_RESOLVER")]
    pub resolver: Option<SocketAddr>,
    /// The port MX hosts are connected to.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 25,
        env = "SENDLOG_SMTP_PORT"
    )]
    pub smtp_port: u16,
    /// How long to wait for each DNS answer and each SMTP step (5s, 800ms), up to 1m.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// A sending address to look up in blocklists when a cause's replies name none
    /// (repeat or separate with commas). Kept for later checks of this store.
    #[arg(
        long,
        value_name = "IP",
        value_delimiter = ',',
        env = "SENDLOG_SENDING_IPS"
    )]
    pub ip: Vec<IpAddr>,
    /// A DNS blocklist zone to ask (repeat or separate with commas); default: the zones an
    /// earlier check of this store was told, else zen.spamhaus.org, bl.spamcop.net,
    /// b.barracudacentral.org. Kept for later checks.
    #[arg(
        long,
        value_name = "ZONE",
        value_delimiter = ',',
        env = "SENDLOG_DNSBL_ZONES",
        value_parser = parse_zone
    )]
    pub zone: Vec<String>,
    /// Print the kept results of earlier checks (of the causes in scope); ask nothing.
    #[arg(long, conflicts_with = "apply")]
    pub history: bool,
}

fn parse_zone(s: &str) -> Result<String, String> {
    let zone = s.trim().trim_end_matches('.');
    match check::dns::fqdn(zone) {
        Some(_) if zone.contains('.') => Ok(zone.to_string()),
        _ => Err(format!(
            "{s:?} is not a blocklist zone such as zen.spamhaus.org"
        )),
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration such as 5s or 800ms ({e})"))?;
    if d < Duration::from_millis(50) || d > Duration::from_secs(60) {
        return Err(format!(
            "a timeout of {} is out of bounds: give one from 50ms to 1m",
            s.trim()
        ));
    }
    Ok(d)
}

/// An empty flag value means "not given".
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// A result as `--json` prints it: with the resolution `--apply` recorded for its cause.
#[derive(Serialize)]
struct Printed<'a> {
    #[serde(flatten)]
    result: &'a CheckResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<i64>,
}

pub fn run(db: Option<&str>, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_existing_store(db)?;
    let scope = Scope {
        cause: args.cause,
        domain: given(&args.domain),
        host: given(&args.host),
    };
    if let Err(problem) =
        basket::check_scope(&store, scope.domain.as_deref(), scope.host.as_deref())?
    {
        anyhow::bail!(
            "{}; nothing was checked",
            for_terminal(&problem.to_string())
        );
    }
    if args.history {
        return history(&store, &scope, args.json);
    }
    // What this run is told is kept for the next; what it is not told, an earlier run may
    // have been.
    let kept = store.check_defaults()?;
    let told = crate::model::check::CheckDefaults {
        ips: if args.ip.is_empty() {
            kept.ips.clone()
        } else {
            args.ip.clone()
        },
        zones: if args.zone.is_empty() {
            kept.zones.clone()
        } else {
            args.zone.clone()
        },
        resolver: args.resolver.or(kept.resolver),
    };
    if told != kept {
        store.keep_check_defaults(&told)?;
    }
    let knowledge = crate::knowledge::Knowledge::for_user();
    let targets = plan::for_store(&store, &scope, &told.ips, &knowledge)?;
    let typo_flags = typo_flags_in_scope(&store, &scope)?;
    let mut out = std::io::stdout().lock();
    if targets.is_empty() && typo_flags.is_empty() {
        if args.json {
            writeln!(out, "[]")?;
        } else {
            writeln!(out, "No unresolved cause in scope: nothing to check.")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let settings = check::Settings {
        resolver: told.resolver,
        smtp_port: args.smtp_port,
        timeout: args.timeout,
        zones: check::zones_or_default(&told.zones),
    };
    let now = super::resolve::now();
    let results = if targets.is_empty() {
        Vec::new()
    } else {
        check::run(targets, &settings, now).map_err(|line| anyhow::anyhow!(line))?
    };
    store.record_checks(&results)?;
    let typo_lines = check_typo_domains(&mut store, typo_flags, &settings)?;

    // Each cause's results together, in the order they were checked.
    let mut causes_seen: Vec<(String, String, String)> = Vec::new();
    for r in &results {
        let key = (r.cause.clone(), r.destination.clone(), r.host.clone());
        if !causes_seen.contains(&key) {
            causes_seen.push(key);
        }
    }
    let mut applied: Vec<(usize, basket::ResolveOutcome)> = Vec::new();
    if args.apply {
        for (i, (reason, destination, host)) in causes_seen.iter().enumerate() {
            let mine: Vec<&CheckResult> = results
                .iter()
                .filter(|r| &r.cause == reason && &r.destination == destination && &r.host == host)
                .collect();
            if check::overall(&mine) != Outcome::Fixed {
                continue;
            }
            let note = format!(
                "sendlog check: {}",
                mine.iter()
                    .map(|r| r.evidence.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let reason: crate::model::Reason = reason
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown reason {reason:?} in a kept check"))?;
            let outcome = basket::resolve(
                &mut store,
                reason,
                Some(destination),
                Some(host),
                now,
                &note,
            )?;
            applied.push((i, outcome));
        }
    }

    if args.json {
        let printed: Vec<Printed> = results
            .iter()
            .map(|r| {
                let i = causes_seen
                    .iter()
                    .position(|(c, d, h)| c == &r.cause && d == &r.destination && h == &r.host);
                Printed {
                    result: r,
                    resolution: applied
                        .iter()
                        .find(|(j, _)| Some(*j) == i)
                        .map(|(_, o)| o.resolution.id),
                }
            })
            .collect();
        crate::sanitize::json_pretty(&mut out, &printed)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    for typo in &typo_lines {
        writeln!(out, "{}", for_terminal(typo))?;
    }
    if results.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "Checked at {}{}:",
        format_rfc3339(now),
        match told.resolver {
            Some(a) => format!(" through the resolver at {a}"),
            None => String::new(),
        }
    )?;
    for r in &results {
        writeln!(out, "{}", for_terminal(&line(r)))?;
    }
    let fixed = causes_seen
        .iter()
        .filter(|(c, d, h)| {
            let mine: Vec<&CheckResult> = results
                .iter()
                .filter(|r| &r.cause == c && &r.destination == d && &r.host == h)
                .collect();
            check::overall(&mine) == Outcome::Fixed
        })
        .count();
    for (_, o) in &applied {
        writeln!(
            out,
            "Resolution {} recorded: {}; {} now eligible for re-send",
            o.resolution.id,
            for_terminal(&o.resolution.scope()),
            crate::wording::plural(o.eligible, "delivery", "deliveries")
        )?;
    }
    if !args.apply && fixed > 0 {
        writeln!(
            out,
            "{} fixed: record {} with --apply (a resolution each, undoable like any other).",
            crate::wording::plural(fixed as u64, "cause looks", "causes look"),
            if fixed == 1 { "it" } else { "them" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The typo-flagged domains a run asks about: failed mail to a domain that does not
/// exist is a `hostunknown` cause, so they belong to a run over every cause or over that one.
fn typo_flags_in_scope(
    store: &crate::store::Store,
    scope: &Scope,
) -> anyhow::Result<Vec<crate::store::TypoFlag>> {
    if scope
        .cause
        .is_some_and(|c| c != crate::model::Reason::HostUnknown)
        || scope.host.is_some()
    {
        return Ok(Vec::new());
    }
    Ok(store
        .typo_flags()?
        .into_iter()
        .filter(|f| {
            scope.domain.as_deref().is_none_or(|d| {
                d.eq_ignore_ascii_case(&f.domain) || d.eq_ignore_ascii_case(&f.suggestion)
            })
        })
        .take(plan::DOMAINS_PER_CAUSE * 4)
        .collect())
}

/// Asks DNS whether each typo-flagged domain has a mail host; one that has is a real
/// domain, so its flag comes off for good. Lines for the user, in the flags' order. A
/// run where no resolver answered says so and changes nothing.
fn check_typo_domains(
    store: &mut crate::store::Store,
    flags: Vec<crate::store::TypoFlag>,
    settings: &check::Settings,
) -> anyhow::Result<Vec<String>> {
    if flags.is_empty() {
        return Ok(Vec::new());
    }
    let domains = flags.iter().map(|f| f.domain.clone()).collect();
    let checked = match check::typo_domains(domains, settings) {
        Ok(c) => c,
        Err(line) => return Ok(vec![format!("Typo domains not checked: {line}")]),
    };
    let mut lines = Vec::new();
    for (flag, c) in flags.iter().zip(checked) {
        let deliveries = crate::wording::plural(flag.deliveries as u64, "delivery", "deliveries");
        lines.push(match c.receives_mail {
            Outcome::Fixed => {
                store.mark_domain_real(&flag.domain)?;
                format!(
                    "not a typo  {} — dns: {}: a real domain, not {} misspelt; the flag is off its {deliveries}",
                    flag.domain, c.evidence, flag.suggestion
                )
            }
            Outcome::Failing => format!(
                "typo?       {} — dns: {}: still flagged as {} misspelt ({deliveries})",
                flag.domain, c.evidence, flag.suggestion
            ),
            Outcome::Unknown => format!(
                "unknown     {} — dns: {}: still flagged as {} misspelt ({deliveries})",
                flag.domain, c.evidence, flag.suggestion
            ),
        });
    }
    Ok(lines)
}

/// `fixed    networkerror at Microsoft (hotmail.com) from mta1 — smtp: …`
fn line(r: &CheckResult) -> String {
    let at = match &r.domain {
        Some(d) if !d.eq_ignore_ascii_case(&r.destination) => format!("{} ({d})", r.destination),
        _ => r.destination.clone(),
    };
    format!(
        "{:<8} {} at {} from {} — {}: {}",
        r.result.as_str(),
        r.cause,
        at,
        r.host,
        r.check,
        r.evidence
    )
}

fn history(store: &crate::store::Store, scope: &Scope, json: bool) -> anyhow::Result<ExitCode> {
    let kept: Vec<CheckResult> = store
        .check_history(None)?
        .into_iter()
        .filter(|r| scope.cause.is_none_or(|c| c.as_str() == r.cause))
        .filter(|r| {
            scope.domain.as_deref().is_none_or(|d| {
                d.eq_ignore_ascii_case(&r.destination)
                    || r.domain
                        .as_deref()
                        .is_some_and(|x| d.eq_ignore_ascii_case(x))
            })
        })
        .filter(|r| {
            scope
                .host
                .as_deref()
                .is_none_or(|h| crate::triage::requeue::host_matches(h, &r.host))
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        crate::sanitize::json_pretty(&mut out, &kept)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if kept.is_empty() {
        writeln!(
            out,
            "No check kept for the causes in scope (run sendlog check)."
        )?;
    }
    for r in &kept {
        writeln!(
            out,
            "{}  {}",
            format_rfc3339(r.checked_at),
            for_terminal(&line(r))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_as_typed() {
        assert_eq!(
            check::parse_resolver("127.0.0.1:5353").unwrap().port(),
            5353
        );
        assert_eq!(check::parse_resolver("192.0.2.53").unwrap().port(), 53);
        assert_eq!(check::parse_resolver("[::1]:53").unwrap().port(), 53);
        assert!(check::parse_resolver("dns.example").is_err());
        assert_eq!(parse_timeout("800ms"), Ok(Duration::from_millis(800)));
        assert_eq!(parse_timeout("5s"), Ok(Duration::from_secs(5)));
        assert!(parse_timeout("2h").is_err());
        assert!(parse_timeout("5").is_err());
        assert_eq!(
            parse_zone("zen.spamhaus.org.").as_deref(),
            Ok("zen.spamhaus.org")
        );
        assert!(parse_zone("bl test").is_err());
        assert!(parse_zone("x\u{1b}]0;t\u{7}.example").is_err());
    }
}
