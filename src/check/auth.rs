//! Whether a sender domain publishes SPF (RFC 7208) and DMARC (RFC 7489) records that
//! parse: the first thing a receiver refusing mail for authentication looks at. Whether
//! the records authorise the sending address is not judged here.

/// What is wrong with a record, or `Ok` with a short summary of it.
pub type Parsed = Result<String, String>;

/// The SPF record among a domain's TXT records: exactly one `v=spf1` record, each term
/// a known mechanism or modifier.
pub fn spf(txts: &[String]) -> Parsed {
    let records: Vec<&String> = txts
        .iter()
        .filter(|t| {
            let t = t.trim_start().to_ascii_lowercase();
            t == "v=spf1" || t.starts_with("v=spf1 ")
        })
        .collect();
    let record = match records.as_slice() {
        [] => return Err("no SPF record".into()),
        [one] => one.trim(),
        _ => return Err(format!("{} SPF records (one is allowed)", records.len())),
    };
    let terms: Vec<&str> = record.split_ascii_whitespace().skip(1).collect();
    for term in &terms {
        spf_term(term).map_err(|e| format!("SPF term {term:?}: {e}"))?;
    }
    let all = terms.iter().find(|t| {
        t.trim_start_matches(['+', '-', '~', '?'])
            .eq_ignore_ascii_case("all")
    });
    Ok(match all {
        Some(t) => format!("SPF parses ({} terms, ends {t})", terms.len()),
        None => format!("SPF parses ({} terms)", terms.len()),
    })
}

fn spf_term(term: &str) -> Result<(), &'static str> {
    if let Some((name, value)) = term.split_once('=')
        && !name.contains(':')
    {
        return match name.to_ascii_lowercase().as_str() {
            "redirect" | "exp" if value.is_empty() => Err("modifier without a domain"),
            _ if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
            {
                Err("not a modifier name")
            }
            _ => Ok(()),
        };
    }
    let body = term.trim_start_matches(['+', '-', '~', '?']);
    if body.len() + 1 < term.len() {
        return Err("more than one qualifier");
    }
    let (mech, arg) = match body.split_once([':', '/']) {
        Some((m, _)) => (m, Some(&body[m.len()..])),
        None => (body, None),
    };
    let arg_value = arg.map(|a| a.trim_start_matches(':'));
    match mech.to_ascii_lowercase().as_str() {
        "all" if arg.is_none() => Ok(()),
        "include" | "exists" => match arg_value {
            Some(d) if !d.is_empty() && arg.is_some_and(|a| a.starts_with(':')) => Ok(()),
            _ => Err("needs :domain"),
        },
        "a" | "mx" | "ptr" => Ok(()),
        "ip4" => {
            match arg_value.map(|v| v.split_once('/').map_or((v, None), |(i, p)| (i, Some(p)))) {
                Some((ip, prefix))
                    if ip.parse::<std::net::Ipv4Addr>().is_ok()
                        && prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|n| n <= 32)) =>
                {
                    Ok(())
                }
                _ => Err("not an IPv4 address or network"),
            }
        }
        "ip6" => {
            match arg_value.map(|v| v.split_once('/').map_or((v, None), |(i, p)| (i, Some(p)))) {
                Some((ip, prefix))
                    if ip.parse::<std::net::Ipv6Addr>().is_ok()
                        && prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|n| n <= 128)) =>
                {
                    Ok(())
                }
                _ => Err("not an IPv6 address or network"),
            }
        }
        _ => Err("unknown mechanism"),
    }
}

/// The DMARC record at `_dmarc.DOMAIN`: exactly one, starting `v=DMARC1`, with a policy
/// `p=` of none, quarantine or reject.
pub fn dmarc(txts: &[String]) -> Parsed {
    let records: Vec<&String> = txts
        .iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=dmarc1"))
        .collect();
    let record = match records.as_slice() {
        [] => return Err("no DMARC record".into()),
        [one] => one.trim(),
        _ => return Err(format!("{} DMARC records (one is allowed)", records.len())),
    };
    let mut tags = record.split(';').map(str::trim).filter(|t| !t.is_empty());
    let version = tags.next().unwrap_or_default();
    if !version.replace(' ', "").eq_ignore_ascii_case("v=DMARC1") {
        return Err(format!("DMARC record starts {version:?}, not v=DMARC1"));
    }
    let mut policy = None;
    for tag in tags {
        let Some((k, v)) = tag.split_once('=') else {
            return Err(format!("DMARC tag {tag:?} has no value"));
        };
        if k.trim().eq_ignore_ascii_case("p") {
            policy = Some(v.trim().to_ascii_lowercase());
        }
    }
    match policy.as_deref() {
        Some(p @ ("none" | "quarantine" | "reject")) => Ok(format!("DMARC parses (p={p})")),
        Some(p) => Err(format!(
            "DMARC policy p={p} is none of none, quarantine, reject"
        )),
        None => Err("DMARC record has no policy (p=)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn spf_records() {
        assert!(spf(&t(&["v=spf1 ip4:203.0.113.0/24 include:_spf.example -all"])).is_ok());
        assert!(
            spf(&t(&[
                "google-site-verification=x",
                "v=spf1 mx a:mail.example ~all"
            ]))
            .is_ok()
        );
        assert!(spf(&t(&["v=spf1 redirect=_spf.example"])).is_ok());
        assert_eq!(spf(&t(&["hello"])), Err("no SPF record".into()));
        assert!(
            spf(&t(&["v=spf1 -all", "v=spf1 mx -all"]))
                .unwrap_err()
                .contains("2 SPF")
        );
        assert!(spf(&t(&["v=spf1 ip4:203.0.113.300 -all"])).is_err());
        assert!(spf(&t(&["v=spf1 include -all"])).is_err());
        assert!(spf(&t(&["v=spf1 mx allow"])).is_err());
        assert!(spf(&t(&["v=spf1 ip6:2001:db8::/32 -all"])).is_ok());
    }

    #[test]
    fn dmarc_records() {
        assert_eq!(
            dmarc(&t(&["v=DMARC1; p=reject; rua=mailto:d@example"])),
            Ok("DMARC parses (p=reject)".into())
        );
        assert!(dmarc(&t(&["v=DMARC1; rua=mailto:d@example"])).is_err());
        assert!(dmarc(&t(&["v=DMARC1; p=maybe"])).is_err());
        assert!(dmarc(&t(&[])).is_err());
    }
}
