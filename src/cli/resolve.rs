//! `sendlog resolve`: record that a cause is fixed.

use crate::wording::{plural, shell_word};
use std::io::Write;
use std::process::ExitCode;

use crate::classify::Reason;
use crate::ingest::timestamp::format_rfc3339;
use crate::requeue::basket;
use crate::sanitize::for_terminal;

use super::open_existing_store;

#[derive(Debug, Clone, clap::Args)]
pub struct ResolveArgs {
    /// The reason that is fixed (badreputation, blocked, networkerror, …).
    #[arg(long, value_name = "REASON", value_parser = parse_reason, required_unless_present = "undo")]
    pub cause: Option<Reason>,
    /// Only at this destination: a recipient domain, or a provider (Microsoft, Google…).
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Only from this sending host: as logged (mta2/postfix-out2) or the machine (mta2).
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// What was done ("IP 203.0.113.13 delisted at Microsoft").
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub note: String,
    /// When it was fixed (RFC 3339, e.g. 2026-11-25T10:00:00Z), not later than now;
    /// default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_past_time)]
    pub at: Option<i64>,
    /// Print the resolution and what it covers as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show what the resolution would make eligible, and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Undo resolution ID (see `sendlog history`): it no longer makes anything eligible.
    /// Batches already exported stay exported.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with_all = ["cause", "domain", "host", "at", "dry_run"]
    )]
    pub undo: Option<i64>,
}

/// A reason name from the taxonomy, as stored (lower case).
pub fn parse_reason(s: &str) -> Result<Reason, String> {
    s.parse::<Reason>().map_err(|_| {
        let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown reason {s:?}; one of: {}", names.join(", "))
    })
}

pub fn parse_time(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp())
        .map_err(|_| format!("{s:?} is not a time such as 2026-11-25T10:00:00Z"))
}

/// The command that marks what a resolution made eligible: its scope, as the user gave it.
fn mark_command(r: &crate::triage::requeue::Resolution) -> String {
    let mut cmd = format!("sendlog requeue mark --eligible --cause {}", r.reason);
    if let Some(d) = &r.destination {
        cmd.push_str(&format!(" --domain {}", shell_word(d)));
    }
    if let Some(h) = &r.host {
        cmd.push_str(&format!(" --host {}", shell_word(h)));
    }
    cmd
}

/// A time a fix was made: not in the future, where it would make eligible every delivery
/// that fails until then.
fn parse_past_time(s: &str) -> Result<i64, String> {
    let t = parse_time(s)?;
    if t > now() {
        return Err(format!(
            "{s:?} is in the future; give the time the fix was made"
        ));
    }
    Ok(t)
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An empty flag value means "not given": `--domain ''` must not scope to nothing.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub fn run(db: Option<&str>, args: &ResolveArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_existing_store(db)?;
    if let Some(id) = args.undo {
        return undo(&mut store, id, args);
    }
    let cause = args
        .cause
        .ok_or_else(|| anyhow::anyhow!("say which cause is fixed: --cause REASON"))?;
    let (domain, host) = (given(&args.domain), given(&args.host));
    if let Err(problem) = basket::check_scope(&store, domain, host)? {
        anyhow::bail!(
            "{}; nothing was recorded",
            for_terminal(&problem.to_string())
        );
    }
    let at = args.at.unwrap_or_else(now);
    let outcome = if args.dry_run {
        basket::preview_resolution(&store, cause, domain, host, at, args.note.trim())?
    } else {
        basket::resolve(&mut store, cause, domain, host, at, args.note.trim())?
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::sanitize::json_pretty(&mut out, &outcome)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        writeln!(
            out,
            "Dry run, nothing recorded: {}",
            for_terminal(&outcome.preview_line())
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let r = &outcome.resolution;
    writeln!(
        out,
        "Resolution {} recorded at {}: {}{}",
        r.id,
        format_rfc3339(r.resolved_at),
        for_terminal(&r.scope()),
        if r.note.is_empty() {
            String::new()
        } else {
            format!(" — {}", for_terminal(&r.note))
        }
    )?;
    if outcome.in_scope == 0 {
        eprintln!(
            "sendlog: note: no failed delivery in the store has this cause at this destination and host (yet)"
        );
    } else {
        let excluded = outcome.tally.excluded_total();
        writeln!(
            out,
            "{} in scope: {} now eligible for re-send{}",
            plural(outcome.in_scope, "failed delivery", "failed deliveries"),
            outcome.eligible,
            if excluded > 0 {
                format!(
                    ", {excluded} excluded ({})",
                    outcome.tally.describe_excluded()
                )
            } else {
                String::new()
            }
        )?;
        if outcome.eligible > 0 {
            writeln!(out, "Mark them with: {}", for_terminal(&mark_command(r)))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn undo(store: &mut crate::store::Store, id: i64, args: &ResolveArgs) -> anyhow::Result<ExitCode> {
    use crate::store::requeue::UndoRefused;
    let outcome = match basket::undo_resolution(store, id, now(), args.note.trim())? {
        Ok(o) => o,
        Err(UndoRefused::NoSuchResolution) => {
            anyhow::bail!("there is no resolution {id} (see sendlog history)")
        }
        Err(UndoRefused::AlreadyUndone { at }) => anyhow::bail!(
            "resolution {id} was already undone at {}",
            format_rfc3339(at)
        ),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        crate::sanitize::json_pretty(&mut out, &outcome)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "Resolution {id} undone: {}; {} no longer eligible{}",
        for_terminal(&outcome.resolution.scope()),
        plural(outcome.no_longer_eligible, "delivery is", "deliveries are"),
        if outcome.marked > 0 {
            format!(
                " ({} in the basket stay marked, now excluded)",
                outcome.marked
            )
        } else {
            String::new()
        }
    )?;
    if outcome.exported > 0 {
        writeln!(
            out,
            "{} already exported in a batch: an undo cannot call {} back",
            plural(outcome.exported, "delivery was", "deliveries were"),
            if outcome.exported == 1 { "it" } else { "them" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_hint_keeps_the_scope_given() {
        let r = crate::triage::requeue::Resolution {
            id: 1,
            reason: crate::model::Reason::BadReputation,
            destination: Some("GMX / WEB.DE".into()),
            host: Some("o'brien mta".into()),
            resolved_at: 0,
            note: String::new(),
        };
        assert_eq!(
            mark_command(&r),
            "sendlog requeue mark --eligible --cause badreputation --domain 'GMX / WEB.DE' \
             --host 'o'\\''brien mta'"
        );
        let everywhere = crate::triage::requeue::Resolution {
            destination: None,
            host: None,
            ..r
        };
        assert_eq!(
            mark_command(&everywhere),
            "sendlog requeue mark --eligible --cause badreputation"
        );
    }

    #[test]
    fn reasons_and_times() {
        assert_eq!(parse_reason("BadReputation").unwrap(), "badreputation");
        assert!(
            parse_reason("ipblocked")
                .unwrap_err()
                .contains("badreputation")
        );
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2026-01-01T00:00:00Zjunk").is_err());
        assert_eq!(parse_past_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert!(
            parse_past_time("2999-01-01T00:00:00Z")
                .unwrap_err()
                .contains("in the future")
        );
    }
}
