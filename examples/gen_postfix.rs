//! Generates a realistic Postfix maillog for tests and benchmarks (the generator lives
//! with the tests, in `tests/common/loggen.rs`: it is test data, not part of the library).
//!
//! `cargo run --release --example gen_postfix -- --messages 150000 [--seed N] [--rfc3339] > big.log`

#[path = "../tests/common/loggen.rs"]
mod loggen;
use loggen::{GenOptions, write_postfix_log};

fn main() -> std::io::Result<()> {
    let mut opts = GenOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("{name} needs a number");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--messages" => opts.messages = number("--messages"),
            "--seed" => opts.seed = number("--seed"),
            "--rfc3339" => opts.rfc3339 = true,
            other => {
                eprintln!("unknown argument {other}; use --messages N [--seed N] [--rfc3339]");
                std::process::exit(2);
            }
        }
    }
    match write_postfix_log(opts, std::io::stdout().lock()) {
        // Cut short on purpose (`| head -n N`): the log is as long as the reader wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
