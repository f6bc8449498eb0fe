//! Real reply texts and reports beyond the sisimai corpus (`tests/fixtures/bounces-extra/`,
//! sources in its PROVENANCE.md), plus corpus reports whose reading was wrong: qmail's
//! "Giving up on <host>", Exchange's history of remote replies, and reports that name
//! no recipient.

use std::path::Path;

use sendlog::classify;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[test]
fn real_reply_texts_get_their_reason() {
    let tsv = std::fs::read_to_string(Path::new(FIXTURES).join("bounces-extra/replies.tsv"))
        .expect("replies.tsv");
    let mut wrong = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (code, text, want) = (cols[0], cols[1], cols[2]);
        let got = classify::classify(code.parse().ok(), text).reason;
        if got.as_str() != want {
            wrong.push(format!("{want} <- {got}: {text}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
