//! `sendlog report` against pflogsumm on the same real Postfix logs: the totals both count
//! the same way agree with pflogsumm's, read from its stored output
//! (tests/fixtures/pflogsumm, made by pflogsumm 1.1.5; the test does not run it).

mod common;

use std::collections::BTreeMap;

use common::{TempStore, fixture};
use regex::Regex;
use serde_json::Value;

/// What pflogsumm printed: grand totals by name, per-day rows by "Mon D", per-hour rows
/// (single-day logs) by hour, and the per-domain delivery summary.
struct Pflogsumm {
    totals: BTreeMap<String, u64>,
    deferrals: u64,
    per_day: BTreeMap<String, [u64; 5]>,
    per_hour: BTreeMap<u32, [u64; 5]>,
    /// domain → (sent, defers)
    domains: BTreeMap<String, (u64, u64)>,
}

fn read_pflogsumm(name: &str) -> Pflogsumm {
    let text = std::fs::read_to_string(fixture(&format!("pflogsumm/{name}.txt"))).unwrap();
    let total =
        Regex::new(r"^\s+(\d+)\s+(received|delivered|deferred|bounced|rejected)\b").unwrap();
    let deferrals = Regex::new(r"deferred\s+\((\d+)\s+deferrals\)").unwrap();
    let day = Regex::new(r"^\s+(\w{3})\s+(\d+) \d{4}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
        .unwrap();
    let hour =
        Regex::new(r"^\s+(\d{2})00-\d{4}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$").unwrap();
    let domain =
        Regex::new(r"^\s+(\d+)\s+\d+[km]?\s+(\d+)\s+[\d.]+ [smhd]\s+[\d.]+ [smhd]\s+(\S+)\s*$")
            .unwrap();
    let mut p = Pflogsumm {
        totals: BTreeMap::new(),
        deferrals: 0,
        per_day: BTreeMap::new(),
        per_hour: BTreeMap::new(),
        domains: BTreeMap::new(),
    };
    let mut section = "";
    let n = |c: &regex::Captures, i: usize| c[i].parse::<u64>().unwrap();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('-') {
            section = if line.starts_with("Per-Hour Traffic Summary") {
                "hour"
            } else if line.starts_with("Host/Domain Summary: Message Delivery") {
                "domains"
            } else if line.starts_with("Host/Domain Summary: Messages Received") {
                "received"
            } else {
                line
            };
        }
        if let Some(c) = total.captures(line)
            && section == "messages"
        {
            p.totals.insert(c[2].to_string(), n(&c, 1));
        }
        if let Some(c) = deferrals.captures(line) {
            p.deferrals = n(&c, 1);
        }
        if let Some(c) = day.captures(line) {
            let key = format!("{} {}", &c[1], &c[2]);
            p.per_day
                .insert(key, [n(&c, 3), n(&c, 4), n(&c, 5), n(&c, 6), n(&c, 7)]);
        }
        if let Some(c) = hour.captures(line)
            && section == "hour"
        {
            p.per_hour.insert(
                c[1].parse().unwrap(),
                [n(&c, 2), n(&c, 3), n(&c, 4), n(&c, 5), n(&c, 6)],
            );
        }
        if let Some(c) = domain.captures(line)
            && section == "domains"
        {
            p.domains.insert(c[3].to_string(), (n(&c, 1), n(&c, 2)));
        }
    }
    assert!(!p.totals.is_empty(), "no grand totals in {name}");
    p
}

fn sendlog_report(name: &str) -> Value {
    let s = TempStore::new();
    let log = fixture(&format!("postfix/{name}"));
    s.run_ok(&["import", "--year", "2015", log.to_str().unwrap()]);
    serde_json::from_str(&s.run_ok(&["report", "--json"])).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn row(t: &Value) -> [u64; 5] {
    [
        u(&t["received"]),
        u(&t["delivered"]),
        u(&t["deferred"]),
        u(&t["bounced"]),
        u(&t["rejected"]),
    ]
}

fn grand_totals_agree(name: &str) -> (Pflogsumm, Value) {
    let p = read_pflogsumm(name);
    let r = sendlog_report(name);
    let m = &r["summary"];
    for what in ["received", "delivered", "deferred", "bounced", "rejected"] {
        assert_eq!(
            u(&m[what]),
            p.totals[what],
            "{name}: {what}: sendlog {} vs pflogsumm {}",
            m[what],
            p.totals[what]
        );
    }
    assert_eq!(u(&m["deferrals"]), p.deferrals, "{name}: deferrals");
    (p, r)
}

#[test]
fn one_day_log_totals_hours_and_domains_agree_with_pflogsumm() {
    let name = "postfix_log_analysis__mail.log";
    let (p, r) = grand_totals_agree(name);
    // 489 received, 504 delivered, 14 deferred (91 deferrals), 7 bounced, 606 rejected.
    assert_eq!(p.totals["received"], 489);
    assert_eq!(p.totals["rejected"], 606);
    // A one-day log: pflogsumm's per-hour rows are that day's.
    assert_eq!(p.per_hour.len(), 24);
    let ours: BTreeMap<u32, [u64; 5]> = r["per_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (u(&t["hour"]) as u32, row(t)))
        .collect();
    for (h, theirs) in &p.per_hour {
        let mine = ours.get(h).copied().unwrap_or_default();
        assert_eq!(&mine, theirs, "{name}: hour {h:02}");
    }
    // The delivery summary per destination domain: sent and deferral lines.
    assert!(p.domains.len() >= 5, "{:?}", p.domains);
    let domains: BTreeMap<String, (u64, u64)> = r["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["domain"].as_str().unwrap().to_lowercase(),
                (u(&d["sent"]), u(&d["deferrals"])),
            )
        })
        .collect();
    for (domain, theirs) in &p.domains {
        assert_eq!(domains.get(domain), Some(theirs), "{name}: domain {domain}");
    }
    // The busiest domain's average delay, as pflogsumm prints it (18.2 m).
    let seaglass = r["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "seaglass.com")
        .unwrap();
    let avg = seaglass["avg_delay"].as_f64().unwrap() / 60.0;
    assert!((avg - 18.2).abs() < 0.1, "avg delay {avg:.2} m");
}

#[test]
fn two_day_log_totals_and_days_agree_with_pflogsumm() {
    let name = "postfix_log_analysis__mail2.log";
    let (p, r) = grand_totals_agree(name);
    assert_eq!(p.per_day.len(), 2);
    let ours: Vec<[u64; 5]> = r["per_day"].as_array().unwrap().iter().map(row).collect();
    let days: Vec<String> = r["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t["start"].as_str().unwrap())
                .unwrap()
                .format("%b %-d")
                .to_string()
        })
        .collect();
    assert_eq!(days, ["Nov 1", "Nov 2"]);
    for (day, mine) in days.iter().zip(&ours) {
        assert_eq!(mine, &p.per_day[day], "{name}: {day}");
    }
    // pflogsumm has no line for the 3 qmgr expiries; sendlog counts them apart.
    assert_eq!(u(&r["summary"]["expired"]), 3);
}

#[test]
fn the_text_report_has_pflogsumms_tables_and_says_where_they_differ() {
    let s = TempStore::new();
    let log = fixture("postfix/postfix_log_analysis__mail.log");
    s.run_ok(&["import", "--year", "2015", log.to_str().unwrap()]);
    let text = s.run_ok(&["report"]);
    for heading in [
        "Grand totals (as pflogsumm counts them)",
        "Per hour of the day (UTC, summed over the days)",
        "Destination domains",
        "Senders by message count",
        "Senders by message size",
        "Recipients by message count",
        "Recipients by message size",
        "SMTP rejects at intake (606)",
        "Against pflogsumm on the same Postfix log",
    ] {
        assert!(text.contains(heading), "{heading:?} missing:\n{text}");
    }
    assert!(text.contains("      489  received"), "{text}");
    assert!(text.contains("      606  rejected"), "{text}");
}
