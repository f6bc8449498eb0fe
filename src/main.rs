use std::process::ExitCode;

use clap::Parser;

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
