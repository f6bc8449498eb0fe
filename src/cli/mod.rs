//! The command-line contract (README's Usage): non-interactive commands. Nothing here touches
//! the terminal beyond printing; the TUI lives in `tui`.

mod check;
mod classify;
mod explain;
mod export;
mod history;
mod import;
mod report;
mod requeue;
mod resolve;
mod search;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::ingest::Format;
use crate::ingest::timestamp::{Now, TimeSpec};
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "sendlog",
    version,
    about = "Outbound mail failures from sends logs and bounces, grouped by enhanced status code, with the real cause behind every expiry."
)]
pub struct Args {
    /// The store (SQLite). `:memory:` for a throwaway store.
    #[arg(long, global = true, env = "SENDLOG_DB", value_name = "PATH")]
    pub db: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Files to import before the TUI opens.
    #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub files: Vec<String>,

    #[command(flatten)]
    pub import: ImportArgs,

    #[command(flatten)]
    pub times: TimeArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Input format; `auto` detects it from the content.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Year of the first line of the oldest file, for stamps without a year; later files
    /// of the same import carry the year on (default: from each file's mtime).
    #[arg(long, value_parser = parse_year)]
    pub year: Option<i32>,
    /// Queue lifetime for "at risk", with its unit (5d, 48h; a bare number is refused), from
    /// 1h to 30d; saved in the store for later reports; default per format (Postfix 5d,
    /// Exchange 2d, Exim 4d).
    #[arg(long, value_name = "DUR", value_parser = parse_lifetime)]
    pub queue_lifetime: Option<i64>,
    /// The sending host to record for logs that do not name one (an Exim mainlog, pasted
    /// lines); default `unknown`.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Zone of log stamps that carry none: an IANA name (Australia/Sydney) or an offset
    /// (+11:00); default: this machine's zone. Remembered per source. Applies to syslog and
    /// Exim stamps, PowerShell exports' local times and PowerMTA stamps without an offset;
    /// not to Exchange tracking logs or Microsoft 365 reports' ISO stamps (UTC by
    /// definition) nor to stamps that carry their own offset.
    #[arg(long, value_name = "ZONE", value_parser = crate::ingest::timestamp::Zone::parse)]
    pub tz: Option<crate::ingest::timestamp::Zone>,
    /// Keep importing what is appended to the files, as `tail -F` follows them (a rotated,
    /// truncated or later-created file too), until Ctrl-C or SIGTERM; `-` follows stdin.
    #[arg(long)]
    pub follow: bool,
}

/// The time a report is judged at, and the window of deliveries it covers.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TimeArgs {
    /// Only deliveries active at or after TIME: RFC 3339 (2026-03-01T00:00:00Z) or an age
    /// back from the last log line (7d, 12h).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub since: Option<TimeSpec>,
    /// Only deliveries that started at or before TIME (as for --since).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub until: Option<TimeSpec>,
    /// What "at risk" is judged against: RFC 3339, or `now` for this machine's clock;
    /// default: the last log line.
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<Now>,
}

/// `--since` / `--until`: RFC 3339, or an age back from the last log line (`7d`).
fn parse_time_spec(s: &str) -> Result<TimeSpec, String> {
    resolve::parse_time(s)
        .map(TimeSpec::At)
        .or_else(|_| parse_duration(s).map(TimeSpec::Ago))
        .map_err(|_| {
            format!("{s:?} is not a time: use RFC 3339 (2026-03-01T00:00:00Z) or an age such as 7d")
        })
}

/// `--now`: RFC 3339, or `now` for this machine's clock.
fn parse_now(s: &str) -> Result<Now, String> {
    if s.trim().eq_ignore_ascii_case("now") {
        return Ok(Now::Clock);
    }
    resolve::parse_time(s)
        .map(Now::At)
        .map_err(|_| format!("{s:?} is not a time: use RFC 3339 (2026-03-01T00:00:00Z) or now"))
}

/// The times of one command, resolved against the store: "now" (`None`: the store is
/// empty), and the window's bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub now: Option<i64>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl TimeArgs {
    /// Limits `store`'s reads to the window and says what "now" is. Relative times count
    /// back from the last log line, as "now" does: a log read a month later is not a
    /// month older.
    pub fn resolve(&self, store: &Store) -> anyhow::Result<Times> {
        let log_now = store.log_now()?;
        let at = |spec: Option<TimeSpec>| spec.and_then(|s| s.resolve(log_now));
        let times = Times {
            now: self.now.map_or(log_now, |n| Some(n.resolve())),
            since: at(self.since),
            until: at(self.until),
        };
        self.check()?;
        if self.since.is_some() || self.until.is_some() {
            store.restrict_to_window(self.since, self.until)?;
        }
        Ok(times)
    }

    /// The window as the screens state it ("since 2026-03-01T00:00:00Z", "until 7d0h
    /// before the last line"); `None` without one.
    pub fn label(&self) -> Option<String> {
        let one = |word: &str, spec: Option<TimeSpec>| {
            spec.map(|s| match s {
                TimeSpec::At(t) => {
                    format!("{word} {}", crate::ingest::timestamp::format_rfc3339(t))
                }
                TimeSpec::Ago(d) => format!(
                    "{word} {} before the last line",
                    crate::wording::time_span(d)
                ),
            })
        };
        let parts: Vec<String> = [one("since", self.since), one("until", self.until)]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// A window that holds nothing is a mistake worth saying.
    pub fn check(&self) -> anyhow::Result<()> {
        let order = |s: TimeSpec| match s {
            TimeSpec::At(t) => (Some(t), None),
            TimeSpec::Ago(d) => (None, Some(-d)),
        };
        if let (Some(a), Some(b)) = (self.since.map(order), self.until.map(order))
            && ((a.0.is_some() && b.0.is_some() && a.0 > b.0)
                || (a.1.is_some() && b.1.is_some() && a.1 > b.1))
        {
            anyhow::bail!("--since is after --until: no delivery can be in that window");
        }
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import sends logs and bounce emails into the store (`-` reads stdin).
    Import {
        #[command(flatten)]
        opts: ImportArgs,
        #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<String>,
    },
    /// Totals, groups by code × destination with causes, causes, at-risk, typo domains,
    /// senders, and pflogsumm's tables: traffic per day and hour, domains, top senders and
    /// recipients, reject reasons.
    #[command(after_help = report::PFLOGSUMM_NOTE)]
    Report {
        #[arg(long)]
        json: bool,
        /// What the Senders table groups by: sender address, sender domain, sending host
        /// (or VMTA), or campaign (the subject, where the log has one).
        #[arg(long, value_enum, value_name = "KEY", default_value_t = crate::store::report::SenderKey::Sender)]
        by: crate::store::report::SenderKey,
        /// Queue lifetime for "at risk" this time, with its unit (5d, 48h), from 1h to 30d;
        /// default: the one saved by `import --queue-lifetime`, else per format.
        #[arg(long, value_name = "DUR", value_parser = parse_lifetime)]
        queue_lifetime: Option<i64>,
        #[command(flatten)]
        times: TimeArgs,
    },
    /// Print the explanation panel of an enhanced status code (e.g. 4.4.7), with your own
    /// evidence from the store. Panels in ~/.config/sendlog/knowledge/CODE.toml (or
    /// $SENDLOG_KNOWLEDGE_DIR) add to or replace the built-in ones.
    Explain {
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// Classify bounce emails (.eml, mbox, Maildir) or Amazon SES notifications (JSON)
    /// without a store: one JSON line per recipient of each report.
    Classify {
        #[arg(value_name = "FILE", required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<String>,
    },
    /// Record that a cause is fixed, so the deliveries it held back may be re-sent.
    Resolve(resolve::ResolveArgs),
    /// Check whether each unresolved cause is fixed, live: DNS, MX, the MX's SMTP banner,
    /// DNS blocklists, SPF/DMARC. The only command that touches the network.
    Check(check::CheckArgs),
    /// Select messages to re-send: causes, mark, list (the basket), export.
    Requeue {
        #[command(subcommand)]
        what: requeue::RequeueCmd,
    },
    /// Find deliveries of every status by recipient, sender, domain, queue id, Message-ID,
    /// subject or reply text, newest first.
    Search(search::SearchArgs),
    /// What was resolved, undone, marked, unmarked and exported: when, scope, note, counts.
    History {
        #[arg(long)]
        json: bool,
    },
    /// Export records.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Print a shell completion script, generated from these definitions.
    ///
    /// bash: `sendlog completions bash > ~/.local/share/bash-completion/completions/sendlog`;
    /// zsh: `sendlog completions zsh > _sendlog` in a directory of your `$fpath`;
    /// fish: `sendlog completions fish > ~/.config/fish/completions/sendlog.fish`.
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these definitions.
    ///
    /// `sendlog man > ~/.local/share/man/man1/sendlog.1`, or `sendlog man --dir
    /// ~/.local/share/man/man1` for it and one page per subcommand.
    Man {
        /// Write sendlog.1 and one page per subcommand (sendlog-requeue-mark.1 …) into DIR.
        #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// One record per delivery.
    Deliveries {
        /// Only these statuses (sent, deferred, bounced, expired), comma-separated.
        #[arg(long, value_delimiter = ',', value_parser = parse_status)]
        status: Vec<crate::model::DeliveryStatus>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        #[command(flatten)]
        times: TimeArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// `5d`, `48h`, `90m` or `3600s`, in seconds. A bare number is refused: read as seconds
/// it surprises everyone who meant days, and read as days it surprises the rest.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 5d, 48h or 90m"))?;
    let mult: i64 = match unit {
        "" => {
            return Err(format!(
                "{s:?} has no unit: write {s}d for days or {s}h for hours (s, m, h, d or w)"
            ));
        }
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use s, m, h, d or w)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too long a duration"))
}

/// A delivery status as typed: `Expired`, ` bounced` and `expired` are the same.
fn parse_status(s: &str) -> Result<crate::model::DeliveryStatus, String> {
    s.trim()
        .to_ascii_lowercase()
        .parse()
        .map_err(|e: crate::model::UnknownStatus| e.to_string())
}

/// A calendar year sendlog can write as RFC 3339 (and a log can plausibly be from).
fn parse_year(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(y) if (1970..=9999).contains(&y) => Ok(y),
        _ => Err(format!("{s:?} is not a year between 1970 and 9999")),
    }
}

/// The shortest and longest queue lifetime accepted: no MTA keeps mail for less than an
/// hour or more than a month, so a value outside is a slip of the unit.
pub const LIFETIME_BOUNDS: (i64, i64) = (3_600, 30 * 86_400);

/// A queue lifetime: a duration with its unit, from 1h to 30d.
pub fn parse_lifetime(s: &str) -> Result<i64, String> {
    let n = parse_duration(s)?;
    let (min, max) = LIFETIME_BOUNDS;
    if !(min..=max).contains(&n) {
        return Err(format!(
            "a queue lifetime of {} is out of bounds: give one from 1h to 30d",
            s.trim()
        ));
    }
    Ok(n)
}

/// The store's path: `--db`, `SENDLOG_DB`, or the default. An empty one is refused: SQLite
/// would open a throwaway store and the import would report success and keep nothing.
fn store_path(db: Option<&str>) -> anyhow::Result<String> {
    match db {
        Some(p) if p.trim().is_empty() => anyhow::bail!(
            "the store path is empty (--db or SENDLOG_DB): give a file, or :memory: for a throwaway store"
        ),
        Some(p) => Ok(p.to_string()),
        None => Ok(crate::store::default_path().display().to_string()),
    }
}

/// `classify::prepare` on a thread of its own, not waited for: an import calls it before it
/// opens the store, and whoever needs a table first waits only for what is left of its build.
pub(crate) fn prepare_classifier_in_background() {
    // Should no thread be available, the tables are built at first use as before.
    let _ = std::thread::Builder::new()
        .name("classify-prepare".into())
        .spawn(crate::classify::prepare);
}

pub fn open_store(db: Option<&str>) -> anyhow::Result<Store> {
    let path = store_path(db)?;
    say_if_upgrading(&path);
    Ok(Store::open(&path)?)
}

/// A store from an older sendlog is brought up to date as it opens: on a big one that is a
/// pause (seconds a million deliveries) that would otherwise look like a hang.
fn say_if_upgrading(path: &str) {
    const WORTH_SAYING: i64 = 100_000;
    if let Some(n) = Store::older_store_deliveries(path)
        && n >= WORTH_SAYING
    {
        eprintln!(
            "Updating the store ({}) for this version of sendlog (once)…",
            crate::wording::plural_with(n as u64, "delivery", "deliveries")
        );
    }
}

/// The store for a command that only reads or annotates what was imported: a path that
/// holds no store yet is a mistyped `--db` or a missing import, not a store to create.
pub fn open_existing_store(db: Option<&str>) -> anyhow::Result<Store> {
    let path = existing_path(db)?;
    say_if_upgrading(&path);
    Ok(Store::open(&path)?)
}

/// The store for a command that only reads (report, export, list, history…): opened
/// read-only, so it works on a read-only disk and cannot change what it reports on.
pub fn open_read_only_store(db: Option<&str>) -> anyhow::Result<Store> {
    let path = existing_path(db)?;
    say_if_upgrading(&path);
    Ok(Store::open_read_only(&path)?)
}

fn existing_path(db: Option<&str>) -> anyhow::Result<String> {
    let path = store_path(db)?;
    if path != ":memory:" && !std::path::Path::new(&path).exists() {
        anyhow::bail!(
            "no store at {} yet: import logs first (sendlog import FILE…)",
            crate::sanitize::for_terminal(&path)
        );
    }
    Ok(path)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = args.db.as_deref();
    match args.command {
        Some(Command::Import { opts, files }) => import::run(db, &opts, &files),
        Some(Command::Report {
            json,
            queue_lifetime,
            times,
            by,
        }) => report::run(db, json, queue_lifetime, &times, by),
        Some(Command::Export {
            what:
                ExportWhat::Deliveries {
                    status,
                    format,
                    times,
                },
        }) => export::deliveries(db, &status, format, &times),
        Some(Command::Explain { code }) => explain::run(db, &code),
        Some(Command::Classify { files }) => classify::run(&files),
        Some(Command::Resolve(resolve_args)) => resolve::run(db, &resolve_args),
        Some(Command::Check(check_args)) => check::run(db, &check_args),
        Some(Command::History { json }) => history::run(db, json),
        Some(Command::Search(search_args)) => search::run(db, &search_args),
        Some(Command::Requeue { what }) => requeue::run(db, what),
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            // Generated into memory: clap_complete panics on a failed write (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Args::command(), "sendlog", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir: None }) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Args::command()).render(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir: Some(dir) }) => {
            use clap::CommandFactory;
            if !dir.is_dir() {
                anyhow::bail!(
                    "{} is not a directory",
                    crate::sanitize::for_terminal(&dir.display().to_string())
                );
            }
            clap_mangen::generate_to(Args::command(), &dir)?;
            println!(
                "manual pages written to {} (sendlog.1 and one per subcommand)",
                crate::sanitize::for_terminal(&dir.display().to_string())
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            use std::io::IsTerminal;
            if !std::io::stdout().is_terminal() {
                // Scripts and pipes get what they can use: the import, then the report.
                if !args.files.is_empty() {
                    let code = import::run(db, &args.import, &args.files)?;
                    if code != ExitCode::SUCCESS {
                        return Ok(code);
                    }
                }
                return report::run(
                    db,
                    false,
                    args.import.queue_lifetime,
                    &args.times,
                    crate::store::report::SenderKey::default(),
                );
            }
            prepare_classifier_in_background();
            let store = open_store(db)?;
            if let Some(lifetime) = args.import.queue_lifetime {
                // As with `import`: the lifetime given with the logs holds for the store.
                store.save_queue_lifetime(lifetime)?;
            }
            let options = crate::pipeline::ImportOptions {
                format: args.import.format,
                year: args.import.year,
                host: args.import.host.clone(),
                tz: args.import.tz,
            };
            args.times.check()?;
            if args.times.since.is_some() || args.times.until.is_some() {
                store.restrict_to_window(args.times.since, args.times.until)?;
            }
            let now = args.times.now.map(crate::ingest::timestamp::Now::resolve);
            let view = crate::tui::View {
                queue_lifetime: args.import.queue_lifetime,
                now,
                window: args.times.label(),
                follow: args.import.follow,
            };
            crate::tui::run(store, args.files, options, view)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The subcommand whose help answers a usage error (`sendlog requeue mark`): the
/// subcommand names found in order among the arguments.
pub fn usage_command(args: impl IntoIterator<Item = String>) -> String {
    use clap::CommandFactory;
    let mut cmd = Args::command();
    let mut path = vec!["sendlog".to_string()];
    for arg in args {
        if let Some(sub) = cmd.find_subcommand(&arg).cloned() {
            path.push(sub.get_name().to_string());
            cmd = sub;
        }
    }
    path.join(" ")
}

/// The subcommand a first file name was meant to be (`sendlog improt mail.log`): the
/// top level takes files, so clap cannot tell a typo from a file name; a name that is no
/// file and one edit from a subcommand is the typo.
pub fn mistyped_subcommand(args: &Args) -> Option<String> {
    use clap::CommandFactory;
    if args.command.is_some() {
        return None;
    }
    let first = args.files.first()?;
    if first == "-" || std::path::Path::new(first).exists() {
        return None;
    }
    let first = first.to_ascii_lowercase();
    Args::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .find(|name| crate::classify::typo::edit_distance(&first, name) <= 2.min(name.len() / 3))
}

/// True when the error is a write to a closed pipe, however deep in its chain.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// One line saying what is wrong with the command line, from clap's multi-line error.
pub fn usage_error_line(e: &clap::Error) -> String {
    let rendered = e.to_string();
    let mut lines = rendered.lines().map(str::trim);
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let usage = lines.find_map(|l| l.strip_prefix("Usage: ")).unwrap_or("");
        return format!("incomplete command; usage: {usage}");
    }
    let line = match lines.find_map(|l| l.strip_prefix("error: ")) {
        // "the following required arguments were not provided:" names them on the next line.
        Some(m) if m.ends_with(':') => format!("{m} {}", lines.next().unwrap_or_default()),
        Some(m) => m.to_string(),
        None => "invalid arguments".into(),
    };
    // clap's "did you mean" for a mistyped flag or subcommand is a tip on a line below.
    let tip = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
        .filter(|t| t.starts_with("a similar ") || t.starts_with("some similar "))
        .and_then(|t| t.split_once(" exist"))
        .and_then(|(_, what)| what.split_once(": "))
        .map(|(_, what)| what.trim().replace(", ", " or "));
    match tip {
        Some(what) => format!("{line}: did you mean {what}?"),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_typed() {
        assert_eq!(parse_time_spec("7d"), Ok(TimeSpec::Ago(7 * 86_400)));
        assert_eq!(
            parse_time_spec("2026-03-01T00:00:00+01:00"),
            Ok(TimeSpec::At(1_772_319_600))
        );
        assert!(parse_time_spec("last week").is_err());
        assert_eq!(parse_now("now"), Ok(Now::Clock));
        assert!(parse_now("7d").is_err());
        let window = TimeArgs {
            since: Some(TimeSpec::Ago(7 * 86_400)),
            until: Some(TimeSpec::At(1_772_319_600)),
            now: None,
        };
        assert_eq!(
            window.label().as_deref(),
            Some("since 7d0h before the last line, until 2026-02-28T23:00:00Z")
        );
        assert_eq!(TimeArgs::default().label(), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5d"), Ok(432_000));
        assert_eq!(parse_duration("48h"), Ok(172_800));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert!(parse_duration("90").unwrap_err().contains("no unit"));
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("h").is_err());
        assert!(
            parse_duration("9223372036854775807w")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn queue_lifetimes_are_bounded() {
        assert_eq!(parse_lifetime("1h"), Ok(3_600));
        assert_eq!(parse_lifetime("30d"), Ok(2_592_000));
        assert_eq!(parse_lifetime("720h"), Ok(2_592_000));
        for bad in ["5", "59m", "31d", "5w", "0s", "99999999999999d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_store_path_is_refused() {
        for empty in ["", "  "] {
            let e = store_path(Some(empty)).unwrap_err().to_string();
            assert!(e.contains("empty"), "{e}");
        }
        assert_eq!(store_path(Some(":memory:")).unwrap(), ":memory:");
    }
}
