#![no_main]
//! The classifier and the code finder on arbitrary text: no panic, and a found code
//! always prints back as a code.

use libfuzzer_sys::fuzz_target;
use sendlog::classify::{EnhancedCode, classify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for code in EnhancedCode::all_in(&text) {
        assert_eq!(code.to_string().parse::<EnhancedCode>().ok(), Some(code));
    }
    let _ = classify(EnhancedCode::find_in(&text), &text);
    let _ = classify(None, &text);
    let clean = sendlog::sanitize::for_terminal(&text);
    assert!(!clean.chars().any(|c| c.is_control()));
});
