#![no_main]
//! Detection and the whole import pipeline on arbitrary input: no panic, and the store
//! stays readable.

use libfuzzer_sys::fuzz_target;
use sendlog::pipeline::{ImportOptions, import_files};
use sendlog::ingest::Format;
use sendlog::store::Store;

fuzz_target!(|data: &[u8]| {
    let _ = sendlog::ingest::detect::detect(data);
    let dir = tempfile_dir();
    let path = dir.join("input.log");
    std::fs::write(&path, data).unwrap();
    let mut store = Store::open(":memory:").unwrap();
    let opts = ImportOptions {
        format: Format::Postfix,
        year: Some(2026),
        ..ImportOptions::default()
    };
    let _ = import_files(&mut store, &[path.display().to_string()], &opts, &mut |_| {});
    store.totals().unwrap();
});

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sendlog-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
