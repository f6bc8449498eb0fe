//! Property tests in the normal run: parsers and the classifier never panic on arbitrary
//! input, sanitising always removes control characters, and the CSV export reads back as
//! the JSON export.

mod common;

use proptest::prelude::*;
use sendlog::classify::{EnhancedCode, classify};
use sendlog::ingest::timestamp::YearTracker;
use sendlog::ingest::{Format, line_parser};
use sendlog::sanitize::{csv_cell, for_terminal};

/// Bytes that look a little like log lines: printable runs, separators, stamps, escapes.
fn loggy_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        Just(b"Nov 20 09:00:00 mx postfix/smtp[1]: ".to_vec()),
        Just(b"2026-11-20 09:00:00 1rABCD-000123-Xy ".to_vec()),
        Just(b"1A2B3C4D5E: to=<".to_vec()),
        Just(b", status=deferred (".to_vec()),
        Just(b"dsn=4.4.7".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\x1b]0;x\x07".to_vec()),
        "[a-z0-9@.<>=:;, ]{0,20}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn line_parsers_never_panic(data in loggy_bytes()) {
        for format in [Format::Postfix, Format::Exim, Format::Exchange, Format::M365, Format::Powermta] {
            let mut parser = line_parser(format, YearTracker::given(2026)).expect("line format");
            let mut events = Vec::new();
            for (i, line) in data.split(|b| *b == b'\n').enumerate() {
                parser.parse_line(line, i as u64 + 1, &mut events);
            }
        }
        let _ = sendlog::ingest::detect::detect(&data);
    }

    #[test]
    fn codes_found_in_text_print_back_as_themselves(text in "\\PC{0,80}") {
        for code in EnhancedCode::all_in(&text) {
            prop_assert_eq!(code.to_string().parse::<EnhancedCode>().ok(), Some(code));
        }
        let _ = classify(EnhancedCode::find_in(&text), &text);
    }

    #[test]
    fn sanitised_text_has_no_control_characters(text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}])*") {
        let clean = for_terminal(&text);
        let bidi = '\u{202a}'..='\u{202e}';
        let raw = clean.chars().any(|c| c.is_control() || bidi.contains(&c));
        prop_assert!(!raw, "{:?}", clean);
    }

    #[test]
    fn csv_cells_never_start_a_formula(text in "(?s).{0,20}") {
        let cell = csv_cell(&text);
        prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
        prop_assert!(!cell.chars().any(char::is_control), "{cell:?}");
    }
}

#[test]
fn csv_export_reads_back_as_the_json_export() {
    let store = common::TempStore::new();
    store.run_ok(&[
        "import",
        common::fixture("postfix/gomaillex__maillog")
            .to_str()
            .unwrap(),
    ]);
    let json = store.deliveries();
    let csv_text = store.run_ok(&["export", "deliveries", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), json.len());
    for (row, rec) in rows.iter().zip(&json) {
        for (name, cell) in headers.iter().zip(row.iter()) {
            let expected = match &rec[name] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // A neutralised cell is the value with a leading apostrophe.
            let cell = if csv_cell(&expected).starts_with('\'') && !expected.starts_with('\'') {
                cell.strip_prefix('\'').unwrap()
            } else {
                cell
            };
            assert_eq!(cell, expected, "{name}");
        }
    }
}
