//! Case-insensitive ASCII phrase matching, done as a case-sensitive match on lowercased
//! text.
//!
//! Compiled case-insensitively, every letter of a phrase is a two-byte class, and the
//! regex engine's literal search (its prefilter) expands each phrase into its case
//! variants: building the classifier's phrase tables took about 180 M instructions more
//! than building the same tables case-sensitively, paid by every run that classifies a
//! reply. Here each pattern is parsed case-insensitively, then its classes lose their
//! upper-case letters: a text that is lowercased first cannot contain them, and what is
//! left of a letter's class is the one lower-case byte, a plain literal again. A lowered
//! text then matches exactly when the original text matches the pattern
//! case-insensitively — negated classes included, since the parser folded them before
//! negating.

use regex_automata::meta;
use regex_syntax::hir::{Capture, Class, ClassBytes, ClassBytesRange, ClassUnicode};
use regex_syntax::hir::{ClassUnicodeRange, Hir, HirKind, Repetition};

/// A text with its ASCII letters in lower case: what a `PhraseSet` reads.
pub(crate) struct Lowered<'a>(std::borrow::Cow<'a, str>);

impl<'a> Lowered<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Lowered(text.to_ascii_lowercase().into())
        } else {
            Lowered(text.into())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Patterns matched case-insensitively over ASCII (bytes, no Unicode classes), as one
/// set: it matches when any of them does.
pub(crate) struct PhraseSet(meta::Regex);

impl PhraseSet {
    /// Panics on an invalid pattern: the tables are static and a test compiles them all.
    pub(crate) fn new<P: AsRef<str>>(patterns: &[P]) -> Self {
        let hirs: Vec<Hir> = patterns
            .iter()
            .map(|p| {
                let hir = regex_syntax::ParserBuilder::new()
                    .case_insensitive(true)
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(p.as_ref())
                    .unwrap_or_else(|e| panic!("phrase {:?} does not compile: {e}", p.as_ref()));
                without_upper_case(hir)
            })
            .collect();
        let regex = meta::Builder::new()
            .build_many_from_hir(&hirs)
            .expect("the phrase table compiles");
        PhraseSet(regex)
    }

    pub(crate) fn is_match(&self, text: &Lowered<'_>) -> bool {
        self.0.is_match(text.as_str().as_bytes())
    }
}

/// `hir` with the ASCII upper-case letters taken out of every class.
fn without_upper_case(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Class(Class::Bytes(mut class)) => {
            class.difference(&ClassBytes::new([ClassBytesRange::new(b'A', b'Z')]));
            Hir::class(Class::Bytes(class))
        }
        HirKind::Class(Class::Unicode(mut class)) => {
            class.difference(&ClassUnicode::new([ClassUnicodeRange::new('A', 'Z')]));
            Hir::class(Class::Unicode(class))
        }
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            sub: Box::new(without_upper_case(*rep.sub)),
            ..rep
        }),
        HirKind::Capture(cap) => Hir::capture(Capture {
            sub: Box::new(without_upper_case(*cap.sub)),
            ..cap
        }),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(without_upper_case).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.into_iter().map(without_upper_case).collect())
        }
        // No letter is a literal here: the case-insensitive parser made each one a class.
        HirKind::Literal(literal) => Hir::literal(literal.0),
        HirKind::Look(look) => Hir::look(look),
        HirKind::Empty => Hir::empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folded set agrees with the regex crate's own case-insensitive ASCII matching,
    /// on patterns with negated classes, ranges, escapes and word boundaries, over texts
    /// in mixed case.
    #[test]
    fn folded_matching_agrees_with_case_insensitive_matching() {
        let patterns = [
            r"user unknown",
            r"\bTSS04\b",
            r"<[^>]{1,20}> \(and other",
            r"[^a]bc",
            r"x[^A-C]y",
            r"\bdomain (?:name )?<?[a-z0-9][a-z0-9.-]{0,252}>? (?:does not|doesn't) exist",
            r"no mx (?:record|host|or a\b)",
            r"\S+@\S+ refused",
            r"[A-Z]{3}\d",
            r"\W\w\D\d\s",
        ];
        let texts = [
            "550 User Unknown",
            "USER UNKNOWN here",
            "code tss04 seen",
            "code TSS04x",
            "<Bob@X> (AND OTHER recipients",
            "abc",
            "Abc",
            "xbc",
            "XBC",
            "xay",
            "XaY",
            "xdy",
            "XDY",
            "Domain EXAMPLE.com does not exist",
            "domain name <a.b> doesn't exist",
            "No MX or A record",
            "NO MX OR AB",
            "Bob@Example.COM Refused",
            "abc1",
            "ABC1",
            "AB1",
            "?aB3 x",
            "",
        ];
        for pattern in patterns {
            let folded = PhraseSet::new(&[pattern]);
            let reference = regex::bytes::RegexBuilder::new(pattern)
                .case_insensitive(true)
                .unicode(false)
                .build()
                .unwrap();
            for text in texts {
                assert_eq!(
                    folded.is_match(&Lowered::new(text)),
                    reference.is_match(text.as_bytes()),
                    "{pattern:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn a_set_matches_when_any_of_its_patterns_does() {
        let set = PhraseSet::new(&["mailbox full", r"quota exceeded"]);
        assert!(set.is_match(&Lowered::new("452 Quota Exceeded")));
        assert!(set.is_match(&Lowered::new("MAILBOX FULL")));
        assert!(!set.is_match(&Lowered::new("mailbox is full")));
    }
}
