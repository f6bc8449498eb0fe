use std::process::ExitCode;

use clap::Parser;

// Imports allocate on one thread and free on the other; glibc's allocator serialises that
// on a lock, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = sendlog::cli::Args::parse();
    match sendlog::cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace: bad input is a user error, not a crash.
            eprintln!(
                "sendlog: {}",
                sendlog::sanitize::for_terminal(&format!("{e:#}"))
            );
            ExitCode::from(1)
        }
    }
}
