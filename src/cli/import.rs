use crate::wording::{deliveries_written, fit, plural};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::pipeline::{FileReport, ImportOptions, Progress, SourceState, import_files};
use crate::sanitize::for_terminal;

use super::{ImportArgs, open_store};

pub fn run(db: Option<&str>, opts: &ImportArgs, files: &[String]) -> anyhow::Result<ExitCode> {
    // Built while the store opens.
    super::prepare_classifier_in_background();
    let mut store = open_store(db)?;
    let options = ImportOptions {
        format: opts.format,
        year: opts.year,
        host: opts.host.clone(),
        tz: opts.tz,
    };
    let tty = std::io::stderr().is_terminal();
    let mut last_draw = std::time::Instant::now();
    let mut progress = |p: &Progress| {
        if !tty || (!p.done && last_draw.elapsed().as_millis() < 100) {
            return;
        }
        last_draw = std::time::Instant::now();
        let bar = match p.total_bytes {
            Some(total) if total > 0 => {
                let frac = (p.bytes as f64 / total as f64).min(1.0);
                let filled = (frac * 30.0) as usize;
                format!(
                    "[{}{}] {:>3.0}%",
                    "#".repeat(filled),
                    "-".repeat(30 - filled),
                    frac * 100.0
                )
            }
            _ => format!("{} MB", p.bytes / 1_000_000),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K({}/{}) {} {} {}",
            p.file_index + 1,
            p.file_count,
            for_terminal(&p.file),
            bar,
            plural(p.lines, "line", "lines")
        );
        if p.done {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = err.flush();
    };
    if let Some(lifetime) = opts.queue_lifetime {
        store.save_queue_lifetime(lifetime)?;
    }
    if opts.follow {
        return follow(&mut store, options, files, &mut progress);
    }
    let reports = import_files(&mut store, files, &options, &mut progress)?;
    let ok = reports.iter().all(|r| r.error.is_none());
    let mut out = std::io::stdout().lock();
    let mut print = || -> std::io::Result<()> {
        for r in &reports {
            writeln!(out, "{}", summary_line(r))?;
            if let (Some(_), Some(note)) = (r.format, &r.note) {
                writeln!(out, "    note: {}", for_terminal(note))?;
            }
            // A bad email in a folder is a file the user will want to look at, each named;
            // a log's foreign lines are noise, a few show what they are.
            let (unit, shown) = if r.format == Some(crate::ingest::Format::Eml) {
                ("message", crate::pipeline::SKIPPED_SAMPLE)
            } else {
                ("line", 3)
            };
            for (number, text) in r.skipped_sample.iter().take(shown) {
                // 100 characters of the line, then `…`.
                writeln!(
                    out,
                    "    skipped {unit} {number}: {}",
                    for_terminal(&fit(text, 101))
                )?;
            }
            let listed = r.skipped_sample.len().min(shown) as u64;
            if unit == "message" && r.skipped > listed {
                writeln!(out, "    … and {} more", r.skipped - listed)?;
            }
        }
        if let Some(lifetime) = opts.queue_lifetime {
            writeln!(
                out,
                "queue lifetime {} saved: reports judge mail at risk of expiring by it",
                crate::wording::time_span(lifetime)
            )?;
        }
        Ok(())
    };
    match print() {
        // The import is done and committed; a reader that stopped reading (`| head`)
        // changes nothing about that.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    for e in reports.iter().filter_map(|r| r.error.as_ref()) {
        eprintln!("sendlog: {}", for_terminal(&e.to_string()));
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `import --follow`: imports what is appended until Ctrl-C or SIGTERM, one summary line
/// per input each time something was read; every import is committed when its line is
/// printed, so a stop between two loses nothing read.
fn follow(
    store: &mut crate::store::Store,
    options: ImportOptions,
    files: &[String],
    progress: &mut dyn FnMut(&Progress),
) -> anyhow::Result<ExitCode> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let mut follower = crate::pipeline::follow::Follower::new(files, options)?;
    eprintln!(
        "sendlog: following {} (Ctrl-C to stop)",
        files
            .iter()
            .map(|f| for_terminal(f).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    );
    while !stop.load(Ordering::Relaxed) {
        let step = follower.step(store, progress)?;
        let mut out = std::io::stdout().lock();
        for note in &step.notes {
            eprintln!("sendlog: {}", for_terminal(note));
        }
        for r in step
            .reports
            .iter()
            .filter(|r| r.lines_read > 0 || r.error.is_some())
        {
            writeln!(out, "{}", summary_line(r))?;
            if let Some(e) = &r.error {
                // Said as it happens; the follower goes on with the other inputs, and
                // this one is tried again when it changes.
                eprintln!("sendlog: {}", for_terminal(&e.to_string()));
            }
        }
        out.flush()?;
        drop(out);
        if follower.finished() {
            // Standard input ended: nothing more can come.
            break;
        }
        crate::pipeline::follow::nap(&stop);
    }
    eprintln!("sendlog: stopped following; everything read is in the store");
    Ok(ExitCode::SUCCESS)
}

pub fn summary_line(r: &FileReport) -> String {
    let name = for_terminal(&r.name);
    let Some(format) = r.format else {
        return match &r.note {
            Some(note) => format!("{name}: {note}"),
            None => format!("{name}: not imported"),
        };
    };
    let state = match r.state {
        SourceState::New => String::new(),
        SourceState::Grown { from_line } => {
            format!(" (seen before: new lines after line {from_line})")
        }
        SourceState::Unchanged => " (already imported: nothing new)".to_string(),
    };
    let (one, many) = if format == crate::ingest::Format::Eml {
        ("message", "messages")
    } else {
        ("line", "lines")
    };
    let skipped = if r.skipped > 0 {
        let first: Vec<String> = r
            .skipped_sample
            .iter()
            .take(5)
            .map(|(l, _)| l.to_string())
            .collect();
        let at = if first.len() == 1 { one } else { many };
        format!(
            ", {} skipped (first at {at} {})",
            r.skipped,
            first.join(", ")
        )
    } else {
        ", 0 skipped".to_string()
    };
    let skipped = if r.duplicates > 0 {
        format!(
            "{skipped}, {} counted once",
            plural(r.duplicates, "repeated line", "repeated lines")
        )
    } else {
        skipped
    };
    let read = plural(r.lines_read, one, many);
    format!(
        "{name}: {format}{state}: {read} read, {}, {}{skipped}, {:.2}s",
        plural(r.events, "event", "events"),
        deliveries_written(r.deliveries, r.deliveries_updated),
        r.seconds
    )
}
