//! Pure classification: enhanced status codes, reply-text rules, the reason taxonomy,
//! receiving providers and typo domains. Nothing here knows which log format a text came
//! from, so the log importers and the bounce-email reader share one set of rules.

pub mod code;
pub mod provider;
pub mod provider_rules;
pub mod rules;
pub mod typo;

pub use crate::model::Reason;
pub use code::EnhancedCode;
pub use provider::provider_for;
pub use rules::{SmtpCommand, Verdict, classify, classify_reply};

/// Builds the rule tables (phrase automata, regexes, the provider list) now rather than
/// at the first reply classified. An import has it done on a thread of its own as it
/// starts: the tables take milliseconds to build, which the writing thread, the one an
/// import waits for, would otherwise spend at its first failed delivery.
pub fn prepare() {
    rules::prepare();
    provider::prepare();
    provider_rules::prepare();
}
