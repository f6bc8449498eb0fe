//! The explanation panels as shipped: every file parses and is complete, the taxonomy is
//! covered, fallbacks are never empty, and the user's directory adds and overrides.

use std::collections::BTreeSet;
use std::path::PathBuf;

use sendlog::classify::{EnhancedCode, Reason};
use sendlog::knowledge::doc::SECTIONS;
use sendlog::knowledge::{Evidence, Knowledge, Origin, PanelDoc};

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/knowledge")
}

fn code(s: &str) -> EnhancedCode {
    s.parse().unwrap()
}

/// The codes issue 5 asks for, besides 4.4.7.
const REQUIRED: [&str; 40] = [
    "4.2.0", "4.2.2", "4.3.0", "4.3.2", "4.4.1", "4.4.2", "4.4.3", "4.4.5", "4.7.0", "4.7.1",
    "4.7.28", "4.7.650", "5.1.0", "5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.8", "5.1.10", "5.2.1",
    "5.2.2", "5.2.3", "5.3.4", "5.4.1", "5.4.4", "5.4.6", "5.4.7", "5.5.0", "5.7.0", "5.7.1",
    "5.7.9", "5.7.23", "5.7.25", "5.7.26", "5.7.27", "5.7.28", "5.7.350", "5.7.509", "5.7.606",
    "5.7.708",
];

#[test]
fn every_panel_file_parses_is_named_for_its_code_and_has_every_section() {
    let mut files = 0;
    for entry in std::fs::read_dir(assets()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("toml"),
            "only panels belong in assets/knowledge: {}",
            path.display()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let (c, doc) = PanelDoc::parse(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        assert_eq!(
            path.file_stem().unwrap().to_str().unwrap(),
            c.to_string(),
            "{} holds the panel of {c}",
            path.display()
        );
        assert!(
            doc.missing_sections().is_empty(),
            "{}: missing {:?}",
            path.display(),
            doc.missing_sections()
        );
        assert!(!doc.reasons.is_empty(), "{}: no reasons", path.display());
        assert!(
            doc.references.iter().any(|r| r.title.contains("RFC")),
            "{}: no RFC among the references",
            path.display()
        );
        assert!(
            doc.references.iter().all(|r| r.url.starts_with("https://")),
            "{}: every reference has an https address",
            path.display()
        );
        let panel = doc.to_panel(c);
        let headings: Vec<&str> = panel.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(headings, SECTIONS, "{}", path.display());
        assert!(
            panel
                .sections
                .iter()
                .all(|s| s.lines.iter().all(|l| !l.trim().is_empty()))
        );
        files += 1;
    }
    // build.rs embedded exactly the files on disk.
    let k = Knowledge::builtin().unwrap();
    assert_eq!(k.codes().count(), files);
}

#[test]
fn the_required_codes_and_4_4_7_have_builtin_panels() {
    let k = Knowledge::builtin().unwrap();
    for c in REQUIRED.iter().chain(&["4.4.7"]) {
        let panel = k.panel(code(c));
        assert!(!panel.fallback, "{c} has no panel of its own");
        assert_eq!(panel.code, *c);
        assert_eq!(k.origin(code(c)), Some(&Origin::Builtin));
    }
}

#[test]
fn every_reason_of_the_taxonomy_is_explained_by_some_panel() {
    let k = Knowledge::builtin().unwrap();
    let covered: BTreeSet<Reason> = k
        .codes()
        .flat_map(|c| k.doc(c).unwrap().reasons().collect::<Vec<_>>())
        .collect();
    let missing: Vec<Reason> = Reason::ALL
        .into_iter()
        .filter(|r| !covered.contains(r))
        .collect();
    assert!(missing.is_empty(), "no panel explains {missing:?}");
    for r in Reason::ALL {
        assert!(!k.codes_for_reason(r).is_empty());
    }
    assert!(k.codes_for_reason(Reason::Expired).contains(&code("4.4.7")));
}

#[test]
fn the_4_4_7_fix_steps_point_at_what_sendlog_shows() {
    let k = Knowledge::builtin().unwrap();
    let doc = k.doc(EnhancedCode::EXPIRED).unwrap();
    assert_eq!(doc.fix.len(), 5, "the five steps of the 4.4.7 fix");
    assert_eq!(doc.fix[0].shows, Some(Evidence::Causes));
    assert_eq!(doc.fix[1].shows, Some(Evidence::TypoDns));
    assert_eq!(doc.fix[4].shows, Some(Evidence::SendingHosts));
    let panel = k.panel(EnhancedCode::EXPIRED);
    let fix = panel
        .sections
        .iter()
        .find(|s| s.heading == "How to fix it")
        .unwrap();
    let step_lines: Vec<&String> = fix
        .lines
        .iter()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(step_lines.len(), 5);
    assert!(step_lines[0].starts_with("1. "));
    assert!(step_lines[4].starts_with("5. "));
    let text = fix.lines.join("\n");
    for e in [Evidence::Causes, Evidence::TypoDns, Evidence::SendingHosts] {
        assert!(text.contains(e.heading()), "the fix points at {e:?}");
    }
}

#[test]
fn a_code_without_a_panel_falls_back_and_is_never_empty() {
    let k = Knowledge::builtin().unwrap();
    for class in [2u8, 4, 5] {
        for subject in 0..=9u16 {
            for detail in [0u16, 1, 2, 7, 10, 30, 99, 999] {
                let c = EnhancedCode::new(class, subject, detail);
                let panel = k.panel(c);
                assert_eq!(panel.code, c.to_string());
                assert!(!panel.title.trim().is_empty(), "{c}");
                assert!(!panel.sections.is_empty(), "{c}");
                assert!(
                    panel.sections.iter().all(|s| !s.lines.is_empty()),
                    "{c} has an empty section"
                );
                if k.doc(c).is_none() {
                    assert!(panel.fallback, "{c}");
                }
            }
        }
    }
    // No panel at all: the class and subject meanings carry it.
    let p = k.panel(code("4.6.99"));
    let text: String = p.sections.iter().flat_map(|s| s.lines.clone()).collect();
    assert!(text.contains("Persistent transient failure"), "{text}");
    assert!(text.contains("Message content or media status"), "{text}");
    // The same detail in the other class stands in, and says so.
    let p = k.panel(code("4.1.1"));
    assert!(p.fallback);
    assert_eq!(p.sections[0].heading, "About this code");
    assert!(p.sections[0].lines[0].contains("5.1.1"));
    assert!(p.sections.iter().any(|s| s.heading == "How to fix it"));
}

#[test]
fn malformed_codes_are_rejected() {
    for bad in [
        "", "4.4", "447", "3.1.1", "4.4.7.1", "x.1.1", "5.1.1a", "5.1234.1", "4..7",
    ] {
        assert!(bad.parse::<EnhancedCode>().is_err(), "{bad:?}");
    }
    let bad_code = "code = \"4.4\"\ntitle = \"t\"\n";
    assert!(PanelDoc::parse(bad_code).is_err());
    let bad_reason = "code = \"4.4.7\"\ntitle = \"t\"\nreasons = [\"nonsense\"]\n";
    assert!(PanelDoc::parse(bad_reason).is_err());
    let unknown_field = "code = \"4.4.7\"\ntitle = \"t\"\nmeening = [\"typo\"]\n";
    assert!(PanelDoc::parse(unknown_field).is_err());
    let bad_pointer =
        "code = \"4.4.7\"\ntitle = \"t\"\n[[fix]]\nstep = \"s\"\nshows = \"nowhere\"\n";
    assert!(PanelDoc::parse(bad_pointer).is_err());
}

#[test]
fn the_user_directory_adds_and_overrides_and_bad_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "4.4.7.toml",
        "code = \"4.4.7\"\ntitle = \"Our own runbook\"\nmeaning = [\"Page the on-call.\"]\n",
    );
    write(
        "4.7.999.toml",
        "code = \"4.7.999\"\ntitle = \"Private code of our relay\"\nreasons = [\"speeding\"]\nmeaning = [\"Slow down.\"]\n",
    );
    write("5.1.1.toml", "this is = not [toml");
    write("5.2.2.toml", "code = \"5.2.1\"\ntitle = \"wrong file\"\n");
    write("notes.txt", "not a panel");

    let k = Knowledge::load(Some(dir.path()));
    let own = k.panel(EnhancedCode::EXPIRED);
    assert_eq!(own.title, "Our own runbook");
    assert!(!own.fallback);
    assert_eq!(own.sections.len(), 1);
    assert!(matches!(
        k.origin(EnhancedCode::EXPIRED),
        Some(Origin::User(_))
    ));
    assert_eq!(k.panel(code("4.7.999")).title, "Private code of our relay");
    assert!(
        k.codes_for_reason(Reason::Speeding)
            .contains(&code("4.7.999"))
    );
    // The broken and misnamed files are ignored: the built-in panels stay.
    assert_eq!(k.origin(code("5.1.1")), Some(&Origin::Builtin));
    assert_eq!(k.origin(code("5.2.2")), Some(&Origin::Builtin));
    assert_eq!(k.problems.len(), 2, "{:?}", k.problems);
    assert!(k.problems.iter().any(|p| p.contains("5.1.1.toml")));
    assert!(k.problems.iter().any(|p| p.contains("name it 5.2.1.toml")));
    assert!(k.problems.iter().all(|p| !p.contains('\n')));

    // A missing directory is the normal case, not a problem.
    let none = Knowledge::load(Some(&dir.path().join("absent")));
    assert!(none.problems.is_empty());
    assert_eq!(none.origin(EnhancedCode::EXPIRED), Some(&Origin::Builtin));
}
