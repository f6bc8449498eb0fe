//! The Postfix and Exchange scripts a batch becomes, and the checks that keep a value
//! from a log from changing what a script does.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::ExportRecord;
use crate::ingest::timestamp::format_rfc3339;
use crate::sanitize::for_terminal;
use crate::wording::plural;

/// Short (`4D2A11C0F3`) or long (`4dKx9Q1Z7vz9sWr`) Postfix queue ids.
pub(super) fn is_postfix_queue_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A host, instance or server name: letters, digits, `.`, `-`, `_`, not starting with `-`.
pub(super) fn is_script_word(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

pub(super) fn is_domain(s: &str) -> bool {
    is_script_word(s) && !s.contains('_')
}

/// A Message-ID safe inside a single-quoted PowerShell string inside a double-quoted one.
pub(super) fn is_message_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 998
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'"' | b'`' | b'$'))
}

/// `mta2/postfix-out2` → (`mta2`, Some(`postfix-out2`)), when both parts are safe words.
pub(super) fn split_host(host: &str) -> Option<(&str, Option<&str>)> {
    let (machine, instance) = match host.split_once('/') {
        Some((m, i)) => (m, Some(i)),
        None => (host, None),
    };
    (is_script_word(machine) && instance.is_none_or(is_script_word)).then_some((machine, instance))
}

/// Recipients for a comment line: never a line break or a control character.
pub(super) fn comment_list(recipients: &[&str]) -> String {
    let mut s = recipients
        .iter()
        .take(5)
        .map(|r| for_terminal(r).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if recipients.len() > 5 {
        s.push_str(&format!(" and {} more", recipients.len() - 5));
    }
    s
}

/// Per Postfix instance of one machine: queue id → recipients.
type Instances<'a> = BTreeMap<Option<&'a str>, BTreeMap<&'a str, Vec<&'a str>>>;

pub(super) fn write_postfix(
    batch: i64,
    created_at: i64,
    records: &[ExportRecord],
    w: &mut dyn Write,
) -> io::Result<()> {
    // machine → instance → queue id → recipients; one `postqueue -i` per queue file.
    let mut hosts: BTreeMap<String, Instances<'_>> = BTreeMap::new();
    for r in records {
        let Some((machine, instance)) = split_host(&r.host) else {
            continue;
        };
        if !is_postfix_queue_id(&r.queue_id) {
            continue;
        }
        hosts
            .entry(short_host(machine))
            .or_default()
            .entry(instance)
            .or_default()
            .entry(&r.queue_id)
            .or_default()
            .push(&r.recipient);
    }
    let messages: usize = hosts
        .values()
        .flat_map(|i| i.values())
        .map(BTreeMap::len)
        .sum();
    writeln!(w, "#!/bin/sh")?;
    writeln!(
        w,
        "# sendlog re-queue batch {batch}, {}: {} still in the Postfix queue.",
        format_rfc3339(created_at),
        plural(messages as u64, "message", "messages")
    )?;
    writeln!(
        w,
        "# Run it as root on each sending host: it asks that host's Postfix to deliver its\n\
         # messages now (postqueue -i QUEUEID) and leaves other hosts' messages alone.\n\
         # A message no longer in the Postfix queue (delivered, bounced or expired since)\n\
         # is reported by postqueue and skipped. Hosts are matched by their short name\n\
         # in lower case (mta2.example.net and MTA2 are mta2); on a host the batch does\n\
         # not name, nothing runs and the script says so and exits 2."
    )?;
    writeln!(w, "set -u")?;
    writeln!(
        w,
        "host=$(hostname 2>/dev/null | tr '[:upper:]' '[:lower:]')\nhost=${{host%%.*}}"
    )?;
    writeln!(w, "case \"$host\" in")?;
    for (machine, instances) in &hosts {
        writeln!(w, "{machine})")?;
        for (instance, queue_ids) in instances {
            for (qid, recipients) in queue_ids {
                writeln!(w, "    # {}", comment_list(recipients))?;
                match instance {
                    // A second Postfix instance logs under its own syslog name, which
                    // postmulti knows it by (multi_instance_name).
                    Some(i) => writeln!(w, "    postmulti -i {i} -x postqueue -i {qid}")?,
                    None => writeln!(w, "    postqueue -i {qid}")?,
                }
            }
        }
        writeln!(w, "    ;;")?;
    }
    let names: Vec<&str> = hosts.keys().map(String::as_str).collect();
    writeln!(w, "*)")?;
    writeln!(
        w,
        "    echo \"sendlog batch {batch}: SKIPPED EVERYTHING: this host is '$host', and the batch is only for: {}. Nothing was re-queued; run it on those hosts.\" >&2",
        names.join(" ")
    )?;
    writeln!(w, "    exit 2")?;
    writeln!(w, "    ;;")?;
    writeln!(w, "esac")
}

/// A machine name as the script compares it: the short name (before the first dot), in
/// lower case, since `hostname` prints the FQDN on some systems and host names ignore case.
pub(super) fn short_host(machine: &str) -> String {
    machine
        .split('.')
        .next()
        .unwrap_or(machine)
        .to_ascii_lowercase()
}

pub(super) fn write_exchange(
    batch: i64,
    created_at: i64,
    records: &[ExportRecord],
    w: &mut dyn Write,
) -> io::Result<()> {
    // server → next-hop domain → Message-IDs
    let mut servers: BTreeMap<&str, BTreeMap<&str, Vec<Option<&str>>>> = BTreeMap::new();
    for r in records {
        if !is_script_word(&r.host)
            || !is_domain(&r.domain)
            || r.message_id.as_deref().is_some_and(|m| !is_message_id(m))
        {
            continue;
        }
        servers
            .entry(&r.host)
            .or_default()
            .entry(&r.domain)
            .or_default()
            .push(r.message_id.as_deref());
    }
    writeln!(
        w,
        "# sendlog re-queue batch {batch}, {}: {} still in Exchange queues.",
        format_rfc3339(created_at),
        plural(
            servers
                .values()
                .flat_map(|d| d.values())
                .map(Vec::len)
                .sum::<usize>() as u64,
            "delivery",
            "deliveries"
        )
    )?;
    writeln!(
        w,
        "# Run in the Exchange Management Shell. Retry-Queue makes each destination's queue\n\
         # try again now; Resume-Message releases those messages if they were suspended."
    )?;
    writeln!(w, "$ErrorActionPreference = 'Continue'")?;
    for (server, domains) in &servers {
        writeln!(w, "\n# {server}")?;
        for (domain, ids) in domains {
            writeln!(
                w,
                "Retry-Queue -Server '{server}' -Filter \"NextHopDomain -eq '{domain}' -and Status -eq 'Retry'\" -Confirm:$false"
            )?;
            let mut ids: Vec<&str> = ids.iter().flatten().copied().collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                let id = if id.starts_with('<') {
                    id.to_string()
                } else {
                    format!("<{id}>")
                };
                writeln!(
                    w,
                    "Resume-Message -Server '{server}' -Filter \"InternetMessageId -eq '{id}' -and Status -eq 'Suspended'\" -Confirm:$false"
                )?;
            }
        }
    }
    Ok(())
}
