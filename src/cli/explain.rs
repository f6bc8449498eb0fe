//! `sendlog explain CODE`: the explanation panel as text, then the user's own evidence
//! from the store.

use crate::wording::plural;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::classify::EnhancedCode;
use crate::ingest::timestamp::format_rfc3339;
use crate::knowledge::{Evidence, Knowledge, Panel};
use crate::sanitize::for_terminal;
use crate::store::evidence::CodeEvidence;

use super::open_read_only_store;

/// Text width for paragraphs; terminals wrap longer lines without the indent.
const WIDTH: usize = 100;
/// Reply texts quoted as examples are cut here.
const EXAMPLE_CHARS: usize = 160;

pub fn run(db: Option<&str>, code: &str) -> anyhow::Result<ExitCode> {
    let code: EnhancedCode = code.parse()?;
    let knowledge = Knowledge::for_user();
    for problem in knowledge.problems() {
        eprintln!(
            "sendlog: warning: knowledge panel {}",
            for_terminal(problem)
        );
    }
    let mut text = render_panel(&knowledge.panel(code));
    text.push('\n');
    text.push_str(&evidence_text(db, code)?);
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

/// Panel text can come from the user's own files: it goes through `for_terminal` too.
pub fn render_panel(panel: &Panel) -> String {
    let mut o = String::new();
    let title = format!("{}  {}", panel.code, for_terminal(&panel.title));
    let _ = writeln!(o, "{title}");
    let _ = writeln!(o, "{}", "=".repeat(title.chars().count().min(WIDTH)));
    for section in &panel.sections {
        let _ = writeln!(o, "\n{}", for_terminal(&section.heading));
        for (i, line) in section.lines.iter().enumerate() {
            // Paragraphs, steps and questions stand apart; bullets, pointers and answers
            // stay with what they belong to.
            let body = line.trim_start();
            if i > 0 && !["•", "→", "A:"].iter().any(|m| body.starts_with(m)) {
                o.push('\n');
            }
            wrap_into(&mut o, &for_terminal(line), "  ");
        }
    }
    o
}

/// Word-wraps `line` at `WIDTH`, continuing under the text of a bullet, a numbered step
/// or a Q:/A: label.
fn wrap_into(o: &mut String, line: &str, indent: &str) {
    let body = line.trim_start();
    let lead = line.len() - body.len();
    let marker = body
        .split_once(' ')
        .map(|(first, _)| first)
        .filter(|m| {
            *m == "•"
                || *m == "→"
                || *m == "Q:"
                || *m == "A:"
                || (m.ends_with('.') && m[..m.len() - 1].chars().all(|c| c.is_ascii_digit()))
        })
        .map_or(0, |m| m.chars().count() + 1);
    let hang = format!("{indent}{}", " ".repeat(lead + marker));
    let mut current = format!("{indent}{}", &line[..lead]);
    let mut empty = true;
    for word in body.split(' ') {
        if !empty && current.chars().count() + 1 + word.chars().count() > WIDTH {
            let _ = writeln!(o, "{current}");
            current = hang.clone();
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(word);
        empty = false;
    }
    let _ = writeln!(o, "{current}");
}

fn list(items: impl Iterator<Item = (String, u64)>) -> String {
    let v: Vec<String> = items
        .map(|(name, n)| format!("{} {n}", for_terminal(&name)))
        .collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

fn evidence_text(db: Option<&str>, code: EnhancedCode) -> anyhow::Result<String> {
    let path = match db {
        Some(p) => p.to_string(),
        None => crate::store::default_path().display().to_string(),
    };
    // Explaining a code must not create a store as a side effect.
    if path != ":memory:" && !Path::new(&path).exists() {
        return Ok(format!(
            "Your evidence\n  No store at {} yet: import your logs (`sendlog import FILE…`) to see your own {code} deliveries here.\n",
            for_terminal(&path)
        ));
    }
    let store = open_read_only_store(Some(&path))?;
    Ok(render_evidence(&store.code_evidence(&code.to_string())?))
}

pub fn render_evidence(e: &CodeEvidence) -> String {
    let mut o = String::new();
    let code = &e.code;
    let _ = writeln!(o, "Your evidence");
    if e.is_empty() {
        let _ = writeln!(o, "  No deliveries with {code} in the store.");
        return o;
    }
    let c = &e.counts;
    let _ = writeln!(
        o,
        "  {} with {code}: expired {}, deferred {}, bounced {}, sent {}; {}, {}",
        plural(c.total, "delivery", "deliveries"),
        c.expired,
        c.deferred,
        c.bounced,
        c.sent,
        plural(e.domains, "domain", "domains"),
        plural(e.hosts, "sending host", "sending hosts")
    );

    for kind in Evidence::ALL {
        let _ = writeln!(o, "\n  {}", kind.heading());
        match kind {
            Evidence::Causes => {
                let _ = writeln!(
                    o,
                    "    {}",
                    list(e.causes.iter().map(|x| (x.name.clone(), x.count)))
                );
                if !e.last_deferral_codes.is_empty() {
                    let _ = writeln!(
                        o,
                        "    last deferral codes: {}",
                        list(
                            e.last_deferral_codes
                                .iter()
                                .map(|x| (x.name.clone(), x.count))
                        )
                    );
                }
                if let Some(example) = &e.example {
                    let mut t = for_terminal(example).into_owned();
                    if t.chars().count() > EXAMPLE_CHARS {
                        t = t.chars().take(EXAMPLE_CHARS).collect::<String>() + "…";
                    }
                    let _ = writeln!(o, "    e.g. {t}");
                }
            }
            Evidence::TypoDns => {
                if e.typo_domains.is_empty() {
                    let _ = writeln!(o, "    typo domains: none");
                }
                for t in &e.typo_domains {
                    let _ = writeln!(
                        o,
                        "    {} → {}? {} (never re-send as is)",
                        for_terminal(&t.domain),
                        for_terminal(&t.suggestion),
                        plural(t.count, "delivery", "deliveries")
                    );
                }
                // A lookup that failed for now is not a domain that does not exist: the
                // first may clear by itself, the second needs the address fixed.
                let _ = writeln!(
                    o,
                    "    recipient domain's DNS failed (hostunknown): {} — {} not found, {} failed for now (4.4.3: server failure or timeout, may clear){}",
                    e.dns_failures,
                    e.dns_failures - e.dns_temporary,
                    e.dns_temporary,
                    if e.dns_domains.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " — {}",
                            list(e.dns_domains.iter().map(|x| (x.name.clone(), x.count)))
                        )
                    }
                );
            }
            Evidence::SendingHosts => {
                let _ = writeln!(
                    o,
                    "    {}",
                    list(e.sending_hosts.iter().map(|x| (x.name.clone(), x.count)))
                );
                if let Some(h) = e.widespread_host() {
                    let why: Vec<&str> = h.causes.iter().map(|c| c.name.as_str()).collect();
                    let _ = writeln!(
                        o,
                        "    ! {} of {} come from {} with a verdict on the sender ({}) across {}: look at that host's reputation and setup, not at the destinations",
                        h.deliveries,
                        c.total,
                        for_terminal(&h.host),
                        why.join(", "),
                        plural(h.domains, "domain", "domains")
                    );
                }
            }
            Evidence::Destinations => {
                let _ = writeln!(
                    o,
                    "    {}",
                    list(e.destinations.iter().map(|d| {
                        let name = match &d.provider {
                            Some(p) => format!("{} ({p})", d.domain),
                            None => d.domain.clone(),
                        };
                        (name, d.count)
                    }))
                );
            }
            Evidence::TimeRange => {
                let _ = writeln!(
                    o,
                    "    {} to {}",
                    e.first_attempt.map_or("-".into(), format_rfc3339),
                    e.last_attempt.map_or("-".into(), format_rfc3339)
                );
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_from_the_log_is_shown_not_obeyed() {
        let store = crate::store::Store::open(":memory:").unwrap();
        store
            .add_expired_delivery_for_test(
                "evil\x1b]0;x\x07.example",
                "mx\x1b[2J",
                "gmail\x1b[31m.com",
                "said: \x1b[5m421",
            )
            .unwrap();
        let text = render_evidence(&store.code_evidence("4.4.7").unwrap());
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("evil\\x1b]0;x\\x07.example"), "{text}");
        assert!(text.contains("mx\\x1b[2J 1"), "{text}");
        assert!(text.contains("said: \\x1b[5m421"), "{text}");
    }

    #[test]
    fn wrapping_keeps_words_and_hangs_under_markers() {
        let mut o = String::new();
        let long = format!("1. {}", "word ".repeat(40).trim_end());
        wrap_into(&mut o, &long, "  ");
        let lines: Vec<&str> = o.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines[0].starts_with("  1. word"));
        assert!(lines[1].starts_with("     word"), "{:?}", lines[1]);
        assert_eq!(o.matches("word").count(), 40);
    }
}
