//! The file format of one panel (`assets/knowledge/<code>.toml`, or the user's directory)
//! and its conversion into the `Panel` the CLI and the TUI show. A minimal user panel:
//!
//! ```toml
//! code = "4.7.650"                    # must match the file name: 4.7.650.toml
//! title = "Microsoft rate limit"
//! reasons = ["badreputation"]         # taxonomy names this panel explains
//! meaning = ["One paragraph per string."]
//! why = ["One bullet per string."]
//! [[fix]]
//! step = "Check the IP in SNDS."
//! shows = "sending_hosts"             # causes | typo_dns | sending_hosts | destinations | time_range
//! ```
//!
//! The other keys: `seen_from` and `cold_email` (paragraphs), `[[variant]]` (`provider`,
//! `text`, `note`), `[[faq]]` (`q`, `a`), `[[reference]]` (`title`, `url`). Unknown keys are
//! errors, so a typo does not silently drop a section.

use serde::Deserialize;

use crate::classify::{EnhancedCode, Reason};

use super::{Panel, Section};

/// Where sendlog shows the evidence a fix step asks the user to look at. Each has one
/// heading, used both by the step's pointer and by the evidence block under the panel, so
/// the two always agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The reasons behind the deliveries of this code (for 4.4.7: the last deferral).
    Causes,
    /// Typo domains and recipient domains that failed in DNS.
    TypoDns,
    /// The breakdown by sending host or IP.
    SendingHosts,
    /// The recipient domains and providers.
    Destinations,
    /// First and last attempt.
    TimeRange,
}

impl Evidence {
    pub const ALL: [Evidence; 5] = [
        Evidence::Causes,
        Evidence::TypoDns,
        Evidence::SendingHosts,
        Evidence::Destinations,
        Evidence::TimeRange,
    ];

    /// The heading of this evidence under the panel.
    pub fn heading(self) -> &'static str {
        match self {
            Evidence::Causes => "Causes behind this code",
            Evidence::TypoDns => "Typo domains and DNS failures",
            Evidence::SendingHosts => "By sending host",
            Evidence::Destinations => "Top destinations",
            Evidence::TimeRange => "Time range",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Microsoft, Google, Yahoo, Postfix, Exim…
    pub provider: String,
    /// The reply as that provider words it (shortened, with placeholders).
    pub text: String,
    /// What is different about it.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub step: String,
    /// The evidence sendlog shows for this step, if any.
    #[serde(default)]
    pub shows: Option<Evidence>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    pub q: String,
    pub a: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub title: String,
    #[serde(default)]
    pub url: String,
}

/// One panel file. Only `code` and `title` are required, so that a user's quick note
/// can override a panel; the built-in files are held to every section by the tests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelDoc {
    pub code: String,
    pub title: String,
    /// Reasons of the taxonomy this panel explains (the causes a user sees under it).
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub meaning: Vec<String>,
    #[serde(default)]
    pub seen_from: Vec<String>,
    #[serde(default)]
    pub why: Vec<String>,
    #[serde(default)]
    pub cold_email: Vec<String>,
    #[serde(default, rename = "variant")]
    pub variants: Vec<Variant>,
    #[serde(default, rename = "fix")]
    pub fix: Vec<Step>,
    #[serde(default)]
    pub faq: Vec<Faq>,
    #[serde(default, rename = "reference")]
    pub references: Vec<Reference>,
}

/// Section headings, in the order panels show them.
pub const WHAT_IT_MEANS: &str = "What it means";
pub const WHO_SENDS_IT: &str = "Who you'll see it from";
pub const WHY_IT_HAPPENS: &str = "Why it happens";
pub const HOW_TO_FIX: &str = "How to fix it";
pub const COLD_EMAIL: &str = "The cold-email angle";
pub const FAQ: &str = "FAQ";
pub const REFERENCES: &str = "References";

pub const SECTIONS: [&str; 7] = [
    WHAT_IT_MEANS,
    WHO_SENDS_IT,
    WHY_IT_HAPPENS,
    HOW_TO_FIX,
    COLD_EMAIL,
    FAQ,
    REFERENCES,
];

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("code {0:?} is not an enhanced status code such as 4.4.7")]
    Code(String),
    #[error("unknown reason {0:?} in `reasons`")]
    Reason(String),
    #[error("the title is empty")]
    EmptyTitle,
}

impl PanelDoc {
    /// Parses and checks one panel file.
    pub fn parse(text: &str) -> Result<(EnhancedCode, PanelDoc), DocError> {
        let doc: PanelDoc = toml::from_str(text)?;
        let code: EnhancedCode = doc
            .code
            .parse()
            .map_err(|_| DocError::Code(doc.code.clone()))?;
        for r in &doc.reasons {
            r.parse::<Reason>()
                .map_err(|_| DocError::Reason(r.clone()))?;
        }
        if doc.title.trim().is_empty() {
            return Err(DocError::EmptyTitle);
        }
        Ok((code, doc))
    }

    /// The reasons this panel explains (unknown names were rejected by `parse`).
    pub fn reasons(&self) -> impl Iterator<Item = Reason> + '_ {
        self.reasons.iter().filter_map(|r| r.parse().ok())
    }

    /// Headings of the sections this file leaves empty.
    pub fn missing_sections(&self) -> Vec<&'static str> {
        let filled = [
            !self.meaning.is_empty(),
            !self.seen_from.is_empty() || !self.variants.is_empty(),
            !self.why.is_empty(),
            !self.fix.is_empty(),
            !self.cold_email.is_empty(),
            !self.faq.is_empty(),
            !self.references.is_empty(),
        ];
        SECTIONS
            .into_iter()
            .zip(filled)
            .filter(|(_, f)| !f)
            .map(|(h, _)| h)
            .collect()
    }

    pub fn to_panel(&self, code: EnhancedCode) -> Panel {
        let mut sections = Vec::new();
        let mut push = |heading: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                sections.push(Section {
                    heading: heading.to_string(),
                    lines,
                });
            }
        };
        push(WHAT_IT_MEANS, self.meaning.clone());

        let mut who = self.seen_from.clone();
        for v in &self.variants {
            let mut line = format!("• {}: “{}”", v.provider, v.text);
            if !v.note.is_empty() {
                line.push_str(" — ");
                line.push_str(&v.note);
            }
            who.push(line);
        }
        push(WHO_SENDS_IT, who);

        push(
            WHY_IT_HAPPENS,
            self.why.iter().map(|w| format!("• {w}")).collect(),
        );

        let mut steps = Vec::new();
        for (i, s) in self.fix.iter().enumerate() {
            steps.push(format!("{}. {}", i + 1, s.step));
            if let Some(e) = s.shows {
                // The screen shows the panel without the evidence sections that `explain`
                // prints after it: name the command, not a place on the page.
                steps.push(format!(
                    "   → In sendlog: “{}” (`sendlog explain {code}` lists it from your log).",
                    e.heading()
                ));
            }
        }
        push(HOW_TO_FIX, steps);

        push(COLD_EMAIL, self.cold_email.clone());

        let mut faq = Vec::new();
        for f in &self.faq {
            faq.push(format!("Q: {}", f.q));
            faq.push(format!("A: {}", f.a));
        }
        push(FAQ, faq);

        push(
            REFERENCES,
            self.references
                .iter()
                .map(|r| {
                    if r.url.is_empty() {
                        format!("• {}", r.title)
                    } else {
                        format!("• {} — {}", r.title, r.url)
                    }
                })
                .collect(),
        );

        Panel {
            code: code.to_string(),
            title: self.title.clone(),
            sections,
            fallback: false,
        }
    }
}
