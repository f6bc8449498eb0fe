//! Typo domains: a failed recipient domain a small edit away from a mailbox provider or
//! from a domain that did receive mail (`gmial.com` → `gmail.com`).

/// Optimal string alignment distance (Levenshtein plus adjacent transposition), which is
/// how people mistype: `gmial` is one swap from `gmail`. Works on bytes: domain names are
/// ASCII (IDNs arrive as punycode).
pub fn edit_distance(a: &str, b: &str) -> usize {
    bounded_distance(a.as_bytes(), b.as_bytes(), usize::MAX)
}

/// The distance, or something above `max` as soon as it must exceed `max`.
fn bounded_distance(a: &[u8], b: &[u8], max: usize) -> usize {
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(prev2[j - 2] + 1);
            }
            cur[j] = best;
            row_min = row_min.min(best);
        }
        if row_min > max {
            return max.saturating_add(1);
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The domain `failed` was probably meant to be, from `candidates` (well-known providers
/// and domains that received mail). Short domains need a closer match, so `aol.com` does
/// not claim every three-letter domain; names that differ only in digits
/// (`shop2.example` / `shop3.example`) are different domains, not typos.
pub fn suggest<'a>(failed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let failed = failed.to_ascii_lowercase();
    // A name of one or two letters (`gm.de`, `ya.ru`) is one edit from too many real
    // ones to call a typo.
    if failed.split('.').next().is_none_or(|label| label.len() < 3) {
        return None;
    }
    let max = if failed.len() <= 8 { 1 } else { 2 };
    let letters = |s: &str| -> String { s.chars().filter(|c| !c.is_ascii_digit()).collect() };
    let failed_letters = letters(&failed);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c.eq_ignore_ascii_case(&failed) {
            return None;
        }
        if c.len().abs_diff(failed.len()) > max {
            continue;
        }
        let d = bounded_distance(failed.as_bytes(), c.as_bytes(), max);
        if d <= max && best.is_none_or(|(bd, _)| d < bd) && letters(c) != failed_letters {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Why `domain` was taken for a typo of `meant`, in words for a report.
pub fn why(domain: &str, meant: &str) -> String {
    let edits = edit_distance(&domain.to_ascii_lowercase(), &meant.to_ascii_lowercase());
    let what = if crate::classify::provider::well_known_domains().any(|d| d == meant) {
        "a mailbox provider"
    } else {
        "a domain that received mail in this store"
    };
    format!(
        "{} from {meant} ({what}); no mail was delivered to it and no mail server of its own answered",
        if edits == 1 {
            "one edit".to_string()
        } else {
            format!("{edits} edits")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::provider::well_known_domains;

    #[test]
    fn common_typos_are_caught() {
        for (typo, meant) in [
            ("gmial.com", "gmail.com"),
            ("hotmial.com", "hotmail.com"),
            ("outlok.com", "outlook.com"),
            ("yahooo.com", "yahoo.com"),
            ("gmail.co", "gmail.com"),
            ("gmaill.com", "gmail.com"),
            ("yaho.com", "yahoo.com"),
            ("icloud.co", "icloud.com"),
            ("outloook.com", "outlook.com"),
            ("orange.ft", "orange.fr"),
            ("t-onlne.de", "t-online.de"),
            ("163.co", "163.com"),
        ] {
            assert_eq!(suggest(typo, well_known_domains()), Some(meant), "{typo}");
        }
    }

    #[test]
    fn real_domains_are_not_typos() {
        for d in [
            "gmail.com",
            "example.com",
            "gmx.net",
            "mail.ru",
            "aol.com",
            "ya.ru",
            "bk.ru",
            // Real domains one edit from a listed one.
            "mail.com",
            "email.com",
            "me.com",
            "mac.com",
            "126.com",
            "164.com",
            "live.nl",
            // Too short to judge: one letter from several real names.
            "gm.de",
            "gx.de",
        ] {
            assert_eq!(suggest(d, well_known_domains()), None, "{d}");
        }
        assert_eq!(edit_distance("gmial", "gmail"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(suggest("shop2.example", ["shop3.example"]), None);
        assert_eq!(
            suggest("shopp.example", ["shop.example"]),
            Some("shop.example")
        );
    }
}
