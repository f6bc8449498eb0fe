//! Accuracy over the real bounce corpus (sisimai set-of-emails, expected answers from
//! sisimai v5.2.0's tests): status ≥ 95 %, reason ≥ 93 %. Each file is read as
//! `sendlog classify` reads it (an mbox of two reports gives both). Matching rules of
//! sisimai's own tests: rows are matched by file and position; a status
//! `4.0.9NN` / `5.0.9NN` (sisimai's "no code in the bounce") matches on the class digit;
//! an empty status (feedback, vacation) matches when sendlog reports no failure code.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use sendlog::ingest::bounce::{self, mailbox};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces");

struct Expected {
    status: String,
    reason: String,
}

fn expected_rows() -> BTreeMap<String, Vec<Expected>> {
    let tsv = std::fs::read_to_string(Path::new(FIXTURES).join("bounces-expected.tsv"))
        .expect("expected answers");
    let mut rows: BTreeMap<String, Vec<Expected>> = BTreeMap::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        rows.entry(cols[0].to_string()).or_default().push(Expected {
            status: cols[2].to_string(),
            reason: cols[3].to_string(),
        });
    }
    rows
}

fn status_matches(expected: &str, got: &str, reason_is_failure: bool) -> bool {
    if expected.is_empty() {
        return !reason_is_failure;
    }
    let parts: Vec<&str> = expected.split('.').collect();
    if parts.len() == 3 && parts[1] == "0" && parts[2].len() == 3 && parts[2].starts_with('9') {
        return got.starts_with(parts[0]) && got.len() > 1;
    }
    expected == got
}

/// Rows where sendlog's taxonomy deliberately differs from sisimai's answer: a DNS
/// failure to find the recipient domain (NXDOMAIN, no MX, "Host not found") is
/// `hostunknown` in sendlog, where sisimai says `networkerror` or `notaccept`. Listed
/// row by row (file#position, sisimai's reason, the text) so that the printout can give
/// the accuracy with and without them; the headline figure counts them as misses.
const KNOWN_DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (
        "lhost-office365/lhost-office365-06.eml#0",
        "networkerror",
        "5.4.312 DNS query failed",
    ),
    (
        "lhost-postfix/lhost-postfix-34.eml#0",
        "networkerror",
        "Name service error: Host not found",
    ),
    (
        "rfc3464/rfc3464-53.eml#0",
        "networkerror",
        "MX lookup responded NXDOMAIN",
    ),
    (
        "rfc3464/rfc3464-54.eml#0",
        "networkerror",
        "MX lookup responded NXDOMAIN",
    ),
    (
        "rfc3464/rfc3464-64.eml#0",
        "networkerror",
        "MX lookup responded NXDOMAIN",
    ),
    (
        "lhost-qmail/lhost-qmail-11.eml#0",
        "notaccept",
        "couldn't find a mail exchanger (#5.4.4)",
    ),
    (
        "lhost-qmail/lhost-qmail-12.eml#0",
        "notaccept",
        "couldn't find a mail exchanger (#5.4.4)",
    ),
    (
        "lhost-yahoo/lhost-yahoo-09.eml#0",
        "notaccept",
        "No mx record found for domain",
    ),
];

/// The floors.
const STATUS_FLOOR: f64 = 95.0;
const REASON_FLOOR: f64 = 93.0;
#[test]
fn corpus_accuracy_meets_the_floors() {
    let (status_pct, reason_pct) = measure();
    assert!(
        status_pct >= STATUS_FLOOR,
        "status accuracy {status_pct:.1} % < {STATUS_FLOOR} %"
    );
    assert!(
        reason_pct >= REASON_FLOOR,
        "reason accuracy {reason_pct:.1} % < {REASON_FLOOR} %"
    );
}

/// Status and reason accuracy (percent) over the corpus, printing the figures and the
/// top confusions.
fn measure() -> (f64, f64) {
    let expected = expected_rows();
    let (mut rows, mut status_ok, mut reason_ok) = (0usize, 0usize, 0usize);
    let mut disagreements = 0usize;
    let mut confusions: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut failures = Vec::new();
    for (file, want) in &expected {
        // Read as `sendlog classify` reads a file: an mbox holding two reports gives the
        // recipients of both, in order.
        let path = Path::new(FIXTURES).join(file);
        let mut got = Vec::new();
        mailbox::for_each_message(path.to_str().expect("utf-8 path"), |m| {
            let raw = m.expect("fixture");
            match bounce::parse(&raw.bytes) {
                Ok(r) => got.extend(r.recipients),
                Err(e) => failures.push(format!("{file}: {e}")),
            }
        })
        .expect("fixture");
        for (i, w) in want.iter().enumerate() {
            rows += 1;
            let (status, reason, failure) = match got.get(i) {
                Some(r) => (
                    r.status.map(|c| c.to_string()).unwrap_or_default(),
                    r.reason.as_str().to_string(),
                    !r.reason.is_not_a_failure(),
                ),
                None => ("missing".into(), "missing".into(), true),
            };
            let s_ok = status_matches(&w.status, &status, failure);
            let r_ok = w.reason == reason;
            let row = format!("{file}#{i}");
            if let Some((_, sisimai, _)) = KNOWN_DISAGREEMENTS.iter().find(|d| d.0 == row) {
                // The list must stay true: sisimai says this, sendlog says hostunknown.
                assert_eq!(w.reason, *sisimai, "{row}: expected file changed");
                if reason == "hostunknown" {
                    disagreements += 1;
                }
            }
            status_ok += usize::from(s_ok);
            reason_ok += usize::from(r_ok);
            if !r_ok {
                confusions
                    .entry((w.reason.clone(), reason.clone()))
                    .or_default()
                    .push(format!("{file}#{i}"));
            }
            if std::env::var_os("SENDLOG_CORPUS_VERBOSE").is_some() && (!s_ok || !r_ok) {
                println!(
                    "MISS {file}#{i}: status want {:?} got {status:?}; reason want {} got {reason}",
                    w.status, w.reason
                );
            }
        }
    }
    let status_pct = 100.0 * status_ok as f64 / rows as f64;
    let reason_pct = 100.0 * reason_ok as f64 / rows as f64;
    println!("bounce corpus: {rows} rows, {} files", expected.len());
    println!("status {status_ok}/{rows} = {status_pct:.1} % (floor {STATUS_FLOOR} %)");
    println!("reason {reason_ok}/{rows} = {reason_pct:.1} % (floor {REASON_FLOOR} %)");
    let agreed_rows = rows - disagreements;
    println!(
        "reason without the {disagreements} documented disagreements (DNS failures are hostunknown): \
         {reason_ok}/{agreed_rows} = {:.1} %",
        100.0 * reason_ok as f64 / agreed_rows as f64
    );
    let mut top: Vec<_> = confusions.into_iter().collect();
    top.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    println!("top reason confusions (expected -> got: count, examples):");
    for ((want, got), files) in top.iter().take(15) {
        println!(
            "  {want} -> {got}: {} ({})",
            files.len(),
            files.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    for f in &failures {
        println!("  unreadable: {f}");
    }
    (status_pct, reason_pct)
}
