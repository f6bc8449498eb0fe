//! Bounce parsing + classification speed over the real corpus (tests/fixtures/bounces):
//! every message parsed (MIME, delivery-status, free text) and classified, repeated
//! until a few seconds have passed, on one thread. Target: ≥ 5,000 bounces/s on one
//! core (sisimai's Go version states 1,200/s).
//!
//! Run: `cargo bench --bench bounces`

use std::time::{Duration, Instant};

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces");
    let mut messages = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "eml") {
                messages.push(std::fs::read(&path).expect("read"));
            }
        }
    }
    let bytes: usize = messages.iter().map(Vec::len).sum();
    // Warm up the lazily built rule tables.
    for m in &messages {
        let _ = sendlog::ingest::bounce::parse(m);
    }
    let started = Instant::now();
    let (mut parsed, mut recipients) = (0u64, 0u64);
    while started.elapsed() < Duration::from_secs(3) {
        for m in &messages {
            if let Ok(r) = sendlog::ingest::bounce::parse(std::hint::black_box(m)) {
                recipients += r.recipients.len() as u64;
            }
            parsed += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bounces: {} messages ({:.1} MB) x {} rounds: {parsed} parsed, {recipients} recipients in {secs:.2}s = {:.0} bounces/s ({:.1} MB/s), one thread",
        messages.len(),
        bytes as f64 / 1e6,
        parsed / messages.len() as u64,
        parsed as f64 / secs,
        (bytes as f64 * (parsed as f64 / messages.len() as f64)) / secs / 1e6
    );
}
