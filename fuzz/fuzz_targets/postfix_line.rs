#![no_main]
//! Every line format parser on arbitrary bytes: no panic, whatever the line.

use libfuzzer_sys::fuzz_target;
use sendlog::ingest::timestamp::YearTracker;
use sendlog::ingest::{Format, line_parser};

fuzz_target!(|data: &[u8]| {
    for format in [Format::Postfix, Format::Exim, Format::Exchange, Format::M365, Format::Powermta] {
        let Some(mut parser) = line_parser(format, YearTracker::given(2026)) else {
            continue;
        };
        let mut events = Vec::new();
        for (i, line) in data.split(|b| *b == b'\n').enumerate() {
            parser.parse_line(line, i as u64 + 1, &mut events);
        }
    }
});
