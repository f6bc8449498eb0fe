//! A generator of realistic Postfix maillogs, for tests and benchmarks (the
//! `gen_postfix` example is its command line).
//!
//! Mail goes out from two sending hosts to a mix of providers and company domains: most is
//! delivered, some bounces (unknown users, typo domains), some is greylisted and clears,
//! some is rate limited by Gmail, some meets Microsoft's IP-reputation soft-block
//! (4.7.650) and expires, some meets dead MX hosts and DNS failures and expires. Retries
//! follow Postfix's backoff; expiries happen at the 5-day queue lifetime. Deterministic
//! for a given seed. Stamps are UTC (read them with TZ=UTC to get the same instants).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for test data, and no dependency.
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy)]
enum Fate {
    Sent,
    UserUnknown,
    Greylisted,
    GmailRateLimit,
    MicrosoftSoftBlock,
    DeadMx,
    DnsTempFail,
    TypoDomain,
    MailboxFull,
}

struct Destination {
    domain: String,
    mx: String,
    ip: String,
    provider: &'static str,
}

const GMAIL_MX: &str = "gmail-smtp-in.l.google.com";
const YAHOO_MX: &str = "mta7.am0.yahoodns.net";

fn destination(rng: &mut Rng, fate: Fate, company_count: u64) -> Destination {
    let company = |rng: &mut Rng| format!("company{}.example", rng.below(company_count));
    let ip = |rng: &mut Rng| format!("198.51.{}.{}", rng.below(256), 1 + rng.below(254));
    match fate {
        Fate::GmailRateLimit => Destination {
            domain: "gmail.com".into(),
            mx: GMAIL_MX.into(),
            ip: "142.250.27.26".into(),
            provider: "google",
        },
        Fate::MicrosoftSoftBlock => {
            let domain = if rng.chance(500) {
                "outlook.com".to_string()
            } else {
                company(rng)
            };
            Destination {
                mx: format!("{}.mail.protection.outlook.com", domain.replace('.', "-")),
                domain,
                ip: "52.101.68.11".into(),
                provider: "microsoft",
            }
        }
        Fate::TypoDomain => Destination {
            domain: rng
                .pick(&[
                    "gmial.com",
                    "hotmial.com",
                    "outlok.com",
                    "yahooo.com",
                    "gmail.co",
                ])
                .to_string(),
            mx: String::new(),
            ip: String::new(),
            provider: "none",
        },
        Fate::DeadMx | Fate::DnsTempFail => {
            let domain = format!("defunct{}.example", rng.below(40));
            Destination {
                mx: format!("mx.{domain}"),
                domain,
                ip: ip(rng),
                provider: "other",
            }
        }
        _ => match rng.below(10) {
            0..=3 => Destination {
                domain: "gmail.com".into(),
                mx: GMAIL_MX.into(),
                ip: "142.250.27.26".into(),
                provider: "google",
            },
            4..=5 => {
                let domain = rng
                    .pick(&["outlook.com", "hotmail.com", "live.com"])
                    .to_string();
                Destination {
                    mx: format!("{}.olc.protection.outlook.com", domain.replace('.', "-")),
                    domain,
                    ip: "52.101.8.44".into(),
                    provider: "microsoft",
                }
            }
            6 => Destination {
                domain: "yahoo.com".into(),
                mx: YAHOO_MX.into(),
                ip: "67.195.204.72".into(),
                provider: "yahoo",
            },
            _ => {
                let domain = company(rng);
                Destination {
                    mx: format!("mail.{domain}"),
                    domain,
                    ip: ip(rng),
                    provider: "other",
                }
            }
        },
    }
}

fn fate(rng: &mut Rng) -> Fate {
    match rng.below(1000) {
        0..=819 => Fate::Sent,
        820..=869 => Fate::UserUnknown,
        870..=909 => Fate::Greylisted,
        910..=934 => Fate::GmailRateLimit,
        935..=954 => Fate::MicrosoftSoftBlock,
        955..=969 => Fate::DeadMx,
        970..=979 => Fate::DnsTempFail,
        980..=989 => Fate::TypoDomain,
        _ => Fate::MailboxFull,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

struct Stamp {
    rfc3339: bool,
}

impl Stamp {
    /// Seconds since 2026-01-01T00:00:00Z → a syslog stamp (UTC).
    fn format(&self, t: i64) -> String {
        let base = chrono::DateTime::from_timestamp(1_767_225_600 + t, 0).expect("valid time");
        if self.rfc3339 {
            base.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
        } else {
            use chrono::{Datelike, Timelike};
            format!(
                "{} {:>2} {:02}:{:02}:{:02}",
                MONTHS[base.month0() as usize],
                base.day(),
                base.hour(),
                base.minute(),
                base.second()
            )
        }
    }
}

struct Out<W: Write> {
    heap: BinaryHeap<Reverse<(i64, u64, String)>>,
    seq: u64,
    w: W,
    stamp: Stamp,
}

impl<W: Write> Out<W> {
    fn at(&mut self, t: i64, host: &str, prog: &str, pid: u64, msg: String) {
        self.seq += 1;
        let line = format!("{host} {prog}[{pid}]: {msg}");
        self.heap.push(Reverse((t, self.seq, line)));
    }
    /// Writes every line due before `now`, in time order.
    fn flush_until(&mut self, now: i64) -> io::Result<()> {
        while let Some(Reverse((t, _, _))) = self.heap.peek() {
            if *t > now {
                break;
            }
            let Reverse((t, _, line)) = self.heap.pop().expect("peeked");
            writeln!(self.w, "{} {}", self.stamp.format(t), line)?;
        }
        Ok(())
    }
}

/// Postfix's retry backoff: 5 minutes, doubling, at most 4000 s.
fn backoff(rng: &mut Rng, k: u32) -> i64 {
    (300i64 << k.min(4)).min(4000) + rng.below(60) as i64
}

fn queue_id(rng: &mut Rng) -> String {
    format!("{:010X}", rng.next() & 0xFF_FFFF_FFFF)
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenOptions {
    pub messages: u64,
    pub seed: u64,
    /// RFC 3339 stamps instead of classic syslog ones.
    pub rfc3339: bool,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            messages: 10_000,
            seed: 7,
            rfc3339: false,
        }
    }
}

/// Writes the log to `w`.
pub fn write_postfix_log<W: Write>(opts: GenOptions, w: W) -> io::Result<()> {
    let GenOptions {
        messages,
        seed,
        rfc3339,
    } = opts;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Out {
        heap: BinaryHeap::new(),
        seq: 0,
        w: BufWriter::with_capacity(1 << 20, w),
        stamp: Stamp { rfc3339 },
    };
    let hosts = [("mx1", "postfix"), ("mx2", "postfix-out2")];
    let senders = [
        "news@shop.example",
        "sales@agency.example",
        "hello@outreach.example",
    ];
    let company_count = (messages / 50).max(20);
    let lifetime = 5 * 86_400;
    let mut now: i64 = 0;
    for n in 0..messages {
        now += 1 + rng.below(3) as i64;
        out.flush_until(now)?;
        let (host, syslog) = *rng.pick(&hosts);
        let pid = 1000 + rng.below(30000);
        let qid = queue_id(&mut rng);
        let sender = rng.pick(&senders);
        let nrcpt = 1 + u64::from(rng.chance(150)) + u64::from(rng.chance(50));
        out.at(
            now,
            host,
            &format!("{syslog}/pickup"),
            pid,
            format!("{qid}: uid=1000 from=<{sender}>"),
        );
        out.at(
            now,
            host,
            &format!("{syslog}/cleanup"),
            pid + 1,
            format!("{qid}: message-id=<{n}.{qid}@{host}.shop.example>"),
        );
        let mut last_event = now;
        let mut expires = false;
        for _ in 0..nrcpt {
            let f = fate(&mut rng);
            let d = destination(&mut rng, f, company_count);
            let rcpt = format!("u{:08x}@{}", rng.next() & 0xFFFF_FFFF, d.domain);
            let relay = if d.mx.is_empty() {
                "none".to_string()
            } else {
                format!("{}[{}]:25", d.mx, d.ip)
            };
            let smtp = format!("{syslog}/smtp");
            let line = |dsn: &str, status: &str, text: &str, delay: i64| {
                format!(
                    "{qid}: to=<{rcpt}>, relay={relay}, delay={delay}, delays=0.1/0/0.3/0.2, dsn={dsn}, status={status} ({text})"
                )
            };
            let sent_text = format!("250 2.0.0 OK {} - gsmtp", rng.next() & 0xFFFF_FFFF);
            let mut t = now + 1;
            let qmgr = format!("{syslog}/qmgr");
            out.at(
                t,
                host,
                &qmgr,
                pid + 2,
                format!(
                    "{qid}: from=<{sender}>, size={}, nrcpt={nrcpt} (queue active)",
                    2000 + rng.below(50_000)
                ),
            );
            match f {
                Fate::Sent => out.at(
                    t,
                    host,
                    &smtp,
                    pid + 3,
                    line("2.0.0", "sent", &sent_text, t - now),
                ),
                Fate::UserUnknown => {
                    let text = if d.provider == "microsoft" {
                        format!(
                            "host {} said: 550 5.5.0 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)",
                            d.mx
                        )
                    } else {
                        format!(
                            "host {}[{}] said: 550-5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command)",
                            d.mx, d.ip
                        )
                    };
                    let dsn = if d.provider == "microsoft" {
                        "5.5.0"
                    } else {
                        "5.1.1"
                    };
                    out.at(
                        t,
                        host,
                        &smtp,
                        pid + 3,
                        line(dsn, "bounced", &text, t - now),
                    );
                }
                Fate::MailboxFull => {
                    let text = format!(
                        "host {}[{}] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command)",
                        d.mx, d.ip
                    );
                    out.at(
                        t,
                        host,
                        &smtp,
                        pid + 3,
                        line("5.2.2", "bounced", &text, t - now),
                    );
                }
                Fate::Greylisted => {
                    for k in 0..(1 + rng.below(3) as u32) {
                        let text = format!(
                            "host {}[{}] said: 450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{}.html (in reply to RCPT TO command)",
                            d.mx, d.ip, d.domain
                        );
                        out.at(
                            t,
                            host,
                            &smtp,
                            pid + 3,
                            line("4.2.0", "deferred", &text, t - now),
                        );
                        t += backoff(&mut rng, k);
                    }
                    out.at(
                        t,
                        host,
                        &smtp,
                        pid + 3,
                        line("2.0.0", "sent", &sent_text, t - now),
                    );
                }
                Fate::GmailRateLimit => {
                    for k in 0..(1 + rng.below(4) as u32) {
                        let text = format!(
                            "host {}[{}] said: 421-4.7.28 Gmail has detected an unusual rate of mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. (in reply to end of DATA command)",
                            d.mx, d.ip
                        );
                        out.at(
                            t,
                            host,
                            &smtp,
                            pid + 3,
                            line("4.7.28", "deferred", &text, t - now),
                        );
                        t += backoff(&mut rng, k);
                    }
                    out.at(
                        t,
                        host,
                        &smtp,
                        pid + 3,
                        line("2.0.0", "sent", &sent_text, t - now),
                    );
                }
                Fate::MicrosoftSoftBlock | Fate::DeadMx | Fate::DnsTempFail => {
                    let mut k = 0;
                    while t < now + lifetime {
                        let (dsn, text) = match f {
                            Fate::MicrosoftSoftBlock => (
                                "4.7.650",
                                format!(
                                    "host {}[{}] said: 451 4.7.650 The mail server [203.0.113.{}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) (in reply to MAIL FROM command)",
                                    d.mx,
                                    d.ip,
                                    if host == "mx1" { 13 } else { 14 }
                                ),
                            ),
                            Fate::DeadMx => (
                                "4.4.1",
                                format!("connect to {}[{}]:25: Connection timed out", d.mx, d.ip),
                            ),
                            _ => (
                                "4.4.3",
                                format!(
                                    "Host or domain name not found. Name service error for name={} type=MX: Host not found, try again",
                                    d.domain
                                ),
                            ),
                        };
                        let relay_now = if matches!(f, Fate::DnsTempFail | Fate::DeadMx) {
                            "none".to_string()
                        } else {
                            relay.clone()
                        };
                        out.at(t, host, &smtp, pid + 3, format!("{qid}: to=<{rcpt}>, relay={relay_now}, delay={}, delays=0.1/0/30/0, dsn={dsn}, status=deferred ({text})", t - now));
                        t += backoff(&mut rng, k);
                        k += 1;
                    }
                    expires = true;
                }
                Fate::TypoDomain => {
                    let text = format!(
                        "Host or domain name not found. Name service error for name={} type=A: Host not found",
                        d.domain
                    );
                    out.at(
                        t,
                        host,
                        &smtp,
                        pid + 3,
                        line("5.4.4", "bounced", &text, t - now),
                    );
                }
            }
            last_event = last_event.max(t);
        }
        let qmgr = format!("{syslog}/qmgr");
        if expires {
            let t = now + lifetime + 60 + rng.below(600) as i64;
            out.at(
                t,
                host,
                &qmgr,
                pid + 2,
                format!("{qid}: from=<{sender}>, status=expired, returned to sender"),
            );
            out.at(t, host, &qmgr, pid + 2, format!("{qid}: removed"));
        } else {
            out.at(
                last_event + 1,
                host,
                &qmgr,
                pid + 2,
                format!("{qid}: removed"),
            );
        }
    }
    out.flush_until(i64::MAX)?;
    out.w.flush()
}
