//! Live checks of whether a cause is fixed: DNS, MX, SMTP, blocklists, SPF/DMARC. Nothing
//! here runs unless the user asks for a check (`sendlog check`, or the Causes screen's
//! key); nothing here reads or writes the store.

pub mod auth;
pub mod dns;
pub mod dnsbl;
pub mod plan;
pub mod smtp;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use crate::model::check::{CheckResult, Outcome};
use dns::{Answer, Dns};
use plan::{Kind, Target};

/// How checks run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The DNS server asked; `None`: the system's.
    pub resolver: Option<SocketAddr>,
    pub smtp_port: u16,
    /// For each DNS query and each step of an SMTP conversation.
    pub timeout: Duration,
    pub zones: Vec<String>,
}

/// `192.0.2.53`, `192.0.2.53:5353` or `[2001:db8::53]:53`.
pub fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    s.parse::<SocketAddr>()
        .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| {
            format!("{s:?} is not a DNS server address such as 192.0.2.53 or 127.0.0.1:5353")
        })
}

/// The zones given, else the default ones.
pub fn zones_or_default(given: &[String]) -> Vec<String> {
    let given: Vec<String> = given
        .iter()
        .map(|z| z.trim().trim_end_matches('.').to_string())
        .filter(|z| dns::fqdn(z).is_some())
        .collect();
    if given.is_empty() {
        dnsbl::DEFAULT_ZONES.iter().map(|z| z.to_string()).collect()
    } else {
        given
    }
}

impl Settings {
    /// The settings of a check run from the terminal UI: the environment variables
    /// `sendlog check` also reads (`SENDLOG_RESOLVER`, `SENDLOG_SMTP_PORT`,
    /// `SENDLOG_DNSBL_ZONES`), else the defaults. Sending addresses come with them
    /// (`SENDLOG_SENDING_IPS`). A value that does not parse is left out, as if unset.
    /// As `from_env`, with what earlier `sendlog check` runs kept for this store standing
    /// in for what the environment does not say.
    pub fn from_env_or(kept: &crate::model::check::CheckDefaults) -> (Settings, Vec<IpAddr>) {
        let (mut settings, mut ips) = Settings::from_env();
        let var_set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        if !var_set("SENDLOG_RESOLVER") && kept.resolver.is_some() {
            settings.resolver = kept.resolver;
        }
        if !var_set("SENDLOG_DNSBL_ZONES") && !kept.zones.is_empty() {
            settings.zones = zones_or_default(&kept.zones);
        }
        if ips.is_empty() {
            ips = kept.ips.clone();
        }
        (settings, ips)
    }

    pub fn from_env() -> (Settings, Vec<IpAddr>) {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let list = |name: &str| -> Vec<String> {
            var(name)
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        };
        let settings = Settings {
            resolver: var("SENDLOG_RESOLVER").and_then(|v| parse_resolver(&v).ok()),
            smtp_port: var("SENDLOG_SMTP_PORT")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(25),
            timeout: Duration::from_secs(5),
            zones: zones_or_default(&list("SENDLOG_DNSBL_ZONES")),
        };
        let ips = list("SENDLOG_SENDING_IPS")
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        (settings, ips)
    }
}

/// Checks run at once, at most: a run over many causes stays polite to the resolver and
/// the receivers.
const PARALLEL: usize = 8;
/// MX hosts tried per domain, and addresses per host.
const MX_HOSTS: usize = 5;
const ADDRS_PER_HOST: usize = 2;

/// Runs the checks of `targets`, in their order. `Err` is the one line saying why no
/// check could run (no resolver answered): then no result is worth keeping.
pub fn run(
    targets: Vec<Target>,
    settings: &Settings,
    now: i64,
) -> Result<Vec<CheckResult>, String> {
    if !targets.iter().any(|t| t.kind.uses_network()) {
        return Ok(targets.iter().map(|t| wait(t, now)).collect());
    }
    let mut results = on_runtime(targets, settings, move |dns, settings, target| async move {
        let (result, evidence, only_timeouts) = check(&dns, &settings, &target, now).await;
        (target, result, evidence, only_timeouts)
    })?;
    // Every MX of several domains silent at connect, none refusing and none answering: that
    // is what a network blocking outbound port 25 looks like, and it says nothing of the
    // receivers.
    let smtp_domains: std::collections::BTreeSet<String> = results
        .iter()
        .filter(|r| r.0.kind == Kind::Smtp)
        .map(|r| {
            r.0.domain
                .clone()
                .unwrap_or_else(|| r.0.destination.clone())
        })
        .collect();
    let port_blocked = smtp_domains.len() >= 2
        && results
            .iter()
            .filter(|r| r.0.kind == Kind::Smtp)
            .all(|r| r.3);
    if port_blocked {
        for r in results.iter_mut().filter(|r| r.0.kind == Kind::Smtp) {
            r.1 = Outcome::Unknown;
            r.2.push_str(&format!(
                "; every MX of all {} domains checked timed out at connect and none refused: \
                 this network likely blocks outbound port {}, so this says nothing of the \
                 receiver (check from the mail server itself)",
                smtp_domains.len(),
                settings.smtp_port
            ));
        }
    }
    Ok(results
        .into_iter()
        .map(|(t, result, evidence, _)| result_of(&t, result, evidence, now))
        .collect())
}

/// What a lookup says of a domain sendlog took for a typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypoCheck {
    pub domain: String,
    /// `Fixed`: the domain has a mail host, so it is a real domain, no typo. `Failing`: it
    /// has none (NXDOMAIN, null MX, nothing resolves): the flag stands. `Unknown`: the
    /// lookup failed.
    pub receives_mail: Outcome,
    pub evidence: String,
}

/// Asks DNS whether each domain flagged as a typo has a mail host: a domain that does is
/// real, whatever it looks like (`bmx.com` is not `gmx.com` misspelt).
pub fn typo_domains(domains: Vec<String>, settings: &Settings) -> Result<Vec<TypoCheck>, String> {
    on_runtime(domains, settings, |dns, _, domain| async move {
        let (receives_mail, evidence) = domain_exists(&dns, &domain).await;
        TypoCheck {
            domain,
            receives_mail,
            evidence,
        }
    })
}

/// Runs `work` on each item, at most `PARALLEL` at once, on one thread; the results come
/// in the items' order. `Err` is the one line saying why nothing could be checked (no
/// resolver answered any lookup): then no result is worth keeping.
fn on_runtime<T, R, F, Fut>(items: Vec<T>, settings: &Settings, work: F) -> Result<Vec<R>, String>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Dns, Arc<Settings>, T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = R> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("the checks could not start: {e}"))?;
    let dns = Dns::new(settings.resolver, settings.timeout)?;
    let settings = Arc::new(settings.clone());
    let work = Arc::new(work);
    let results = runtime.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut set = tokio::task::JoinSet::new();
        for (i, item) in items.into_iter().enumerate() {
            let (dns, settings, permits, work) =
                (dns.clone(), settings.clone(), permits.clone(), work.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (i, work(dns, settings, item).await)
            });
        }
        let mut done = Vec::new();
        while let Some(joined) = set.join_next().await {
            if let Ok(r) = joined {
                done.push(r);
            }
        }
        done.sort_by_key(|r| r.0);
        done
    });
    if !dns.any_answer() {
        return Err(match settings.resolver {
            Some(addr) => format!("no answer from the DNS resolver at {addr}: nothing was checked, nothing recorded"),
            None => "no answer from this machine's DNS resolver (is there a network?): nothing was checked, nothing recorded".to_string(),
        });
    }
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

fn result_of(t: &Target, result: Outcome, evidence: String, now: i64) -> CheckResult {
    CheckResult {
        cause: t.reason.clone(),
        destination: t.destination.clone(),
        domain: t.domain.clone(),
        host: t.host.clone(),
        check: t.kind.as_str().to_string(),
        result,
        evidence,
        checked_at: now,
    }
}

/// A check's outcome and evidence, and whether it was an SMTP check whose every address
/// timed out at connect.
async fn check(dns: &Dns, s: &Settings, t: &Target, now: i64) -> (Outcome, String, bool) {
    let domain = t.domain.as_deref().unwrap_or(&t.destination);
    let (outcome, evidence) = match t.kind {
        Kind::Dns => domain_exists(dns, domain).await,
        Kind::Smtp => return mx_answers(dns, s, domain).await,
        Kind::Dnsbl => not_listed(dns, &s.zones, &t.ips).await,
        Kind::Auth => auth_records(dns, &t.senders).await,
        Kind::Wait => {
            let w = wait(t, now);
            (w.result, w.evidence)
        }
    };
    (outcome, evidence, false)
}

/// A cause no lookup can settle: how long since the receiver last deferred, and its own
/// words (which carry the provider's pointer to its pages, when it gives one).
fn wait(t: &Target, now: i64) -> CheckResult {
    let mut evidence = format!("no lookup can tell whether {} is over", t.reason);
    if let Some(last) = t.last_seen {
        evidence.push_str(&format!(
            "; the last failure was {} ago",
            crate::wording::time_span((now - last).max(0))
        ));
    }
    if let Some(text) = &t.last_text {
        evidence.push_str(&format!("; the receiver said: {}", text.trim()));
    }
    match &t.wait_advice {
        Some(advice) => evidence.push_str(&format!("; {advice}")),
        None => evidence.push_str("; no panel says how long it lasts"),
    }
    result_of(t, Outcome::Unknown, evidence, now)
}

/// The MX hosts mail for `domain` goes to, or the outcome that settles it without them.
async fn mail_hosts(dns: &Dns, domain: &str) -> Result<Vec<String>, (Outcome, String)> {
    if dns::fqdn(domain).is_none() {
        return Err((Outcome::Failing, format!("{domain} is not a domain name")));
    }
    match dns.mx(domain).await {
        Answer::Found(mx) if mx.iter().all(|(_, h)| h == ".") => Err((
            Outcome::Failing,
            format!("{domain} publishes a null MX: it accepts no mail"),
        )),
        Answer::Found(mx) => Ok(mx
            .into_iter()
            .filter(|(_, h)| h != ".")
            .map(|(_, h)| h)
            .take(MX_HOSTS)
            .collect()),
        // No MX: mail goes to the domain's own address (RFC 5321 5.1).
        Answer::NoData => Ok(vec![domain.to_string()]),
        Answer::NxDomain => Err((
            Outcome::Failing,
            format!("{domain} does not exist (NXDOMAIN)"),
        )),
        Answer::Transient(e) => Err((
            Outcome::Unknown,
            format!("the MX of {domain} could not be looked up ({e}): transient, ask again later"),
        )),
    }
}

async fn domain_exists(dns: &Dns, domain: &str) -> (Outcome, String) {
    let hosts = match mail_hosts(dns, domain).await {
        Ok(h) => h,
        Err(settled) => return settled,
    };
    let implicit = hosts.len() == 1 && hosts[0].eq_ignore_ascii_case(domain);
    let mut notes = Vec::new();
    let mut transient = false;
    for host in &hosts {
        match dns.addresses(host).await {
            Answer::Found(ips) => {
                let what = if implicit {
                    format!("{domain} has no MX but an address, {}", ips[0])
                } else {
                    format!("{domain} has MX {host} ({})", ips[0])
                };
                return (Outcome::Fixed, what);
            }
            Answer::NxDomain => notes.push(format!("{host} does not exist (NXDOMAIN)")),
            Answer::NoData => notes.push(format!("{host} has no address")),
            Answer::Transient(e) => {
                transient = true;
                notes.push(format!("{host}: {e}"));
            }
        }
    }
    let outcome = if transient {
        Outcome::Unknown
    } else {
        Outcome::Failing
    };
    let head = if implicit {
        format!("{domain} has no MX")
    } else {
        format!("no MX host of {domain} resolves")
    };
    (outcome, format!("{head}: {}", notes.join("; ")))
}

/// Whether an MX of `domain` answers `220`, and whether every address tried timed out at
/// connect (false when none was tried).
async fn mx_answers(dns: &Dns, s: &Settings, domain: &str) -> (Outcome, String, bool) {
    let hosts = match mail_hosts(dns, domain).await {
        Ok(h) => h,
        Err((outcome, evidence)) => return (outcome, evidence, false),
    };
    let mut notes = Vec::new();
    let mut settled_any = false;
    let (mut probes, mut timeouts) = (0, 0);
    for host in &hosts {
        let ips = match dns.addresses(host).await {
            Answer::Found(ips) => ips,
            Answer::NxDomain => {
                settled_any = true;
                notes.push(format!("{host} does not exist (NXDOMAIN)"));
                continue;
            }
            Answer::NoData => {
                settled_any = true;
                notes.push(format!("{host} has no address"));
                continue;
            }
            Answer::Transient(e) => {
                notes.push(format!("{host}: {e}"));
                continue;
            }
        };
        for ip in ips.into_iter().take(ADDRS_PER_HOST) {
            let addr = SocketAddr::new(ip, s.smtp_port);
            let probe = smtp::probe(addr, s.timeout).await;
            let at = show_addr(addr, s.smtp_port);
            if probe.answers_220() {
                return (
                    Outcome::Fixed,
                    format!("{host} ({at}) {}", probe.describe()),
                    false,
                );
            }
            probes += 1;
            timeouts += usize::from(probe == smtp::Probe::TimedOut);
            settled_any |= probe.is_about_the_host();
            notes.push(format!("{host} ({at}) {}", probe.describe()));
        }
    }
    let outcome = if settled_any {
        Outcome::Failing
    } else {
        Outcome::Unknown
    };
    (
        outcome,
        format!("no MX of {domain} answers 220: {}", notes.join("; ")),
        probes > 0 && timeouts == probes,
    )
}

/// An address as the evidence shows it: with the port only when it is not SMTP's.
fn show_addr(addr: SocketAddr, port: u16) -> String {
    if port == 25 {
        addr.ip().to_string()
    } else {
        addr.to_string()
    }
}

async fn not_listed(dns: &Dns, zones: &[String], ips: &[IpAddr]) -> (Outcome, String) {
    if ips.is_empty() {
        return (
            Outcome::Unknown,
            "no sending address is known for this cause (its replies name none): give --ip".into(),
        );
    }
    if zones.is_empty() {
        return (Outcome::Unknown, "no blocklist zone to ask".into());
    }
    let mut listed = Vec::new();
    let mut clean = Vec::new();
    let mut unknown = Vec::new();
    for ip in ips {
        for zone in zones {
            match dnsbl::lookup(dns, *ip, zone).await {
                dnsbl::Listing::Listed(code) => {
                    listed.push(format!("{ip} is listed in {zone} ({code})"))
                }
                dnsbl::Listing::NotListed => clean.push(format!("{ip} in {zone}")),
                dnsbl::Listing::Unknown(e) => unknown.push(format!("{ip} in {zone}: {e}")),
            }
        }
    }
    if !listed.is_empty() {
        return (Outcome::Failing, listed.join("; "));
    }
    if unknown.is_empty() {
        return (Outcome::Fixed, format!("not listed: {}", clean.join(", ")));
    }
    let mut evidence = format!("could not ask: {}", unknown.join("; "));
    if !clean.is_empty() {
        evidence.push_str(&format!("; not listed: {}", clean.join(", ")));
    }
    (Outcome::Unknown, evidence)
}

async fn auth_records(dns: &Dns, senders: &[String]) -> (Outcome, String) {
    if senders.is_empty() {
        return (
            Outcome::Unknown,
            "no sender address is known for this cause's messages".into(),
        );
    }
    let mut notes = Vec::new();
    let (mut failing, mut transient) = (false, false);
    for domain in senders {
        if dns::fqdn(domain).is_none() {
            failing = true;
            notes.push(format!("{domain} is not a domain name"));
            continue;
        }
        let mut parts = Vec::new();
        for (name, parse) in [
            (domain.clone(), auth::spf as fn(&[String]) -> auth::Parsed),
            (format!("_dmarc.{domain}"), auth::dmarc),
        ] {
            match dns.txt(&name).await {
                Answer::Transient(e) => {
                    transient = true;
                    parts.push(format!("{name}: {e}"));
                }
                Answer::Found(txts) => match parse(&txts) {
                    Ok(ok) => parts.push(ok),
                    Err(bad) => {
                        failing = true;
                        parts.push(bad);
                    }
                },
                Answer::NxDomain | Answer::NoData => match parse(&[]) {
                    Ok(ok) => parts.push(ok),
                    Err(bad) => {
                        failing = true;
                        parts.push(bad);
                    }
                },
            }
        }
        notes.push(format!("{domain}: {}", parts.join(", ")));
    }
    let outcome = if failing {
        Outcome::Failing
    } else if transient {
        Outcome::Unknown
    } else {
        Outcome::Fixed
    };
    (outcome, notes.join("; "))
}

/// What one cause's checks add up to: fixed only when every one of them says so.
pub fn overall(results: &[&CheckResult]) -> Outcome {
    if results.iter().any(|r| r.result == Outcome::Failing) {
        Outcome::Failing
    } else if !results.is_empty() && results.iter().all(|r| r.result == Outcome::Fixed) {
        Outcome::Fixed
    } else {
        Outcome::Unknown
    }
}
