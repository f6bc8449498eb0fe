//! The explanation pane's content: a title and (heading, lines) sections, the shape of
//! the knowledge's `Panel`, led by the user's own evidence from the store.

use crate::classify::EnhancedCode;
use crate::knowledge::Knowledge;
use crate::model::report::CauseCount;

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

/// The panel of `code`: the user's own evidence first (the causes behind it, counted in
/// the store), then the knowledge's explanation. The knowledge is loaded once where the
/// session starts, so building a panel reads only memory.
pub fn panel_for(knowledge: &Knowledge, code: &str, causes: Option<&[CauseCount]>) -> ExplainPanel {
    let parsed = code.parse::<EnhancedCode>().ok();
    let expired = parsed == Some(EnhancedCode::EXPIRED);
    let heading = if expired {
        "In your log: the causes behind these expiries (the last deferral)"
    } else {
        "In your log: causes"
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
                    c.cause
                        .map(crate::model::Reason::as_str)
                        .unwrap_or("(unknown)")
                )
            })
            .collect(),
    };
    let mut sections = vec![ExplainSection {
        heading: heading.into(),
        lines,
    }];
    let title = match parsed {
        Some(c) => {
            let panel = knowledge.panel(c);
            sections.extend(panel.sections.into_iter().map(|s| ExplainSection {
                heading: s.heading,
                lines: s.lines,
            }));
            format!("{c} {}", panel.title)
        }
        None => {
            sections.push(ExplainSection {
                heading: "What it means".into(),
                lines: vec![format!("{code} is not an RFC 3463 enhanced status code")],
            });
            code.to_string()
        }
    };
    ExplainPanel { title, sections }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_panel_leads_with_the_causes_behind_it_then_the_knowledge() {
        let causes = [
            CauseCount {
                cause: Some(crate::model::Reason::NetworkError),
                count: 3,
            },
            CauseCount {
                cause: None,
                count: 1,
            },
        ];
        let k = Knowledge::builtin().unwrap();
        let p = panel_for(&k, "4.4.7", Some(&causes));
        assert!(p.title.starts_with("4.4.7"), "{}", p.title);
        assert!(p.sections[0].heading.contains("expiries"));
        assert_eq!(
            p.sections[0].lines,
            vec!["      3  networkerror", "      1  (unknown)"]
        );
        assert!(p.sections.iter().any(|s| s.heading == "What it means"));
        let p = panel_for(&k, "5.1.1", None);
        assert_eq!(p.sections[0].lines, vec!["loading…"]);
        assert!(p.sections.len() > 1);
        let junk = panel_for(&k, "junk", Some(&[]));
        assert!(junk.sections[1].lines[0].contains("not an RFC 3463"));
    }
}
