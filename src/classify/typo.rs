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

/// Which bytes a name holds, folded into 64 bits (a byte's low six bits pick its bit). An
/// edit changes the set by at most two bits (a substitution: one out, one in; an insertion
/// or deletion: one; a swap: none), so names whose sets differ in more than twice the
/// allowed edits are further apart than that: most pairs are ruled out so, before the
/// table is filled.
fn byte_set(name: &[u8]) -> u64 {
    name.iter().fold(0, |set, b| set | 1 << (b & 63))
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
    let failed_bytes = byte_set(failed.as_bytes());
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c.eq_ignore_ascii_case(&failed) {
            return None;
        }
        if c.len().abs_diff(failed.len()) > max
            || (byte_set(c.as_bytes()) ^ failed_bytes).count_ones() as usize > 2 * max
        {
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
        // One substitution that brings in a byte and takes one out.
        assert_eq!(suggest("gqx.de", ["gmx.de"]), Some("gmx.de"));
    }

    /// The bounded table gives what the whole table gives, the bound cuts only distances
    /// above it, and the byte sets keep every pair within reach.
    #[test]
    fn bounded_distance_agrees_with_the_whole_table() {
        fn whole_table(a: &[u8], b: &[u8]) -> usize {
            let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
            for (i, row) in d.iter_mut().enumerate() {
                row[0] = i;
            }
            for (j, cell) in d[0].iter_mut().enumerate() {
                *cell = j;
            }
            for i in 1..=a.len() {
                for j in 1..=b.len() {
                    let cost = usize::from(a[i - 1] != b[j - 1]);
                    d[i][j] = (d[i - 1][j] + 1)
                        .min(d[i][j - 1] + 1)
                        .min(d[i - 1][j - 1] + cost);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                    }
                }
            }
            d[a.len()][b.len()]
        }
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        const WIDE: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.-";
        for round in 0..4000 {
            let (a, b): (Vec<u8>, Vec<u8>) = if round % 2 == 0 {
                // Two names over a small alphabet (many near misses), some of them long.
                let len = |next: &mut dyn FnMut(u64) -> u64| {
                    if next(4) == 0 {
                        60 + next(10)
                    } else {
                        next(12)
                    }
                };
                let (la, lb) = (len(&mut next), len(&mut next));
                let a = (0..la).map(|_| b"abc."[next(4) as usize]).collect();
                let b = (0..lb).map(|_| b"abc."[next(4) as usize]).collect();
                (a, b)
            } else {
                // A name over many bytes and a few random edits of it.
                let a: Vec<u8> = (0..1 + next(16))
                    .map(|_| WIDE[next(WIDE.len() as u64) as usize])
                    .collect();
                let mut b = a.clone();
                for _ in 0..next(4) {
                    let at = next(b.len() as u64 + 1) as usize;
                    let byte = WIDE[next(WIDE.len() as u64) as usize];
                    match next(4) {
                        0 if at < b.len() => b[at] = byte,
                        1 => b.insert(at, byte),
                        2 if at < b.len() => {
                            b.remove(at);
                        }
                        _ if at + 1 < b.len() => b.swap(at, at + 1),
                        _ => {}
                    }
                }
                (a, b)
            };
            let exact = whole_table(&a, &b);
            assert_eq!(bounded_distance(&a, &b, usize::MAX), exact);
            // The byte sets never rule out a pair within reach.
            let apart = (byte_set(&a) ^ byte_set(&b)).count_ones() as usize;
            assert!(
                apart <= 2 * exact,
                "{a:?} {b:?}: {apart} bits, {exact} edits"
            );
            for max in 0..4 {
                let bounded = bounded_distance(&a, &b, max);
                if exact <= max {
                    assert_eq!(bounded, exact, "{a:?} {b:?} within {max}");
                } else {
                    assert!(bounded > max, "{a:?} {b:?} over {max}");
                }
            }
        }
    }
}
