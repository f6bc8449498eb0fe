//! Wording shared by the command line and the screens, so a count reads the same in both.

/// "1 delivery", "2 deliveries".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "1 delivery", "4,211 deliveries": `plural` with the count as the screens show counts.
pub fn plural_with(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What an import did to the store's deliveries: "35 deliveries", or, when some were
/// already stored (a message continued, a bounce joined its logged delivery),
/// "1 new delivery, 2 updated".
/// `name n, name n, …` from a count list, each name made safe for a terminal.
pub fn count_list(items: &[(String, u64)]) -> String {
    items
        .iter()
        .map(|(name, n)| format!("{} {}", crate::sanitize::for_terminal(name), thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn deliveries_written(written: u64, updated: u64) -> String {
    if updated == 0 {
        return plural(written, "delivery", "deliveries");
    }
    format!(
        "{}, {updated} updated",
        plural(written - updated, "new delivery", "new deliveries")
    )
}

/// Cells an example reply gets on one line of a text report: 110 characters, then `…`.
pub const EXAMPLE_WIDTH: usize = 111;

/// `text` cut to `width` terminal cells, with `…` where it was cut.
pub fn fit(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        // One cell stays free for the ellipsis.
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` as a column exactly `width` cells wide: cut (`fit`) or padded with spaces.
/// Formatting's own padding counts characters, which misaligns wide ones.
pub fn cell(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut out = fit(text, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// `value` as one shell word, for a command a message suggests: as is when it is made of
/// characters no shell treats specially, else in single quotes (a `'` inside written
/// `'\''`), so the command can be pasted as shown.
pub fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// A span of time to the hour ("2d2h", "5h10m", "40m"); a negative one reads "overdue …".
pub fn time_span(secs: i64) -> String {
    let s = secs.abs();
    let text = if s >= 86_400 {
        format!("{}d{}h", s / 86_400, (s % 86_400) / 3600)
    } else if s >= 3600 {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m", s / 60)
    };
    if secs < 0 {
        format!("overdue {text}")
    } else {
        text
    }
}

/// When something was seen: "seen T" for one moment, "seen A to B" for a span.
pub fn seen_between(first: i64, last: i64) -> String {
    use crate::ingest::timestamp::format_rfc3339;
    if first == last {
        format!("seen {}", format_rfc3339(first))
    } else {
        format!("seen {} to {}", format_rfc3339(first), format_rfc3339(last))
    }
}

/// How long mail has been queued ("4d14h"); "≥4d14h" when the log does not tell when it
/// arrived and the age counts from the first line of it the log holds.
pub fn queue_age(secs: i64, arrival_known: bool) -> String {
    let span = time_span(secs.max(0));
    if arrival_known {
        span
    } else {
        format!("≥{span}")
    }
}

/// Time left before a deadline ("2d0h left"), or how far past it ("overdue 3h0m").
pub fn time_left(secs: i64) -> String {
    if secs < 0 {
        time_span(secs)
    } else {
        format!("{} left", time_span(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::{
        cell, deliveries_written, fit, plural, plural_with, shell_word, thousands, time_left,
        time_span,
    };

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(plural(1, "line", "lines"), "1 line");
        assert_eq!(plural(0, "line", "lines"), "0 lines");
        assert_eq!(plural(2, "delivery", "deliveries"), "2 deliveries");
    }

    #[test]
    fn counts_on_screen_have_thousands_separators() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(0), "0");
        assert_eq!(plural_with(1, "delivery", "deliveries"), "1 delivery");
        assert_eq!(
            plural_with(4211, "delivery", "deliveries"),
            "4,211 deliveries"
        );
        assert_eq!(plural_with(0, "file", "files"), "0 files");
    }

    #[test]
    fn columns_are_cut_with_an_ellipsis_and_padded_by_cells() {
        assert_eq!(fit("short", 5), "short");
        assert_eq!(fit("longer text", 5), "long…");
        assert_eq!(fit("日本語です", 5), "日本…");
        assert_eq!(cell("ab", 4), "ab  ");
        assert_eq!(cell("abcdef", 4), "abc…");
        assert_eq!(cell("日本", 5), "日本 ");
        assert_eq!(cell("日本語です", 6), "日本… ");
    }

    #[test]
    fn shell_words_are_quoted_only_when_they_need_it() {
        assert_eq!(shell_word("mta2/postfix-out2"), "mta2/postfix-out2");
        assert_eq!(shell_word("contoso.example"), "contoso.example");
        assert_eq!(shell_word("mail host"), "'mail host'");
        assert_eq!(shell_word("o'brien.example"), "'o'\\''brien.example'");
        assert_eq!(shell_word("$(reboot)"), "'$(reboot)'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn updated_deliveries_are_told_apart_from_new_ones() {
        assert_eq!(deliveries_written(35, 0), "35 deliveries");
        assert_eq!(deliveries_written(1, 0), "1 delivery");
        assert_eq!(deliveries_written(3, 2), "1 new delivery, 2 updated");
        assert_eq!(deliveries_written(2, 2), "0 new deliveries, 2 updated");
    }

    #[test]
    fn spans_read_to_the_hour_or_minute() {
        assert_eq!(time_span(2 * 86_400 + 2 * 3600 + 59), "2d2h");
        assert_eq!(time_span(5 * 3600 + 10 * 60), "5h10m");
        assert_eq!(time_span(40 * 60 + 5), "40m");
        assert_eq!(time_span(-3600), "overdue 1h0m");
        assert_eq!(time_left(3600), "1h0m left");
        assert_eq!(time_left(-3600), "overdue 1h0m");
        assert_eq!(super::queue_age(4 * 86_400 + 14 * 3600, true), "4d14h");
        assert_eq!(super::queue_age(7200, false), "≥2h0m");
    }
}
