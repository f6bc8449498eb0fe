use std::process::ExitCode;

use clap::Parser;

// Imports allocate on one thread and free on the other; glibc's allocator serialises that
// on a lock, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match sendlog::cli::Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version: not errors.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // A usage error is a user error like any other: one line, exit 1 (the
            // command-line contract), not clap's usage block and exit 2.
            eprintln!(
                "sendlog: {} (see sendlog --help)",
                sendlog::sanitize::for_terminal(&sendlog::cli::usage_error_line(&e))
            );
            return ExitCode::from(1);
        }
    };
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
