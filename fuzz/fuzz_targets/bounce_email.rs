#![no_main]
//! The bounce-email reader (MIME, RFC 3464 fields, free-text reports) on arbitrary bytes:
//! an error or a report, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sendlog::ingest::bounce::parse(data);
    let text = String::from_utf8_lossy(data);
    let _ = sendlog::ingest::bounce::dsn::parse(&text);
});
