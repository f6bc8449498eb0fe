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
                "sendlog: {} (see {} --help)",
                sendlog::sanitize::for_terminal(&sendlog::cli::usage_error_line(&e)),
                sendlog::cli::usage_command(std::env::args().skip(1))
            );
            return ExitCode::from(1);
        }
    };
    if let Some(meant) = sendlog::cli::mistyped_subcommand(&args) {
        eprintln!(
            "sendlog: unrecognized subcommand '{}': did you mean '{meant}'? (see sendlog --help)",
            sendlog::sanitize::for_terminal(&args.files[0])
        );
        return ExitCode::from(1);
    }
    match sendlog::cli::run(args) {
        Ok(code) => code,
        // The reader stopped reading (`| head`): what it read is all it wanted.
        Err(e) if sendlog::cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
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
