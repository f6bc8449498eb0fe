//! The `/` fuzzy filter (skim's algorithm): which items match and which of their
//! characters did, for highlighting.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// An item that matched: its index in the full list and the char positions that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub index: usize,
    pub hits: Vec<usize>,
}

/// Matches `query` against each text; an empty query keeps every item, in order. Matches
/// keep the list's order (a list sorted by count stays sorted by count).
pub fn matches<'a>(query: &str, texts: impl Iterator<Item = &'a str>) -> Vec<Matched> {
    if query.is_empty() {
        return texts
            .enumerate()
            .map(|(index, _)| Matched {
                index,
                hits: Vec::new(),
            })
            .collect();
    }
    let matcher = SkimMatcherV2::default().ignore_case();
    texts
        .enumerate()
        .filter_map(|(index, text)| {
            matcher
                .fuzzy_indices(text, query)
                .map(|(_, hits)| Matched { index, hits })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_matches_keep_order_and_report_positions() {
        let items = ["gmail.com", "outlook.com", "gmx.de"];
        let m = matches("gm", items.iter().copied());
        assert_eq!(m.iter().map(|m| m.index).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(m[0].hits, vec![0, 1]);
        let m = matches("olk", items.iter().copied());
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].index, 1);
        assert_eq!(matches("", items.iter().copied()).len(), 3);
        assert!(matches("zzz", items.iter().copied()).is_empty());
    }
}
