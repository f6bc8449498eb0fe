//! The explanation pane's content: a title and (heading, lines) sections, the shape of
//! `knowledge::panel_for`'s `Panel`, so the knowledge module's panels plug in here. Until
//! they land, the code's RFC 3463 meaning plus the user's own evidence from the store.

use crate::classify::EnhancedCode;
use crate::store::report::CauseCount;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainSection {
    pub heading: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainPanel {
    pub title: String,
    pub sections: Vec<ExplainSection>,
}

/// The panel of `code`, with the causes behind it when they have been loaded.
pub fn panel_for(code: &str, causes: Option<&[CauseCount]>) -> ExplainPanel {
    let parsed = code.parse::<EnhancedCode>().ok();
    let mut sections = Vec::new();
    match parsed {
        Some(c) => {
            sections.push(ExplainSection {
                heading: "What it means".into(),
                lines: vec![
                    format!("{}: {}", c, c.label()),
                    format!("Class {}: {}", c.class, c.class_meaning()),
                    format!("Subject {}: {}", c.subject, c.subject_meaning()),
                ],
            });
        }
        None => sections.push(ExplainSection {
            heading: "What it means".into(),
            lines: vec![format!("{code} is not an RFC 3463 enhanced status code")],
        }),
    }
    let expired = parsed == Some(EnhancedCode::EXPIRED);
    let heading = if expired {
        "Causes behind these expiries (the last deferral)"
    } else {
        "Causes in your log"
    };
    let lines = match causes {
        None => vec!["loading…".to_string()],
        Some([]) => vec!["none recorded".to_string()],
        Some(causes) => causes
            .iter()
            .map(|c| {
                format!(
                    "{:>7}  {}",
                    c.count,
                    c.cause.as_deref().unwrap_or("(unknown)")
                )
            })
            .collect(),
    };
    sections.push(ExplainSection {
        heading: heading.into(),
        lines,
    });
    if expired {
        sections.push(ExplainSection {
            heading: "Next step".into(),
            lines: vec![
                "Open the group (Enter) and a delivery to see the deferrals that led to the expiry; fix that cause, then re-send.".into(),
            ],
        });
    }
    let title = match parsed {
        Some(c) => format!("{} {}", c, c.label()),
        None => code.to_string(),
    };
    ExplainPanel { title, sections }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_panel_names_the_causes_behind_it() {
        let causes = [
            CauseCount {
                cause: Some("networkerror".into()),
                count: 3,
            },
            CauseCount {
                cause: None,
                count: 1,
            },
        ];
        let p = panel_for("4.4.7", Some(&causes));
        assert_eq!(p.title, "4.4.7 Delivery time expired");
        let causes_section = &p.sections[1];
        assert!(causes_section.heading.contains("expiries"));
        assert_eq!(
            causes_section.lines,
            vec!["      3  networkerror", "      1  (unknown)"]
        );
        let p = panel_for("5.1.1", None);
        assert!(p.sections[0].lines[1].contains("Permanent failure"));
        assert_eq!(p.sections[1].lines, vec!["loading…"]);
        assert!(panel_for("junk", Some(&[])).sections[0].lines[0].contains("not an RFC 3463"));
    }
}
